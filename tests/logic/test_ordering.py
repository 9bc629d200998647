"""The ordering kind: keyed by the population's pathway, Kendall-style partial credit explained per option,
lint for options the pathway cannot order, and end to end through a case file and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from logic import Patient, StagePlan, best_answers, lint_case, load_case, recommend, score_case
from logic.questions import OrderingQuestion
from logic.questions.ordering import ordered_pairs
from tests.context import CONTEXT, KB

REPO = Path(__file__).resolve().parents[2]
S2 = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


def plan_for(**patient: Any) -> StagePlan:
    p = Patient.model_validate(
        {"age": 48, "weight_kg": 68, "height_cm": 164, "diagnosis": "dermatomyositis", **patient},
        context=CONTEXT,
    )
    return StagePlan(p, recommend(p, KB))


def question(options: list[str], **extra: Any) -> OrderingQuestion:
    data = {"id": "order", "kind": "ordering", "prompt": "In order?", "options": options, **extra}
    return OrderingQuestion.model_validate(data, context=CONTEXT)


ADULT = ["rituximab", "prednisone", "ivig", "methotrexate"]


def test_the_key_is_the_adult_pathway_order_with_same_step_ties() -> None:
    q = question(ADULT)
    key = q.answer_key(plan_for(), KB)
    ranks = {o: key.graded[o].rank for o in ADULT}
    # First line (prednisone, methotrexate) < steroid-sparing (IVIG) < refractory (rituximab).
    assert ranks["prednisone"] == ranks["methotrexate"] == 0
    assert ranks["prednisone"] < ranks["ivig"] < ranks["rituximab"]
    assert key.best == ("prednisone", "methotrexate", "ivig", "rituximab")
    assert "Prednisone / Methotrexate →" in key.why
    assert len(ordered_pairs(key)) == 5  # 6 pairs, less the first-line tie
    assert "Steroid-sparing" in key.graded["ivig"].why
    assert key.graded["rituximab"].sources  # the step's sources


def test_the_key_follows_the_patients_population() -> None:
    q = question(["ivig", "methotrexate", "tocilizumab"])
    adult = q.answer_key(plan_for(), KB)
    child = q.answer_key(plan_for(age=9, weight_kg=30, diagnosis="juvenile_dermatomyositis"), KB)
    assert adult.graded["tocilizumab"].rank is None  # not on the adult pathway's escalation steps
    assert child.best == ("methotrexate", "ivig", "tocilizumab")  # JDM: refractory, then after JAK failure


def score(q: OrderingQuestion, answer: Any) -> Any:
    key = q.answer_key(plan_for(), KB)
    return q.mark(key, answer, KB)


def test_kendall_partial_credit_over_the_ordered_pairs() -> None:
    q = question(ADULT)
    best = ["prednisone", "methotrexate", "ivig", "rituximab"]
    assert score(q, best).credit == 1
    assert score(q, ["methotrexate", "prednisone", "ivig", "rituximab"]).credit == 1
    assert score(q, list(reversed(best))).credit == 0
    swapped = score(q, ["prednisone", "methotrexate", "rituximab", "ivig"])
    assert swapped.credit == pytest.approx(4 / 5)
    assert not swapped.unsafe
    missing = score(q, ["prednisone", "rituximab"])  # two options not placed: their pairs are lost
    assert missing.credit == pytest.approx(1 / 5)
    assert score(q, None).credit == 0
    assert score(q, ["prednisone", "prednisone", "nonsense"]).credit == 0


def test_each_option_is_explained() -> None:
    q = question(ADULT)
    marking = score(q, ["prednisone", "methotrexate", "rituximab", "ivig"])
    verdicts = {v.id: v for v in marking.verdicts}
    assert [v.id for v in marking.verdicts] == [
        "prednisone",
        "methotrexate",
        "rituximab",
        "ivig",
    ], "in the learner's order"
    assert verdicts["prednisone"].grade == "in_order"
    assert verdicts["rituximab"].grade == "out_of_order"
    assert "Your position 3" in verdicts["rituximab"].why
    assert "Refractory" in verdicts["rituximab"].why
    assert "against 2 of 3" in verdicts["ivig"].why
    assert marking.best_text.startswith("Prednisone → Methotrexate")
    placed_two = score(q, ["prednisone", "methotrexate"])
    assert {v.id: v.grade for v in placed_two.verdicts}["rituximab"] == "missed"


def test_lint_flags_options_the_pathway_cannot_order() -> None:
    plan = plan_for()
    unplaced = question(["prednisone", "tocilizumab", "ivig"])
    findings = unplaced.lint(unplaced.answer_key(plan, KB), plan, KB)
    assert (
        ["options", 1],
        "'tocilizumab' is taught at no step of the Adult pathway's sequence (only for severe disease, "
        "throughout, or nowhere): it cannot be ordered",
    ) in findings
    tied = question(["prednisone", "methotrexate", "azathioprine"])
    messages = [m for _, m in tied.lint(tied.answer_key(plan, KB), plan, KB)]
    assert any("nothing to order" in m for m in messages)
    wrong = question(ADULT, expect=["rituximab", "prednisone", "methotrexate", "ivig"])
    [(where, message)] = wrong.lint(wrong.answer_key(plan, KB), plan, KB)
    assert where == ["expect"] and "the pathway's order is" in message
    good = question(ADULT, expect=["methotrexate", "prednisone", "ivig", "rituximab"])
    assert good.lint(good.answer_key(plan, KB), plan, KB) == []


def test_an_ordering_question_plays_in_the_s2_case_and_the_cli(tmp_path: Path) -> None:
    loaded, errors = load_case(S2, KB)
    assert loaded is not None, errors
    assert lint_case(loaded, KB) == []
    case = loaded.case
    stage, q = case.question("pathway-order")
    assert q.kind == "ordering"
    best = best_answers(case, KB)["pathway-order"]
    assert best == ["prednisone", "methotrexate", "ivig", "abatacept"]
    answers = {"pathway-order": {"answer": list(reversed(best)), "certainty": 2}}
    result = score_case(case, answers, KB).result("pathway-order")
    assert result.credit == 0 and result.certainty == 2 and result.category == "escalation"
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers))
    out = subprocess.run(
        [sys.executable, "-m", "logic", "score", str(S2), str(path), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    [cli] = [r for r in json.loads(out.stdout)["questions"] if r["id"] == "pathway-order"]
    assert cli["kind"] == "ordering" and cli["points"] == 0 and cli["certainty"] == 2
    assert cli["calibration"] == "unsure_wrong"


def test_severe_disease_is_not_a_point_in_the_sequence() -> None:
    """Pulse methylprednisolone is taught for severe disease, which can arise at any point: ordering it after
    abatacept would teach something false, so it is not placed, lint says so and the key's order omits it."""
    plan = plan_for()
    q = question(["methylprednisolone", "prednisone", "abatacept"])
    key = q.answer_key(plan, KB)
    assert key.graded["methylprednisolone"].rank is None
    assert "severe disease" in key.graded["methylprednisolone"].why
    assert key.why == (
        "The pathway's order: Prednisone → Abatacept. Not in its sequence: Methylprednisolone (IV)."
    )
    assert ordered_pairs(key) == [("prednisone", "abatacept")]
    findings = q.lint(key, plan, KB)
    assert any(where == ["options", 0] and "cannot be ordered" in m for where, m in findings)
