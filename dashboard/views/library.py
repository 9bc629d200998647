"""Case library: every case as a card, with search and filters; files that fail to load, for faculty.

A deep link ``?case=<id>`` (on / or /library) opens that case in the player.
"""

from __future__ import annotations

import streamlit as st

from dashboard import catalogue
from dashboard.common import cases_dir, get_library, may_see_case_errors
from logic.markdown import safe_markdown

PAGES = st.session_state["_pages"]  # app.py's st.Page objects
library = get_library()

# Deep link: /?case=<id> lands here (the default page); hand it to the player.
# Followed once per session and link, so that coming back here never bounces to the player again.
wanted = st.query_params.get("case")
if wanted and wanted in library.cases and st.session_state.get("lib_followed_link") != wanted:
    st.session_state["lib_followed_link"] = wanted
    st.switch_page(PAGES["player"], query_params={"case": wanted})

st.title("Case library")
st.caption(
    "Faculty-authored teaching cases on dermatomyositis, juvenile DM and myositis. Open one to play it "
    "stage by stage in the case player."
)
if wanted and wanted not in library.cases:
    st.warning(f"{catalogue.unknown_case_text(wanted)} Choose one below.")

tags = catalogue.all_tags(library.cases)
search_col, tag_col, pop_col, diff_col = st.columns([3, 3, 2, 2])
query = search_col.text_input("Search", placeholder="title, tag, objective…", key="lib_search")
chosen_tags = tag_col.multiselect("Tags", tags, key="lib_tags", placeholder="any tag")
populations = pop_col.multiselect(
    "Population",
    list(catalogue.POPULATION_LABELS),
    format_func=catalogue.POPULATION_LABELS.__getitem__,
    key="lib_population",
    placeholder="any",
)
difficulties = diff_col.multiselect(
    "Difficulty",
    list(catalogue.DIFFICULTY_LABELS),
    format_func=catalogue.DIFFICULTY_LABELS.__getitem__,
    key="lib_difficulty",
    placeholder="any",
)

found = catalogue.filter_cases(library.cases, query, chosen_tags, populations, difficulties)
st.caption(f"{len(found)} of {len(library.cases)} case(s)")
if not library.cases:
    st.info("No case could be loaded from the cases folder.")
elif not found:
    st.info("No case matches the search and filters.")

columns = st.columns(2)
for n, loaded in enumerate(found):
    case = loaded.case
    with columns[n % 2].container(border=True):
        st.subheader(safe_markdown(case.title), anchor=False)
        st.markdown(safe_markdown(case.summary))
        badges = [
            f":blue-badge[{catalogue.POPULATION_LABELS.get(case.population, case.population)}]",
            f":violet-badge[{catalogue.DIFFICULTY_LABELS.get(case.difficulty, case.difficulty)}]",
            f":gray-badge[{len(case.stages)} stage(s)]",
            f":gray-badge[{catalogue.question_count(case)} question(s)]",
        ]
        st.markdown(" ".join(badges))
        if case.tags:
            st.caption("Tags: " + ", ".join(safe_markdown(t) for t in case.tags))
        if case.objectives:
            with st.expander("Learning objectives"):
                st.markdown("\n".join(f"- {safe_markdown(o)}" for o in case.objectives))
        if st.button("Open in the player", key=f"lib_open:{case.id}", type="primary", icon="📓"):
            st.switch_page(PAGES["player"], query_params={"case": case.id})
        st.caption(f"Link: `?case={case.id}` · by {safe_markdown(case.author)}")

if library.errors and may_see_case_errors():
    st.divider()
    files = {str(e.path) for e in library.errors}
    with st.expander(f"⚠️ {len(files)} case file(s) could not be loaded (for faculty)", expanded=False):
        st.caption(
            "These files are skipped; every other case still works. Fix each error at its file:line:column, "
            "or run `python -m logic validate` to check the cases folder."
        )
        st.code("\n".join(catalogue.error_lines(library.errors, cases_dir())), language=None, wrap_lines=True)
