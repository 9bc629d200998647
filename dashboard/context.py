"""The app's one composition point: the knowledge base (loaded once per process) and the case library.

Every page gets the knowledge base from ``get_kb()`` and passes it on explicitly; nothing else in
``dashboard/`` loads it.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import streamlit as st

from logic import KnowledgeBase, Library, load_knowledge_base
from logic.library import LibraryWatch

REPO = Path(__file__).resolve().parent.parent
LIBRARY_RECHECK_S = 10.0  # how stale a case file edited in place may be (see logic.library.LibraryWatch)


@st.cache_resource(show_spinner=False)
def get_kb() -> KnowledgeBase:
    """The knowledge base (with its compiled rules and dose memo), once per server process."""
    return load_knowledge_base()


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
def _watch(folder: str, _kb: KnowledgeBase) -> LibraryWatch:
    # (_kb is not hashed: there is one knowledge base per process, loaded before the first freeze)
    return LibraryWatch(Path(folder), _kb, recheck_s=LIBRARY_RECHECK_S, on_load=freeze_long_lived)


def get_library(folder: Path | None = None) -> Library:
    """The case library (of ``folder``, default the cases folder). A page run costs one stat of the
    folder, whatever the number of cases: a case added, removed or renamed shows on the next run, a case
    edited in place within LIBRARY_RECHECK_S (or at once after invalidate_library())."""
    folder = cases_dir() if folder is None else folder
    return _watch(str(folder), get_kb()).library()


def invalidate_library() -> None:
    """Forget every loaded library: the next page run reads the folders again (after a save, so that
    the author's own change shows at once, whatever the library's staleness bound)."""
    _watch.clear()
