"""What every page shares: the case library (cached on file modification times), sources, footer."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import streamlit as st

from dashboard.store import Store, database_url
from logic import DISCLAIMER, Library, load_knowledge_base
from logic.library import LibraryWatch
from logic.markdown import plain_text

REPO = Path(__file__).resolve().parent.parent
LIBRARY_RECHECK_S = 10.0  # how stale a case file edited in place may be (see logic.library.LibraryWatch)
GRADE_COLOURS = {
    "recommended": "#1a7f37",
    "acceptable": "#9a6700",
    "not_recommended": "#6e7781",
    "unsafe": "#cf222e",
}
GRADE_LABELS = {
    "recommended": "Recommended",
    "acceptable": "Acceptable",
    "not_recommended": "Not recommended",
    "unsafe": "Unsafe",
}


def cases_dir() -> Path:
    """The folder of case files: $MYOTUTOR_CASES_DIR, or the repository's cases/."""
    return Path(os.environ.get("MYOTUTOR_CASES_DIR", REPO / "cases"))


def freeze_long_lived(_: object = None) -> None:
    """Move everything alive now (the knowledge base, the case library, the app's modules) out of the
    cyclic collector's generations: they live as long as the process, so no collection should walk them
    again. Garbage is collected first so that none is frozen with them."""
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False, max_entries=8)
def _watch(folder: str) -> LibraryWatch:
    load_knowledge_base()  # loaded before the freeze that follows the first library load
    return LibraryWatch(Path(folder), recheck_s=LIBRARY_RECHECK_S, on_load=freeze_long_lived)


def get_library() -> Library:
    """The case library. A page run costs one stat of the folder, whatever the number of cases: a case
    added, removed or renamed shows on the next run, a case edited in place within LIBRARY_RECHECK_S."""
    return _watch(str(cases_dir())).library()


def source_links(source_ids: tuple[str, ...] | list[str]) -> str:
    """Markdown for a list of sources: their plain labels, linked to a DOI where there is one."""
    return load_knowledge_base().citations(source_ids)


def footer() -> None:
    st.divider()
    st.caption(f"⚠️ **myotutor** — {DISCLAIMER} Clinical content is traced to its sources on every screen.")


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url, connect=False)  # opens (and migrates) on first use, retried after failures


def get_store() -> Store | None:
    """The progress store ($MYOTUTOR_DATABASE_URL, or the embedded SQLite file), or None while it is
    unavailable: not reachable yet, or backing off after a failure (see dashboard/store_base.py). A
    database down at start is tried again on the back-off, never given up on."""
    store = _store(database_url())
    return store if store.available() else None


def plain(text: object) -> str:
    """Text typed by someone (a learner's name, a cohort's name, an e-mail from a provider) made safe to
    put in Markdown: shown exactly as typed (no links, images, emphasis, icons or LaTeX), and no address
    in it becomes a link. The one implementation is logic.markdown.plain_text."""
    return plain_text(str(text))


def may_see_case_errors() -> bool:
    """Whether this viewer is shown the case files that failed to load (paths, lines, messages): faculty
    only. The library page calls it once per run; nothing else shows load errors."""
    from dashboard import auth  # auth imports this module

    return auth.page_user().is_faculty
