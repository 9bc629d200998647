"""The store: learners, cohorts, their attempts at cases and every submitted answer.

Pure (no streamlit): the pages wrap one Store in st.cache_resource (dashboard/common.get_store). Each
method runs in its own short transaction and returns plain, detached values. Works on SQLite (the
default, an embedded file) and PostgreSQL (set $MYOTUTOR_DATABASE_URL, e.g.
postgresql+psycopg://user@host/db). The schema is made and upgraded by Alembic migrations
(dashboard/migrations, applied by dashboard.migrate when the Store opens); the tables as the ORM
sees them are in dashboard/schema.py. Failure handling (timeouts, back-off) is in store_base.py,
identity in store_identity.py, cohorts in store_cohorts.py, the faculty's analytics and exports in
store_analytics.py.

An attempt is unfinished while completed_at is NULL. It ends either completed (total set) or
abandoned by restart() (completed_at set, total NULL): abandoned attempts are kept as history,
count in ProgressRow.attempts, and never in completed, best_total, last_total or class_summary.
An attempt belongs to at most one cohort, fixed when it is opened, and records the sha256 of the
case file it was played on (case_hash), so later edits of the case never change what it meant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dashboard.schema import MAX_NAME, AnswerRecord, AttemptRow, Base, Learner, now
from dashboard.store_analytics import AnalyticsStore
from dashboard.store_base import REPO, StoreUnavailable, database_url
from dashboard.store_cohorts import CohortInfo, CohortStore, MemberInfo
from dashboard.store_identity import IdentityStore, LearnerInfo, NameTaken, RateLimited, SessionInfo
from dashboard.store_live import LiveStore
from dashboard.store_records import AnswerInput, AnswerRow, _json, _record_values, answer_row
from dashboard.store_versions import VersionStore

__all__ = [
    "MAX_NAME",
    "REPO",
    "AnswerInput",
    "AnswerRow",
    "Attempt",
    "Base",
    "CohortInfo",
    "LearnerInfo",
    "MemberInfo",
    "NameTaken",
    "ProgressRow",
    "RateLimited",
    "SessionInfo",
    "Store",
    "StoreUnavailable",
    "database_url",
]


@dataclass(frozen=True)
class Attempt:
    """A detached copy of an attempt (answers: question id -> answer, as logic.score_case takes)."""

    id: int
    case_id: str
    answers: dict[str, Any]
    stages_submitted: int
    total: float | None
    completed_at: datetime | None
    learner_id: int = 0
    cohort_id: int | None = None
    case_hash: str | None = None


@dataclass(frozen=True)
class ProgressRow:
    case_id: str
    attempts: int  # every attempt started, abandoned and unfinished ones included
    completed: int  # attempts completed with a score
    best_total: float | None
    last_total: float | None  # the score of the most recently completed attempt
    last_played: datetime  # the latest write to any attempt at this case


def _detach(row: AttemptRow) -> Attempt:
    return Attempt(
        row.id,
        row.case_id,
        dict(row.answers),
        row.stages_submitted,
        row.total,
        row.completed_at,
        row.learner_id,
        row.cohort_id,
        row.case_hash,
    )


class Store(IdentityStore, CohortStore, AnalyticsStore, VersionStore, LiveStore):
    """Store(url) connects and migrates at once (raises if it cannot); Store(url, connect=False) opens
    on first use and retries after failures (see StoreBase.available)."""

    @staticmethod
    def _attempt(session: Session, attempt_id: int) -> AttemptRow:
        row = session.get(AttemptRow, attempt_id, with_for_update=True)
        if row is None:
            raise KeyError(f"no attempt {attempt_id}")
        return row

    @staticmethod
    def _lock_learner(session: Session, learner_id: int) -> None:
        if session.get(Learner, learner_id, with_for_update=True) is None:
            raise KeyError(f"no learner {learner_id}")

    @staticmethod
    def _open(
        session: Session, learner_id: int, case_id: str, cohort_id: int | None, case_hash: str | None
    ) -> Attempt:
        cohort = AttemptRow.cohort_id.is_(None) if cohort_id is None else AttemptRow.cohort_id == cohort_id
        row = session.scalar(
            select(AttemptRow)
            .where(
                AttemptRow.learner_id == learner_id,
                AttemptRow.case_id == case_id,
                cohort,
                AttemptRow.completed_at.is_(None),
                AttemptRow.live_session_id.is_(None),  # a live session's seat is not the player's
            )
            .order_by(AttemptRow.id.desc())
            .limit(1)
        )
        if row is None:
            row = AttemptRow(
                learner_id=learner_id,
                case_id=case_id,
                answers={},
                stages_submitted=0,
                cohort_id=cohort_id,
                case_hash=case_hash,
            )
            session.add(row)
            session.flush()
        return _detach(row)

    def open_attempt(
        self, learner_id: int, case_id: str, cohort_id: int | None = None, case_hash: str | None = None
    ) -> Attempt:
        """The learner's unfinished attempt at case_id in this cohort (None: outside any cohort), the
        latest, or a new one recording case_hash."""
        with self._transaction(write=True) as s:
            self._lock_learner(s, learner_id)
            return self._open(s, learner_id, case_id, cohort_id, case_hash)

    def restart(
        self, learner_id: int, case_id: str, cohort_id: int | None = None, case_hash: str | None = None
    ) -> Attempt:
        """Abandon the unfinished attempt(s) in this cohort (kept, completed_at set, total NULL) and
        open a fresh one."""
        with self._transaction(write=True) as s:
            self._lock_learner(s, learner_id)
            stamp = now()
            cohort = (
                AttemptRow.cohort_id.is_(None) if cohort_id is None else AttemptRow.cohort_id == cohort_id
            )
            for row in s.scalars(
                select(AttemptRow).where(
                    AttemptRow.learner_id == learner_id,
                    AttemptRow.case_id == case_id,
                    cohort,
                    AttemptRow.completed_at.is_(None),
                    AttemptRow.live_session_id.is_(None),
                )
            ):
                row.completed_at = row.updated_at = stamp
            s.flush()
            return self._open(s, learner_id, case_id, cohort_id, case_hash)

    def save_stage(
        self,
        attempt_id: int,
        stage_answers: dict[str, Any],
        stages_submitted: int,
        records: Sequence[AnswerInput] = (),
        learner_id: int | None = None,
    ) -> None:
        """Add a stage's answers, and their answer records, in one transaction. Saved answers are
        final: a question already answered keeps its answer, and its record is written exactly once
        (unique per attempt and question; a second write of it is ignored). stages_submitted never
        decreases. ValueError on a finished attempt or bad input; KeyError if the attempt is unknown
        or (with learner_id) not that learner's."""
        _json(stage_answers, "stage_answers")
        if (
            not isinstance(stages_submitted, int)
            or isinstance(stages_submitted, bool)
            or stages_submitted < 0
        ):
            raise ValueError(f"stages_submitted must be an int >= 0, got {stages_submitted!r}")
        with self._transaction(write=True) as s:
            row = self._attempt(s, attempt_id)
            if learner_id is not None and row.learner_id != learner_id:
                raise KeyError(f"no attempt {attempt_id} of learner {learner_id}")
            if row.completed_at is not None:
                raise ValueError(f"attempt {attempt_id} is finished; open a new one")
            values = [_record_values(r, row) for r in records]
            row.answers = {**stage_answers, **row.answers}  # a new dict, so the change is detected
            row.stages_submitted = max(row.stages_submitted, stages_submitted)
            row.updated_at = now()
            if values:
                insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
                s.execute(
                    insert(AnswerRecord).on_conflict_do_nothing(index_elements=["attempt_id", "question_id"]),
                    values,
                )

    def complete(self, attempt_id: int, total: float, category_scores: dict[str, float]) -> None:
        """Record the attempt's score. Completing an already completed attempt keeps the first
        score (a no-op, so a rerun is harmless); an abandoned attempt raises ValueError."""
        _json(category_scores, "category_scores")
        if isinstance(total, bool) or not isinstance(total, int | float) or not math.isfinite(total):
            raise ValueError(f"total must be a finite number, got {total!r}")
        with self._transaction(write=True) as s:
            row = self._attempt(s, attempt_id)
            if row.completed_at is not None:
                if row.total is None:
                    raise ValueError(f"attempt {attempt_id} was abandoned; it cannot be completed")
                return
            row.total = float(total)
            row.category_scores = dict(category_scores)
            row.completed_at = row.updated_at = now()

    def attempt(self, attempt_id: int) -> Attempt:
        """A detached copy of one attempt (KeyError if unknown)."""
        with self._transaction() as s:
            return _detach(self._attempt(s, attempt_id))

    def answers(self, attempt_id: int) -> list[AnswerRow]:
        """The answer records of one attempt, in stage and submission order."""
        with self._transaction() as s:
            rows = s.scalars(
                select(AnswerRecord)
                .where(AnswerRecord.attempt_id == attempt_id)
                .order_by(AnswerRecord.stage_index, AnswerRecord.id)
            )
            return [answer_row(r) for r in rows]

    def progress(self, learner_id: int) -> list[ProgressRow]:
        """One row per case the learner has played, the most recently played first."""
        with self._transaction() as s:
            rows = s.scalars(
                select(AttemptRow).where(AttemptRow.learner_id == learner_id).order_by(AttemptRow.id)
            ).all()
        by_case: dict[str, list[AttemptRow]] = {}
        for row in rows:
            by_case.setdefault(row.case_id, []).append(row)
        result = []
        for case_id, attempts in by_case.items():
            scored = sorted(
                (a for a in attempts if a.total is not None), key=lambda a: (a.completed_at, a.id)
            )
            result.append(
                ProgressRow(
                    case_id=case_id,
                    attempts=len(attempts),
                    completed=len(scored),
                    best_total=max((a.total for a in scored if a.total is not None), default=None),
                    last_total=scored[-1].total if scored else None,
                    last_played=max(a.updated_at for a in attempts),
                )
            )
        return sorted(result, key=lambda r: r.last_played, reverse=True)

    def class_summary(self, case_id: str, cohort_id: int | None = None) -> list[float]:
        """The totals of every completed attempt at case_id (of one cohort if given), in completion order."""
        query = select(AttemptRow.total).where(AttemptRow.case_id == case_id, AttemptRow.total.is_not(None))
        if cohort_id is not None:
            query = query.where(AttemptRow.cohort_id == cohort_id)
        with self._transaction() as s:
            return list(s.scalars(query.order_by(AttemptRow.completed_at, AttemptRow.id)))
