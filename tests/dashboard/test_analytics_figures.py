"""The figures of the analytics: the heat overlay on the pathway flowchart (StepCounts, also for live
sessions), a question's distribution of answers coloured by grade, and the chart of what a group gets
wrong."""

from __future__ import annotations

import pytest

from dashboard.analytics import NEEDED, NOT_NEEDED, Bar, QuestionReport, Trouble
from dashboard.analytics_figures import BEST_MARK, bar_colour, distribution_figure, trouble_figure
from dashboard.figures import HEAT_DARK_FROM, KIND_COLOURS, StepCounts, heat_colour, pathway_figure
from dashboard.store_analytics import QuestionActivity
from dashboard.style import GRADE_COLOURS
from logic import load_knowledge_base
from logic.vocabulary import OUTCOME_LABELS

KB = load_knowledge_base()
ADULT = KB.pathways["adult"]


def boxes(fig: object) -> dict[str, str]:
    return {s.name.split(":", 1)[1]: s.fillcolor for s in fig.layout.shapes if s.name.startswith("box:")}  # type: ignore[attr-defined]


def counts(fig: object) -> dict[str, str]:
    return {
        a.name.split(":", 1)[1]: a.text
        for a in fig.layout.annotations  # type: ignore[attr-defined]
        if (a.name or "").startswith("count:")
    }


def steps_trace(fig: object) -> object:
    return next(t for t in fig.data if t.name == "steps")  # type: ignore[attr-defined]


def test_heat_colour_runs_from_light_to_dark_blue() -> None:
    assert heat_colour(0) == "#f6f8fa" and heat_colour(1) == "#1750a0"
    assert heat_colour(-1) == heat_colour(0) and heat_colour(2) == heat_colour(1)
    r = [int(heat_colour(x)[1:3], 16) for x in (0, 0.25, 0.5, 0.75, 1)]
    assert r == sorted(r, reverse=True)  # darker with every step up


def test_without_an_overlay_the_flowchart_is_as_the_learner_sees_it() -> None:
    fig = pathway_figure(ADULT, KB)
    assert boxes(fig) == {s.id: KIND_COLOURS[s.kind] for s in ADULT.steps}
    assert counts(fig) == {}
    assert not any("Share of" in (t.name or "") for t in fig.data)


def test_the_overlay_fills_each_step_by_its_share_and_labels_the_counts() -> None:
    overlay = StepCounts({"refractory": 6, "severe": 3, "first_line": 1}, of=10)
    fig = pathway_figure(ADULT, KB, recommended_steps=("refractory", "steroid_sparing"), overlay=overlay)
    fills = boxes(fig)
    assert fills["refractory"] == heat_colour(0.6) and fills["severe"] == heat_colour(0.3)
    assert fills["supportive_care"] == heat_colour(0)  # nobody
    # Chosen steps and recommended ones are labelled (a recommended step nobody chose shows its 0).
    assert counts(fig) == {
        "first_line": "<b>1</b> · 10%",
        "steroid_sparing": "<b>0</b> · 0%",
        "refractory": "<b>6</b> · 60%",
        "severe": "<b>3</b> · 30%",
    }
    trace = steps_trace(fig)
    colours = dict(zip(trace.customdata, trace.textfont.color, strict=True))  # type: ignore[attr-defined]
    assert colours["refractory"] == "#ffffff" and colours["severe"] == "#1f2328"  # white on dark fills
    hover = dict(zip(trace.customdata, trace.hovertext, strict=True))  # type: ignore[attr-defined]
    assert hover["refractory"].startswith("<b>6 of 10 learners (60%)</b><br>")
    legend = [t.name for t in fig.data if t.showlegend]
    assert "Share of learners (darker: more)" in legend and "Recommended" in legend
    assert 0.6 >= HEAT_DARK_FROM > 0.3


def test_the_overlay_takes_plain_counts_for_a_live_room() -> None:
    room = StepCounts({"refractory": 2}, of=5, label="people in the room", elsewhere=3)
    fig = pathway_figure(ADULT, KB, overlay=room)
    assert counts(fig)["refractory"] == "<b>2</b> · 40%"
    assert "3</b> · 60% chose an option" in counts(fig)["elsewhere"]
    assert any(t.name == "Share of people in the room (darker: more)" for t in fig.data)
    nobody = StepCounts({}, of=0)
    assert nobody.share("refractory") == 0.0 and counts(pathway_figure(ADULT, KB, overlay=nobody)) == {}


