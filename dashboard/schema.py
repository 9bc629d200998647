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
    default), 'oidc' (signed in through the department's provider; email set) or 'legacy' (made by
    the schema before sign-in existed: kept, but no longer opened by name alone)."""

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
