"""The store: learners and their attempts at cases, so a case can be resumed and progress shown.

Pure (no streamlit): the pages wrap one Store in st.cache_resource. Each method runs in its own
short transaction and returns plain, detached values. Works on SQLite (the default, an embedded
file) and PostgreSQL (set $MYOTUTOR_DATABASE_URL, e.g. postgresql+psycopg://user@host/db).

An attempt is unfinished while completed_at is NULL. It ends either completed (total set) or
abandoned by restart() (completed_at set, total NULL): abandoned attempts are kept as history,
count in ProgressRow.attempts, and never in completed, best_total, last_total or class_summary.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

REPO = Path(__file__).resolve().parent.parent
MAX_NAME = 80


def database_url() -> str:
    """$MYOTUTOR_DATABASE_URL, or the embedded SQLite file <repo>/myotutor.db."""
    return os.environ.get("MYOTUTOR_DATABASE_URL") or f"sqlite:///{REPO / 'myotutor.db'}"


def _now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class AttemptRow(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stages_submitted: Mapped[int] = mapped_column(default=0)
    total: Mapped[float | None]
    category_scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Attempt:
    """A detached copy of an attempt (answers: question id -> answer, as logic.score_case takes)."""

    id: int
    case_id: str
    answers: dict[str, Any]
    stages_submitted: int
    total: float | None
    completed_at: datetime | None


@dataclass(frozen=True)
class ProgressRow:
    case_id: str
    attempts: int  # every attempt started, abandoned and unfinished ones included
    completed: int  # attempts completed with a score
    best_total: float | None
    last_total: float | None  # the score of the most recently completed attempt
    last_played: datetime  # the latest write to any attempt at this case


def _detach(row: AttemptRow) -> Attempt:
    return Attempt(row.id, row.case_id, dict(row.answers), row.stages_submitted, row.total, row.completed_at)


def _json(value: Any, what: str) -> None:
    """ValueError unless value is a dict with str keys that serialises as strict JSON."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be a dict with str keys, got {value!r}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} is not JSON-serialisable: {e}") from None


class Store:
    def __init__(self, url: str | None = None) -> None:
        self.url = make_url(url or database_url())
        self.engine = self._create_engine()
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _create_engine(self) -> Engine:
        if self.url.get_backend_name() != "sqlite":
            return create_engine(self.url, pool_pre_ping=True)
        engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 30})
        in_memory = self.url.database in (None, "", ":memory:")

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                dbapi_connection.execute("PRAGMA journal_mode=WAL")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock up front, so read-modify-write never races another Store.
            immediate = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            session.connection(execution_options={"write": write})
            yield session

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

    def learner(self, name: str) -> int:
        """The id of the learner called name (stripped, 1..80 characters), created if new."""
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
            raise ValueError(f"a learner's name must be 1 to {MAX_NAME} characters, got {name!r}")
        name = name.strip()
        for _ in range(2):  # a concurrent insert of the same name: the second try finds it
            try:
                with self._transaction(write=True) as s:
                    found = s.scalar(select(Learner.id).where(Learner.name == name))
                    if found is not None:
                        return found
                    learner = Learner(name=name)
                    s.add(learner)
                    s.flush()
                    return learner.id
            except IntegrityError:
                continue
        raise RuntimeError(f"could not create learner {name!r}")

    @staticmethod
    def _open(session: Session, learner_id: int, case_id: str) -> Attempt:
        row = session.scalar(
            select(AttemptRow)
            .where(
                AttemptRow.learner_id == learner_id,
                AttemptRow.case_id == case_id,
                AttemptRow.completed_at.is_(None),
            )
            .order_by(AttemptRow.id.desc())
            .limit(1)
        )
        if row is None:
            row = AttemptRow(learner_id=learner_id, case_id=case_id, answers={}, stages_submitted=0)
            session.add(row)
            session.flush()
        return _detach(row)

    def open_attempt(self, learner_id: int, case_id: str) -> Attempt:
        """The learner's unfinished attempt at case_id (the latest), or a new one."""
        with self._transaction(write=True) as s:
            self._lock_learner(s, learner_id)
            return self._open(s, learner_id, case_id)

    def restart(self, learner_id: int, case_id: str) -> Attempt:
        """Abandon the unfinished attempt (kept, completed_at set, total NULL) and open a fresh one."""
        with self._transaction(write=True) as s:
            self._lock_learner(s, learner_id)
            now = _now()
            for row in s.scalars(
                select(AttemptRow).where(
                    AttemptRow.learner_id == learner_id,
                    AttemptRow.case_id == case_id,
                    AttemptRow.completed_at.is_(None),
                )
            ):
                row.completed_at = row.updated_at = now
            s.flush()
            return self._open(s, learner_id, case_id)

    def save_stage(self, attempt_id: int, stage_answers: dict[str, Any], stages_submitted: int) -> None:
        """Add a stage's answers. Saved answers are final: a question already answered keeps its
        answer. stages_submitted never decreases. ValueError on a finished attempt or bad input."""
        _json(stage_answers, "stage_answers")
        if (
            not isinstance(stages_submitted, int)
            or isinstance(stages_submitted, bool)
            or stages_submitted < 0
        ):
            raise ValueError(f"stages_submitted must be an int >= 0, got {stages_submitted!r}")
        with self._transaction(write=True) as s:
            row = self._attempt(s, attempt_id)
            if row.completed_at is not None:
                raise ValueError(f"attempt {attempt_id} is finished; open a new one")
            row.answers = {**stage_answers, **row.answers}  # a new dict, so the change is detected
            row.stages_submitted = max(row.stages_submitted, stages_submitted)
            row.updated_at = _now()

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
            row.completed_at = row.updated_at = _now()

    def attempt(self, attempt_id: int) -> Attempt:
        """A detached copy of one attempt (KeyError if unknown)."""
        with self._transaction() as s:
            return _detach(self._attempt(s, attempt_id))

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

    def class_summary(self, case_id: str) -> list[float]:
        """The totals of every completed attempt at case_id, all learners, in completion order."""
        with self._transaction() as s:
            return list(
                s.scalars(
                    select(AttemptRow.total)
                    .where(AttemptRow.case_id == case_id, AttemptRow.total.is_not(None))
                    .order_by(AttemptRow.completed_at, AttemptRow.id)
                )
            )
