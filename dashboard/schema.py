"""The store's tables as the ORM sees them at the head revision of dashboard/migrations.

The migrations make the schema; these models only read and write it. tests/dashboard/test_migrations.py
checks that a database upgraded to head matches these models table by table, so a model changed without
a migration (or a migration without the model) fails there.

Constraint and index names come from NAMING, so that a later migration can name what it alters on
both backends (PostgreSQL would otherwise pick its own names and SQLite none at all).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

MAX_NAME = 80  # a learner's display name
MAX_EMAIL = 320
MAX_CASE_ID = 200
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now() -> datetime:
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
    metadata = MetaData(naming_convention=NAMING)


class Learner(Base):
    """Someone whose attempts are kept. kind: 'named' (display name + resume code, the embedded
    default), 'oidc' (signed in through the department's provider; email set), 'legacy' (made by
    the schema before sign-in existed: kept, but no longer opened by name alone) or 'seat' (a seat in a
    live session taken without signing in: a display name or none, no code; nobody signs in as it)."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))  # the display name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    kind: Mapped[str] = mapped_column(String(16), server_default="legacy")
    name_key: Mapped[str | None] = mapped_column(String(MAX_NAME), unique=True)  # casefolded, 'named'
    email: Mapped[str | None] = mapped_column(String(MAX_EMAIL), unique=True)  # lower-case, 'oidc'
    resume_code_hash: Mapped[str | None] = mapped_column(String(200))


class Cohort(Base):
    """A group of learners (a year, a course, a teaching session series). archived_at hides it."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by: Mapped[str | None] = mapped_column(String(MAX_EMAIL))


class CohortMember(Base):
    __tablename__ = "cohort_members"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AttemptRow(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(MAX_CASE_ID))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stages_submitted: Mapped[int] = mapped_column(default=0)
    total: Mapped[float | None]
    category_scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"), index=True)
    case_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the case file's bytes
    # A seat's attempt in a live session (None: played in the player). The player never resumes one.
    live_session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id"), index=True)


class AnswerRecord(Base):
    """One submitted answer: written once, when its stage is submitted (unique per attempt and question)."""

    __tablename__ = "answer_records"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        Index(None, "cohort_id", "case_id", "question_id"),
        Index(None, "case_id", "question_id"),
        Index(None, "submitted_at"),
        Index(None, "learner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    case_id: Mapped[str] = mapped_column(String(MAX_CASE_ID))
    case_hash: Mapped[str | None] = mapped_column(String(64))
    stage_index: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(MAX_CASE_ID))
    kind: Mapped[str] = mapped_column(String(32))
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(32))
    verdicts: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    credit: Mapped[float] = mapped_column(Float)
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    unsafe: Mapped[bool] = mapped_column(Boolean)
    certainty: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    live_session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id"), index=True)


class SignInSession(Base):
    """An embedded-mode sign-in (learner by resume code, faculty by passcode), kept by a browser
    cookie. Only the token's sha256 is stored."""

    __tablename__ = "sign_in_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthFailure(Base):
    """A wrong passcode or resume code, for rate limiting across processes."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index(None, "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class LiveSession(Base):
    """A live teaching session: a presenter plays one case with a room. Everything the room sees is
    here (stage, the projected question, switches), so any server process can serve any participant.

    version goes up on every change (a seat joining, an answer, a presenter action): the presenter's
    refresh reads it. state_version goes up only on the presenter's changes (what the phones show):
    the phones' refresh reads that, so an answer given in the room does not redraw every phone."""

    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    case_id: Mapped[str] = mapped_column(String(MAX_CASE_ID))
    case_hash: Mapped[str | None] = mapped_column(String(64))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(MAX_EMAIL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_index: Mapped[int] = mapped_column(Integer, default=0)
    question_id: Mapped[str | None] = mapped_column(String(MAX_CASE_ID))  # the projected question
    show_names: Mapped[bool] = mapped_column(Boolean, default=False)
    live_histogram: Mapped[bool] = mapped_column(Boolean, default=False)
    leaderboard: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state_version: Mapped[int] = mapped_column(Integer, default=1)


class LiveQuestion(Base):
    """A question of a live session once the presenter opened it: its phase (open, locked, revealed)
    and its vote round (1, then 2... after each re-vote). A question with no row is not opened yet."""

    __tablename__ = "live_questions"

    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(MAX_CASE_ID), primary_key=True)
    stage_index: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class LiveSeat(Base):
    """A participant's seat: their phone keeps the seat's token (only its hash is kept here), so a
    reload or a dropped connection finds the same seat. Each seat has an attempt, where its answers
    land as answer records like any attempt's."""

    __tablename__ = "live_seats"
    __table_args__ = (UniqueConstraint("session_id", "learner_id"), UniqueConstraint("session_id", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"))
    number: Mapped[int] = mapped_column(Integer)  # "seat 7": what the phone shows and a leaderboard uses
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(MAX_NAME))  # None: anonymous
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class LiveVote(Base):
    """A seat's answer to a question in one vote round, saved when given and changed until locked."""

    __tablename__ = "live_votes"
    __table_args__ = (
        UniqueConstraint("seat_id", "question_id", "round"),
        Index(None, "session_id", "question_id", "round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"))
    seat_id: Mapped[int] = mapped_column(ForeignKey("live_seats.id"))
    question_id: Mapped[str] = mapped_column(String(MAX_CASE_ID))
    round: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)  # how often the seat changed it this round
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
