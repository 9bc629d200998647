"""Case library: every case as a card, with search and filters; files that fail to load, for faculty.

A deep link ``?case=<id>`` (on / or /library) opens that case in the player. The sections are in
dashboard/library.py.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, catalogue, drafts
from dashboard import library as sections
from dashboard.context import cases_dir
from dashboard.wording import count

pages = st.session_state["_pages"]  # app.py's st.Page objects
faculty = auth.page_user().is_faculty
library = drafts.library_for(faculty)  # faculty also see drafts, marked
wanted = sections.follow_deep_link(library, pages)

st.title("Case library")
st.caption(
    "Faculty-authored teaching cases on dermatomyositis, juvenile DM and myositis. Open one to play it "
    "stage by stage in the case player."
)
if wanted and wanted not in library.cases:
    st.warning(f"{catalogue.unknown_case_text(wanted)} Choose one below.")

index = sections.index_of(library)
chosen = sections.filters(index)
found = index.search(chosen.query, chosen.tags, chosen.populations, chosen.difficulties)
st.caption(f"{len(found)} of {count(len(library.cases), 'case')}")
if not library.cases:
    st.info("No case could be loaded from the cases folder.")
elif not found:
    st.info("No case matches the search and filters.")

cards = st.container()  # drawn above the pager, filled once the pager says which page
shown = sections.page_of(found, chosen)
columns = cards.columns(2)
for n, case_id in enumerate(shown):
    with columns[n % 2].container(border=True):
        sections.case_card(library.cases[case_id], pages)

if faculty:
    drafts.revisions_section(pages)
sections.load_errors(library, cases_dir())
