"""Plotly figure builders for the dashboard. Pure functions: no streamlit here, so they are unit-testable.

- pathway_figure: an escalation pathway (a DAG of steps) drawn as a layered, top-to-bottom flowchart,
  optionally with a heat overlay of how many people chose each step (StepCounts).
- trend_figure: a case's trends (CK, CDASI...) over months.
- score_breakdown_figure: a case score by stage and by kind of question.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.wording import count
from logic.cases import Series
from logic.knowledge import KnowledgeBase, Pathway
from logic.vocabulary import (
    CATEGORY_LABELS,
    GRADE_LABELS,
    NO_DOSE,
    SCORED_CATEGORIES,
    STEP_KIND_LABELS,
    Category,
    StepKind,
)

# Step kinds: box fill (light, dark text stays readable) and border (saturated).
KIND_COLOURS: dict[StepKind, str] = {
    "first_line": "#cfe2ff",
    "steroid_sparing": "#d3f2da",
    "refractory": "#ffe3b3",
    "severe": "#ffd1d1",
    "after_jak_failure": "#e5d9ff",
    "supportive": "#e4e7eb",
}
KIND_BORDERS: dict[StepKind, str] = {
    "first_line": "#0a58ca",
    "steroid_sparing": "#1a7f37",
    "refractory": "#9a6700",
    "severe": "#cf222e",
    "after_jak_failure": "#6f42c1",
    "supportive": "#57606a",
}
# Highlight styles (also shown in the legend).
CURRENT_OUTLINE = "#111111"
CURRENT_WIDTH = 5
SELECTED_COLOUR = "#0969da"
LEARNER_COLOUR = "#8250df"
RECOMMENDED_COLOUR = "#1a7f37"

EDGE_COLOUR = "#57606a"

# Geometry, in data units. Boxes are wide against the gaps so that a 16 px title fits a box on a 390 px
# phone (the widest layer holds two boxes and a lane), and the same chart reads from a projector.
X_GAP = 1.6  # between neighbouring nodes of a layer
DUMMY_GAP = 0.95  # between a node and a long edge passing through its layer
BOX_W = 1.4
BOX_H = 0.46
Y_GAP = 1.0
X_PAD = 0.08  # beyond the outermost boxes
LAYER_PX = 150  # figure height per layer
TEXT_PX = 16  # every text on the chart: titles, letters, path numbers, hover
TITLE_WRAP = 15  # characters per line of a step title
# Click targets: a grid over each box, in fractions of the box (points of AREA_MARKER_PX, plus plotly's
# 20 px pick distance, leave no gap at projector widths).
AREA_COLUMNS = (-0.42, -0.28, -0.14, 0.0, 0.14, 0.28, 0.42)
AREA_ROWS = (-0.3, 0.0, 0.3)
AREA_MARKER_PX = 30
# The learner's path: a numbered column per question at a step, the learner's choice on the box's top
# edge, the recommended one on its bottom edge (four columns fit a box on a 390 px phone).
PATH_MARKER_PX = 34
PATH_SLOT = 0.35
PATH_PER_ROW = 4
PATH_ROW_STEP = 0.3


class StaticFigure(go.Figure):  # type: ignore[misc]  # (plotly ships no type hints)
    """A figure built once and drawn on many reruns: ``to_dict`` (which st.plotly_chart calls on every
    run, deep-copying the whole figure) is computed once and shared. Build it completely, then treat it
    as read-only: later changes to it are not seen by ``to_dict``."""

    _frozen: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        if self._frozen is None:
            object.__setattr__(self, "_frozen", super().to_dict())
        assert self._frozen is not None
        return self._frozen


def static(figure: go.Figure) -> StaticFigure:
    """The figure as a StaticFigure (for a memo of figures the pages draw on every rerun)."""
    return StaticFigure(figure)


@dataclass(frozen=True)
class StepCounts:
    """How many people chose each step of a pathway, drawn over the flowchart as a heat overlay: one
    stage of a cohort's attempts at a case, or the room's answers to one question in a live session.
    Plain numbers: counts maps step ids to people (steps not listed: nobody); of is how many answered
    (the denominator of each step's share); label names them in the key and the hover text; elsewhere
    is how many chose something on no step (shown as a note in the chart's corner when not 0)."""

    counts: Mapping[str, int]
    of: int
    label: str = "learners"
    elsewhere: int = 0  # chose an option that no step of the pathway teaches (noted beside the chart)

    def share(self, step_id: str) -> float:
        return self.counts.get(step_id, 0) / self.of if self.of > 0 else 0.0


# Heat overlay: a step's fill goes from HEAT_LOW (nobody) to HEAT_HIGH (everyone who answered); its
# title turns white where the fill gets dark. Blue, so that it is not read as a grade colour.
HEAT_LOW = (246, 248, 250)
HEAT_HIGH = (23, 80, 160)
HEAT_DARK_FROM = 0.55


def heat_colour(share: float) -> str:
    """The overlay fill for a share of 0..1 (clamped), as #rrggbb."""
    t = min(1.0, max(0.0, share))
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True)
class PathwayLayout:
    """Where everything goes: node centres, and each transition's route (points from source to target)."""

    layers: dict[str, int]
    positions: dict[str, tuple[float, float]]
    routes: tuple[tuple[tuple[float, float], ...], ...]  # one per pathway.transitions, in order
    label_points: tuple[tuple[float, float], ...]


def layout_pathway(pathway: Pathway) -> PathwayLayout:
    """A small Sugiyama-style layout: layers, dummy nodes on long edges, barycentre ordering, spacing."""
    layers = pathway.layers()
    index = {s.id: i for i, s in enumerate(pathway.steps)}
    depth = max(layers.values(), default=0)
    # Chains of vertices per transition (real node ids and dummy ids "~k~layer").
    rows: list[list[str]] = [[] for _ in range(depth + 1)]
    for s in pathway.steps:
        rows[layers[s.id]].append(s.id)
    chains: list[list[str]] = []
    preds: dict[str, list[str]] = {s.id: [] for s in pathway.steps}
    tie: dict[str, float] = {s.id: float(index[s.id]) for s in pathway.steps}
    for k, t in enumerate(pathway.transitions):
        chain = [t.from_]
        for lay in range(layers[t.from_] + 1, layers[t.to]):
            dummy = f"~{k}~{lay}"
            rows[lay].append(dummy)
            preds[dummy] = [chain[-1]]
            tie[dummy] = index[t.to] - 0.5
            chain.append(dummy)
        preds[t.to].append(chain[-1])
        chain.append(t.to)
        chains.append(chain)
    # Ordering: barycentre of predecessors' positions in the layer above, ties by pathway order.
    pos: dict[str, float] = {}
    for lay, row in enumerate(rows):
        if lay == 0:
            row.sort(key=lambda v: tie[v])
        else:
            row.sort(key=lambda v: (sum(pos[p] for p in preds[v]) / max(1, len(preds[v])), tie[v]))
        for i, v in enumerate(row):
            pos[v] = float(i)
    # Coordinates: each layer centred, with narrower gaps next to long-edge dummies.
    xs: dict[str, float] = {}
    for row in rows:
        x = 0.0
        coords = []
        for i, v in enumerate(row):
            if i:
                x += DUMMY_GAP if (v.startswith("~") or row[i - 1].startswith("~")) else X_GAP
            coords.append(x)
        mid = (coords[0] + coords[-1]) / 2 if coords else 0.0
        for v, c in zip(row, coords, strict=True):
            xs[v] = c - mid
    # Pull single-parent nodes and dummies under their parent when the layer has room (fewer bends).
    for lay in range(1, depth + 1):
        row = rows[lay]
        if len(row) == 1 and preds[row[0]]:
            xs[row[0]] = sum(xs[p] for p in preds[row[0]]) / len(preds[row[0]])
    positions = {s.id: (xs[s.id], -layers[s.id] * Y_GAP) for s in pathway.steps}
    routes = []
    labels = []
    for chain in chains:
        points: list[tuple[float, float]] = []
        src, dst = chain[0], chain[-1]
        points.append((xs[src], positions[src][1] - BOX_H / 2))
        for dummy in chain[1:-1]:
            y = -int(dummy.rsplit("~", 1)[1]) * Y_GAP
            points.append((xs[dummy], y + BOX_H / 2))
            points.append((xs[dummy], y - BOX_H / 2))
        points.append((xs[dst], positions[dst][1] + BOX_H / 2))
        routes.append(tuple(points))
        if len(chain) > 2:  # a long edge: its label sits in the space its first dummy reserved
            labels.append((xs[chain[1]], -int(chain[1].rsplit("~", 1)[1]) * Y_GAP))
        else:
            (x0, y0), (x1, y1) = points[0], points[-1]
            labels.append(((x0 + x1) / 2, (y0 + y1) / 2))
    return PathwayLayout(layers, positions, tuple(routes), tuple(labels))


def _wrap(text: str, width: int) -> str:
    return "<br>".join(textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)) or text


