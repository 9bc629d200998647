"""Keeping a learner's case progress in the store, so a case can be resumed later.

The player keeps its per-case progress in session state (see player_state.py); these functions copy it
to and from a Store. They take the store as an argument and never import streamlit, so they are tested
against a real database. Every call is best effort: a store failure is reported, never raised, so a
database problem never stops a learner from playing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from dashboard.store import Store
from logic import Case, CaseScore

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_ATTEMPT = "db_attempt"  # progress key: the store's attempt id
DB_LEARNER = "db_learner"  # progress key: the learner the progress was loaded for


def _safely(what: str, call: Callable[[], T]) -> tuple[T | None, str | None]:
    try:
        return call(), None
    except (SQLAlchemyError, ValueError, KeyError, OSError) as exc:
        log.warning("store: %s failed: %s", what, exc)
        return None, f"Progress could not be {what}: {exc.__class__.__name__}."


def resume(progress: dict[str, Any], store: Store, learner_id: int, case_id: str) -> str | None:
    """Load the learner's unfinished attempt of a case into the session's progress, once per learner.

    Stages are submitted in order, so the stored count of submitted stages is the list of them.
    Returns an error message for the page, or None.
    """
    if progress.get(DB_LEARNER) == learner_id:
        return None
    attempt, error = _safely("loaded", lambda: store.open_attempt(learner_id, case_id))
    if attempt is None:
        return error
    if attempt.stages_submitted or not progress["submitted"]:
        progress["answers"] = dict(attempt.answers)
        progress["submitted"] = list(range(attempt.stages_submitted))
    progress[DB_ATTEMPT] = attempt.id
    progress[DB_LEARNER] = learner_id
    return None


def record_submit(progress: dict[str, Any], store: Store, case: Case, score: CaseScore) -> str | None:
    """Save what was just submitted; when the case is complete, save its score too.

    ``score`` is the player's own score of the submitted stages (its results carry each answer's
    certainty): the store never re-scores a case."""
    attempt_id = progress.get(DB_ATTEMPT)
    if attempt_id is None:
        return None
    submitted = len(progress["submitted"])
    answers = {
        q.id: progress["answers"][q.id]
        for i, q in case.questions()
        if i < submitted and q.id in progress["answers"]
    }
    _, error = _safely("saved", lambda: store.save_stage(attempt_id, answers, submitted))
    if error is None and submitted == len(case.stages):
        _, error = _safely(
            "saved",
            lambda: store.complete(
                attempt_id, score.total, {str(k): v for k, v in score.category_scores.items()}
            ),
        )
    return error


def record_restart(progress: dict[str, Any], store: Store, learner_id: int, case_id: str) -> str | None:
    """Abandon the stored attempt and open a fresh one for the restarted case."""
    attempt, error = _safely("restarted", lambda: store.restart(learner_id, case_id))
    if attempt is not None:
        progress[DB_ATTEMPT] = attempt.id
        progress[DB_LEARNER] = learner_id
    return error
