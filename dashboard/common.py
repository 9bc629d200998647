"""What every page shares: the case library (cached on file modification times), sources, footer."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.store import Store, database_url
from logic import DISCLAIMER, Library, load_knowledge_base
from logic.library import LibraryWatch

REPO = Path(__file__).resolve().parent.parent
LIBRARY_RECHECK_S = 10.0  # how stale a case file edited in place may be (see logic.library.LibraryWatch)
LEARNER_KEY = "learner_name"  # the sidebar's name field
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


def may_see_case_errors() -> bool:
    """Whether this viewer is shown the files that failed to load (paths, lines, messages).

    The hook for the faculty role: until sign-in exists everyone may; the sign-in work makes this
    "the viewer is faculty". The library page calls it once per run; nothing else shows load errors.
    """
    return True


def source_links(source_ids: tuple[str, ...] | list[str]) -> str:
    """Markdown for a list of sources: seed labels, and DOI links for citations."""
    return load_knowledge_base().citations(source_ids)


def footer() -> None:
    st.divider()
    st.caption(f"⚠️ **myotutor** — {DISCLAIMER} Clinical content is traced to its sources on every screen.")


@st.cache_resource(show_spinner=False)
def _open_store(url: str) -> Store | None:
    try:
        return Store(url)
    except (SQLAlchemyError, OSError) as exc:  # the app still works, session-only
        logging.getLogger(__name__).warning("store unavailable at %s: %s", url, exc)
        return None


def get_store() -> Store | None:
    """The progress store ($MYOTUTOR_DATABASE_URL, or the embedded SQLite file), or None if unavailable."""
    return _open_store(database_url())


def current_learner() -> int | None:
    """The learner named in the sidebar, or None (then progress lives in this browser session only)."""
    name = str(st.session_state.get(LEARNER_KEY) or "").strip()
    if not name:
        return None
    store = get_store()
    if store is None:
        return None
    ids: dict[str, int] = st.session_state.setdefault("_learner_ids", {})
    if name not in ids:
        try:
            ids[name] = store.learner(name)
        except (ValueError, SQLAlchemyError) as exc:
            st.sidebar.warning(f"Progress is not saved: {exc}")
            return None
    return ids[name]
