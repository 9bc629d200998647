"""What a cohort did, read from the store for the faculty's analytics and exports. Part of Store
(dashboard/store.py); pure, no streamlit.

Every query takes a Scope: one cohort (or every learner), a date range, and optionally only each
learner's first attempt at each case. Attempts are in scope when they started within the dates;
answer records when they were submitted within them. Counting and averaging happen in the database
(GROUP BY over the indexes on answer_records and attempts); only one case's answers at a time (for
the distribution of chosen options and the flowchart) and the exports come back row by row.

The query builders (`*_query`) are module functions so that bench/bench_analytics.py can show their
EXPLAIN ANALYZE plans.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, String, case, cast, distinct, func, select
from sqlalchemy.orm import QueryableAttribute

from dashboard.schema import AnswerRecord, AttemptRow, Cohort, Learner
from dashboard.store_base import StoreBase
from dashboard.store_records import AnswerRow, answer_values
from logic.questions import CONFIDENT_FROM, KINDS

Query: TypeAlias = Select[*tuple[Any, ...]]
EXPORT_BATCH = 2000  # rows fetched at a time by the exports


@dataclass(frozen=True)
class Scope:
    """Whose answers, and when. cohort_id None: every learner, in a cohort or not."""

    cohort_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    first_attempts: bool = False  # only each learner's first attempt at each case

    @classmethod
    def between(
        cls, cohort_id: int | None, start: date | None, end: date | None, first_attempts: bool = False
    ) -> Scope:
        """The scope of whole UTC days from start to end, both included (None: open)."""
        since = datetime.combine(start, time(), UTC) if start else None
        until = datetime.combine(end + timedelta(days=1), time(), UTC) if end else None
        return cls(cohort_id, since, until, first_attempts)


@dataclass(frozen=True)
class CaseActivity:
    """A case's attempts in scope."""

    case_id: str
    learners: int  # who started it
    attempts: int  # started, including abandoned and unfinished
    completed: int  # attempts completed with a score
    learners_completed: int
    abandoned: int  # restarted before the end
    mean_total: float | None  # of the completed attempts, 0-100


@dataclass(frozen=True)
class QuestionActivity:
    """A question's answers in scope (mean_score over scored answers, 0-100)."""

    case_id: str
    question_id: str
    stage_index: int
    kind: str
    answers: int
    learners: int
    scored: int  # answers to a scored question (reflections are not)
    mean_score: float | None
    right: int  # the outcome "right": the credit its kind counts as right (logic.questions right_from)
    unsafe: int
    with_certainty: int  # answers that came with a certainty (1-4)
    confident: int  # certainty 3-4
    confident_wrong: int  # certainty 3-4 and the outcome "wrong" (neither right nor unsafe)
    confident_unsafe: int  # certainty 3-4 and unsafe

    @property
    def wrong(self) -> int:
        """Scored answers that were not right: the outcomes "wrong" and "unsafe" together."""
        return self.scored - self.right


@dataclass(frozen=True)
class AnswerChoice:
    """One answer record, as much of it as the distribution of options and the flowchart need."""

    learner_id: int
    attempt_id: int
    question_id: str
    stage_index: int
    kind: str
    answer: Any
    grade: str | None
    verdicts: list[dict[str, str]]
    credit: float
    unsafe: bool
    certainty: int | None
    case_id: str = ""  # filled where answers of several cases come together (answer_counts)
    answers: int = 1  # how many identical answers this row stands for (answer_counts)


@dataclass(frozen=True)
class StageTimeCount:
    """How many attempts took (to the second) so long on a stage, from the stage shown to its submit."""

    case_id: str
    stage_index: int
    seconds: float
    attempts: int


@dataclass(frozen=True)
class AttemptTime:
    """One attempt's time: the stages it has a time for, and their seconds added up."""

    case_id: str
    stages: int
    seconds: float


@dataclass(frozen=True, kw_only=True)
class ExportAnswer(AnswerRow):
    """A stored answer record with its learner's and cohort's names, for the exports."""

    learner_name: str
    learner_email: str | None
    cohort_name: str | None


@dataclass(frozen=True)
class ExportAttempt:
    id: int
    learner_id: int
    learner_name: str
    learner_email: str | None
    cohort_id: int | None
    cohort_name: str | None
    case_id: str
    case_hash: str | None
    stages_submitted: int
    total: float | None
    category_scores: dict[str, float] | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @property
    def status(self) -> str:
        if self.completed_at is None:
            return "in progress"
        return "completed" if self.total is not None else "abandoned"


