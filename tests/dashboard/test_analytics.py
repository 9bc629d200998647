"""The pure analytics (dashboard/analytics.py) on real cases, with answers scored by the logic as the
player scores them: distributions of chosen options with their grades, the flowchart counts, the
ranking of questions a group gets wrong, times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard import analytics as an
from dashboard.persistence import answer_input
from dashboard.store_analytics import (
    AnswerChoice,
    AttemptTime,
    CaseActivity,
    QuestionActivity,
    StageTimeCount,
)
from logic import Case, load_knowledge_base, load_library, score_question, stage_plans

REPO = Path(__file__).resolve().parents[2]
KB = load_knowledge_base()
LIBRARY = load_library([REPO / "cases"], KB)
S2 = LIBRARY.cases["myositis-after-failed-immunosuppression"].case  # adult, refractory throughout
IGA = LIBRARY.cases["iga-deficient-before-ivig"].case
ADULT = KB.pathways["adult"]


def answered(
    case: Case,
    learner: int,
    question_id: str,
    answer: Any,
    certainty: int | None = None,
    attempt: int | None = None,
) -> AnswerChoice:
    """An answer record as the player writes it (scored by the logic), read back as the store gives it."""
    stage, question = case.question(question_id)
    result = score_question(question, stage, stage_plans(case, KB)[stage], answer, KB)
    r = answer_input(result, 60.0)
    return AnswerChoice(
        learner,
        attempt or learner,
        question_id,
        stage,
        r.kind,
        r.answer,
        r.grade,
        r.verdicts,
        r.credit,
        r.unsafe,
        certainty,
    )


def activity(case: Case, question_id: str, choices: list[AnswerChoice], **counts: int) -> QuestionActivity:
    stage, question = case.question(question_id)
    mine = [c for c in choices if c.question_id == question_id]
    fields: dict[str, Any] = dict(
        answers=len(mine), learners=len({c.learner_id for c in mine}), scored=len(mine), mean_score=50.0,
        right=sum(c.credit >= 1 for c in mine), unsafe=sum(c.unsafe for c in mine), with_certainty=0,
        confident=0, confident_wrong=0, confident_unsafe=0,
    )  # fmt: skip
    fields.update(counts)
    return QuestionActivity(case.id, question_id, stage, str(question.kind), **fields)


def report(
    case: Case, question_id: str, choices: list[AnswerChoice], counts: dict[str, int] | None = None, **kw: Any
) -> an.QuestionReport:
    act = activity(case, question_id, choices, **(counts or {}))
    return an.question_report(case, stage_plans(case, KB), act, choices, KB, **kw)


def test_choice_distribution_shows_every_offered_option_with_its_grade() -> None:
    choices = [
        answered(S2, 1, "next-agent", "ivig"),
        answered(S2, 2, "next-agent", "rituximab"),
        answered(S2, 3, "next-agent", "rituximab"),
        answered(S2, 4, "next-agent", "upadacitinib"),
    ]
    r = report(S2, "next-agent", choices)
    assert r.distribution == "options" and r.stage_title.startswith("Stage 1: ")
    bars = {b.key: b for b in r.bars}
    assert list(bars) == ["ivig", "rituximab", "cyclophosphamide", "upadacitinib", "etanercept"]  # as offered
    assert {k: (b.count, b.grade, b.best) for k, b in bars.items()} == {
        "ivig": (1, "recommended", True),
        "rituximab": (2, "acceptable", False),
        "cyclophosphamide": (0, "not_recommended", False),  # nobody chose it: the logic's grade
        "upadacitinib": (1, "not_recommended", False),
        "etanercept": (0, "not_recommended", False),
    }
    assert bars["rituximab"].share == 0.5 and bars["ivig"].label == "Intravenous immunoglobulin (IVIG)"
    assert r.top_wrong is not None and r.top_wrong.key == "rituximab"


def test_an_unsafe_choice_is_the_top_wrong_one_even_when_rarer() -> None:
    choices = [
        answered(IGA, n, "iga-deficient", a)
        for n, a in enumerate(["ivig", "upadacitinib", "upadacitinib", "rituximab"])
    ]
    r = report(IGA, "iga-deficient", choices)
    assert {b.key: b.grade for b in r.bars}["ivig"] == "unsafe"
    assert r.top_wrong is not None and r.top_wrong.key == "ivig"  # unsafe first, then the most chosen


def test_grades_shown_are_those_the_answers_were_scored_against() -> None:
    # An answer scored when rituximab was still 'unsafe' (say, an earlier version of the case) keeps it.
    old = answered(S2, 1, "next-agent", "rituximab")
    old = AnswerChoice(
        **{**old.__dict__, "grade": "unsafe", "verdicts": [{"id": "rituximab", "grade": "unsafe"}]}
    )
    r = report(S2, "next-agent", [old], case_hash="new", hashes=["old"])
    assert {b.key: b.grade for b in r.bars}["rituximab"] == "unsafe" and r.edited
    assert not report(S2, "next-agent", [old], case_hash="same", hashes=["same", None]).edited


def test_select_all_shows_how_many_selected_each_item_and_the_most_missed() -> None:
    choices = [
        answered(S2, 1, "before-ivig", ["check_iga", "ivig_premedication"]),
        answered(S2, 2, "before-ivig", ["ivig_premedication"]),
        answered(S2, 3, "before-ivig", ["ivig_premedication", "tb_screening"]),
    ]
    r = report(S2, "before-ivig", choices)
    assert r.distribution == "select"
    assert {b.key: (b.count, b.grade, b.best) for b in r.bars} == {
        "check_iga": (1, an.NEEDED, True),
        "ivig_premedication": (3, an.NEEDED, True),
        "tb_screening": (1, an.NOT_NEEDED, False),
        "cancer_screening": (0, an.NOT_NEEDED, False),
    }
    top = r.top_wrong
    assert top is not None and (top.key, top.count, top.of) == ("check_iga", 2, 3)  # missed by two
    assert "Most often missed: **Check serum IgA** (2, 67%)" in an.report_facts(r)


def test_dose_answers_by_what_their_grade_means() -> None:
    choices = [answered(S2, n, "ivig-dose", dose) for n, dose in enumerate([80, 100, 130, 30, 400])]
    r = report(S2, "ivig-dose", choices)
    assert r.distribution == "grades"
    assert [(b.label, b.count) for b in r.bars] == [
        ("In the range", 2), ("Near the range", 1), ("Outside the range", 1), ("Unsafe: too high", 1),
    ]  # fmt: skip
    assert r.numbers == (30.0, 80.0, 100.0, 130.0, 400.0)
    assert any(line.startswith("Entered: median **100**") for line in an.report_facts(r))


def test_a_reflection_has_no_distribution() -> None:
    r = report(S2, "reflect", [answered(S2, 1, "reflect", "I would reassess.")], {"scored": 0})
    assert (r.distribution, r.bars) == ("none", ())


def test_a_question_no_longer_in_the_case_shows_its_grades() -> None:
    gone = AnswerChoice(
        1,
        1,
        "removed-question",
        0,
        "next_step",
        "ivig",
        "recommended",
        [{"id": "ivig", "grade": "recommended"}],
        1.0,
        False,
        None,
    )
    act = QuestionActivity(S2.id, "removed-question", 0, "next_step", 1, 1, 1, 100.0, 1, 0, 0, 0, 0, 0)
    r = an.question_report(S2, stage_plans(S2, KB), act, [gone], KB)
    assert r.prompt == "removed-question" and [(b.key, b.count) for b in r.bars] == [("recommended", 1)]


def test_confident_and_wrong_facts_only_where_certainty_was_given() -> None:
    choices = [answered(S2, 1, "next-agent", "rituximab", certainty=4)]
    facts = an.report_facts(report(S2, "next-agent", choices, {"with_certainty": 1, "confident_wrong": 1}))
    assert "Confident and unsafe **0**, confident and wrong **1**, of 1 who said how sure they were" in facts
    assert not any("onfident" in f for f in an.report_facts(report(S2, "next-agent", choices)))


# ----------------------------------------------------------------------------------- flowchart
def test_a_choice_stands_for_the_step_nearest_the_patient() -> None:
    assert an.step_of(ADULT, "ivig", "refractory") == "refractory"  # taught at the position itself
    assert an.step_of(ADULT, "ivig", "first_line") == "steroid_sparing"  # the nearer of its two steps
    assert an.step_of(ADULT, "methotrexate", "refractory") == "steroid_sparing"
    assert an.step_of(ADULT, "methylprednisolone", "refractory") == "severe"
    assert an.step_of(ADULT, "upadacitinib", "refractory") is None  # no adult step teaches it


def test_stage_flows_count_learners_per_step_against_the_recommended_step() -> None:
    choices = [
        answered(S2, 1, "next-agent", "ivig"),
        answered(S2, 2, "next-agent", "rituximab"),
        answered(S2, 3, "next-agent", "cyclophosphamide"),
        answered(S2, 4, "next-agent", "upadacitinib"),
        answered(S2, 4, "next-agent", "etanercept", attempt=9),  # a second attempt
        answered(S2, 5, "next-agent", "etanercept"),
        answered(S2, 1, "ivig-month-one", "continue_and_reassess"),
        answered(S2, 2, "ivig-month-one", "cyclophosphamide"),
        answered(S2, 1, "before-ivig", ["check_iga"]),  # not a next-step question: not on the chart
    ]
    flows = {f.stage_index: f for f in an.stage_flows(S2, choices, KB)}
    assert sorted(flows) == [0, 1, 2]
    first = flows[0]
    assert (first.position, first.recommended, first.answered) == ("refractory", ("refractory",), 5)
    assert dict(first.counts) == {
        "refractory": 3
    }  # IVIG, rituximab and cyclophosphamide are all taught there
    assert (first.on_recommended, first.off_pathway) == (3, 2)
    assert dict(first.off_options) == {"upadacitinib": 1, "etanercept": 2}  # learner 4 counts once for each
    second = flows[1]  # the best answer (continue and reassess) is on no step of the pathway
    assert (second.recommended, second.recommended_elsewhere) == ((), ("continue_and_reassess",))
    assert (second.answered, second.on_recommended, dict(second.counts)) == (2, 1, {"refractory": 1})
    assert flows[2].answered == 0
    assert an.worst_flow(list(flows.values())) == second  # half left it there, two in five at stage 1
    text = an.flow_summary(first, ADULT, KB)
    assert (
        text.startswith("Stage 1: ")
        and "3 of 5 learners (60%) chose the recommended step (Refractory)" in text
    )
    assert "no step of the pathway lists them: Etanercept 2, Upadacitinib 1." in text
    assert "Most often instead" not in text  # nobody chose another step
    assert "recommended answer (Continue" in an.flow_summary(second, ADULT, KB)
    assert an.flow_summary(flows[2], ADULT, KB).endswith("no answers yet.")


def test_worst_flow_is_the_stage_most_learners_left_the_recommended_step() -> None:
    def flow(stage: int, answered: int, on: int) -> an.StageFlow:
        return an.StageFlow(
            stage, f"Stage {stage + 1}", "refractory", answered, {}, ("refractory",), (), on, 0
        )

    assert an.worst_flow([flow(0, 10, 9), flow(1, 10, 4), flow(2, 10, 4)]).stage_index == 1  # type: ignore[union-attr]
    assert an.worst_flow([flow(0, 0, 0)]) is None


# ------------------------------------------------------------------------------------ rankings
def q(
    case_id: str, question_id: str, answers: int, unsafe: int, right: int, scored: int | None = None
) -> QuestionActivity:
    scored = answers if scored is None else scored
    return QuestionActivity(
        case_id, question_id, 0, "next_step", answers, answers, scored, 50.0, right, unsafe, 0, 0, 0, 0
    )


def test_troubles_rank_unsafe_first_then_wrong() -> None:
    found = an.troubles(
        [
            q(S2.id, "next-agent", 10, 0, 2),  # 80% wrong, never unsafe
            q(S2.id, "before-ivig", 10, 3, 5),
            q(IGA.id, "iga-deficient", 20, 3, 10),  # as many unsafe, a smaller share
            q(S2.id, "reflect", 10, 0, 0, scored=0),  # not scored: never ranked
            q("gone-case", "q", 5, 1, 4),
        ],
        LIBRARY.cases,
    )
    assert [(t.case_id, t.question_id) for t in found] == [
        (S2.id, "before-ivig"), (IGA.id, "iga-deficient"), ("gone-case", "q"), (S2.id, "next-agent"),
    ]  # fmt: skip
    top = found[0]
    assert (top.unsafe_share, top.wrong_share, top.case_title) == (0.3, 0.5, S2.title)
    assert found[2].case_title == "gone-case (no longer in the library)"


def test_the_first_screen_sentence() -> None:
    [top] = an.troubles([q(S2.id, "before-ivig", 10, 3, 5)], LIBRARY.cases)
    bar = an.Bar("check_iga", "Check serum IgA", an.NEEDED, 4, 10, True)
    text = an.trouble_sentence(top, (True, bar))
    assert text.startswith("**Most often answered unsafely:** “")
    assert (
        "stage 1: 3 of 10 answers (30%) were unsafe; the item most often missed: Check serum IgA (4 of 10)."
        in text
    )
    [safe] = an.troubles([q(S2.id, "next-agent", 10, 0, 2)], LIBRARY.cases)
    assert an.trouble_sentence(safe, None).startswith("**No unsafe answers. Most often not right:**")
    escaped = an.trouble_sentence(safe, None, escape=lambda t: f"<{t}>")  # names go through the escape
    assert f"*<{S2.title}>*" in escaped and "“<Which treatment" in escaped


def test_case_summaries_and_times() -> None:
    stages = [
        StageTimeCount(S2.id, 0, 60.0, 2),
        StageTimeCount(S2.id, 0, 300.0, 1),
        StageTimeCount(S2.id, 1, 10.0, 1),
    ]
    stages += [StageTimeCount(S2.id, 1, 20.0, 1)]
    assert an.stage_medians(stages) == {(S2.id, 0): 60.0, (S2.id, 1): 15.0}
    assert an.weighted_median([(1.0, 1), (2.0, 2), (9.0, 1)]) == 2.0 and an.weighted_median([]) is None
    attempts = [AttemptTime(S2.id, 3, 240.0), AttemptTime(S2.id, 3, 1200.0), AttemptTime(S2.id, 1, 30.0)]
    assert an.attempt_minutes(attempts, {S2.id: 3}) == {
        S2.id: pytest.approx((4 + 20) / 2)
    }  # whole attempts only
    rows = an.case_summaries(
        LIBRARY.cases,
        [CaseActivity(S2.id, 3, 3, 2, 2, 0, 80.0), CaseActivity(IGA.id, 2, 2, 1, 1, 0, 40.0)],
        [q(S2.id, "next-agent", 3, 1, 1), q(IGA.id, "next-step", 2, 0, 1)],
        attempts,
    )
    assert [r.case_id for r in rows] == [IGA.id, S2.id]  # the lowest mean score first
    assert (rows[1].unsafe, rows[1].answers, rows[1].median_minutes, rows[1].stages) == (1, 3, 12.0, 3)


def test_counted_answers_weigh_as_many() -> None:
    one = answered(S2, 1, "next-agent", "rituximab")
    counted = AnswerChoice(**{**one.__dict__, "answers": 5})
    r = report(S2, "next-agent", [counted, answered(S2, 2, "next-agent", "ivig")])
    assert {b.key: (b.count, b.of) for b in r.bars if b.count} == {"rituximab": (5, 6), "ivig": (1, 6)}


def test_plain_prompts_and_durations() -> None:
    assert an.plain_prompt("**Which** `agent` [now](http://x.org)?") == "Which agent now?"
    assert an.plain_prompt("word " * 50, 20).endswith("…") and len(an.plain_prompt("word " * 50, 20)) == 20
    assert [an.minutes_text(s) for s in (None, 45, 200, 3900)] == ["–", "45 s", "3 min", "1 h 5 min"]


def test_the_flow_summary_says_where_the_others_went() -> None:
    flow = an.StageFlow(
        0, "Stage 1: X", "refractory", 5, {"refractory": 2, "severe": 3}, ("refractory",), (), 2, 0
    )
    text = an.flow_summary(flow, ADULT, KB)
    assert "2 of 5 learners (40%) chose the recommended step (Refractory)" in text
    assert "Most often instead: Severe" in text and "(3, 60%)" in text
