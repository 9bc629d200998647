"""The room's histogram, for a projector: pure plotly, no streamlit.

One horizontal bar per option (or per distinct answer), long names on the left, counts printed on the
bars in large type. Before the reveal every bar has one neutral colour (no grade is given away); at
the reveal each bar takes the colour of the logic's grade of what it stands for. After a re-vote the
first vote is drawn as a pale bar beside the last one, and each label says "before → after".
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard.live.room import Bar
from dashboard.style import GRADE_COLOURS, NEUTRAL_COLOUR
from logic.vocabulary import GRADE_LABELS

OPEN_COLOUR = "#0b6e99"  # the app's primary colour: answers counted, no grade shown
FIRST_VOTE_COLOUR = "#c9d1d9"
FONT_SIZE = 22


def _wrap(text: str, width: int = 34) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def room_histogram(bars: Sequence[Bar], *, graded: bool, height: int | None = None) -> go.Figure:
    """The room's answers: counts of the last vote round, with the first round beside them after a
    re-vote; bars coloured by grade when ``graded`` (the reveal), else all alike."""
    labels = [_wrap(b.label) for b in bars][::-1]  # the first option at the top
    rounds = max((len(b.counts) for b in bars), default=1)
    last = [b.counts[-1] if b.counts else 0 for b in bars][::-1]
    colours = [
        (GRADE_COLOURS.get(b.grade, NEUTRAL_COLOUR) if b.grade else NEUTRAL_COLOUR) if graded else OPEN_COLOUR
        for b in bars
    ][::-1]
    fig = go.Figure()
    if rounds > 1:
        first = [b.counts[0] for b in bars][::-1]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=first,
                orientation="h",
                name="First vote",
                marker=dict(color=FIRST_VOTE_COLOUR),
                text=[str(n) for n in first],
                textposition="outside",
                textfont=dict(size=FONT_SIZE - 4, color="#57606a"),
                hoverinfo="skip",
            )
        )
        texts = [f"{b.counts[0]} → {b.counts[-1]}" for b in bars][::-1]
    else:
        texts = [str(n) for n in last]
    fig.add_trace(
        go.Bar(
            y=labels,
            x=last,
            orientation="h",
            name="Re-vote" if rounds > 1 else "Answers",
            showlegend=rounds > 1,
            marker=dict(color=colours, line=dict(color="#1f2328", width=0.5)),
            text=texts,
            textposition="outside",
            textfont=dict(size=FONT_SIZE, color="#1f2328"),
            hoverinfo="skip",
        )
    )
    if graded:  # a key of the grade colours, as legend entries without data
        for grade, legend in dict.fromkeys((b.grade, b.legend) for b in bars if b.grade):
            fig.add_trace(
                go.Bar(
                    y=[None],
                    x=[None],
                    orientation="h",
                    name=legend or GRADE_LABELS.get(grade, grade),
                    marker=dict(color=GRADE_COLOURS[grade]),
                    showlegend=True,
                )
            )
    top = max([*last, *(b.counts[0] for b in bars if b.counts)], default=0)
    fig.update_layout(
        barmode="group",
        height=height or max(260, 90 * len(bars) + 80),
        margin=dict(l=10, r=30, t=10, b=10),
        font=dict(size=FONT_SIZE, color="#1f2328"),
        xaxis=dict(visible=False, range=[0, max(1, top) * 1.3]),
        yaxis=dict(tickfont=dict(size=FONT_SIZE - 2, color="#1f2328"), automargin=True),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=FONT_SIZE - 4)),
        showlegend=rounds > 1 or graded,
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        bargap=0.25,
    )
    return fig