# ------------------------------------------------------------------------------------ the queries
def _first_attempts(scope: Scope) -> Query:
    query = select(func.min(AttemptRow.id)).group_by(AttemptRow.learner_id, AttemptRow.case_id)
    if scope.cohort_id is not None:
        query = query.where(AttemptRow.cohort_id == scope.cohort_id)
    return query


def _scope_filter(
    scope: Scope,
    cohort: QueryableAttribute[Any],
    when: QueryableAttribute[Any],
    attempt_id: QueryableAttribute[Any],
) -> list[ColumnElement[bool]]:
    """The WHERE of rows in scope, given the row's cohort, time and attempt-id columns."""
    where: list[ColumnElement[bool]] = []
    if scope.cohort_id is not None:
        where.append(cohort == scope.cohort_id)
    if scope.since is not None:
        where.append(when >= scope.since)
    if scope.until is not None:
        where.append(when < scope.until)
    if scope.first_attempts:
        where.append(attempt_id.in_(_first_attempts(scope)))
    return where


def record_filter(scope: Scope) -> list[ColumnElement[bool]]:
    """The WHERE of answer records in scope (by when they were submitted)."""
    return _scope_filter(scope, AnswerRecord.cohort_id, AnswerRecord.submitted_at, AnswerRecord.attempt_id)


def attempt_filter(scope: Scope) -> list[ColumnElement[bool]]:
    """The WHERE of attempts in scope (by when they started)."""
    return _scope_filter(scope, AttemptRow.cohort_id, AttemptRow.started_at, AttemptRow.id)


