"""What every page shares: the case library (cached on file modification times), sources, footer."""

from __future__ import annotations

import os
import re
from pathlib import Path

import streamlit as st

from dashboard.store import Store, database_url
from logic import DISCLAIMER, Library, load_knowledge_base, load_library

REPO = Path(__file__).resolve().parent.parent
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
def _load(folder: str, fingerprint: tuple[tuple[str, int, int], ...]) -> Library:
    return load_library([Path(folder)])


def get_library() -> Library:
    """The case library, reloaded only when a file in the folder is added, removed or modified."""
    folder = cases_dir()
    return _load(str(folder), _fingerprint(folder))


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
    put in Markdown: every character Markdown or Streamlit would act on is escaped, so it shows as typed
    (no links, images, emphasis, icons or LaTeX)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=\"'&@])")
