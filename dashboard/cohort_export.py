"""A cohort's records as files: CSV of its answers and of its attempts, and xAPI statements (one per
answer, JSON lines) for a learning record store. Pure: no streamlit, no database (the rows come from
store_analytics.py).

CSV cells that a spreadsheet would run as a formula (text starting with =, +, -, @, a tab or a
carriage return: a learner's name is typed by the learner) are written with a leading apostrophe.

xAPI 1.0.3 statements: actor = the learner as an Agent with an account on this app (its id, and
their display name); verb = ADL's "answered"; object = the question as an Activity
(`<app>/cases/<case id>/questions/<question id>`, a cmi.interaction with its interactionType and
choices); result = score (scaled = the answer's credit, -1..1; raw = points, between -max and max),
success (full credit), response (in the interaction type's response format), and our grade, unsafe
flag and certainty as result extensions; context = the attempt as the registration, the case as the
parent Activity, the cohort as the grouping; timestamp = when it was submitted. Statement ids are
derived from the app, the attempt and the question, so exporting twice sends the same statements
(an LRS keeps one of each).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from dashboard.analytics import find_question, kind_of, plain_prompt
from dashboard.store_analytics import ExportAnswer, ExportAttempt
from logic import KnowledgeBase, LoadedCase

ANSWER_COLUMNS = (
    "submitted_at", "cohort", "learner_id", "learner", "email", "case_id", "case_title", "case_hash",
    "stage", "question_id", "kind", "answer", "grade", "credit", "points", "max_points", "unsafe",
    "certainty", "stage_seconds", "attempt_id",
)  # fmt: skip
CATEGORIES = ("escalation", "safety", "dosing", "monitoring")
ATTEMPT_COLUMNS = (
    "attempt_id", "cohort", "learner_id", "learner", "email", "case_id", "case_title", "case_hash",
    "status", "stages_submitted", "stages", "total", *CATEGORIES, "started_at", "completed_at",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

VERB_ANSWERED: dict[str, Any] = {
    "id": "http://adlnet.gov/expapi/verbs/answered",
    "display": {"en-US": "answered"},
}
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
CASE_TYPE = "http://adlnet.gov/expapi/activities/simulation"  # a clinical case played stage by stage
COHORT_TYPE = "http://adlnet.gov/expapi/activities/course"
# xAPI interactionType of each question kind (and how its response is written).
INTERACTION_TYPES = {
    "next_step": "choice",
    "prerequisites": "choice",
    "monitoring": "choice",
    "dose": "numeric",
    "reflection": "long-fill-in",
    "ordering": "sequencing",
}


# -------------------------------------------------------------------------------------------- CSV
def safe_cell(value: Any) -> Any:
    """A cell as written: text a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def answer_value(answer: Any) -> Any:
    """The answer itself (an answer given with a certainty is stored as {"answer": ..., "certainty": n})."""
    if isinstance(answer, dict) and "answer" in answer:
        return answer["answer"]
    return answer


def answer_text(answer: Any) -> str:
    value = answer_value(answer)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    return json.dumps(value, ensure_ascii=False)


def _csv(columns: tuple[str, ...], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def _title(cases: Mapping[str, LoadedCase], case_id: str) -> str:
    loaded = cases.get(case_id)
    return loaded.case.title if loaded is not None else ""


def answers_csv(rows: Iterable[ExportAnswer], cases: Mapping[str, LoadedCase]) -> str:
    """One line per answer record (stage numbered from 1; times in UTC, ISO 8601)."""
    return _csv(
        ANSWER_COLUMNS,
        (
            (
                _when(r.submitted_at),
                r.cohort_name or "",
                r.learner_id,
                r.learner_name,
                r.learner_email or "",
                r.case_id,
                _title(cases, r.case_id),
                r.case_hash or "",
                r.stage_index + 1,
                r.question_id,
                r.kind,
                answer_text(r.answer),
                r.grade or "",
                r.credit,
                r.points,
                r.max_points,
                "yes" if r.unsafe else "no",
                "" if r.certainty is None else r.certainty,
                "" if r.seconds is None else r.seconds,
                r.attempt_id,
            )  # fmt: skip
            for r in rows
        ),
    )


def attempts_csv(rows: Iterable[ExportAttempt], cases: Mapping[str, LoadedCase]) -> str:
    """One line per attempt: its status (completed, abandoned, in progress), total and scores by kind."""

    def stages(case_id: str) -> Any:
        loaded = cases.get(case_id)
        return len(loaded.case.stages) if loaded is not None else ""

    def category(r: ExportAttempt, name: str) -> Any:
        value = (r.category_scores or {}).get(name)
        return "" if value is None else round(value, 2)

    return _csv(
        ATTEMPT_COLUMNS,
        (
            (
                r.id,
                r.cohort_name or "",
                r.learner_id,
                r.learner_name,
                r.learner_email or "",
                r.case_id,
                _title(cases, r.case_id),
                r.case_hash or "",
                r.status,
                r.stages_submitted,
                stages(r.case_id),
                "" if r.total is None else round(r.total, 2),
                *(category(r, c) for c in CATEGORIES),
                _when(r.started_at),
                _when(r.completed_at),
            )  # fmt: skip
            for r in rows
        ),
    )


# ------------------------------------------------------------------------------------------- xAPI
def _iri(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(quote(p, safe="") for p in parts)])


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _lang(text: str) -> dict[str, str]:
    return {"en": text}


