"""Unit tests for the pure figure builders in dashboard/figures.py."""

from __future__ import annotations

import pytest

from dashboard.figures import (
    BOX_H,
    BOX_W,
    CURRENT_WIDTH,
    KIND_COLOURS,
    layout_pathway,
    pathway_figure,
    score_breakdown_figure,
    selected_node,
    step_hover,
    transition_key,
    transition_letter,
    trend_figure,
)
from logic.cases import Series
from logic.vocabulary import NO_DOSE
from tests.context import KB

PATHWAYS = sorted(KB.pathways)


def _steps_trace(fig):
    return next(t for t in fig.data if t.name == "steps")


def _arrows(fig):
    return [a for a in fig.layout.annotations if (a.name or "").startswith("arrow:")]


def _labels(fig):
    return [a for a in fig.layout.annotations if (a.name or "").startswith("label:")]


def _shape(fig, name):
    return next((s for s in fig.layout.shapes if s.name == name), None)


@pytest.mark.parametrize("pid", PATHWAYS)
def test_one_node_per_step_with_ids_in_customdata(pid):
    pathway = KB.pathways[pid]
    trace = _steps_trace(pathway_figure(pathway, KB))
    assert len(trace.x) == len(pathway.steps)
    assert list(trace.customdata) == [s.id for s in pathway.steps]
    assert [t.replace("<br>", " ") for t in trace.text] == [s.title for s in pathway.steps]


@pytest.mark.parametrize("pid", PATHWAYS)
def test_one_arrow_and_one_label_per_transition(pid):
    pathway = KB.pathways[pid]
    fig = pathway_figure(pathway, KB)
    arrows, labels = _arrows(fig), _labels(fig)
    assert len(arrows) == len(pathway.transitions)
    assert all(a.showarrow for a in arrows)
    assert [a.name for a in arrows] == [f"arrow:{t.from_}->{t.to}" for t in pathway.transitions]
    assert [a.hovertext for a in labels] == [t.condition for t in pathway.transitions]
    # A letter on each arrow (16 px), its condition in words beside the chart (transition_key).
    letters = [transition_letter(i) for i in range(len(pathway.transitions))]
    assert [a.text for a in labels] == [f"<b>{letter}</b>" for letter in letters]
    assert all(a.font.size >= 16 for a in labels)
    key = transition_key(pathway)
    for letter, t, line in zip(letters, pathway.transitions, key, strict=True):
        assert line.startswith(f"**{letter}** {pathway.step(t.from_).title} → {pathway.step(t.to).title}")
        assert line.endswith(t.condition)


@pytest.mark.parametrize("pid", PATHWAYS)
def test_nodes_coloured_by_kind_with_a_key(pid):
    pathway = KB.pathways[pid]
    fig = pathway_figure(pathway, KB)
    assert list(_steps_trace(fig).marker.color) == [KIND_COLOURS[s.kind] for s in pathway.steps]
    for step in pathway.steps:
        assert _shape(fig, f"box:{step.id}").fillcolor == KIND_COLOURS[step.kind]
    kind_colours = {t.marker.color for t in fig.data if t.legendgroup == "kinds"}
    assert kind_colours == {KIND_COLOURS[s.kind] for s in pathway.steps}


def test_highlights_change_the_styling():
    pathway = KB.pathways["adult"]
    plain = pathway_figure(pathway, KB)
    fig = pathway_figure(
        pathway,
        KB,
        current_step="refractory",
        learner_steps=["steroid_sparing", "refractory"],
        recommended_steps=["severe"],
        selected_step="first_line",
    )
    assert _shape(fig, "box:refractory").line.width == CURRENT_WIDTH
    assert _shape(fig, "box:severe").line.width < CURRENT_WIDTH
    assert _shape(plain, "box:refractory").line.width < CURRENT_WIDTH
    assert _shape(fig, "halo:first_line") is not None
    assert _shape(plain, "halo:first_line") is None
    badges = {t.name: t for t in fig.data}
    assert list(badges["Your choice"].customdata) == ["steroid_sparing", "refractory"]
    assert list(badges["Recommended"].customdata) == ["severe"]
    assert badges["Your choice"].marker.symbol != badges["Recommended"].marker.symbol
    legend = {t.name for t in fig.data if t.showlegend}
    assert {"Your choice", "Recommended"} <= legend
    assert any(name.startswith("Current position") for name in legend)
    assert any(name.startswith("Selected step") for name in legend)
    # The key lists only the highlights in use.
    assert not {t.name for t in plain.data if t.showlegend and t.legendgroup == "highlights"}
    plain_badges = {t.name: t for t in plain.data}
    assert list(plain_badges["Your choice"].customdata) == [None]
    # Unknown ids are ignored, never an error.
    pathway_figure(pathway, KB, current_step="nope", learner_steps=["nope"], selected_step="nope")


