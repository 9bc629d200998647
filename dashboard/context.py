"""The app's one composition point: the knowledge base (loaded once per process) and the case library.

Every page gets the knowledge base from ``get_kb()`` and passes it on explicitly; nothing else in
``dashboard/`` loads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from logic import KnowledgeBase, Library, load_knowledge_base, load_library

REPO = Path(__file__).resolve().parent.parent


@st.cache_resource(show_spinner=False)
def get_kb() -> KnowledgeBase:
    """The knowledge base (with its compiled rules and dose memo), once per server process."""
    return load_knowledge_base()


def cases_dir() -> Path:
    """The folder of case files: $MYOTUTOR_CASES_DIR, or the repository's cases/."""
    return Path(os.environ.get("MYOTUTOR_CASES_DIR", REPO / "cases"))


def _fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    out = []
    for p in files:
        try:
            stat = p.stat()
        except OSError:
            continue
        out.append((p.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(folder: str, fingerprint: tuple[tuple[str, int, int], ...], _kb: KnowledgeBase) -> Library:
    return load_library([Path(folder)], _kb)  # (_kb is not hashed: there is one knowledge base per process)


def get_library(folder: Path | None = None) -> Library:
    """The case library (of ``folder``, default the cases folder), reloaded only when a file in the
    folder is added, removed or modified."""
    folder = cases_dir() if folder is None else folder
    return _load(str(folder), _fingerprint(folder), get_kb())


def invalidate_library() -> None:
    """Forget every loaded library: the next page run reads the folders again (after a save, so that
    the author's own change shows at once, whatever the library's staleness bound). When the loader
    hardening's LibraryWatch replaces _load, this must reset the watch of each folder instead."""
    _load.clear()
