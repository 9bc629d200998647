"""Case library: every case as a card, with search and filters; files that fail to load, for faculty.

A deep link ``?case=<id>`` (on / or /library) opens that case in the player. The sections are in
dashboard/library.py.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, catalogue, drafts
from dashboard import library as sections
from dashboard.context import cases_dir

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

chosen = sections.filters(library)
found = catalogue.filter_cases(
    library.cases, chosen.query, chosen.tags, chosen.populations, chosen.difficulties
)
st.caption(f"{len(found)} of {len(library.cases)} case(s)")
if not library.cases:
    st.info("No case could be loaded from the cases folder.")
elif not found:
    st.info("No case matches the search and filters.")

columns = st.columns(2)
for n, loaded in enumerate(found):
    with columns[n % 2].container(border=True):
        sections.case_card(loaded, pages)

if faculty:
    drafts.revisions_section(pages)
sections.load_errors(library, cases_dir())