def right_from() -> ColumnElement[float]:
    """The credit from which an answer's outcome is "right", per its kind (the kinds' own right_from:
    an acceptable alternative is right for a next-step choice, full credit elsewhere)."""
    return case({name: model.right_from for name, model in KINDS.items()}, value=AnswerRecord.kind, else_=1.0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def case_activity_query(scope: Scope) -> Query:
    done = AttemptRow.total.is_not(None)
    return (
        select(
            AttemptRow.case_id,
            func.count(distinct(AttemptRow.learner_id)),
            func.count(),
            _count_if(done),
            func.count(distinct(case((done, AttemptRow.learner_id)))),
            _count_if(AttemptRow.completed_at.is_not(None) & AttemptRow.total.is_(None)),
            func.avg(AttemptRow.total),
        )
        .where(*attempt_filter(scope))
        .group_by(AttemptRow.case_id)
    )


def question_activity_query(scope: Scope, case_ids: Sequence[str] | None = None) -> Query:
    scored = AnswerRecord.max_points > 0
    confident = AnswerRecord.certainty >= CONFIDENT_FROM
    unsafe = AnswerRecord.unsafe.is_(True)
    right = scored & ~unsafe & (AnswerRecord.credit >= right_from())
    query = select(
        AnswerRecord.case_id,
        AnswerRecord.question_id,
        func.min(AnswerRecord.stage_index),
        func.max(AnswerRecord.kind),
        func.count(),
        func.count(distinct(AnswerRecord.learner_id)),
        _count_if(scored),
        func.avg(case((scored, AnswerRecord.points / AnswerRecord.max_points))),
        _count_if(right),
        _count_if(AnswerRecord.unsafe.is_(True)),
        func.count(AnswerRecord.certainty),
        _count_if(confident),
        _count_if(confident & scored & ~right & ~unsafe),
        _count_if(confident & unsafe),
    ).where(*record_filter(scope))
    if case_ids is not None:
        query = query.where(AnswerRecord.case_id.in_(list(case_ids)))
    return query.group_by(AnswerRecord.case_id, AnswerRecord.question_id)


def choices_query(scope: Scope, case_id: str | None, question_ids: Sequence[str] | None = None) -> Query:
    query = select(
        AnswerRecord.learner_id,
        AnswerRecord.attempt_id,
        AnswerRecord.question_id,
        AnswerRecord.stage_index,
        AnswerRecord.kind,
        AnswerRecord.answer,
        AnswerRecord.grade,
        AnswerRecord.verdicts,
        AnswerRecord.credit,
        AnswerRecord.unsafe,
        AnswerRecord.certainty,
    ).where(*record_filter(scope))
    if case_id is not None:
        query = query.where(AnswerRecord.case_id == case_id)
    if question_ids is not None:
        query = query.where(AnswerRecord.question_id.in_(list(question_ids)))
    return query.order_by(AnswerRecord.id)


def _stage_seconds(scope: Scope, case_id: str | None = None) -> Any:
    """One row per attempt and stage with a time (every answer of a stage carries the stage's seconds)."""
    query = (
        select(
            AnswerRecord.case_id,
            AnswerRecord.attempt_id,
            AnswerRecord.stage_index,
            func.max(AnswerRecord.seconds).label("seconds"),
        )
        .where(AnswerRecord.seconds.is_not(None), *record_filter(scope))
        .group_by(AnswerRecord.case_id, AnswerRecord.attempt_id, AnswerRecord.stage_index)
    )
    if case_id is not None:
        query = query.where(AnswerRecord.case_id == case_id)
    return query.subquery()


def stage_time_query(scope: Scope, case_id: str | None = None) -> Query:
    per_stage = _stage_seconds(scope, case_id)
    seconds = func.round(per_stage.c.seconds)
    return select(per_stage.c.case_id, per_stage.c.stage_index, seconds, func.count()).group_by(
        per_stage.c.case_id, per_stage.c.stage_index, seconds
    )


def attempt_time_query(scope: Scope, case_id: str | None = None) -> Query:
    per_stage = _stage_seconds(scope, case_id)
    return select(per_stage.c.case_id, func.count(), func.sum(per_stage.c.seconds)).group_by(
        per_stage.c.case_id, per_stage.c.attempt_id
    )


def choice_count_query(scope: Scope, questions: Sequence[tuple[str, str]]) -> Query:
    verdicts = cast(AnswerRecord.verdicts, String)
    return (
        select(
            AnswerRecord.case_id,
            AnswerRecord.question_id,
            func.min(AnswerRecord.stage_index),
            func.max(AnswerRecord.kind),
            AnswerRecord.grade,
            verdicts,
            func.max(AnswerRecord.credit),
            func.max(case((AnswerRecord.unsafe.is_(True), 1), else_=0)),
            func.count(),
        )
        .where(
            AnswerRecord.case_id.in_(sorted({c for c, _ in questions})),
            AnswerRecord.question_id.in_(sorted({q for _, q in questions})),
            AnswerRecord.max_points > 0,
            *record_filter(scope),
        )
        .group_by(AnswerRecord.case_id, AnswerRecord.question_id, AnswerRecord.grade, verdicts)
    )


def export_answers_query(scope: Scope) -> Query:
    query: Query = (
        select(AnswerRecord, Learner.name, Learner.email, Cohort.name)
        .join(Learner, Learner.id == AnswerRecord.learner_id)
        .outerjoin(Cohort, Cohort.id == AnswerRecord.cohort_id)
        .where(*record_filter(scope))
        .order_by(AnswerRecord.submitted_at, AnswerRecord.id)
    )
    return query


def export_attempts_query(scope: Scope) -> Query:
    query: Query = (
        select(AttemptRow, Learner.name, Learner.email, Cohort.name)
        .join(Learner, Learner.id == AttemptRow.learner_id)
        .outerjoin(Cohort, Cohort.id == AttemptRow.cohort_id)
        .where(*attempt_filter(scope))
        .order_by(AttemptRow.started_at, AttemptRow.id)
    )
    return query


def _mean(value: Any) -> float | None:
    return None if value is None else float(value)


class AnalyticsStore(StoreBase):
    def case_activity(self, scope: Scope) -> list[CaseActivity]:
        """Per case: learners, attempts, completions and the mean completed score, in case id order."""
        with self._transaction() as s:
            rows = s.execute(case_activity_query(scope).order_by(AttemptRow.case_id)).all()
        return [
            CaseActivity(case_id, int(n), int(a), int(c), int(lc), int(ab), _mean(mean))
            for case_id, n, a, c, lc, ab, mean in rows
        ]

    def active_learners(self, scope: Scope) -> int:
        """How many learners started at least one attempt in scope."""
        with self._transaction() as s:
            query = select(func.count(distinct(AttemptRow.learner_id))).where(*attempt_filter(scope))
            return int(s.scalar(query) or 0)

    def question_activity(
        self, scope: Scope, case_ids: Sequence[str] | None = None
    ) -> list[QuestionActivity]:
        """Per case and question (of the given cases, or all): answers, scores, unsafe answers and the
        confident-and-wrong, ordered by case, stage and question id."""
        with self._transaction() as s:
            rows = s.execute(question_activity_query(scope, case_ids)).all()
        found = [
            QuestionActivity(
                case_id,
                question_id,
                int(stage),
                str(kind),
                int(n),
                int(learners),
                int(scored),
                None if mean is None else 100.0 * float(mean),
                int(right),
                int(unsafe),
                int(certain),
                int(confident),
                int(confident_wrong),
                int(confident_unsafe),
            )  # fmt: skip
            for (
                case_id,
                question_id,
                stage,
                kind,
                n,
                learners,
                scored,
                mean,
                right,
                unsafe,
                certain,
                confident,
                confident_wrong,
                confident_unsafe,
            ) in rows  # fmt: skip
        ]
        return sorted(found, key=lambda q: (q.case_id, q.stage_index, q.question_id))

    def answer_choices(
        self, scope: Scope, case_id: str, question_ids: Sequence[str] | None = None
    ) -> list[AnswerChoice]:
        """Every answer in scope to one case (or to some of its questions), in the order submitted."""
        with self._transaction() as s:
            rows = s.execute(choices_query(scope, case_id, question_ids)).all()
        return [
            AnswerChoice(
                int(learner),
                int(attempt),
                question,
                int(stage),
                kind,
                answer,
                grade,
                list(verdicts or []),
                float(credit),
                bool(unsafe),
                certainty,
            )  # fmt: skip
            for learner, attempt, question, stage, kind, answer, grade, verdicts, credit, unsafe, certainty in rows
        ]

    def answer_counts(self, scope: Scope, questions: Sequence[tuple[str, str]]) -> list[AnswerChoice]:
        """The answers in scope to some scored questions ((case id, question id) pairs), counted in the
        database: one row per distinct choice (same grade and verdicts), its `answers` how many gave it.
        (learner_id, attempt_id and certainty are 0 / None: these rows stand for many answers.)"""
        if not questions:
            return []
        wanted = set(questions)
        with self._transaction() as s:
            rows = s.execute(choice_count_query(scope, list(wanted))).all()
        return [
            AnswerChoice(
                0,
                0,
                question,
                int(stage),
                kind,
                None,
                grade,
                list(json.loads(verdicts) if verdicts else []),
                float(credit),
                bool(unsafe),
                None,
                case_id,
                int(n),
            )  # fmt: skip
            for case_id, question, stage, kind, grade, verdicts, credit, unsafe, n in rows
            if (case_id, question) in wanted
        ]

    def case_hashes(self, scope: Scope, case_id: str) -> set[str | None]:
        """The versions (sha256 of the file) of a case that its answers in scope were given on."""
        with self._transaction() as s:
            query = (
                select(AnswerRecord.case_hash)
                .distinct()
                .where(AnswerRecord.case_id == case_id, *record_filter(scope))
            )
            return set(s.scalars(query))

    def stage_time_counts(self, scope: Scope, case_id: str | None = None) -> list[StageTimeCount]:
        """Per case and stage, how many attempts took how many seconds (rounded), for medians."""
        with self._transaction() as s:
            rows = s.execute(stage_time_query(scope, case_id)).all()
        return [StageTimeCount(c, int(stage), float(sec), int(n)) for c, stage, sec, n in rows]

    def attempt_times(self, scope: Scope, case_id: str | None = None) -> list[AttemptTime]:
        """Per attempt in scope: how many stages have a time, and their seconds added up."""
        with self._transaction() as s:
            rows = s.execute(attempt_time_query(scope, case_id)).all()
        return [AttemptTime(c, int(n), float(sec)) for c, n, sec in rows]

    def export_answers(self, scope: Scope) -> Iterator[ExportAnswer]:
        """Every answer record in scope with its learner's and cohort's names, oldest first, fetched in
        batches (each batch its own short transaction, keyed on (submitted_at, id))."""
        after: tuple[datetime, int] | None = None
        while True:
            query = export_answers_query(scope)
            if after is not None:
                at, last = after
                query = query.where(
                    (AnswerRecord.submitted_at > at)
                    | ((AnswerRecord.submitted_at == at) & (AnswerRecord.id > last))
                )
            with self._transaction() as s:
                rows = s.execute(query.limit(EXPORT_BATCH)).all()
            for r, name, email, cohort_name in rows:
                yield ExportAnswer(
                    *answer_values(r), learner_name=name, learner_email=email, cohort_name=cohort_name
                )
            if len(rows) < EXPORT_BATCH:
                return
            last_row = rows[-1][0]
            after = (last_row.submitted_at, last_row.id)

    def export_attempts(self, scope: Scope) -> list[ExportAttempt]:
        """Every attempt in scope with its learner's and cohort's names, oldest first."""
        with self._transaction() as s:
            rows = s.execute(export_attempts_query(scope)).all()
        return [
            ExportAttempt(
                r.id,
                r.learner_id,
                name,
                email,
                r.cohort_id,
                cohort_name,
                r.case_id,
                r.case_hash,
                r.stages_submitted,
                r.total,
                dict(r.category_scores) if r.category_scores else None,
                r.started_at,
                r.updated_at,
                r.completed_at,
            )  # fmt: skip
            for r, name, email, cohort_name in rows
        ]
