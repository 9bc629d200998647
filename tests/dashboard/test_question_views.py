"""dashboard/questions/: one view per logic kind; each reads back the widget state it would set, shows
the submitted answer read-only, and lists its feedback from the scoring result alone."""

from __future__ import annotations

import pytest

from dashboard.player.answers import keys_for
from dashboard.questions import VIEWS, ViewContext, view_of
from dashboard.questions.dose import dose_unit
from dashboard.questions.render import (
    Style,
    feedback_markdown,
    grade_span,
    notes_shown_before,
    page_style,
    read_with_certainty,
    state_with_certainty,
    submitted_markdown,
)
from logic import load_library, score_case, stage_plans
from logic.questions import KINDS, DoseQuestion, ReflectionQuestion, with_certainty
from tests.context import CONTEXT, KB

from .conftest import S2, S2_FILE

CTX = ViewContext(KB, "adult")


@pytest.fixture(scope="module")
def s2():  # type: ignore[no-untyped-def]
    return load_library([S2_FILE], KB).cases[S2].case


def test_every_logic_kind_has_a_dashboard_view() -> None:
    assert set(VIEWS) == set(KINDS)
    for name, view in VIEWS.items():
        assert type(view).__module__ == f"dashboard.questions.{name}", name


ANSWERS = {
    "next-agent": "rituximab",
    "before-ivig": ["check_iga", "tb_screening"],
    "ivig-dose": 136.0,
    "ivig-monitoring": ["headache", "thrombosis"],
    "ivig-month-one": "continue_and_reassess",
    "after-ivig": with_certainty("rituximab", 3),
    "pathway-order": with_certainty(["methotrexate", "prednisone", "abatacept", "ivig"], 4),
    "reflect": "Thrombosis matters.",
}


def test_widget_state_and_reading_it_back_agree_for_every_question(s2) -> None:  # type: ignore[no-untyped-def]
    key = keys_for(S2, 0)
    kinds = set()
    for _, q in s2.questions():
        kinds.add(q.kind)
        view = view_of(q)
        state = state_with_certainty(view, q, ANSWERS[q.id], key)
        assert read_with_certainty(view, q, state, key) == ANSWERS[q.id], q.id
    assert kinds == set(KINDS), "the S2 case uses every kind"


def test_answers_from_widgets(s2) -> None:  # type: ignore[no-untyped-def]
    key = keys_for(S2, 0)
    next_agent = s2.question("next-agent")[1]
    before = s2.question("before-ivig")[1]
    dose = s2.question("ivig-dose")[1]
    reflect = s2.question("reflect")[1]

    def read(q, state):  # type: ignore[no-untyped-def]
        return view_of(q).read_answer(q, state, key)

    assert read(next_agent, {key("next-agent"): "ivig"}) == "ivig"
    assert read(next_agent, {}) is None
    assert read(next_agent, {key("next-agent"): "not-an-option"}) is None
    checked = {key("before-ivig", "tb_screening"): True, key("before-ivig", "check_iga"): True}
    assert read(before, checked) == ["check_iga", "tb_screening"], "author's order"
    assert read(before, {}) == []
    assert read(dose, {key("ivig-dose"): 136}) == 136.0
    assert read(dose, {}) is None
    assert read(reflect, {}) == ""
    assert read(reflect, {key("reflect"): "text"}) == "text"


def test_dose_unit_and_answer_text(s2) -> None:  # type: ignore[no-untyped-def]
    dose = s2.question("ivig-dose")[1]
    assert dose_unit(dose, "adult", KB) == "g/course"
    unitless = DoseQuestion.model_validate(
        {"id": "d", "kind": "dose", "prompt": "?", "agent": "methotrexate"}, context=CONTEXT
    )
    assert dose_unit(unitless, "adult", KB)  # the formulary's unit for the population
    assert view_of(dose).answer_text(dose, 136.0, CTX) == "136 g/course"
    next_agent = s2.question("next-agent")[1]
    assert view_of(next_agent).answer_text(next_agent, "ivig", CTX) == KB.name("ivig")
    before = s2.question("before-ivig")[1]
    assert view_of(before).answer_text(before, [], CTX) == "none"
    reflect = ReflectionQuestion.model_validate(
        {"id": "r", "kind": "reflection", "prompt": "?"}, context=CONTEXT
    )
    assert view_of(reflect).answer_text(reflect, "my text", CTX) == "my text"


def test_submitted_markdown_marks_the_answer_in_author_order(s2) -> None:  # type: ignore[no-untyped-def]
    q = s2.question("next-agent")[1]
    md = submitted_markdown(view_of(q), q, "rituximab", CTX)
    assert md.startswith(q.prompt)
    lines = md.split("\n\n", 1)[1].split("  \n")
    assert [line[2:].strip("*") for line in lines] == [KB.name(o) for o in q.options]
    assert lines[1] == "◉ **Rituximab**" and all(
        line.startswith("○") for i, line in enumerate(lines) if i != 1
    )
    q = s2.question("before-ivig")[1]
    md = submitted_markdown(view_of(q), q, ["check_iga"], CTX)
    assert "☑ **Check serum IgA**" in md and "☐ Cancer screening" in md
    q = s2.question("ivig-dose")[1]
    assert "**136 g/course**" in submitted_markdown(view_of(q), q, 136.0, CTX)
    q = s2.question("pathway-order")[1]
    md = submitted_markdown(view_of(q), q, ANSWERS["pathway-order"], CTX)
    assert "1. **Methotrexate**  \n2. **Prednisone**" in md
    assert md.endswith("How sure are you? **4 · certain**")


