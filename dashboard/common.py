"""What every page shares besides the knowledge base and the library (see context.py): the footer, the
progress store, and making typed text safe for Markdown."""

from __future__ import annotations

import streamlit as st

from dashboard import icons
from dashboard.context import REPO, cases_dir, get_kb, get_library
from dashboard.store import Store, database_url
from logic import DISCLAIMER
from logic.markdown import plain_text

__all__ = [
    "REPO",
    "cases_dir",
    "footer",
    "get_kb",
    "get_library",
    "get_store",
    "may_see_case_errors",
    "plain",
]


def footer() -> None:
    st.divider()
    st.caption(
        f"{icons.WARNING} **myotutor** — {DISCLAIMER} Clinical content is traced to its sources on every screen."
    )


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
