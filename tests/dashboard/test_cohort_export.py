"""Cohort exports (SQLite and PostgreSQL): CSV of answers and attempts, and xAPI 1.0.3 statements
checked against a JSON Schema written from the specification (tests/dashboard/data) plus the rules
between fields that a schema cannot state."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dashboard.cohort_export import (
    ANSWER_COLUMNS,
    ATTEMPT_COLUMNS,
    answer_text,
    answers_csv,
    attempts_csv,
    safe_cell,
    statement,
    xapi_jsonl,
    xapi_response,
)
from dashboard.demo_cohort import make_demo_cohort
from dashboard.persistence import answer_input
from dashboard.store import AnswerInput, Store
from dashboard.store_analytics import Scope
from logic import load_knowledge_base, load_library, score_question, stage_plans

REPO = Path(__file__).resolve().parents[2]
KB = load_knowledge_base()
LIBRARY = load_library([REPO / "cases"], KB)
CASES = [LIBRARY.cases["myositis-after-failed-immunosuppression"], LIBRARY.cases["iga-deficient-before-ivig"]]
SCHEMA = json.loads((Path(__file__).parent / "data" / "xapi-statement.schema.json").read_text())
BASE = "https://myotutor.example.org"
MALLORY = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def cohort(store: Store) -> int:
    """Three simulated learners play two cases (every question kind), and Mallory, whose display name
    is a spreadsheet formula, answers one question."""
    made = make_demo_cohort(store, CASES, KB, learners=3, name="Year 4", variant=3)
    mallory = store.oidc_learner("mallory@example.org", MALLORY)
    store.join_cohort(mallory, made.join_code)
    case = CASES[0].case
    attempt = store.open_attempt(mallory, case.id, made.id)
    stage, question = case.question("next-agent")
    record = answer_input(score_question(question, stage, stage_plans(case, KB)[stage], "ivig", KB), 12.5)
    store.save_stage(attempt.id, {"next-agent": "ivig"}, 1, [record], mallory)
    return made.id


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_answers_csv(store: Store, cohort: int) -> None:
    exported = list(store.export_answers(Scope(cohort)))
    text = answers_csv(exported, LIBRARY.cases)
    assert text.splitlines()[0] == ",".join(ANSWER_COLUMNS)
    found = rows(text)
    assert len(found) == len(exported) > 20
    assert {r["cohort"] for r in found} == {"Year 4"} and {r["stage"] for r in found} >= {"1", "2", "3"}
    assert {r["kind"] for r in found} == {
        "next_step",
        "prerequisites",
        "monitoring",
        "dose",
        "ordering",
        "reflection",
    }
    mallory = [r for r in found if r["email"] == "mallory@example.org"]
    assert [r["learner"] for r in mallory] == ["'" + MALLORY]  # never run as a formula
    assert mallory[0]["case_title"] == CASES[0].case.title and mallory[0]["stage_seconds"] == "12.5"
    assert (mallory[0]["answer"], mallory[0]["grade"], mallory[0]["unsafe"]) == ("ivig", "recommended", "no")
    select_all = next(r for r in found if r["kind"] == "prerequisites" and ";" in r["answer"])
    assert all(part.strip() for part in select_all["answer"].split(";"))
    assert {r["certainty"] for r in found if r["kind"] == "dose"} == {""}
    assert all(datetime.fromisoformat(r["submitted_at"].replace("Z", "+00:00")).tzinfo for r in found)


def test_attempts_csv(store: Store, cohort: int) -> None:
    found = rows(attempts_csv(store.export_attempts(Scope(cohort)), LIBRARY.cases))
    assert list(found[0]) == list(ATTEMPT_COLUMNS)
    assert {r["status"] for r in found} <= {"completed", "abandoned", "in progress"}
    done = [r for r in found if r["status"] == "completed"]
    assert done and all(
        r["total"] and r["completed_at"] and r["stages"] == r["stages_submitted"] for r in done
    )
    assert all(r["escalation"] != "" for r in done)
    assert next(r for r in found if r["email"] == "mallory@example.org")["status"] == "in progress"


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "Ada", -0.5, None)] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "Ada", -0.5, None,
    ]  # fmt: skip
    assert [answer_text(v) for v in ("ivig", 136.0, 2.5, ["a", "b"], None, {"answer": "x", "certainty": 3})] == [
        "ivig", "136", "2.5", "a; b", "", "x",
    ]  # fmt: skip


def check_statement(s: dict[str, Any]) -> None:
    """What the schema cannot say (xAPI 1.0.3, Part Two, 2.4.5.1 and 2.4.1)."""
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(s), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert uuid.UUID(s["id"]).variant == uuid.RFC_4122
    score = s["result"].get("score")
    if score is not None:
        assert score["min"] < score["max"] and score["min"] <= score["raw"] <= score["max"]
        assert -1 <= score["scaled"] <= 1
    datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))


def test_xapi_statements_are_valid_and_say_what_happened(store: Store, cohort: int) -> None:
    exported = list(store.export_answers(Scope(cohort)))
    lines = xapi_jsonl(exported, BASE, LIBRARY.cases, KB).splitlines()
    statements = [json.loads(line) for line in lines]
    assert len(statements) == len(exported)
    for s in statements:
        check_statement(s)
    assert len({s["id"] for s in statements}) == len(statements)
    assert [json.loads(x)["id"] for x in xapi_jsonl(exported, BASE, LIBRARY.cases, KB).splitlines()] == [
        s["id"] for s in statements
    ]  # the same answers give the same statements: an LRS keeps one of each
    by_row = dict(zip((r.id for r in exported), statements, strict=True))
    for row in exported:
        s = by_row[row.id]
        assert s["actor"]["account"] == {"homePage": BASE, "name": str(row.learner_id)}
        assert s["actor"]["name"] == row.learner_name
        assert s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
        assert s["object"]["id"] == f"{BASE}/cases/{row.case_id}/questions/{row.question_id}"
        assert s["context"]["contextActivities"]["parent"][0]["id"] == f"{BASE}/cases/{row.case_id}"
        assert s["context"]["contextActivities"]["grouping"][0]["definition"]["name"] == {"en": "Year 4"}
        assert s["context"]["extensions"][f"{BASE}/xapi/stage"] == row.stage_index + 1
        assert s["result"]["extensions"][f"{BASE}/xapi/unsafe"] is row.unsafe
        if row.max_points > 0:
            assert s["result"]["score"]["raw"] == pytest.approx(row.points)
            assert s["result"]["success"] is (row.credit >= 1)
        else:
            assert "score" not in s["result"] and "success" not in s["result"]
        if row.certainty is not None:
            assert s["result"]["extensions"][f"{BASE}/xapi/certainty"] == row.certainty
    registrations = {}
    for row in exported:
        registrations.setdefault(row.attempt_id, set()).add(by_row[row.id]["context"]["registration"])
    assert all(len(r) == 1 for r in registrations.values()) and len(
        {next(iter(r)) for r in registrations.values()}
    ) == len(registrations)  # one registration per attempt


def test_xapi_interactions_per_question_kind(store: Store, cohort: int) -> None:
    exported = list(store.export_answers(Scope(cohort)))
    by_kind = {r.kind: statement(r, BASE, LIBRARY.cases, KB) for r in exported}
    choice = by_kind["next_step"]["object"]["definition"]
    assert choice["interactionType"] == "choice" and choice["type"].endswith("cmi.interaction")
    stage, question = CASES[0].case.question("next-agent")
    assert [c["id"] for c in choice["choices"]] == list(question.options)  # type: ignore[attr-defined]
    assert choice["choices"][0]["description"] == {"en": "Intravenous immunoglobulin (IVIG)"}
    assert by_kind["dose"]["object"]["definition"]["interactionType"] == "numeric"
    assert "choices" not in by_kind["dose"]["object"]["definition"]
    assert by_kind["reflection"]["object"]["definition"]["interactionType"] == "long-fill-in"
    assert by_kind["prerequisites"]["object"]["definition"]["interactionType"] == "choice"
    ordering = by_kind["ordering"]
    assert ordering["object"]["definition"]["interactionType"] == "sequencing"
    assert ordering["result"]["response"].count("[,]") == 3  # four options, in the learner's order
    assert f"{BASE}/xapi/certainty" in ordering["result"]["extensions"]  # the case asks how sure
    assert (
        xapi_response("prerequisites", ["check_iga", "ivig_premedication"])
        == "check_iga[,]ivig_premedication"
    )
    assert xapi_response("next_step", "ivig") == "ivig" and xapi_response("dose", 136.0) == "136"
    assert xapi_response("next_step", {"answer": "ivig", "certainty": 4}) == "ivig"
    assert xapi_response("ordering", ["a", "b", "c"]) == "a[,]b[,]c"
    assert xapi_response("some_future_kind", {"x": 1}) == '{"x": 1}'


def test_a_statement_without_a_cohort_or_a_case_in_the_library(store: Store) -> None:
    who = store.oidc_learner("solo@example.org", "Solo")
    attempt = store.open_attempt(who, "a-case-since-removed")
    store.save_stage(
        attempt.id,
        {"q": "x"},
        1,
        [
            AnswerInput(
                "q", 0, "next_step", "x", "unsafe", [{"id": "x", "grade": "unsafe"}], -0.5, -1.0, 2.0, True
            )
        ],
    )
    [row] = list(store.export_answers(Scope()))
    s = statement(row, BASE + "/", LIBRARY.cases, KB)
    check_statement(s)
    assert "grouping" not in s["context"]["contextActivities"]
    assert s["object"]["definition"]["name"] == {"en": "q"} and "choices" not in s["object"]["definition"]
    assert s["result"]["score"] == {"scaled": -0.5, "raw": -1.0, "min": -2.0, "max": 2.0}
    assert s["object"]["id"] == f"{BASE}/cases/a-case-since-removed/questions/q"  # no double slash


@pytest.mark.parametrize(
    "break_it",
    [
        lambda s: s["actor"].pop("account"),  # an Agent needs one identifier
        lambda s: s["actor"].update(mbox="mailto:a@example.org"),  # and only one
        lambda s: s["result"]["score"].update(scaled=1.5),
        lambda s: s["object"]["definition"].update(interactionType="multiple-choice"),
        lambda s: s["result"]["extensions"].update({"grade": "x"}),  # extension keys are IRIs
        lambda s: s.update(timestamp="22/11/2026 10:00"),
        lambda s: s["context"]["contextActivities"].update(parents=[]),
        lambda s: s["verb"].update(display={"not a language tag!": "answered"}),
        lambda s: s.update(id="not-a-uuid"),
        lambda s: s.update(stored="2026-11-22T10:00:00Z"),  # set by the LRS, not by us
    ],
)
def test_the_schema_rejects_what_xapi_forbids(store: Store, break_it: Any) -> None:
    who = store.oidc_learner("b@example.org", "B")
    attempt = store.open_attempt(who, CASES[0].case.id)
    record = AnswerInput(
        "next-agent",
        0,
        "next_step",
        "ivig",
        "recommended",
        [{"id": "ivig", "grade": "recommended"}],
        1.0,
        1.0,
        1.0,
    )
    store.save_stage(attempt.id, {"next-agent": "ivig"}, 1, [record])
    [row] = list(store.export_answers(Scope()))
    good = statement(row, BASE, LIBRARY.cases, KB)
    check_statement(good)
    break_it(good)
    assert list(Draft202012Validator(SCHEMA).iter_errors(good))
