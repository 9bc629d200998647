"""A frozen copy of the store's models as they shipped before migrations (dashboard/store.py at commit
523a877), to make "a database made by today's code" on PostgreSQL. Never change it: it is the past.

tests/dashboard/data/legacy-0001.db was made by that code itself (see make_legacy_db.py beside it);
test_migrations checks that these models make the same SQLite schema as that file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class LegacyBase(DeclarativeBase):
    pass


class Learner(LegacyBase):
    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AttemptRow(LegacyBase):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stages_submitted: Mapped[int] = mapped_column(default=0)
    total: Mapped[float | None]
    category_scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