@pytest.mark.parametrize("pid", PATHWAYS)
def test_layers_entry_on_top_and_every_transition_goes_down(pid):
    pathway = KB.pathways[pid]
    layers = pathway.layers()
    assert layers[pathway.entry] == 0
    assert all(v > 0 for s, v in layers.items() if s != pathway.entry)
    lay = layout_pathway(pathway)
    top = max(y for _, y in lay.positions.values())
    assert lay.positions[pathway.entry][1] == top
    for t, route in zip(pathway.transitions, lay.routes, strict=True):
        assert layers[t.to] > layers[t.from_]
        assert lay.positions[t.to][1] < lay.positions[t.from_][1]
        ys = [y for _, y in route]
        assert all(b < a for a, b in zip(ys, ys[1:], strict=False)), f"{t.from_}->{t.to} goes up or flat"


@pytest.mark.parametrize("pid", PATHWAYS)
def test_layout_keeps_nodes_apart_and_edges_out_of_other_boxes(pid):
    pathway = KB.pathways[pid]
    lay = layout_pathway(pathway)
    boxes = {
        s: (x - BOX_W / 2, x + BOX_W / 2, y - BOX_H / 2, y + BOX_H / 2) for s, (x, y) in lay.positions.items()
    }

    def inside(px, py, box, margin=0.01):
        x0, x1, y0, y1 = box
        return x0 + margin < px < x1 - margin and y0 + margin < py < y1 - margin

    ids = list(boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            ax0, ax1, ay0, ay1 = boxes[a]
            bx0, bx1, by0, by1 = boxes[b]
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"{a} overlaps {b}"
    for t, route in zip(pathway.transitions, lay.routes, strict=True):
        others = [boxes[s] for s in ids if s not in (t.from_, t.to)]
        for (x0, y0), (x1, y1) in zip(route, route[1:], strict=False):
            for k in range(51):
                px, py = x0 + (x1 - x0) * k / 50, y0 + (y1 - y0) * k / 50
                assert not any(inside(px, py, box) for box in others), f"{t.from_}->{t.to} crosses a box"
    for lx, ly in lay.label_points:
        assert not any(inside(lx, ly, box) for box in boxes.values())


def test_hover_lists_agents_with_regimen_labels_or_no_dose():
    adult, jdm = KB.pathways["adult"], KB.pathways["juvenile"]
    text = step_hover(adult, "first_line", KB)
    assert "Prednisone" in text and KB.agents["prednisone"].regimens_for("adult")[0].label in text.replace(
        "<br>   ", " "
    )
    # No JDM prednisone dose in the sources: the hover says so.
    jdm_text = step_hover(jdm, "first_line", KB)
    assert f"Prednisone: <i>{NO_DOSE}</i>" in jdm_text
    fig = pathway_figure(adult, KB)
    assert list(_steps_trace(fig).hovertext) == [step_hover(adult, s.id, KB) for s in adult.steps]


def test_selected_node_reads_the_streamlit_selection_state():
    assert selected_node(None) is None
    assert selected_node({"selection": {"points": [], "point_indices": [], "box": [], "lasso": []}}) is None
    assert selected_node({"selection": {"points": [{"customdata": "refractory"}]}}) == "refractory"
    assert selected_node({"selection": {"points": [{"customdata": ["severe"]}]}}) == "severe"
    assert selected_node({"selection": {"points": [{"x": 1}]}}) is None


def test_trend_figure_one_line_per_series_and_unit_titles():
    ck = Series(name="CK", unit="U/L", points=((0, 4200), (3, 2100), (6, 900)))
    cdasi = Series(name="CDASI activity", unit="points", points=((0, 30), (6, 12)))
    fig = trend_figure([ck])
    assert len(fig.data) == 1 and list(fig.data[0].y) == [4200, 2100, 900]
    assert "U/L" in fig.layout.yaxis.title.text and "CK" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text == "Month"
    both = trend_figure([ck, cdasi])
    assert len(both.data) == 2
    assert both.data[1].yaxis == "y2" and "points" in both.layout.yaxis2.title.text
    assert len(trend_figure([]).data) == 0


def test_score_breakdown_figure_by_stage_and_by_kind():
    fig = score_breakdown_figure(
        [("Stage 1", 100.0), ("Stage 2", None), ("Stage 3", 40.0)],
        {"monitoring": 50.0, "safety": 100.0, "escalation": 75.0, "dosing": 0.0},
    )
    by_stage, by_kind = fig.data
    assert list(by_stage.x) == ["Stage 1", "Stage 2", "Stage 3"]
    assert list(by_stage.y) == [100.0, 0, 40.0]
    assert by_stage.text[1] == "not scored"
    assert list(by_kind.x) == ["Escalation", "Safety", "Dosing", "Monitoring"]
    assert list(by_kind.y) == [75.0, 100.0, 0.0, 50.0]
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 100


def test_transition_letters_run_past_z() -> None:
    assert [transition_letter(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


@pytest.mark.parametrize("pid", PATHWAYS)
def test_every_text_is_16_px_and_there_is_no_legend(pid):
    fig = pathway_figure(KB.pathways[pid], KB, current_step="refractory")
    assert _steps_trace(fig).textfont.size >= 16
    assert fig.layout.hoverlabel.font.size >= 16
    assert all(a.font.size >= 16 for a in fig.layout.annotations if a.text)
    assert fig.layout.showlegend is False  # the key is written beside the chart (pathway_key)


@pytest.mark.parametrize("pid", PATHWAYS)
def test_a_grid_of_click_targets_covers_every_box(pid):
    pathway = KB.pathways[pid]
    fig = pathway_figure(pathway, KB)
    areas = next(t for t in fig.data if t.name == "step areas")
    for step in pathway.steps:
        box = _shape(fig, f"box:{step.id}")
        points = [(x, y) for x, y, c in zip(areas.x, areas.y, areas.customdata, strict=True) if c == step.id]
        assert points and all(box.x0 < x < box.x1 and box.y0 < y < box.y1 for x, y in points)
        xs = sorted({x for x, _ in points})
        # Columns from near the left edge to near the right edge: a click anywhere on the box hits one.
        assert xs[0] - box.x0 < 0.1 * (box.x1 - box.x0) and box.x1 - xs[-1] < 0.1 * (box.x1 - box.x0)


def test_the_path_is_numbered_in_order_with_the_recommended_beside_it():
    from dashboard.figures import PathPoint

    pathway = KB.pathways["adult"]
    path = (
        PathPoint("1.1", "first_line", "Prednisone", "Prednisone", True),
        PathPoint("2.1", "refractory", "Rituximab", "Intravenous immunoglobulin (IVIG)", False),
        PathPoint("3.1", "refractory", "Rituximab", "Rituximab", True),
    )
    fig = pathway_figure(pathway, KB, current_step="refractory", path=path)
    traces = {t.name: t for t in fig.data}
    assert list(traces["Your path = recommended"].text) == ["1.1", "3.1"]
    assert list(traces["Your path"].text) == ["2.1"] and list(traces["Recommended path"].text) == ["2.1"]
    line = traces["Your path line"]
    # The learner's line goes 1.1 -> 2.1 -> 3.1: from the first-line box down to the refractory box.
    ys = list(line.y)
    assert len(ys) == 3 and ys[0] > ys[1]
    assert list(traces["Your path"].customdata) == ["refractory"]  # a click on a marker chooses its step
    assert (
        "you chose Rituximab; recommended: Intravenous immunoglobulin (IVIG)"
        in traces["Your path"].hovertext[0]
    )
    mine = traces["Your path"]
    best = traces["Recommended path"]
    assert mine.x[0] == best.x[0] and mine.y[0] > best.y[0], "the recommended one right below the learner's"
