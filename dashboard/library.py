"""The case library page's sections: search and filters, a page of cards, and the files that failed to
load (for faculty). Each is a function AppTest can run alone; the search runs on catalogue.py's prepared
index, built once per library version, and only the cards on screen are drawn (a department's library of
a thousand cases stays quick)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from dashboard import catalogue, icons
from dashboard.common import may_see_case_errors
from dashboard.drafts import DRAFT_BADGE, is_draft
from dashboard.player.memo import Memo
from dashboard.wording import count
from logic import Library, LoadedCase
from logic.markdown import safe_markdown
from logic.vocabulary import DIFFICULTY_LABELS, POPULATION_LABELS

K = TypeVar("K", bound=str)


@dataclass(frozen=True)
class Filters:
    query: str
    tags: list[str]
    populations: list[str]
    difficulties: list[str]


def follow_deep_link(library: Library, pages: Mapping[str, Any]) -> str | None:
    """``/?case=<id>`` lands on the library (the default page): hand it to the player, once per session
    and link, so that coming back here never bounces to the player again. Returns the link's case id."""
    wanted = st.query_params.get("case")
    if wanted and wanted in library.cases and st.session_state.get("lib_followed_link") != wanted:
        st.session_state["lib_followed_link"] = wanted
        st.switch_page(pages["player"], query_params={"case": wanted})
    return wanted


PAGE_SIZE = 12  # cards a page
_INDEXES = Memo(8)  # the library's cases (by identity) -> (those cases, their CatalogueIndex)


def index_of(library: Library) -> catalogue.CatalogueIndex:
    """The library's prepared search index, built the first time this library version is shown. Keyed on
    the identity of its loaded cases (a faculty's library with drafts is a new Library on every run, made
    of the same case objects); the memo holds the cases, so an identity is never reused while keyed."""
    key = tuple((case_id, id(loaded)) for case_id, loaded in library.cases.items())
    _, index = _INDEXES.get(
        key, lambda: (tuple(library.cases.values()), catalogue.build_index(library.cases))
    )
    return index


def filters(index: catalogue.CatalogueIndex) -> Filters:
    """The search box and the tag, population and difficulty filters."""
    search_col, tag_col, pop_col, diff_col = st.columns([3, 3, 2, 2])
    query = search_col.text_input("Search", placeholder="title, tag, objective…", key="lib_search")
    tags = tag_col.multiselect("Tags", index.tags, key="lib_tags", placeholder="any tag")
    populations = _any_of(pop_col, "Population", POPULATION_LABELS, "lib_population")
    difficulties = _any_of(diff_col, "Difficulty", DIFFICULTY_LABELS, "lib_difficulty")
    return Filters(query, tags, list(populations), list(difficulties))


def _any_of(column: Any, label: str, labels: Mapping[K, str], key: str) -> list[str]:
    """A filter of the allowed values, which ``labels`` lists in order (none chosen = any)."""
    chosen: list[str] = column.multiselect(
        label, list(labels), format_func=labels.__getitem__, key=key, placeholder="any"
    )
    return chosen


def page_of(found: list[str], chosen: Filters) -> list[str]:
    """The cards of the page chosen (a pager under the cards when there is more than one page); a new
    search or filter starts again at its first page."""
    pages = max(1, -(-len(found) // PAGE_SIZE))
    if st.session_state.get("lib_filters") != chosen:
        st.session_state["lib_filters"] = chosen
        st.session_state.pop("lib_page", None)
    if pages == 1:
        st.session_state.pop("lib_page", None)
        return found
    if int(st.session_state.get("lib_page") or 1) > pages:
        st.session_state["lib_page"] = 1
    with st.container(horizontal=True, horizontal_alignment="center"):
        page = st.pagination(pages, key="lib_page")
    return found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]


def case_card(loaded: LoadedCase, pages: Mapping[str, Any]) -> None:
    """One case: title, summary, badges, tags, objectives, and the button that opens it in the player."""
    case = loaded.case
    st.subheader(safe_markdown(case.title), anchor=False)
    st.markdown(safe_markdown(case.summary))
    badges = [
        f":blue-badge[{POPULATION_LABELS[case.population]}]",
        f":violet-badge[{DIFFICULTY_LABELS[case.difficulty]}]",
        f":gray-badge[{count(len(case.stages), 'stage')}]",
        f":gray-badge[{count(catalogue.question_count(case), 'question')}]",
    ]
    if is_draft(loaded):
        badges.insert(0, DRAFT_BADGE)
    st.markdown(" ".join(badges))
    if case.tags:
        st.caption("Tags: " + ", ".join(safe_markdown(t) for t in case.tags))
    if case.objectives:
        with st.expander("Learning objectives"):
            st.markdown("\n".join(f"- {safe_markdown(o)}" for o in case.objectives))
    if st.button("Open in the player", key=f"lib_open:{case.id}", type="primary", icon=icons.OPEN):
        st.switch_page(pages["player"], query_params={"case": case.id})
    st.caption(f"Link: `?case={case.id}` · by {safe_markdown(case.author)}")


def load_errors(library: Library, folder: Path) -> None:
    """The files that could not be loaded, each error at its file:line:column, files named relative to
    the cases folder (never the server's absolute paths); for faculty only."""
    if not library.errors or not may_see_case_errors():
        return
    st.divider()
    files = {str(e.path) for e in library.errors}
    with st.expander(
        f"{icons.WARNING} {count(len(files), 'case file')} could not be loaded (for faculty)", expanded=False
    ):
        st.caption(
            "These files are skipped; every other case still works. Fix each error at its file:line:column, "
            "or run `python -m logic validate` to check the cases folder."
        )
        st.code("\n".join(catalogue.error_lines(library.errors, folder)), language=None, wrap_lines=True)
