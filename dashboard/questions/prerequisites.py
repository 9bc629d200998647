"""prerequisites in the app: the select-all layout; a missed safety check shows as unsafe (red)."""

from __future__ import annotations

from dashboard.questions.selection import SelectAllView
from logic.questions import PrerequisitesQuestion
from logic.vocabulary import Grade


class PrerequisitesView(SelectAllView[PrerequisitesQuestion]):
    missed_colour: Grade = "unsafe"  # skipping a safety check before a start is flagged
