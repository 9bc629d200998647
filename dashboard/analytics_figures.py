"""Figures of the faculty's analytics (pure plotly, no streamlit): how a group answered one question.

The flowchart overlay is pathway_figure's (dashboard/figures.py, StepCounts); this module has the
distribution of a question's answers, each bar coloured by the grade of what it stands for, and the
questions a group gets wrong, as the shares of their outcomes (unsafe, wrong, right).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from dashboard.analytics import BAR_LABELS, NEEDED, NOT_NEEDED, Bar, QuestionReport, Trouble
from dashboard.figures import StepCounts, figure_text, pathway_figure
from dashboard.style import GRADE_COLOURS
from logic import KnowledgeBase
from logic.vocabulary import OUTCOME_LABELS, Grade, Outcome

# A bar's colour: the grade vocabulary's colours; select-all items and answer verdicts borrow them.
BAR_COLOURS: dict[str, str] = {
    **{grade: colour for grade, colour in GRADE_COLOURS.items()},
    NEEDED: GRADE_COLOURS["recommended"],
    NOT_NEEDED: GRADE_COLOURS["not_recommended"],
    "correct": GRADE_COLOURS["recommended"],
    "partial": GRADE_COLOURS["acceptable"],
    "incorrect": GRADE_COLOURS["not_recommended"],
}
OTHER_COLOUR = "#8c959f"
BEST_MARK = "★ "


def bar_colour(grade: str) -> str:
    return BAR_COLOURS.get(grade, OTHER_COLOUR)


def _hover(bar: Bar, select: bool, legend: str) -> str:
    text = f"{bar.label}: {bar.count} of {bar.of} ({bar.share:.0%}) · {legend}"
    if select and bar.best and bar.count < bar.of:
        text += f" · missed by {bar.of - bar.count}"
    return text


def distribution_figure(report: QuestionReport) -> go.Figure:
    """Horizontal bars, one per option (or grade), in the order offered, top to bottom: how many of the
    answers chose it. Colour: the option's grade (choice), needed / not needed (select-all), the
    answer's grade (dose). The logic's best answer is marked ★. One trace (and legend entry) per
    colour used, in the order first used. (Built as one dict: a page shows a dozen of these, and
    plotly validates a figure once this way instead of at every add_trace and update.)"""
    select = report.distribution == "select"
    bars = list(report.bars)
    labels = [(BEST_MARK if bar.best and not select else "") + bar.label for bar in bars]
    traces = []
    for grade in dict.fromkeys(bar.grade for bar in bars):
        mine = [(label, bar) for label, bar in zip(labels, bars, strict=True) if bar.grade == grade]
        legend = BAR_LABELS.get(grade, grade)
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "x": [100 * bar.share for _, bar in mine],
                "y": [label for label, _ in mine],
                "marker": {"color": bar_colour(grade)},
                "text": [f"{bar.count} ({bar.share:.0%})" for _, bar in mine],
                "textposition": "outside",
                "cliponaxis": False,
                "name": legend,
                "customdata": [bar.key for _, bar in mine],
                "hovertext": [_hover(bar, select, legend) for _, bar in mine],
                "hoverinfo": "text",
            }
        )
    title = "Selected it" if select else "Chose it"
    layout = {
        "height": max(150, 70 + 30 * len(bars)),
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "barmode": "overlay",
        "bargap": 0.3,
        "xaxis": {
            "range": [0, 125],
            "title": {"text": f"{title} (% of answers)"},
            "ticksuffix": "%",
            "fixedrange": True,
            "showgrid": True,
            "gridcolor": "#eaeef2",
            "tickvals": [0, 25, 50, 75, 100],
        },
        "yaxis": {
            "categoryorder": "array",
            "categoryarray": labels,
            "autorange": "reversed",
            "fixedrange": True,
            "automargin": True,
        },
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 11}},
        "plot_bgcolor": "white",
        "dragmode": False,
    }
    return go.Figure({"data": traces, "layout": layout})


# The outcomes of a group's answers (the vocabulary's), each drawn in the colour of a grade.
TROUBLE_PARTS: tuple[tuple[Outcome, Grade], ...] = (
    ("unsafe", "unsafe"),
    ("wrong", "acceptable"),
    ("right", "recommended"),
)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def trouble_figure(troubles: Sequence[Trouble]) -> go.Figure:
    """One stacked bar per question (the first at the top): the share of its answers whose outcome was
    unsafe, wrong and right. The label names the case, the stage and the question."""
    labels = [
        f"<b>{figure_text(_short(t.case_title, 42))}</b> · stage {t.stage_index + 1}<br>"
        f"{figure_text(_short(t.prompt, 64))}"
        for t in troubles
    ]
    counts: dict[Outcome, list[int]] = {
        "unsafe": [t.unsafe for t in troubles],
        "wrong": [t.wrong - t.unsafe for t in troubles],
        "right": [t.answers - t.wrong for t in troubles],
    }
    fig = go.Figure()
    for outcome, grade in TROUBLE_PARTS:
        name = OUTCOME_LABELS[outcome]
        shares = [n / t.answers if t.answers else 0.0 for n, t in zip(counts[outcome], troubles, strict=True)]
        fig.add_trace(
            go.Bar(
                x=[100 * s for s in shares],
                y=labels,
                orientation="h",
                name=name,
                marker=dict(color=GRADE_COLOURS[grade]),
                text=[f"{100 * s:.0f}%" if s >= 0.06 else "" for s in shares],
                textposition="inside",
                insidetextanchor="middle",
                textfont=dict(color="white", size=12),
                customdata=counts[outcome],
                hovertemplate=f"{name}: %{{customdata}} answers (%{{x:.0f}}%)<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        height=80 + 46 * len(troubles),
        margin=dict(l=10, r=10, t=30, b=10),
        bargap=0.28,
        xaxis=dict(range=[0, 100], ticksuffix="%", fixedrange=True, title=dict(text="Share of answers")),
        yaxis=dict(autorange="reversed", fixedrange=True, automargin=True, tickfont=dict(size=12)),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, traceorder="normal"),
        plot_bgcolor="white",
        dragmode=False,
    )
    return fig


_FLOWCHARTS: dict[tuple[Any, ...], tuple[KnowledgeBase, go.Figure]] = {}


def cohort_flowchart(
    kb: KnowledgeBase,
    population: str,
    position: str,
    recommended: tuple[str, ...],
    counts: tuple[tuple[str, int], ...],
    answered: int,
    elsewhere: int,
) -> go.Figure:
    """The pathway the learner sees, with a group's choices at one stage over it (StepCounts),
    memoised per process on what it shows: the figure is only read afterwards, never changed."""
    key = (id(kb), population, position, recommended, counts, answered, elsewhere)
    found = _FLOWCHARTS.get(key)
    if found is None or found[0] is not kb:
        if len(_FLOWCHARTS) > 64:
            _FLOWCHARTS.clear()
        figure = pathway_figure(
            kb.pathways[population],  # type: ignore[index]
            kb,
            current_step=position,
            recommended_steps=recommended,
            overlay=StepCounts(dict(counts), answered, elsewhere=elsewhere),
        )
        found = _FLOWCHARTS[key] = (kb, figure)
    return found[1]


def clear_flowcharts() -> None:
    """Forget the memoised flowcharts (the bench times a first view)."""
    _FLOWCHARTS.clear()
