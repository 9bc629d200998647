"""What both live pages need on every run: the session's case from the library with its grader, the
actor the store checks, and the refresh that watches a session's counter.

The refresh is a small fragment that runs every few seconds and reads one primary-key row (the
session's counters, ``Store.live_version``); only when the counter it watches differs from the one the
page was drawn at does it rerun the page. Nothing about the session is kept in a process: a page drawn
by one server process and refreshed by another shows the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth
from dashboard.common import get_kb, get_library, get_store
from dashboard.live.room import CaseGrader
from dashboard.player.memo import PLANS
from dashboard.store import Store
from dashboard.store_live import Actor, LiveState
from logic import KnowledgeBase, LoadedCase, stage_plans
from logic.markdown import safe_markdown

PRESENTER_REFRESH_S = 1.0  # the presenter's counts follow the room within a second
PHONE_REFRESH_S = 2.0  # a phone sees an opened question or a reveal within two seconds
UNAVAILABLE = "The database is not answering right now; this page catches up as soon as it does."


@dataclass(frozen=True)
class SessionCase:
    loaded: LoadedCase
    grader: CaseGrader
    kb: KnowledgeBase


def session_case(state: LiveState) -> SessionCase | None:
    """The session's case as the library has it now, with its grader; None if the case is gone."""
    loaded = get_library().cases.get(state.case_id)
    if loaded is None:
        return None
    kb = get_kb()
    version = case_version(loaded)
    plans = PLANS.get((loaded.case.id, version, id(kb)), lambda: stage_plans(loaded.case, kb))
    return SessionCase(loaded, CaseGrader(loaded.case, kb, plans, version), kb)


def case_version(loaded: LoadedCase) -> tuple[str, ...]:
    """The case file's version as the player keys its memos: its path and the text as read."""
    return (str(loaded.path), *map(str, loaded.source.version))


def safe_rows(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """Table rows from a case file, each text cell through the sanitiser (st.table renders Markdown)."""
    return [{k: safe_markdown(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows]


def actor(seat_token: str | None = None) -> Actor:
    """Who is acting, established now on the server (auth checks the sign-in with the store)."""
    return Actor(auth.current_user().role, seat_token)


def store_or_none() -> Store | None:
    return get_store()


def read_state(store: Store, session_id: int) -> LiveState | None:
    try:
        return store.live_session(session_id)
    except KeyError:
        return None


def _moved(session_id: int, seen: int, which: int) -> None:
    store = get_store()
    if store is None:
        return
    try:
        found = store.live_version(session_id)
    except SQLAlchemyError:
        return
    if found is not None and found[which] != seen:
        st.rerun()


@st.fragment(run_every=PRESENTER_REFRESH_S)
def _watch_every_change(session_id: int, seen: int) -> None:
    _moved(session_id, seen, 0)


@st.fragment(run_every=PHONE_REFRESH_S)
def _watch_presenter(session_id: int, seen: int) -> None:
    _moved(session_id, seen, 1)


def watch(session_id: int, seen: int, *, presenter: bool) -> None:
    """The refresh: a fragment that reruns the page once the session's counter moves past ``seen``
    (the presenter watches every change, ``version``; a phone only the presenter's, ``state_version``)."""
    if presenter:
        _watch_every_change(session_id, seen)
    else:
        _watch_presenter(session_id, seen)


@st.fragment(run_every=PHONE_REFRESH_S)
def _retry(drawn_at: float) -> None:
    # Not on the page's own run (the fragment's first run is inline): only on a later timed run, and
    # only once the store is out of its back-off.
    if time.monotonic() - drawn_at >= PHONE_REFRESH_S / 2 and get_store() is not None:
        st.rerun()


def unavailable() -> None:
    """The database failed mid-page: say so, and draw the page again once the store answers."""
    st.warning(UNAVAILABLE, icon=":material/cloud_off:")
    _retry(time.monotonic())