def step_hover(pathway: Pathway, step_id: str, kb: KnowledgeBase) -> str:
    """Hover text for a step: title, and each agent with its regimen labels for the pathway's population."""
    step = pathway.step(step_id)
    lines = [f"<b>{step.title}</b> ({STEP_KIND_LABELS[step.kind]})"]
    for agent_id in step.agents:
        agent = kb.agents[agent_id]
        regimens = agent.regimens_for(pathway.population)
        if not regimens:
            lines.append(f"• {agent.name}: <i>{NO_DOSE}</i>")
        for r in regimens:
            lines.append(f"• {agent.name}: " + _wrap(r.label, 60).replace("<br>", "<br>   "))
    if step.actions:
        lines.append("Actions: " + _wrap(", ".join(kb.name(a) for a in step.actions), 60))
    lines.append("<i>Click for details</i>")
    return "<br>".join(lines)


def transition_letter(index: int) -> str:
    """The letter that marks the index-th transition on the flowchart (A, B, ... Z, AA...)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class PathPoint:
    """One next-step question of a case on the flowchart: at the step where the patient then was, the
    learner's choice beside the recommended one (``number`` is the question's number, e.g. "2.1")."""

    number: str
    step: str  # the patient's position when the question was asked
    chosen: str  # the learner's choice(s), as names ("" for no answer)
    best: str  # the recommended choice(s), as names
    same: bool  # the learner chose the recommended answer

    @property
    def text(self) -> str:
        """The point in words (the key under the chart says the same)."""
        if self.same:
            return f"{self.number}: you chose {self.chosen}, the recommended choice"
        return f"{self.number}: you chose {self.chosen or 'nothing'}; recommended: {self.best}"


def pathway_figure(
    pathway: Pathway,
    kb: KnowledgeBase,
    *,
    current_step: str | None = None,
    learner_steps: Sequence[str] = (),
    recommended_steps: Sequence[str] = (),
    selected_step: str | None = None,
    path: Sequence[PathPoint] = (),
    overlay: StepCounts | None = None,
) -> go.Figure:
    """The pathway as a layered flowchart, readable from a projector and on a 390 px phone.

    Nodes: one Scatter trace (name "steps", customdata = step ids, text = titles at 16 px) over coloured
    boxes (layout shapes named "box:<id>"), and a grid of invisible points covering each box (trace
    "step areas", customdata = step ids), so that a click anywhere on a box chooses its step.
    Transitions: one arrow annotation each (name "arrow:<from>-><to>") and one letter each (name
    "label:<from>-><to>", hovertext = the condition); ``transition_key`` lists the letters with their
    conditions, in words, for beside the chart. Highlights: current_step gets a thick dark box outline;
    selected_step a dashed blue halo (shape "halo:<id>"); learner_steps and recommended_steps get corner
    badges (traces "Your choice" and the recommended grade's label). ``path``: the learner's choices in
    question order, each at the step where the patient then was (trace "Your path", numbered), beside
    the recommended ones (trace "Recommended path"); where they coincide one marker says so. overlay
    (StepCounts) fills each box by its share of the people counted (heat_colour) and labels the steps
    chosen, and the recommended ones, with "count · share" (annotations named "count:<id>"); the hover
    text of every step starts with its count. The chart has no plotly legend (its small print does not
    survive a phone): ``pathway_key`` says it in words.
    """
    lay = layout_pathway(pathway)
    steps = pathway.steps
    ids = [s.id for s in steps]
    xs = [lay.positions[s][0] for s in ids]
    ys = [lay.positions[s][1] for s in ids]
    hover = {s: step_hover(pathway, s, kb) for s in ids}

    shapes: list[dict[str, object]] = []
    for step, x, y in zip(steps, xs, ys, strict=True):
        current = step.id == current_step
        shapes.append(
            dict(
                type="rect",
                name=f"box:{step.id}",
                x0=x - BOX_W / 2,
                x1=x + BOX_W / 2,
                y0=y - BOX_H / 2,
                y1=y + BOX_H / 2,
                fillcolor=(
                    heat_colour(overlay.share(step.id)) if overlay is not None else KIND_COLOURS[step.kind]
                ),
                line=dict(
                    color=CURRENT_OUTLINE if current else KIND_BORDERS[step.kind],
                    width=CURRENT_WIDTH if current else 1.5,
                ),
                layer="below",
            )
        )
    if selected_step in ids:
        x, y = lay.positions[selected_step]
        pad = 0.06
        shapes.append(
            dict(
                type="rect",
                name=f"halo:{selected_step}",
                x0=x - BOX_W / 2 - pad,
                x1=x + BOX_W / 2 + pad,
                y0=y - BOX_H / 2 - pad,
                y1=y + BOX_H / 2 + pad,
                line=dict(color=SELECTED_COLOUR, width=3, dash="dash"),
                fillcolor="rgba(0,0,0,0)",
                layer="below",
            )
        )

    fig = go.Figure()
    # Segments of long edges before their last hop (the last hop is the arrow annotation).
    seg_x: list[float | None] = []
    seg_y: list[float | None] = []
    for route in lay.routes:
        if len(route) > 2:
            for px, py in route[:-1]:
                seg_x.append(px)
                seg_y.append(py)
            seg_x.append(None)
            seg_y.append(None)
    fig.add_trace(
        go.Scatter(
            x=seg_x,
            y=seg_y,
            mode="lines",
            line=dict(color=EDGE_COLOUR, width=1.5),
            hoverinfo="skip",
            showlegend=False,
            name="edges",
        )
    )
    # The click targets: a grid of invisible points over each box (a plotly click selects points only).
    area_x, area_y, area_ids = [], [], []
    for step_id, x, y in zip(ids, xs, ys, strict=True):
        for fx in AREA_COLUMNS:
            for fy in AREA_ROWS:
                area_x.append(x + fx * BOX_W)
                area_y.append(y + fy * BOX_H)
                area_ids.append(step_id)
    fig.add_trace(
        go.Scatter(
            x=area_x,
            y=area_y,
            mode="markers",
            name="step areas",
            customdata=area_ids,
            hoverinfo="none",  # clickable, no label of its own (the step's centre point has the hover)
            marker=dict(symbol="square", size=AREA_MARKER_PX, color="#ffffff", opacity=0.01),
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            name="steps",
            text=[_wrap(s.title, TITLE_WRAP) for s in steps],
            textposition="middle center",
            textfont=dict(
                size=TEXT_PX,
                color=[
                    "#ffffff" if overlay is not None and overlay.share(s) >= HEAT_DARK_FROM else "#1f2328"
                    for s in ids
                ],
            ),
            customdata=ids,
            hovertext=[_overlay_hover(overlay, s) + hover[s] for s in ids],
            hoverinfo="text",
            marker=dict(
                symbol="square",
                size=AREA_MARKER_PX,
                color=[KIND_COLOURS[s.kind] for s in steps],
                opacity=0.01,  # the box shape is the visible node; the markers are click targets
            ),
            showlegend=False,
        )
    )
    # Badges: learner choices (top-left corner), recommended (top-right corner).
    for name, wanted, symbol, colour, dx in (
        ("Your choice", learner_steps, "circle", LEARNER_COLOUR, -1),
        (GRADE_LABELS["recommended"], recommended_steps, "star", RECOMMENDED_COLOUR, 1),
    ):
        chosen = [s for s in ids if s in set(wanted)]
        # An unused highlight keeps one empty point (None), so that its trace exists.
        badge_x: list[float | None] = [lay.positions[s][0] + dx * (BOX_W / 2 - 0.06) for s in chosen]
        badge_y: list[float | None] = [lay.positions[s][1] + BOX_H / 2 for s in chosen]
        badge_ids: list[str | None] = list(chosen)
        badge_text: list[str | None] = [f"{name}: {pathway.step(s).title}" for s in chosen]
        fig.add_trace(
            go.Scatter(
                x=badge_x or [None],
                y=badge_y or [None],
                mode="markers",
                name=name,
                customdata=badge_ids or [None],
                marker=dict(symbol=symbol, size=20, color=colour, line=dict(color="white", width=1.5)),
                hovertext=badge_text or [None],
                hoverinfo="text",
                showlegend=bool(chosen),
                legendgroup="highlights",
            )
        )
    _add_path(fig, pathway, lay, [p for p in path if p.step in ids])
    # Legend-only entries (kept for callers that read the key from the traces; the chart shows no legend).
    for name, line, used in (
        ("Current position (thick outline)", dict(color=CURRENT_OUTLINE, width=4), current_step in ids),
        ("Selected step (dashed halo)", dict(color=SELECTED_COLOUR, width=3), selected_step in ids),
    ):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                marker=dict(symbol="square-open", size=16, line=line, color=line["color"]),
                legendgroup="highlights",
                showlegend=used,
                hoverinfo="skip",
            )
        )
    if overlay is not None:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"Share of {overlay.label} (darker: more)",
                marker=dict(
                    symbol="square", size=16, color=heat_colour(0.6), line=dict(color="#57606a", width=1)
                ),
                legendgroup="highlights",
                showlegend=True,
                hoverinfo="skip",
            )
        )
    for kind in dict.fromkeys(s.kind for s in steps):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=STEP_KIND_LABELS[kind],
                marker=dict(
                    symbol="square" if overlay is None else "square-open",  # the overlay owns the fills
                    size=16,
                    color=KIND_COLOURS[kind] if overlay is None else KIND_BORDERS[kind],
                    line=dict(color=KIND_BORDERS[kind], width=1.5),
                ),
                legendgroup="kinds",
                showlegend=True,
                hoverinfo="skip",
            )
        )

    annotations: list[dict[str, object]] = []
    for t, route in zip(pathway.transitions, lay.routes, strict=True):
        (ax, ay), (x, y) = route[-2], route[-1]
        annotations.append(
            dict(
                name=f"arrow:{t.from_}->{t.to}",
                x=x,
                y=y,
                ax=ax,
                ay=ay,
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=2,
                arrowsize=1.3,
                arrowwidth=1.5,
                arrowcolor=EDGE_COLOUR,
            )
        )
    for index, (t, (lx, ly)) in enumerate(zip(pathway.transitions, lay.label_points, strict=True)):
        annotations.append(
            dict(
                name=f"label:{t.from_}->{t.to}",
                x=lx,
                y=ly,
                xref="x",
                yref="y",
                text=f"<b>{transition_letter(index)}</b>",
                hovertext=t.condition,
                showarrow=False,
                font=dict(size=TEXT_PX, color="#1f2328"),
                bgcolor="#ffffff",
                bordercolor=EDGE_COLOUR,
                borderwidth=1.5,
                borderpad=3,
            )
        )

    if overlay is not None:
        for step_id in ids:
            count = overlay.counts.get(step_id, 0)
            if not count and step_id not in set(recommended_steps):
                continue
            x, y = lay.positions[step_id]
            annotations.append(
                dict(
                    name=f"count:{step_id}",
                    x=x - BOX_W / 2 + 0.02,
                    y=y - BOX_H / 2,
                    xref="x",
                    yref="y",
                    xanchor="left",
                    yanchor="middle",
                    text=f"<b>{count}</b> · {overlay.share(step_id):.0%}",
                    showarrow=False,
                    font=dict(size=12, color="#1f2328"),
                    bgcolor="#ffffff",
                    bordercolor=RECOMMENDED_COLOUR if step_id in set(recommended_steps) else "#57606a",
                    borderwidth=1.5,
                    borderpad=2,
                )
            )
    if overlay is not None and overlay.elsewhere:
        share = overlay.elsewhere / overlay.of if overlay.of > 0 else 0.0
        annotations.append(
            dict(
                name="count:elsewhere",
                x=1,
                y=1,
                xref="paper",
                yref="paper",
                xanchor="right",
                yanchor="top",
                text=f"<b>{overlay.elsewhere}</b> · {share:.0%} chose an option<br>on no step of this pathway",
                showarrow=False,
                align="right",
                font=dict(size=12, color="#1f2328"),
                bgcolor="#fff8c5",
                bordercolor="#9a6700",
                borderwidth=1.5,
                borderpad=4,
            )
        )
    all_x = [lay.positions[s][0] for s in ids] + [p[0] for r in lay.routes for p in r]
    depth = max(lay.layers.values(), default=0)
    fig.update_layout(
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(
            visible=False,
            range=[min(all_x) - BOX_W / 2 - X_PAD, max(all_x) + BOX_W / 2 + X_PAD],
            fixedrange=True,
        ),
        yaxis=dict(visible=False, range=[-depth * Y_GAP - 0.4, 0.45], fixedrange=True),
        height=LAYER_PX * (depth + 1) + 70,
        margin=dict(l=4, r=4, t=44, b=6),
        plot_bgcolor="white",
        paper_bgcolor="white",
        title=dict(text=pathway.title, x=0.01, font=dict(size=18)),
        showlegend=False,
        hovermode="closest",
        clickmode="event+select",
        dragmode=False,
        hoverlabel=dict(align="left", bgcolor="white", font=dict(size=TEXT_PX)),
    )
    return fig


def _add_path(fig: go.Figure, pathway: Pathway, lay: PathwayLayout, path: Sequence[PathPoint]) -> None:
    """The learner's choices ("Your path") beside the recommended ones ("Recommended path"), each at the
    step where the patient then was, numbered and joined in question order.

    At a step, the questions asked there take columns in order: the learner's choice on the box's top
    edge, the recommended one below it on the bottom edge. Where they coincide, the top marker says so
    (green, ringed in the learner's purple: "Your path = recommended") and the bottom one is left out."""
    if not path:
        return
    columns: dict[str, list[str]] = {}  # step -> question numbers, in order
    for point in path:
        columns.setdefault(point.step, []).append(point.number)
    where: dict[tuple[str, str], tuple[float, float]] = {}  # ("top" | "bottom", number) -> marker position
    for step_id, numbers in columns.items():
        x, y = lay.positions[step_id]
        for j, number in enumerate(numbers):
            row, column = divmod(j, PATH_PER_ROW)
            in_row = min(PATH_PER_ROW, len(numbers) - row * PATH_PER_ROW)
            px = x + (column - (in_row - 1) / 2) * PATH_SLOT
            where[("top", number)] = (px, y + BOX_H / 2 + row * PATH_ROW_STEP)
            where[("bottom", number)] = (px, y - BOX_H / 2 - row * PATH_ROW_STEP)
    mine = [where[("top", p.number)] for p in path]
    best = [where[("top" if p.same else "bottom", p.number)] for p in path]
    for name, line, colour, dash in (
        ("Recommended path line", best, RECOMMENDED_COLOUR, "dot"),
        ("Your path line", mine, LEARNER_COLOUR, "dash"),
    ):
        if len(line) > 1:
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in line],
                    y=[p[1] for p in line],
                    mode="lines",
                    name=name,
                    line=dict(color=colour, width=3, dash=dash),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    for name, edge, points, fill, ring in (
        (
            "Recommended path",
            "bottom",
            [p for p in path if not p.same],
            RECOMMENDED_COLOUR,
            RECOMMENDED_COLOUR,
        ),
        ("Your path", "top", [p for p in path if not p.same], LEARNER_COLOUR, LEARNER_COLOUR),
        ("Your path = recommended", "top", [p for p in path if p.same], RECOMMENDED_COLOUR, LEARNER_COLOUR),
    ):
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                x=[where[(edge, p.number)][0] for p in points],
                y=[where[(edge, p.number)][1] for p in points],
                mode="markers+text",
                name=name,
                text=[p.number for p in points],
                textposition="middle center",
                textfont=dict(size=TEXT_PX, color="#ffffff"),
                customdata=[p.step for p in points],
                hovertext=[p.text for p in points],
                hoverinfo="text",
                marker=dict(symbol="circle", size=PATH_MARKER_PX, color=fill, line=dict(color=ring, width=4)),
                showlegend=False,
            )
        )