def test_feedback_rows_come_from_the_result(s2) -> None:  # type: ignore[no-untyped-def]
    plans = stage_plans(s2, KB)
    score = score_case(s2, {"next-agent": "rituximab", "before-ivig": ["tb_screening"], "ivig-dose": 136}, KB)
    q = s2.question("next-agent")[1]
    rows = view_of(q).feedback_rows(q, score.result(q.id))
    assert [r.name for r in rows] == [KB.name(o) for o in q.options], "every option, in the author's order"
    assert [r.chosen for r in rows] == [o == "rituximab" for o in q.options]
    assert rows[0].colour == "recommended" and rows[0].label == "Recommended"  # IVIG
    key_why = {g.id: g.why for g in score.result(q.id).graded}
    assert key_why == {o: plans[0].recommendation.option(o).why for o in q.options}
    q = s2.question("before-ivig")[1]
    rows = view_of(q).feedback_rows(q, score.result(q.id))
    assert [r.name for r in rows] == [KB.name(o) for o in q.options], "every item, in the form's order"
    assert {r.label for r in rows} == {"Missed", "Not needed"}
    assert [r.chosen for r in rows] == [o == "tb_screening" for o in q.options]
    assert all(r.colour == "unsafe" for r in rows if r.label == "Missed"), "a skipped safety check is red"


def test_feedback_markdown_is_one_line_per_option_without_a_second_why(s2) -> None:  # type: ignore[no-untyped-def]
    score = score_case(s2, {"next-agent": "rituximab"}, KB)
    q = s2.question("next-agent")[1]
    result = score.result(q.id)
    style = Style(
        grade=lambda g, label: grade_span(g, label, {"recommended": "#1a7f37", "acceptable": "#9a6700"}),
        text=str,
        links=lambda ids: "SOURCES:" + ",".join(ids),
        flag_unsafe=False,
    )
    notes = frozenset(n.text for n in result.faculty_notes)
    md = feedback_markdown(view_of(q), q, result, style, skip_notes=notes)
    assert ':color[**Recommended**]{foreground="#1a7f37"} · **Intravenous immunoglobulin (IVIG)**' in md
    assert "**Rituximab** *(your answer)*" in md
    lines = [line for line in md.splitlines() if line.startswith("- ")]
    assert len(lines) == len(q.options), "one line per option"
    for line, graded in zip(lines, result.graded, strict=True):
        assert graded.name in line and graded.why in line, "each line: grade, option, why"
    # The lines show the best answer and every reason: no "Best answer" or "Why" repeats them.
    assert "**Best answer:**" not in md and "**Why:**" not in md
    # At most the sources the reason cites.
    assert f"SOURCES:{','.join(result.sources)}" in md and md.count("SOURCES:") == 1


def test_a_faculty_note_is_skipped_when_shown_before(s2) -> None:  # type: ignore[no-untyped-def]
    score = score_case(s2, ANSWERS, KB)
    before = notes_shown_before(score.results)
    with_notes = [r for r in score.results if r.faculty_notes]
    assert len(with_notes) >= 2, "the case repeats a note: the test needs it"
    first, later = with_notes[0], with_notes[1]
    assert (
        before[first.question_id] == frozenset()
        or not set(n.text for n in first.faculty_notes) & before[first.question_id]
    )
    shared = {n.text for n in first.faculty_notes} & {n.text for n in later.faculty_notes}
    assert shared and shared <= before[later.question_id]
    q = s2.question(later.question_id)[1]
    md = feedback_markdown(view_of(q), q, later, page_style(KB), skip_notes=before[later.question_id])
    for text in shared:
        assert text not in md
    md_all = feedback_markdown(view_of(q), q, later, page_style(KB))
    for text in shared:
        assert text in md_all


def test_ordering_feedback_explains_each_option_and_the_certainty(s2) -> None:  # type: ignore[no-untyped-def]
    score = score_case(s2, ANSWERS, KB)
    q = s2.question("pathway-order")[1]
    md = feedback_markdown(view_of(q), q, score.result(q.id), page_style(KB))
    assert "In order" in md and "Out of order" in md
    assert md.count("Your position") == len(q.options)
    assert "**Your certainty:** 4 · certain — confident and wrong" in md  # 4 of 5 pairs: not all right
    assert (
        "**Best answer:** The pathway's order: Prednisone / Methotrexate → Intravenous immunoglobulin (IVIG) → Abatacept"
        in md
    )
