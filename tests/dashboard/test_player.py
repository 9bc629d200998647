"""dashboard/player/: stage visibility and progress, answers from widgets, scoring only what was submitted
(once), the end-of-case tables and the path on the flowchart; dashboard/catalogue.py: the library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard import catalogue
from dashboard.player import answers as pa
from dashboard.player import progress as pp
from dashboard.player import results as pr
from dashboard.player.memo import RESULTS
from dashboard.questions import ViewContext
from logic import CaseError, best_answers, load_library, score_case, stage_plans
from logic.questions import with_certainty
from tests.context import KB

from .conftest import REPO, S2, S2_FILE


@pytest.fixture(scope="module")
def s2():  # type: ignore[no-untyped-def]
    return load_library([S2_FILE], KB).cases[S2].case


def test_stage_visibility() -> None:
    assert pp.current_stage(3, []) == 0
    assert pp.visible_stage_count(3, []) == 1
    assert pp.current_stage(3, [0]) == 1
    assert pp.visible_stage_count(3, [0]) == 2
    assert pp.visible_stage_count(3, [0, 1, 2]) == 3
    assert pp.current_stage(3, [0, 1, 2]) is None
    assert pp.is_complete(3, [0, 1, 2]) and not pp.is_complete(3, [0, 1])
    assert pp.feedback_ready(0, [0]) and not pp.feedback_ready(1, [0])


def test_submit_only_the_current_stage_once() -> None:
    progress = pp.new_progress()
    assert not pp.submit_stage(progress, 3, 1, {"b": "x"}), "cannot skip ahead"
    assert pp.submit_stage(progress, 3, 0, {"a": "ivig"})
    assert not pp.submit_stage(progress, 3, 0, {"a": "rituximab"}), "a submitted answer is final"
    assert progress["answers"] == {"a": "ivig"} and progress["submitted"] == [0]
    pp.restart(progress)
    assert progress == {"answers": {}, "submitted": [], "attempt": 1}


def test_progress_for_creates_and_repairs() -> None:
    store: dict[str, Any] = {"x": {"bad": 1}}
    assert pp.progress_for(store, "x") == pp.new_progress()
    assert pp.progress_for(store, "y") is store["y"]


def test_submitted_stages_ignore_stages_a_changed_file_no_longer_has() -> None:
    assert pp.submitted_stages({"submitted": [0, 1, 5]}, 2) == (0, 1)


def test_collect_answers_reports_missing_choices_and_doses(s2) -> None:  # type: ignore[no-untyped-def]
    questions = s2.stages[0].questions
    key = pa.keys_for(S2, 0)
    answers, missing = pa.collect_answers(questions, {}, key)
    assert missing == ["next-agent", "ivig-dose"]
    assert answers["before-ivig"] == []
    state = {key("next-agent"): "ivig", key("ivig-dose"): 136.0, key("before-ivig", "check_iga"): True}
    answers, missing = pa.collect_answers(questions, state, key)
    assert missing == []
    assert answers == {"next-agent": "ivig", "before-ivig": ["check_iga"], "ivig-dose": 136.0}


def test_collect_answers_needs_the_order_and_the_certainty_where_asked(s2) -> None:  # type: ignore[no-untyped-def]
    # after-ivig (next step, with certainty) and pathway-order (ordering, with certainty), from two stages
    questions = [s2.question("after-ivig")[1], s2.question("pathway-order")[1]]
    key = pa.keys_for(S2, 0)
    state: dict[str, Any] = {key("after-ivig"): "rituximab"}
    answers, missing = pa.collect_answers(questions, state, key)
    assert missing == ["after-ivig", "pathway-order"]
    assert answers["after-ivig"] == {"answer": "rituximab", "certainty": None}
    order = ["prednisone", "methotrexate", "ivig", "abatacept"]
    state.update({key("pathway-order", o): n for n, o in enumerate(order, start=1)})
    state.update({key("after-ivig", "~certainty"): 4, key("pathway-order", "~certainty"): 2})
    answers, missing = pa.collect_answers(questions, state, key)
    assert missing == []
    assert answers["after-ivig"] == with_certainty("rituximab", 4)
    assert answers["pathway-order"] == with_certainty(order, 2)
    state[key("pathway-order", "methotrexate")] = 1  # two options in first place: not an order yet
    assert pa.collect_answers(questions, state, key)[1] == ["pathway-order"]


def test_keys_are_distinct_per_attempt_and_option() -> None:
    keys = {
        pa.widget_key("c", 0, "q"),
        pa.widget_key("c", 1, "q"),
        pa.widget_key("c", 0, "q", "o"),
    }
    assert len(keys) == 3
    assert pa.keys_for("c", 1)("q", "o") == pa.widget_key("c", 1, "q", "o")


def test_score_progress_scores_only_submitted_stages(s2, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    plans = stage_plans(s2, KB)
    answers = best_answers(s2, KB)
    seen: list[int] = []
    real = pr.score_question

    def spy(question, stage_index, plan, answer, kb):  # type: ignore[no-untyped-def]
        seen.append(stage_index)
        return real(question, stage_index, plan, answer, kb)

    monkeypatch.setattr(pr, "score_question", spy)
    progress = {"answers": answers, "submitted": [0], "attempt": 0}
    score = pr.score_progress(s2, progress, plans, KB)
    assert set(seen) == {0}, "no answer key of an unsubmitted stage is computed"
    assert {r.stage_index for r in score.results} == {0}
    assert score.total == 100
    assert score.stage_scores[1] is None and score.stage_scores[2] is None
    assert pr.has_scored(score)
    assert not pr.has_scored(pr.score_progress(s2, pp.new_progress(), plans, KB))


def test_each_submitted_answer_is_scored_once_per_case_version(s2, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    plans = stage_plans(s2, KB)
    calls: list[str] = []
    real = pr.score_question
    monkeypatch.setattr(pr, "score_question", lambda q, *a: calls.append(q.id) or real(q, *a))
    RESULTS.clear()
    progress = {"answers": best_answers(s2, KB), "submitted": [0], "attempt": 0}
    first = pr.score_progress(s2, progress, plans, KB, version=("s2", 1))
    again = pr.score_progress(s2, progress, plans, KB, version=("s2", 1))
    assert calls == [q.id for q in s2.stages[0].questions], "scored on the first rerun only"
    assert again.results == first.results
    pr.score_progress(s2, progress, plans, KB, version=("s2", 2))  # the file changed: scored again
    assert len(calls) == 2 * len(s2.stages[0].questions)


@pytest.mark.parametrize("which", ["best", "mixed"])
def test_complete_score_equals_score_case(s2, which: str) -> None:  # type: ignore[no-untyped-def]
    answers = best_answers(s2, KB)
    if which == "mixed":
        answers.update({"next-agent": "etanercept", "ivig-dose": 300, "before-ivig": ["tb_screening"]})
    plans = stage_plans(s2, KB)
    progress = {"answers": answers, "submitted": [0, 1, 2], "attempt": 0}
    mine = pr.score_progress(s2, progress, plans, KB)
    reference = score_case(s2, answers, KB)
    assert mine.total == reference.total
    assert mine.stage_scores == reference.stage_scores
    assert mine.category_scores == reference.category_scores
    assert mine.unsafe == reference.unsafe
    if which == "mixed":
        assert mine.unsafe  # etanercept / a dose far above range / skipped safety checks


def test_path_on_chart_is_each_next_step_in_order_at_the_patients_step(s2) -> None:  # type: ignore[no-untyped-def]
    plans = stage_plans(s2, KB)
    answers = {**best_answers(s2, KB), "next-agent": "rituximab"}
    score = score_case(s2, answers, KB)
    assert pr.learner_options(s2, score)[0] == "rituximab"
    assert pr.best_options(s2, score) == ("ivig", "continue_and_reassess", "rituximab")
    path = pr.path_on_chart(s2, score, plans, ViewContext(KB, "adult"))
    assert path.current == plans[-1].recommendation.position
    numbers = pr.question_numbers(s2)
    next_steps = [(i, q) for i, q in s2.questions() if q.kind == "next_step"]
    assert [p.number for p in path.points] == [numbers[q.id] for _, q in next_steps], "in question order"
    assert [p.step for p in path.points] == [plans[i].recommendation.position for i, _ in next_steps]
    first, second, third = path.points
    assert (first.chosen, first.best, first.same) == ("Rituximab", "Intravenous immunoglobulin (IVIG)", False)
    assert second.same and third.same
    assert "the recommended choice" in second.text and "recommended: Intravenous" in first.text


def test_the_end_table_shows_certainty_and_the_worst_result(s2) -> None:  # type: ignore[no-untyped-def]
    answers = {
        **best_answers(s2, KB),
        "after-ivig": with_certainty("upadacitinib", 4),
        "pathway-order": with_certainty(["prednisone", "methotrexate", "ivig", "abatacept"], 1),
    }
    score = score_case(s2, answers, KB)
    rows = pr.answer_table(s2, score, ViewContext(KB, "adult"))
    assert all(list(row) == ["Question", "Your answer", "Best answer"] for row in rows), "three columns"
    numbers = pr.question_numbers(s2)
    by_question = {row["Question"]: row for row in rows}
    after = by_question[numbers["after-ivig"]]
    assert after["Your answer"] == "Upadacitinib (how sure: 4 · certain; confident and wrong)"
    assert after["Best answer"] == "Rituximab"
    order = by_question[numbers["pathway-order"]]
    assert str(order["Your answer"]).startswith(
        "Prednisone → Methotrexate → Intravenous immunoglobulin (IVIG) → Abatacept"
    )
    assert str(order["Your answer"]).endswith("unsure and right)")
    assert (
        by_question[numbers["next-agent"]]["Your answer"] == "Intravenous immunoglobulin (IVIG)"
    )  # not asked
    summary = pr.certainty_summary(score)
    assert (summary.rated, summary.confident_wrong, summary.confident_right) == (2, 1, 0)
    assert summary.confident_unsafe == () and "worst" not in summary.sentence
    assert "(s)" not in summary.sentence and "2 questions" in summary.sentence


def test_library_filters() -> None:
    library = load_library([REPO / "cases"], KB)
    cases = library.cases
    assert len(catalogue.filter_cases(cases)) == len(cases)
    found = catalogue.filter_cases(cases, "IMMUNOSUPPRESSION")
    assert S2 in {lc.case.id for lc in found}
    tagged = catalogue.filter_cases(cases, tags=["ideal body weight"])
    assert S2 in {lc.case.id for lc in tagged}
    assert all("ideal body weight" in lc.case.tags for lc in tagged) and len(tagged) < len(cases)
    assert all(
        lc.case.population == "juvenile" for lc in catalogue.filter_cases(cases, populations=["juvenile"])
    )
    assert S2 not in {lc.case.id for lc in catalogue.filter_cases(cases, difficulties=["advanced"])}
    assert catalogue.filter_cases(cases, "zzz-no-such-word") == []
    order = [lc.case.difficulty for lc in catalogue.filter_cases(cases)]
    assert order == sorted(order, key=catalogue.DIFFICULTY_ORDER.index)
    assert "ideal body weight" in catalogue.all_tags(cases)
    assert not [t for t in catalogue.all_tags(cases) if "seed" in t.lower()]  # no internal words


def test_error_text_relative_to_the_cases_folder(tmp_path: Path) -> None:
    error = CaseError(REPO / "cases" / "sub" / "x.yaml", 3, 5, "bad", "stages[0]")
    assert catalogue.error_text(error, REPO / "cases") == "sub/x.yaml:3:5: stages[0]: bad"
    outside = CaseError(tmp_path / "y.yaml", 1, 1, "bad")
    assert catalogue.error_text(outside, REPO / "cases") == "y.yaml:1:1: bad"  # never an absolute path


def test_the_patient_line_shows_only_what_the_case_gives(s2) -> None:  # type: ignore[no-untyped-def]
    assert catalogue.patient_line(s2.patient) == "48 years, female, 68 kg, 164 cm"
    bare = s2.patient.model_copy(update={"sex": None, "height_cm": None})
    assert catalogue.patient_line(bare) == "48 years, 68 kg"
    assert "None" not in catalogue.case_line(s2.model_copy(update={"patient": bare}))