def transition_key(pathway: Pathway) -> list[str]:
    """The flowchart's letters in words, one Markdown line each: "**A** First line → Steroid-sparing: ..."."""
    return [
        f"**{transition_letter(i)}** {pathway.step(t.from_).title} → {pathway.step(t.to).title}: {t.condition}"
        for i, t in enumerate(pathway.transitions)
    ]


Highlight = Literal["current", "selected", "learner", "recommended", "path", "overlay"]


def pathway_key(pathway: Pathway, highlights: Collection[Highlight] = ()) -> str:
    """The chart's key as Markdown (for under the chart): the step kinds' colours, then the highlights the
    chart uses (those named in ``highlights``)."""
    swatch = ':color[■]{{foreground="{}"}}'
    parts = [
        swatch.format(KIND_BORDERS[kind]) + f" {STEP_KIND_LABELS[kind]}"
        for kind in dict.fromkeys(s.kind for s in pathway.steps)
    ]
    if "current" in highlights:
        parts.append("thick outline: where the patient is")
    if "selected" in highlights:
        parts.append(swatch.format(SELECTED_COLOUR) + " dashed: the step chosen")
    if "learner" in highlights:
        parts.append(swatch.format(LEARNER_COLOUR) + " ● your choices")
    if "recommended" in highlights:
        parts.append(swatch.format(RECOMMENDED_COLOUR) + f" ★ {GRADE_LABELS['recommended'].lower()}")
    if "overlay" in highlights:
        parts.append(swatch.format(heat_colour(0.6)) + " darker fill: more of the group chose that step")
    if "path" in highlights:
        parts.append(
            swatch.format(LEARNER_COLOUR)
            + " numbered: your choice at each question · "
            + swatch.format(RECOMMENDED_COLOUR)
            + " numbered: the recommended one (one marker where they agree)"
        )
    return " · ".join(parts)


