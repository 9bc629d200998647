"""The player's saving, in four calls: who is signed in (dashboard/auth), which cohort the attempt
counts in, the store (dashboard/common.get_store) and what persistence.py copies. The player page
calls these and nothing else of the store, so its own code stays about playing the case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import auth, icons, persistence
from dashboard.common import get_store
from logic import Case, CaseScore


def _report(problem: str | None) -> None:
    if problem:
        st.toast(problem, icon=icons.WARNING)


def open_case(progress: dict[str, Any], case_id: str, path: Path) -> str | None:
    """On every player run: load what this learner saved of the case (once per learner and cohort).
    Returns what to tell the learner if their progress is not being saved now, else None."""
    user = auth.page_user()
    store = get_store() if user.learner_id is not None else None
    if store is not None and user.learner_id is not None:
        cohort = auth.active_cohort_id(user)
        _report(
            persistence.resume(progress, store, user.learner_id, case_id, cohort, persistence.case_hash(path))
        )
    # A learner signed in through the provider expects saving even when the store could not yet
    # give them a record; faculty signed in by passcode play without one, by design.
    expects = user.learner_id is not None or (user.via == "oidc" and not user.is_faculty)
    return persistence.saving_problem(progress, store, user.learner_id, expects)


def stage_shown(progress: dict[str, Any], stage_index: int) -> None:
    """A stage's questions are on screen: its time taken starts now (if it had not already)."""
    persistence.stage_shown(progress, stage_index)


def after_submit(progress: dict[str, Any], case: Case, score: CaseScore) -> None:
    """A stage was just submitted (form callback): save it and its answer records, from the player's
    own score of the submitted stages (never scored again here)."""
    store = get_store() if persistence.DB_ATTEMPT in progress else None
    _report(persistence.record_submit(progress, store, case, score))


def save_unsaved(progress: dict[str, Any], case: Case, score: CaseScore) -> None:
    """On every player run: write again what a failed save kept in the session (if anything)."""
    store = get_store() if persistence.DB_ATTEMPT in progress else None
    persistence.save_unsaved(progress, store, case, score)


def after_restart(progress: dict[str, Any], case_id: str, path: Path) -> None:
    """The learner restarted the case (callback): abandon the stored attempt, open a fresh one."""
    user = auth.current_user()
    store = get_store()
    if user.learner_id is not None and store is not None:
        cohort = auth.active_cohort_id(user)
        _report(
            persistence.record_restart(
                progress, store, user.learner_id, case_id, cohort, persistence.case_hash(path)
            )
        )
