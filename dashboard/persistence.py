"""Keeping a learner's case progress in the store, so a case can be resumed later and analysed.

The player keeps its per-case progress in session state (see player/progress.py); these functions copy it
to and from a Store. They take the store as an argument and never import streamlit, so they are tested
against a real database. Every call is best effort: a store failure is reported in plain words (the
server log gets the detail), never raised, so a database problem never stops a learner from playing.

What is saved when a stage is submitted: the attempt's answers so far, and one answer record per
submitted question (its grade, points, certainty where asked, and the seconds from the stage being
shown to its submit), written exactly once. Stages submitted while the store was down are recorded
with the next submit that reaches it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from dashboard.store import AnswerInput, Store
from logic import Case, CaseScore, QuestionResult

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_ATTEMPT = "db_attempt"  # progress key: the store's attempt id
DB_LEARNER = "db_learner"  # progress key: the learner the progress was loaded for
DB_COHORT = "db_cohort"  # progress key: the cohort the attempt belongs to (None: none)
DB_HASH = "db_case_hash"  # progress key: the case version (sha256) the stored attempt was opened on
SHOWN = "shown_at"  # progress key: stage index -> wall-clock time it was first shown
SECONDS = "stage_seconds"  # progress key: stage index -> seconds from shown to submitted
NOT_SAVED = (
    "Your progress is not being saved right now: the database is not answering. Keep playing; "
    "this message goes away once saving works again."
)
_FAILED = {
    "loaded": "Your saved progress could not be loaded just now.",
    "saved": "This stage could not be saved just now.",
    "restarted": "The restart could not be saved just now.",
}


def _safely(what: str, call: Callable[[], T]) -> tuple[T | None, str | None]:
    try:
        return call(), None
    except (SQLAlchemyError, ValueError, KeyError, OSError) as exc:
        log.warning("store: progress could not be %s: %s: %s", what, exc.__class__.__name__, exc)
        return None, _FAILED[what] + " Keep playing: your answers stay in this browser session."


@lru_cache(maxsize=256)
def _file_hash(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def case_hash(path: Path) -> str | None:
    """sha256 of a case file's bytes (memoised per file version), or None if it cannot be read."""
    try:
        stat = path.stat()
        return _file_hash(str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None


def _clock() -> float:
    return time.time()


def stage_shown(progress: dict[str, Any], stage_index: int) -> None:
    """Note when a stage's questions were first shown (the start of its time taken)."""
    shown = progress.setdefault(SHOWN, {})
    if stage_index not in shown:
        shown[stage_index] = _clock()


def resume(
    progress: dict[str, Any],
    store: Store,
    learner_id: int,
    case_id: str,
    cohort_id: int | None = None,
    case_hash: str | None = None,
) -> str | None:
    """Load the learner's unfinished attempt of a case (in this cohort) into the session's progress,
    once per learner and cohort. Progress played before signing in is kept if the stored attempt is
    empty; switching from one stored attempt to another replaces the session's progress.
    Returns a message for the page, or None."""
    if progress.get(DB_LEARNER) == learner_id and progress.get(DB_COHORT) == cohort_id:
        return None
    attempt, error = _safely("loaded", lambda: store.open_attempt(learner_id, case_id, cohort_id, case_hash))
    if attempt is None:
        return error
    carried_over = DB_ATTEMPT not in progress  # played without a stored attempt: keep it
    if attempt.stages_submitted or not progress["submitted"] or not carried_over:
        progress["answers"] = dict(attempt.answers)
        progress["submitted"] = list(range(attempt.stages_submitted))
    progress[DB_ATTEMPT] = attempt.id
    progress[DB_LEARNER] = learner_id
    progress[DB_COHORT] = cohort_id
    progress[DB_HASH] = attempt.case_hash
    return None


def answer_input(result: QuestionResult, seconds: float | None) -> AnswerInput:
    """The answer record of one scored question."""
    grades = [v.grade for v in result.verdicts]
    if len(grades) == 1 and result.kind != "prerequisites" and result.kind != "monitoring":
        grade: str | None = grades[0]  # the chosen option's grade (single choice, dose)
    elif not result.scored:
        grade = None
    else:
        grade = "correct" if result.credit >= 1 else "partial" if result.credit > 0 else "incorrect"
    return AnswerInput(
        question_id=result.question_id,
        stage_index=result.stage_index,
        kind=result.kind,
        answer=result.answer,
        grade=grade,
        verdicts=[{"id": v.id, "grade": str(v.grade)} for v in result.verdicts],
        credit=result.credit,
        points=result.points,
        max_points=result.max_points,
        unsafe=result.unsafe,
        certainty=result.certainty,  # asked on some choice questions (1-4), else None
        seconds=seconds,
    )


def _note_time(progress: dict[str, Any]) -> None:
    """The seconds taken by stages just submitted (from first shown to now), kept until saved."""
    shown: dict[int, float] = progress.get(SHOWN, {})
    taken: dict[int, float] = progress.setdefault(SECONDS, {})
    for stage in progress["submitted"]:
        if stage not in taken and stage in shown:
            taken[stage] = round(max(0.0, _clock() - shown[stage]), 3)


def record_submit(progress: dict[str, Any], store: Store | None, case: Case, score: CaseScore) -> str | None:
    """Save what was just submitted, with an answer record per submitted question; when the case is
    complete, save its score too. Call after every submit (with store None when there is none).

    ``score`` is the player's own score of the submitted stages: each answer record is written from its
    ``QuestionResult`` (grades, points, certainty), so the store never keys or scores a case again."""
    _note_time(progress)
    attempt_id = progress.get(DB_ATTEMPT)
    if attempt_id is None or store is None:
        return None
    submitted = len(progress["submitted"])
    done = set(progress["submitted"])
    answers = {
        q.id: progress["answers"][q.id]
        for i, q in case.questions()
        if i in done and q.id in progress["answers"]
    }
    seconds: dict[int, float] = progress.get(SECONDS, {})
    records = [answer_input(r, seconds.get(r.stage_index)) for r in score.results if r.stage_index in done]
    _, error = _safely(
        "saved",
        lambda: store.save_stage(
            attempt_id, answers, submitted, records, learner_id=progress.get(DB_LEARNER)
        ),
    )
    if error is None and submitted == len(case.stages):
        categories = {str(k): v for k, v in score.category_scores.items()}
        _, error = _safely("saved", lambda: store.complete(attempt_id, score.total, categories))
    return error


def record_restart(
    progress: dict[str, Any],
    store: Store,
    learner_id: int,
    case_id: str,
    cohort_id: int | None = None,
    case_hash: str | None = None,
) -> str | None:
    """Abandon the stored attempt and open a fresh one for the restarted case."""
    attempt, error = _safely("restarted", lambda: store.restart(learner_id, case_id, cohort_id, case_hash))
    if attempt is not None:
        progress[DB_ATTEMPT] = attempt.id
        progress[DB_LEARNER] = learner_id
        progress[DB_COHORT] = cohort_id
        progress[DB_HASH] = attempt.case_hash
    return error


def saving_problem(
    progress: dict[str, Any], store: Store | None, learner_id: int | None, expects_saving: bool
) -> str | None:
    """What to tell a signed-in learner whose progress is not being saved now, or None (it is, or
    nobody expects it to be: a guest's progress lives in the session, which the sign-in page says)."""
    if not expects_saving:
        return None
    if learner_id is None or store is None or not store.health.ok or progress.get(DB_LEARNER) != learner_id:
        return NOT_SAVED
    return None
