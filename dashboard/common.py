"""What every page shares besides the knowledge base and the library (see context.py): the footer, the
progress store and the learner named in the sidebar."""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.context import REPO, cases_dir, get_kb, get_library
from dashboard.store import Store, database_url
from logic import DISCLAIMER

__all__ = [
    "LEARNER_KEY",
    "REPO",
    "cases_dir",
    "current_learner",
    "footer",
    "get_kb",
    "get_library",
    "get_store",
]

LEARNER_KEY = "learner_name"  # the sidebar's name field


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