def report(bars: list[Bar], distribution: str = "options") -> QuestionReport:
    activity = QuestionActivity("c", "q", 0, "next_step", 10, 10, 10, 50.0, 5, 1, 0, 0, 0, 0)
    return QuestionReport(
        "c", 0, "Stage 1", "q", "next_step", "Which?", activity, distribution, tuple(bars), None, False
    )  # type: ignore[arg-type]


def bars_of(fig: object) -> list[tuple[str, float, str, str]]:
    """(label, x, colour, legend name) per bar, top to bottom as drawn."""
    found = [
        (y, x, t.marker.color, t.name)
        for t in fig.data  # type: ignore[attr-defined]
        for y, x in zip(t.y, t.x, strict=True)
    ]
    order = list(fig.layout.yaxis.categoryarray)  # type: ignore[attr-defined]
    return sorted(found, key=lambda b: order.index(b[0]))


def test_a_distribution_is_coloured_by_grade_with_the_best_answer_marked() -> None:
    fig = distribution_figure(
        report(
            [
                Bar("ivig", "IVIG", "recommended", 5, 10, True),
                Bar("rituximab", "Rituximab", "acceptable", 3, 10),
                Bar("cyclophosphamide", "Cyclophosphamide", "unsafe", 1, 10),
                Bar("etanercept", "Etanercept", "not_recommended", 1, 10),
                Bar("upadacitinib", "Upadacitinib", "not_recommended", 0, 10),
            ]
        )
    )
    assert bars_of(fig) == [
        (BEST_MARK + "IVIG", 50, GRADE_COLOURS["recommended"], "Recommended"),
        ("Rituximab", 30, GRADE_COLOURS["acceptable"], "Acceptable"),
        ("Cyclophosphamide", 10, GRADE_COLOURS["unsafe"], "Unsafe"),
        ("Etanercept", 10, GRADE_COLOURS["not_recommended"], "Not recommended"),
        ("Upadacitinib", 0, GRADE_COLOURS["not_recommended"], "Not recommended"),
    ]  # in the order offered, top to bottom; one legend entry per grade
    assert [t.name for t in fig.data] == ["Recommended", "Acceptable", "Unsafe", "Not recommended"]
    assert fig.data[0].text[0] == "5 (50%)" and fig.layout.yaxis.autorange == "reversed"


def test_a_select_all_distribution_shows_needed_items_and_who_missed_them() -> None:
    fig = distribution_figure(
        report(
            [Bar("check_iga", "Check serum IgA", NEEDED, 6, 10, True), Bar("tb", "TB", NOT_NEEDED, 2, 10)],
            "select",
        )
    )
    assert [(b[0], b[2]) for b in bars_of(fig)] == [
        ("Check serum IgA", bar_colour(NEEDED)), ("TB", bar_colour(NOT_NEEDED)),
    ]  # fmt: skip
    assert bar_colour(NEEDED) == GRADE_COLOURS["recommended"]
    assert "missed by 4" in fig.data[0].hovertext[0] and "Selected it" in fig.layout.xaxis.title.text
    assert bar_colour("something new") == "#8c959f"


@pytest.mark.parametrize("n", [1, 6])
def test_the_chart_of_what_a_group_gets_wrong(n: int) -> None:
    troubles = [
        Trouble(
            "c",
            "A case",
            i,
            f"Stage {i + 1}",
            f"q{i}",
            "A question?",
            10,
            unsafe=i % 3,
            wrong=5,
            mean_score=50.0,
            confident_wrong=0,
            with_certainty=0,
        )
        for i in range(n)
    ]
    fig = trouble_figure(troubles)
    assert [t.name for t in fig.data] == [OUTCOME_LABELS[o] for o in ("unsafe", "wrong", "right")]
    assert [t.marker.color for t in fig.data] == [
        GRADE_COLOURS[g] for g in ("unsafe", "acceptable", "recommended")
    ]
    for i in range(n):
        assert sum(t.x[i] for t in fig.data) == pytest.approx(100)
        assert fig.data[0].x[i] == pytest.approx(10 * (i % 3))
    assert fig.data[0].y[0].startswith("<b>A case</b> · stage 1<br>A question?")
    assert fig.layout.barmode == "stack" and fig.layout.yaxis.autorange == "reversed"
