"""What every page shares besides the knowledge base and the library (see context.py): the footer, the
progress store, and making typed text safe for Markdown."""

from __future__ import annotations

import re

import streamlit as st

from dashboard import icons
from dashboard.context import REPO, cases_dir, get_kb, get_library
from dashboard.store import Store, database_url
from logic import DISCLAIMER

__all__ = ["REPO", "cases_dir", "footer", "get_kb", "get_library", "get_store", "plain"]


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
    put in Markdown: every character Markdown or Streamlit would act on is escaped, so it shows as typed
    (no links, images, emphasis, icons or LaTeX)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=\"'&@])")
