"""Certainty: a choice question may ask how sure the learner is (1-4); the result carries it, classified
confident (3-4) or unsure against unsafe / wrong / right; confident and unsafe is flagged as the worst."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from logic import load_case, score_case, score_question, stage_plans
from logic.questions import answer_certainty, answer_value, with_certainty
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
IGA = REPO / "cases" / "iga-deficient-before-ivig.yaml"
S2 = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


@pytest.fixture(scope="module")
def iga_case():  # type: ignore[no-untyped-def]
    loaded, errors = load_case(IGA, KB)
    assert loaded is not None, errors
    return loaded.case


def test_answers_carry_their_certainty() -> None:
    stored = with_certainty("ivig", 4)
    assert stored == {"answer": "ivig", "certainty": 4}
    assert answer_value(stored) == "ivig" and answer_certainty(stored) == 4
    assert answer_value("ivig") == "ivig" and answer_certainty("ivig") is None
    assert answer_certainty({"answer": "ivig", "certainty": 7}) is None  # out of range
    assert answer_certainty({"answer": "ivig", "certainty": True}) is None


@pytest.mark.parametrize(
    ("answer", "certainty", "calibration"),
    [
        ("ivig", 4, "confident_unsafe"),
        ("ivig", 3, "confident_unsafe"),
        ("ivig", 2, "unsure_unsafe"),
        ("upadacitinib", 4, "confident_wrong"),
        ("rituximab", 3, "confident_right"),
        ("rituximab", 1, "unsure_right"),
    ],
)
def test_certainty_is_classified_against_the_outcome(
    iga_case, answer: str, certainty: int, calibration: str
) -> None:  # type: ignore[no-untyped-def]
    score = score_case(iga_case, {"iga-deficient": with_certainty(answer, certainty)}, KB)
    result = score.result("iga-deficient")
    assert result.certainty == certainty
    assert result.answer == answer  # the answer itself, without its certainty
    assert result.calibration == calibration
    assert result.stored_answer == {"answer": answer, "certainty": certainty}
    assert (score.confident_unsafe == ("iga-deficient",)) == (calibration == "confident_unsafe")


def test_right_is_full_credit_except_an_acceptable_next_step(iga_case) -> None:  # type: ignore[no-untyped-def]
    loaded, _ = load_case(S2, KB)
    assert loaded is not None
    order = ["prednisone", "methotrexate", "abatacept", "ivig"]  # 4 of 5 pairs
    result = score_case(loaded.case, {"pathway-order": with_certainty(order, 4)}, KB).result("pathway-order")
    assert result.credit == 0.8 and result.calibration == "confident_wrong"
    acceptable = score_case(iga_case, {"iga-deficient": with_certainty("scig", 4)}, KB).result(
        "iga-deficient"
    )
    assert acceptable.unsafe  # SCIG, like IVIG, is unsafe with IgA deficiency
    stage, next_agent = loaded.case.question("next-agent")
    asking = next_agent.model_copy(update={"certainty": True})
    plan = stage_plans(loaded.case, KB)[stage]
    result = score_question(asking, stage, plan, with_certainty("rituximab", 3), KB)
    assert result.credit == 0.5 and result.calibration == "confident_right"  # an acceptable alternative


def test_a_question_that_does_not_ask_ignores_a_certainty(iga_case) -> None:  # type: ignore[no-untyped-def]
    loaded, _ = load_case(S2, KB)
    assert loaded is not None
    result = score_case(loaded.case, {"next-agent": with_certainty("ivig", 4)}, KB).result("next-agent")
    assert result.certainty is None and result.calibration is None and result.credit == 1
    unrated = score_case(iga_case, {"iga-deficient": "ivig"}, KB).result("iga-deficient")
    assert unrated.unsafe and unrated.certainty is None and unrated.calibration is None


def test_the_cli_reports_certainty_and_the_worst_result(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump({"iga-deficient": {"answer": "ivig", "certainty": 4}}))
    out = subprocess.run(
        [sys.executable, "-m", "logic", "score", str(IGA), str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "UNSAFE  certainty 4: confident and unsafe" in out
    assert "worst result" in out