def figure_text(text: str) -> str:
    """Case text for a plotly label: plotly reads "<a href>", "<b>", "<br>" in labels as markup, so a case's
    "<" and "&" are written as entities (shown as the characters, never as a link or an image)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _overlay_hover(overlay: StepCounts | None, step_id: str) -> str:
    if overlay is None:
        return ""
    count = overlay.counts.get(step_id, 0)
    return f"<b>{count} of {overlay.of} {overlay.label} ({overlay.share(step_id):.0%})</b><br>"


def trend_figure(series: Sequence[Series]) -> go.Figure:
    """One line per series over time; the y axis is titled with the unit (a second unit gets a right axis)."""
    fig = go.Figure()
    if not series:
        fig.add_annotation(text="No data", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), height=300)
        return fig
    units = list(dict.fromkeys(s.unit or "" for s in series))
    names_by_unit: dict[str, list[str]] = {}
    for s in series:
        names_by_unit.setdefault(s.unit or "", []).append(s.name)
    right_unit = units[1] if len(units) > 1 else None
    for s in series:
        on_right = right_unit is not None and (s.unit or "") == right_unit
        name, unit, x_label = figure_text(s.name), figure_text(s.unit or ""), figure_text(s.x_label)
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in s.points],
                y=[p[1] for p in s.points],
                mode="lines+markers",
                name=f"{name} ({unit})" if unit else name,
                yaxis="y2" if on_right else "y",
                hovertemplate=f"{name}: %{{y:g}} {unit}<br>{x_label} %{{x:g}}<extra></extra>",
            )
        )

    def axis_title(unit: str) -> str:
        names = figure_text(", ".join(names_by_unit[unit]))
        return f"{names} ({figure_text(unit)})" if unit else names

    layout: dict[str, object] = dict(
        xaxis=dict(title=dict(text=figure_text(series[0].x_label.capitalize())), zeroline=False),
        yaxis=dict(title=dict(text=axis_title(units[0])), rangemode="tozero"),
        height=340,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hovermode="x unified",
    )
    if right_unit is not None:
        layout["yaxis2"] = dict(
            title=dict(text=axis_title(right_unit)),
            overlaying="y",
            side="right",
            rangemode="tozero",
            showgrid=False,
            tickmode="auto",
        )
    fig.update_layout(**layout)
    return fig


def _score_colour(value: float | None) -> str:
    if value is None:
        return "#d0d7de"
    if value >= 80:
        return "#1a7f37"
    if value >= 50:
        return "#9a6700"
    return "#cf222e"


def score_breakdown_figure(
    stage_scores: Sequence[tuple[str, float | None]], category_scores: Mapping[Category, float]
) -> go.Figure:
    """Two bar charts (0-100): score by stage (None = nothing scored there) and by kind of question."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("By stage", "By kind"), horizontal_spacing=0.12)
    stage_names = [figure_text(name) for name, _ in stage_scores]
    stage_values = [value for _, value in stage_scores]
    fig.add_trace(
        go.Bar(
            x=stage_names,
            y=[0 if v is None else v for v in stage_values],
            text=["not scored" if v is None else f"{v:.0f}" for v in stage_values],
            textposition="outside",
            marker_color=[_score_colour(v) for v in stage_values],
            name="By stage",
            showlegend=False,
            hovertemplate="%{x}: %{text}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    kinds = [k for k in SCORED_CATEGORIES if k in category_scores]
    values = [category_scores[k] for k in kinds]
    fig.add_trace(
        go.Bar(
            x=[CATEGORY_LABELS[k] for k in kinds],
            y=values,
            text=[f"{v:.0f}" for v in values],
            textposition="outside",
            marker_color=[_score_colour(v) for v in values],
            name="By kind",
            showlegend=False,
            hovertemplate="%{x}: %{y:.0f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(range=[0, 112], title_text="Score (0-100)", row=1, col=1)
    fig.update_yaxes(range=[0, 112], row=1, col=2)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), bargap=0.35)
    return fig


def score_histogram_figure(totals: Sequence[float], *, highlight: float | None = None) -> go.Figure:
    """How a group scored on one case: completed totals in ten 10-point bins (100 in the last)."""
    counts = [0] * 10
    for total in totals:
        counts[min(int(total // 10), 9)] += 1
    labels = [f"{10 * i}–{10 * i + 9}" if i < 9 else "90–100" for i in range(10)]
    colours = [_score_colour(10 * i + 5) for i in range(10)]
    if highlight is not None:
        mine = min(int(highlight // 10), 9)
        colours[mine] = "#0b6e99"
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=counts,
            marker_color=colours,
            text=[str(c) if c else "" for c in counts],
            textposition="outside",
            customdata=[count(c, "learner") for c in counts],
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis_title="Total score",
        yaxis_title="Completed attempts",
        yaxis=dict(rangemode="tozero", dtick=1 if max(counts, default=0) <= 10 else None),
        bargap=0.15,
    )
    return fig


def selected_node(event: object) -> str | None:
    """The step id of the point clicked in a pathway_figure, from st.plotly_chart's selection state.

    The state looks like {"selection": {"points": [{"customdata": "refractory", ...}], ...}}; plotly may
    send customdata as a scalar or a one-element list. None when nothing (or no node) is selected.
    """
    if not isinstance(event, Mapping):
        return None
    selection = event.get("selection")
    if not isinstance(selection, Mapping):
        return None
    for point in reversed(list(selection.get("points") or ())):
        if not isinstance(point, Mapping):
            continue
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, str) and data:
            return data
    return None
