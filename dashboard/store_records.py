"""Answer records as every part of the store writes them: the player's submitted stages (store.py) and
a live session's locked questions (store_live.py). Pure, no streamlit."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashboard.schema import AnswerRecord, AttemptRow, now


@dataclass(frozen=True)
class AnswerInput:
    """What the player knows of one submitted answer (the rest comes from the attempt)."""

    question_id: str
    stage_index: int
    kind: str  # the question's kind (next_step, prerequisites, monitoring, dose, reflection, ...)
    answer: Any  # JSON: a choice id, a list of ids, a number, text, or None
    grade: str | None  # the verdict: the chosen option's grade (single choice, dose), or the answer's
    verdicts: list[dict[str, str]] = field(default_factory=list)  # per chosen/expected item: {id, grade}
    credit: float = 0.0  # -1..1
    points: float = 0.0
    max_points: float = 0.0
    unsafe: bool = False
    certainty: int | None = None  # 1-4 where the question asked for it
    seconds: float | None = None  # from the stage being shown to its submit


def _json(value: Any, what: str) -> None:
    """ValueError unless value is a dict with str keys that serialises as strict JSON."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be a dict with str keys, got {value!r}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} is not JSON-serialisable: {e}") from None


def _record_values(record: AnswerInput, row: AttemptRow) -> dict[str, Any]:
    if not isinstance(record, AnswerInput):
        raise ValueError(f"records must be AnswerInput, got {record!r}")
    _json({"answer": record.answer, "verdicts": record.verdicts}, "answer record")
    numbers = (record.credit, record.points, record.max_points, record.seconds or 0.0)
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in numbers):
        raise ValueError(f"answer record {record.question_id!r} has a non-finite number")
    if record.certainty is not None and record.certainty not in (1, 2, 3, 4):
        raise ValueError(f"certainty must be 1-4 or None, got {record.certainty!r}")
    return {
        "attempt_id": row.id,
        "learner_id": row.learner_id,
        "cohort_id": row.cohort_id,
        "case_id": row.case_id,
        "case_hash": row.case_hash,
        "stage_index": record.stage_index,
        "question_id": record.question_id,
        "kind": record.kind,
        "answer": record.answer,
        "grade": record.grade,
        "verdicts": record.verdicts,
        "credit": float(record.credit),
        "points": float(record.points),
        "max_points": float(record.max_points),
        "unsafe": bool(record.unsafe),
        "certainty": record.certainty,
        "seconds": None if record.seconds is None else max(0.0, float(record.seconds)),
        "submitted_at": now(),
        "live_session_id": row.live_session_id,
    }


@dataclass(frozen=True)
class AnswerRow:
    """A stored answer record, detached."""

    id: int
    attempt_id: int
    learner_id: int
    cohort_id: int | None
    case_id: str
    case_hash: str | None
    stage_index: int
    question_id: str
    kind: str
    answer: Any
    grade: str | None
    verdicts: list[dict[str, str]]
    credit: float
    points: float
    max_points: float
    unsafe: bool
    certainty: int | None
    seconds: float | None
    submitted_at: datetime
    live_session_id: int | None = None  # written from a live session's votes


def answer_values(r: AnswerRecord) -> tuple[Any, ...]:
    """A stored answer record's values in AnswerRow's field order (for AnswerRow and what extends it)."""
    return (
        r.id, r.attempt_id, r.learner_id, r.cohort_id, r.case_id, r.case_hash, r.stage_index,
        r.question_id, r.kind, r.answer, r.grade, list(r.verdicts or []), r.credit, r.points, r.max_points,
        r.unsafe, r.certainty, r.seconds, r.submitted_at, r.live_session_id,
    )  # fmt: skip


def answer_row(r: AnswerRecord) -> AnswerRow:
    """A stored answer record, detached from its session."""
    return AnswerRow(*answer_values(r))
