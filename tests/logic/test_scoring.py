"""Scoring: partial credit by grade, set overlap for select-all, dose tolerance, 0-100 totals."""

from pathlib import Path

import pytest

from logic import best_answers, load_case, score_case
from logic.cases import Case
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def case() -> Case:
    loaded, errors = load_case(REPO / "cases" / "myositis-after-failed-immunosuppression.yaml", KB)
    assert loaded is not None, errors
    return loaded.case


def points(case: Case, question_id: str, answer: object) -> tuple[float, bool]:
    result = score_case(case, {question_id: answer}, KB).result(question_id)  # type: ignore[dict-item]
    return result.points, result.unsafe


def test_best_answers_score_100_with_nothing_flagged(case: Case) -> None:
    score = score_case(case, best_answers(case, KB), KB)
    assert score.total == 100
    assert score.unsafe == ()
    assert all(s == 100 for s in score.stage_scores)
    assert score.category_scores == {"escalation": 100, "safety": 100, "dosing": 100, "monitoring": 100}


def test_no_answers_score_zero(case: Case) -> None:
    score = score_case(case, {}, KB)
    assert score.total == 0
    assert score.unsafe == ("before-ivig",)  # skipping the safety checks is flagged


def test_single_choice_credit_by_grade(case: Case) -> None:
    assert points(case, "next-agent", "ivig") == (1, False)  # recommended
    assert points(case, "next-agent", "rituximab") == (0.5, False)  # acceptable
    assert points(case, "next-agent", "etanercept") == (0, False)  # not recommended
    assert points(case, "next-agent", "not-an-option") == (0, False)


def test_unsafe_choice_is_negative_and_flagged(case: Case) -> None:
    deficient = case.model_copy(
        update={
            "patient": case.patient.model_copy(
                update={"labs": case.patient.labs.model_copy(update={"iga": "deficient"})}
            )
        }
    )
    result = score_case(deficient, {"next-agent": "ivig"}, KB).result("next-agent")
    assert result.points == -0.5
    assert result.unsafe
    assert result.verdicts[0].grade == "unsafe"
    assert "rituximab" in result.best


def test_select_all_missed_and_extra_both_cost(case: Case) -> None:
    assert points(case, "before-ivig", ["check_iga", "ivig_premedication"]) == (1, False)
    assert points(case, "before-ivig", ["check_iga"]) == (0.5, True)  # missed one: flagged
    assert points(case, "before-ivig", ["check_iga", "ivig_premedication", "tb_screening"]) == (0.5, False)
    assert points(case, "before-ivig", ["tb_screening", "cancer_screening"]) == (0, True)


def test_select_all_verdicts(case: Case) -> None:
    result = score_case(case, {"before-ivig": ["check_iga", "tb_screening"]}, KB).result("before-ivig")
    grades = {v.id: v.grade for v in result.verdicts}
    assert grades == {"check_iga": "correct", "ivig_premedication": "missed", "tb_screening": "extra"}


def test_dose_within_near_outside_and_unsafe(case: Case) -> None:
    # 1-2 g/kg x 56 kg ideal body weight (68 kg, 164 cm, female) = 56-112 g; tolerance 10 %.
    assert points(case, "ivig-dose", 112) == (1, False)
    assert points(case, "ivig-dose", 120) == (1, False)
    assert points(case, "ivig-dose", 130) == (0.5, False)
    assert points(case, "ivig-dose", 140) == (0, False)  # 2 g/kg on actual weight: not the key
    assert points(case, "ivig-dose", 30) == (0, False)
    assert points(case, "ivig-dose", 300) == (-0.5, True)
    assert points(case, "ivig-dose", "112") == (1, False)
    assert points(case, "ivig-dose", "lots") == (0, False)
    assert points(case, "ivig-dose", float("nan")) == (0, False)


def test_reflection_is_not_scored_but_shows_discussion(case: Case) -> None:
    result = score_case(case, {"reflect": "anything"}, KB).result("reflect")
    assert not result.scored
    assert result.discussion and "ProDERM" in result.discussion


def test_feedback_carries_why_sources_and_faculty_notes(case: Case) -> None:
    result = score_case(case, {"next-agent": "rituximab"}, KB).result("next-agent")
    assert result.best == ("ivig",)
    assert "IVIG is the recommended next step" in result.why
    assert "answer_after_failed_immunosuppression" in result.sources
    assert any("thrombosis" in n.text for n in result.faculty_notes)  # IVIG note (ProDERM)
    assert any("lymphoma" in n.text for n in result.faculty_notes)  # rituximab note


def test_stage_and_total_are_clamped_to_0_100(case: Case) -> None:
    answers = {"next-agent": "etanercept", "before-ivig": [], "ivig-dose": 500}
    score = score_case(case, answers, KB)
    assert score.stage_scores[0] == 0
    assert 0 <= score.total <= 100


def test_partial_answers_give_a_partial_total(case: Case) -> None:
    answers = best_answers(case, KB)
    answers["next-agent"] = "rituximab"  # 0.5 of 1 point, out of 7 scored questions
    assert score_case(case, answers, KB).total == round(100 * 6.5 / 7, 1)
