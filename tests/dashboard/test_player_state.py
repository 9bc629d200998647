"""dashboard/player_state.py: stage visibility, answers from widgets, scoring only what was submitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard import catalogue
from dashboard import player_state as ps
from logic import CaseError, best_answers, load_knowledge_base, load_library, score_case, stage_plans
from logic.cases import DoseQuestion, NextStepQuestion, ReflectionQuestion

from .conftest import REPO, S2, S2_FILE


@pytest.fixture(scope="module")
def s2():  # type: ignore[no-untyped-def]
    return load_library([S2_FILE]).cases[S2].case


def test_stage_visibility() -> None:
    assert ps.current_stage(3, []) == 0
    assert ps.visible_stage_count(3, []) == 1
    assert ps.current_stage(3, [0]) == 1
    assert ps.visible_stage_count(3, [0]) == 2
    assert ps.visible_stage_count(3, [0, 1, 2]) == 3
    assert ps.current_stage(3, [0, 1, 2]) is None
    assert ps.is_complete(3, [0, 1, 2]) and not ps.is_complete(3, [0, 1])
    assert ps.feedback_ready(0, [0]) and not ps.feedback_ready(1, [0])


def test_submit_only_the_current_stage_once() -> None:
    progress = ps.new_progress()
    assert not ps.submit_stage(progress, 3, 1, {"b": "x"}), "cannot skip ahead"
    assert ps.submit_stage(progress, 3, 0, {"a": "ivig"})
    assert not ps.submit_stage(progress, 3, 0, {"a": "rituximab"}), "a submitted answer is final"
    assert progress["answers"] == {"a": "ivig"} and progress["submitted"] == [0]
    ps.restart(progress)
    assert progress == {"answers": {}, "submitted": [], "attempt": 1}


def test_progress_for_creates_and_repairs() -> None:
    store: dict[str, Any] = {"x": {"bad": 1}}
    assert ps.progress_for(store, "x") == ps.new_progress()
    assert ps.progress_for(store, "y") is store["y"]


def test_submitted_stages_ignore_stages_a_changed_file_no_longer_has() -> None:
    assert ps.submitted_stages({"submitted": [0, 1, 5]}, 2) == (0, 1)


def test_answers_from_widgets(s2) -> None:  # type: ignore[no-untyped-def]
    next_agent = s2.question("next-agent")[1]
    before = s2.question("before-ivig")[1]
    dose = s2.question("ivig-dose")[1]
    reflect = s2.question("reflect")[1]
    assert ps.answer_from_widgets(next_agent, "ivig") == "ivig"
    assert ps.answer_from_widgets(next_agent, None) is None
    assert ps.answer_from_widgets(next_agent, "not-an-option") is None
    checked = {"tb_screening": True, "check_iga": True, "cancer_screening": False}
    assert ps.answer_from_widgets(before, None, checked) == ["check_iga", "tb_screening"], "author's order"
    assert ps.answer_from_widgets(before, None, {}) == []
    assert ps.answer_from_widgets(dose, 136) == 136.0
    assert ps.answer_from_widgets(dose, None) is None
    assert ps.answer_from_widgets(reflect, None) == ""
    assert ps.answer_from_widgets(reflect, "text") == "text"


def test_collect_answers_reports_missing_choices_and_doses(s2) -> None:  # type: ignore[no-untyped-def]
    questions = s2.stages[0].questions
    key = lambda qid, opt=None: ps.widget_key(S2, 0, qid, opt)  # noqa: E731
    answers, missing = ps.collect_answers(questions, {}, key)
    assert missing == ["next-agent", "ivig-dose"]
    assert answers["before-ivig"] == []
    state = {key("next-agent"): "ivig", key("ivig-dose"): 136.0, key("before-ivig", "check_iga"): True}
    answers, missing = ps.collect_answers(questions, state, key)
    assert missing == []
    assert answers == {"next-agent": "ivig", "before-ivig": ["check_iga"], "ivig-dose": 136.0}


def test_keys_are_distinct_per_attempt_and_option() -> None:
    keys = {
        ps.widget_key("c", 0, "q"),
        ps.widget_key("c", 1, "q"),
        ps.widget_key("c", 0, "q", "o"),
    }
    assert len(keys) == 3


def test_score_progress_scores_only_submitted_stages(s2, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    plans = stage_plans(s2)
    answers = best_answers(s2)
    seen: list[int] = []
    real = ps.score_question

    def spy(question, stage_index, plan, answer):  # type: ignore[no-untyped-def]
        seen.append(stage_index)
        return real(question, stage_index, plan, answer)

    monkeypatch.setattr(ps, "score_question", spy)
    progress = {"answers": answers, "submitted": [0], "attempt": 0}
    score = ps.score_progress(s2, progress, plans)
    assert set(seen) == {0}, "no answer key of an unsubmitted stage is computed"
    assert {r.stage_index for r in score.results} == {0}
    assert score.total == 100
    assert score.stage_scores[1] is None and score.stage_scores[2] is None
    assert ps.has_scored(score)
    assert not ps.has_scored(ps.score_progress(s2, ps.new_progress(), plans))


@pytest.mark.parametrize("which", ["best", "mixed"])
def test_complete_score_equals_score_case(s2, which: str) -> None:  # type: ignore[no-untyped-def]
    answers = best_answers(s2)
    if which == "mixed":
        answers.update({"next-agent": "etanercept", "ivig-dose": 300, "before-ivig": ["tb_screening"]})
    plans = stage_plans(s2)
    progress = {"answers": answers, "submitted": [0, 1, 2], "attempt": 0}
    mine = ps.score_progress(s2, progress, plans)
    reference = score_case(s2, answers)
    assert mine.total == reference.total
    assert mine.stage_scores == reference.stage_scores
    assert mine.category_scores == reference.category_scores
    assert mine.unsafe == reference.unsafe
    if which == "mixed":
        assert mine.unsafe  # etanercept / a dose far above range / skipped safety checks


def test_feedback_rows(s2) -> None:  # type: ignore[no-untyped-def]
    from logic import answer_key

    plans = stage_plans(s2)
    progress = {"answers": {"next-agent": "rituximab", "before-ivig": ["tb_screening"], "ivig-dose": 136}}
    progress.update(submitted=[0], attempt=0)
    score = ps.score_progress(s2, progress, plans)
    labels = {
        "recommended": "Recommended",
        "acceptable": "Acceptable",
        "not_recommended": "Not",
        "unsafe": "Unsafe",
    }
    q = s2.question("next-agent")[1]
    rows = ps.feedback_rows(q, score.result(q.id), answer_key(q, plans[0]), labels)
    kb = load_knowledge_base()
    assert [r.name for r in rows] == [kb.name(o) for o in q.options], "every option, in the author's order"
    assert [r.chosen for r in rows] == [o == "rituximab" for o in q.options]
    assert rows[0].grade == "recommended"  # IVIG
    q = s2.question("before-ivig")[1]
    rows = ps.feedback_rows(q, score.result(q.id), None, labels)
    by_label = {r.label for r in rows}
    assert by_label == {"Missed", "Not needed"}
    assert all(r.grade == "unsafe" for r in rows if r.label == "Missed"), "a skipped safety check is red"


def test_path_on_chart(s2) -> None:  # type: ignore[no-untyped-def]
    kb = load_knowledge_base()
    plans = stage_plans(s2)
    answers = best_answers(s2)
    score = score_case(s2, answers)
    learner = ps.learner_options(s2, {**answers, "next-agent": "rituximab"})
    assert learner[0] == "rituximab"
    best = ps.best_options(s2, score)
    assert best == ("ivig", "continue_and_reassess", "rituximab")
    path = ps.path_on_chart(kb.pathways["adult"], plans, learner, best)
    assert path.current == plans[-1].recommendation.position
    assert set(path.recommended) == set(kb.pathways["adult"].steps_with(best))


def test_dose_unit_and_format_answer(s2) -> None:  # type: ignore[no-untyped-def]
    dose = s2.question("ivig-dose")[1]
    assert ps.dose_unit(dose, "adult") == "g/course"
    unitless = DoseQuestion(id="d", kind="dose", prompt="?", agent="methotrexate")
    assert ps.dose_unit(unitless, "adult")  # the formulary's unit for the population
    assert ps.format_answer(dose, 136.0, unit="g/course") == "136 g/course"
    assert ps.format_answer(s2.question("next-agent")[1], "ivig") == load_knowledge_base().name("ivig")
    assert ps.format_answer(s2.question("before-ivig")[1], []) == "none"
    assert ps.format_answer(ReflectionQuestion(id="r", kind="reflection", prompt="?"), "my text") == "my text"
    assert isinstance(s2.question("next-agent")[1], NextStepQuestion)


def test_library_filters() -> None:
    library = load_library([REPO / "cases"])
    cases = library.cases
    assert len(catalogue.filter_cases(cases)) == len(cases)
    found = catalogue.filter_cases(cases, "IMMUNOSUPPRESSION")
    assert S2 in {lc.case.id for lc in found}
    tagged = catalogue.filter_cases(cases, tags=["ideal-body-weight"])
    assert S2 in {lc.case.id for lc in tagged}
    assert all("ideal-body-weight" in lc.case.tags for lc in tagged) and len(tagged) < len(cases)
    assert all(
        lc.case.population == "juvenile" for lc in catalogue.filter_cases(cases, populations=["juvenile"])
    )
    assert S2 not in {lc.case.id for lc in catalogue.filter_cases(cases, difficulties=["advanced"])}
    assert catalogue.filter_cases(cases, "zzz-no-such-word") == []
    order = [lc.case.difficulty for lc in catalogue.filter_cases(cases)]
    assert order == sorted(order, key=catalogue.DIFFICULTY_ORDER.index)
    assert "ideal-body-weight" in catalogue.all_tags(cases)
    assert not [t for t in catalogue.all_tags(cases) if "seed" in t.lower()]  # no internal words


def test_error_text_relative_to_the_cases_folder(tmp_path: Path) -> None:
    error = CaseError(REPO / "cases" / "sub" / "x.yaml", 3, 5, "bad", "stages[0]")
    assert catalogue.error_text(error, REPO / "cases") == "sub/x.yaml:3:5: stages[0]: bad"
    outside = CaseError(tmp_path / "y.yaml", 1, 1, "bad")
    assert catalogue.error_text(outside, REPO / "cases") == "y.yaml:1:1: bad"  # never an absolute path


def test_submitted_markdown_marks_the_answer_in_author_order(s2) -> None:  # type: ignore[no-untyped-def]
    kb = load_knowledge_base()
    q = s2.question("next-agent")[1]
    md = ps.submitted_markdown(q, "rituximab", "adult")
    assert md.startswith(q.prompt)
    lines = md.split("\n\n", 1)[1].split("  \n")
    assert [line[2:].strip("*") for line in lines] == [kb.name(o) for o in q.options]
    assert lines[1] == "◉ **Rituximab**" and all(
        line.startswith("○") for i, line in enumerate(lines) if i != 1
    )
    md = ps.submitted_markdown(s2.question("before-ivig")[1], ["check_iga"], "adult")
    assert "☑ **Check serum IgA**" in md and "☐ Cancer screening" in md
    assert "**136 g/course**" in ps.submitted_markdown(s2.question("ivig-dose")[1], 136.0, "adult")


def test_feedback_markdown_shows_grades_in_colour_best_and_sources(s2) -> None:  # type: ignore[no-untyped-def]
    from logic import answer_key

    plans = stage_plans(s2)
    progress = {"answers": {"next-agent": "rituximab"}, "submitted": [0], "attempt": 0}
    score = ps.score_progress(s2, progress, plans)
    q = s2.question("next-agent")[1]
    colours = {"recommended": "#1a7f37", "acceptable": "#9a6700"}
    md = ps.feedback_markdown(
        q, score.result(q.id), answer_key(q, plans[0]), colours, {}, lambda ids: "SOURCES:" + ",".join(ids)
    )
    assert ':color[**recommended**]{foreground="#1a7f37"} **Intravenous immunoglobulin (IVIG)**' in md
    assert "**Rituximab** ← *your answer*" in md
    assert "**Best answer:** Intravenous immunoglobulin (IVIG)" in md
    assert "SOURCES:" in md and "<" not in md.replace("←", "")
