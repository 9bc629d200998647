"""The app's icons: Material Symbols (bundled with Streamlit), never emoji.

Emoji depend on the device's fonts (a projector's PC or a headless browser may have none and show empty
boxes); Material Symbols ship with Streamlit's frontend. Every icon stands beside a text label, so a
screen reader reads the label; the icon itself is decoration.
"""

from __future__ import annotations

LIBRARY = ":material/library_books:"
PLAYER = ":material/play_lesson:"
PATHWAYS = ":material/account_tree:"
SANDBOX = ":material/science:"
REFERENCE = ":material/medication:"
PROGRESS = ":material/insights:"
ACCOUNT = ":material/account_circle:"
COHORTS = ":material/groups:"
SIGN_IN = ":material/login:"
LOCKED = ":material/lock:"
WARNING = ":material/warning:"
UNSAFE = ":material/dangerous:"
CONFIDENT_UNSAFE = ":material/flag:"
NOT_SAVED = ":material/cloud_off:"
RESTART = ":material/restart_alt:"
OPEN = ":material/play_arrow:"
NOTEBOOK = ":material/description:"
MARKDOWN = ":material/article:"
NARRATIVE = ":material/notes:"
DATA = ":material/monitoring:"
QUESTIONS = ":material/quiz:"
FEEDBACK = ":material/rate_review:"
CONTINUE = ":material/arrow_forward:"
DONE = ":material/check_circle:"