def xapi_response(kind: str, answer: Any) -> str:
    """The learner's response in the format of the question's interactionType."""
    value = answer_value(answer)
    interaction = INTERACTION_TYPES.get(kind, "other")
    if interaction in ("choice", "sequencing"):
        items = value if isinstance(value, list | tuple) else [] if value is None else [value]
        return "[,]".join(str(v) for v in items)
    if interaction == "numeric":
        return answer_text(value)
    if interaction == "long-fill-in":
        return "" if value is None else str(value)
    return json.dumps(value, ensure_ascii=False)


def _definition(row: ExportAnswer, cases: Mapping[str, LoadedCase], kb: KnowledgeBase) -> dict[str, Any]:
    loaded = cases.get(row.case_id)
    question = find_question(loaded.case, row.question_id) if loaded is not None else None
    interaction = INTERACTION_TYPES.get(row.kind, "other")
    name = plain_prompt(question.prompt, 250) if question is not None else row.question_id
    definition: dict[str, Any] = {"name": _lang(name), "type": INTERACTION, "interactionType": interaction}
    same_kind = question is not None and kind_of(question) == row.kind
    options = question.offered() if question is not None and same_kind else ()
    if options and interaction in ("choice", "sequencing"):
        definition["choices"] = [{"id": o, "description": _lang(kb.name(o))} for o in options]
    return definition


def statement(
    row: ExportAnswer, base_url: str, cases: Mapping[str, LoadedCase], kb: KnowledgeBase
) -> dict[str, Any]:
    """The xAPI 1.0.3 statement of one answer record (see the module doc)."""
    base = base_url.rstrip("/")
    loaded = cases.get(row.case_id)
    result: dict[str, Any] = {"completion": True, "response": xapi_response(row.kind, row.answer)}
    if row.max_points > 0:
        result["score"] = {
            "scaled": round(max(-1.0, min(1.0, row.credit)), 4),
            "raw": round(row.points, 4),
            "min": -row.max_points,
            "max": row.max_points,
        }
        result["success"] = row.credit >= 1
    extensions: dict[str, Any] = {_iri(base, "xapi", "unsafe"): row.unsafe}
    if row.grade is not None:
        extensions[_iri(base, "xapi", "grade")] = row.grade
    if row.certainty is not None:
        extensions[_iri(base, "xapi", "certainty")] = row.certainty
    result["extensions"] = extensions
    case_activity: dict[str, Any] = {
        "objectType": "Activity",
        "id": _iri(base, "cases", row.case_id),
        "definition": {"name": _lang(loaded.case.title if loaded else row.case_id), "type": CASE_TYPE},
    }
    context_activities: dict[str, Any] = {"parent": [case_activity]}
    if row.cohort_id is not None:
        context_activities["grouping"] = [
            {
                "objectType": "Activity",
                "id": _iri(base, "cohorts", str(row.cohort_id)),
                "definition": {
                    "name": _lang(row.cohort_name or f"Cohort {row.cohort_id}"),
                    "type": COHORT_TYPE,
                },
            }
        ]
    context_extensions: dict[str, Any] = {_iri(base, "xapi", "stage"): row.stage_index + 1}
    if row.case_hash:
        context_extensions[_iri(base, "xapi", "case-sha256")] = row.case_hash
    if row.seconds is not None:
        context_extensions[_iri(base, "xapi", "stage-seconds")] = row.seconds
    return {
        "id": str(
            uuid.uuid5(uuid.NAMESPACE_URL, _iri(base, "answers", str(row.attempt_id), row.question_id))
        ),
        "actor": {
            "objectType": "Agent",
            "name": row.learner_name,
            "account": {"homePage": base, "name": str(row.learner_id)},
        },
        "verb": {"id": VERB_ANSWERED["id"], "display": dict(VERB_ANSWERED["display"])},
        "object": {
            "objectType": "Activity",
            "id": _iri(base, "cases", row.case_id, "questions", row.question_id),
            "definition": _definition(row, cases, kb),
        },
        "result": result,
        "context": {
            "registration": str(uuid.uuid5(uuid.NAMESPACE_URL, _iri(base, "attempts", str(row.attempt_id)))),
            "contextActivities": context_activities,
            "platform": "myotutor",
            "language": "en",
            "extensions": context_extensions,
        },
        "timestamp": _timestamp(row.submitted_at),
    }


def xapi_lines(
    rows: Iterable[ExportAnswer], base_url: str, cases: Mapping[str, LoadedCase], kb: KnowledgeBase
) -> Iterator[str]:
    for row in rows:
        yield json.dumps(statement(row, base_url, cases, kb), ensure_ascii=False, separators=(",", ":"))


def xapi_jsonl(
    rows: Iterable[ExportAnswer], base_url: str, cases: Mapping[str, LoadedCase], kb: KnowledgeBase
) -> str:
    """The statements as JSON lines (one statement per line), for a learning record store."""
    return "".join(line + "\n" for line in xapi_lines(rows, base_url, cases, kb))
