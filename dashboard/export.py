"""Export a played case: a Jupyter notebook (nbformat v4: Markdown cells, and the charts as plotly output)
or a Markdown document.

Pure: no Streamlit. Both exports hold the same blocks: the teaching-only disclaimer, the case (with the
learner's name when signed in, the date and the case version: the case file's sha256), and per stage its
narrative, data, numbered questions, the learner's answers and the feedback, then the score. The
notebook adds the charts after the blocks they belong to (a stage's trends; the score and the learner's
path at the end). Text from the case and the learner goes through the app's one Markdown sanitiser
(logic.markdown), as the app renders it; a "<" that opens no tag ("< 200") reads as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import nbformat
import plotly.graph_objects as go
from nbformat import NotebookNode

from dashboard.catalogue import patient_line
from dashboard.figures import pathway_figure, score_breakdown_figure, trend_figure
from dashboard.player.results import path_on_chart, question_numbers, stage_score_rows
from dashboard.questions import ViewContext, view_of
from dashboard.questions.render import (
    escape,
    export_style,
    feedback_markdown,
    notes_shown_before,
    points_text,
)
from dashboard.wording import and_list, number, points
from logic import DISCLAIMER, Case, CaseScore, KnowledgeBase, QuestionResult, stage_plans
from logic.cases import Stage
from logic.questions import Answer, QuestionBase, answer_certainty
from logic.vocabulary import (
    CATEGORY_LABELS,
    CERTAINTY_LABELS,
    CONFIDENT_UNSAFE_WARNING,
    DIAGNOSIS_LABELS,
    DIFFICULTY_LABELS,
    POPULATION_LABELS,
    SEVERITY_LABELS,
)

_safe = escape
PLOTLY_MIME = "application/vnd.plotly.v1+json"


@dataclass(frozen=True)
class Block:
    """One cell of the export: Markdown, or a chart (the notebook shows it; Markdown gives its caption)."""

    text: str
    chart: go.Figure | None = None


def _cell(text: str) -> str:
    """Text for a Markdown table cell: sanitised, on one line, its "|" escaped."""
    return re.sub(r"(?<!\\)\|", r"\\|", _safe(text)).replace("\n", " ")


def _header(
    case: Case,
    score: CaseScore | None,
    kb: KnowledgeBase,
    learner: str | None,
    day: date | None,
    version: str | None,
) -> list[str]:
    p = case.patient
    lines = [
        f"# {_safe(case.title)}",
        f"> **{DISCLAIMER}** Exported from myotutor, a teaching dashboard.",
        "",
        _safe(case.summary),
        "",
    ]
    if learner:
        lines.append(f"- **Learner:** {_safe(learner)}")
    if day is not None:
        lines.append(f"- **Date:** {day.strftime('%d %B %Y').lstrip('0')}")
    if version:
        lines.append(
            f"- **Case version:** `{version[:12]}` (the first characters of the case file's SHA-256)"
        )
    lines += [
        f"- **Population:** {POPULATION_LABELS[case.population]}",
        f"- **Difficulty:** {DIFFICULTY_LABELS[case.difficulty]}",
        f"- **Author:** {_safe(case.author)}",
    ]
    if case.tags:
        lines.append("- **Tags:** " + ", ".join(_safe(t) for t in case.tags))
    lines.append(
        f"- **Patient:** {patient_line(p)}; "
        f"{DIAGNOSIS_LABELS[p.diagnosis].lower()}, {SEVERITY_LABELS[p.severity].lower()}"
    )
    if case.references:
        lines.append("- **References:** " + kb.citations(case.references))
    blocks = ["\n".join(lines)]
    if case.objectives:
        blocks.append("## Learning objectives\n\n" + "\n".join(f"- {_safe(o)}" for o in case.objectives))
    if score is not None:
        blocks.append(f"**Score: {number(score.total)} / 100**")
    return blocks


def _data(stage: Stage) -> str | None:
    if stage.data is None or not (stage.data.labs or stage.data.series):
        return None
    parts = ["**Data**"]
    if stage.data.labs:
        rows = ["| Test | Value | Unit | Reference | Flag |", "|---|---|---|---|---|"]
        for lab in stage.data.labs:
            value = f"{lab.value:g}" if isinstance(lab.value, float | int) else str(lab.value)
            rows.append(
                "| "
                + " | ".join(_cell(x or "") for x in (lab.test, value, lab.unit, lab.reference, lab.flag))
                + " |"
            )
        parts.append("\n".join(rows))
    for series in stage.data.series:
        unit = f" ({series.unit})" if series.unit else ""
        rows = [f"| {_cell(series.x_label)} | {_cell(series.name)}{_cell(unit)} |", "|---|---|"]
        rows += [f"| {x:g} | {y:g} |" for x, y in series.points]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def _question(question: QuestionBase, number_: str, ctx: ViewContext) -> str:
    view = view_of(question)
    worth = points(question.points) if question.scored else "not scored"
    lines = [f"**Question {number_}** ({view.instruction(question)}, {worth})", "", _safe(question.prompt)]
    asked = [_safe(line) for line in view.question_lines(question, ctx)]
    return "\n".join(lines + ([""] + asked if asked else []))


def _feedback(
    question: QuestionBase,
    answer: Answer,
    result: QuestionResult | None,
    ctx: ViewContext,
    skip_notes: frozenset[str],
) -> str:
    view = view_of(question)
    lines = [
        f"**Your answer:** {_safe(view.answer_text(question, answer if result is None else result.answer, ctx))}"
    ]
    if result is None:
        certainty = answer_certainty(answer)
        if certainty is not None:
            lines.append(f"**Your certainty:** {CERTAINTY_LABELS[certainty]}")
        return "\n".join(lines)
    feedback = feedback_markdown(view, question, result, export_style(ctx.kb), skip_notes=skip_notes)
    return "\n".join([*lines, "", feedback])


def _summary(case: Case, score: CaseScore) -> str:
    numbers = question_numbers(case)
    lines = ["## Score", "", f"**Total: {number(score.total)} / 100**", "", "| Stage | Score |", "|---|---|"]
    for i, (stage, value) in enumerate(zip(case.stages, score.stage_scores, strict=True)):
        lines.append(
            f"| {i + 1}. {_cell(stage.title)} | {'not scored' if value is None else number(value)} |"
        )
    if score.category_scores:
        lines += ["", "| Kind | Score |", "|---|---|"]
        lines += [f"| {CATEGORY_LABELS[k]} | {number(v)} |" for k, v in score.category_scores.items()]
    lines += ["", "| Question | Points |", "|---|---|"]
    for r in score.results:
        _, question = case.question(r.question_id)
        lines.append(f"| {numbers[r.question_id]}. {_cell(question.prompt)} | {points_text(r)} |")
    if score.unsafe:
        lines += ["", "**Unsafe answers:** " + _questions(case, score.unsafe)]
    if score.confident_unsafe:
        lines += ["", "**Confident and unsafe:** " + _questions(case, score.confident_unsafe)]
        lines += ["", f"**{CONFIDENT_UNSAFE_WARNING}**"]
    return "\n".join(lines)


def _questions(case: Case, ids: tuple[str, ...]) -> str:
    """Questions named by number and prompt: "question 1.2 (Which treatment...?)"."""
    numbers = question_numbers(case)
    return and_list([f"question {numbers[q]} ({_safe(case.question(q)[1].prompt)})" for q in ids])


@dataclass(frozen=True)
class Export:
    """A played case to export: the case, the learner's answers, their score (None: nothing scored yet), the
    knowledge base, how many stages (None: all), and who, when and which version of the case file."""

    case: Case
    answers: Mapping[str, Answer]
    score: CaseScore | None
    kb: KnowledgeBase
    stages: int | None = None
    learner: str | None = None  # the signed-in learner's name
    day: date | None = None
    version: str | None = None  # the case file's sha256

    def blocks(self) -> list[Block]:
        """The export's cells: Markdown blocks, and the charts after the blocks they belong to. Feedback is
        written only for the questions the score holds, from its results (never re-scored); each faculty
        note once, with the first question it concerns."""
        case, score, kb = self.case, self.score, self.kb
        results = {r.question_id: r for r in score.results} if score is not None else {}
        notes_before = notes_shown_before(score.results) if score is not None else {}
        n = len(case.stages)
        shown = n if self.stages is None else max(0, min(self.stages, n))
        numbers = question_numbers(case)
        ctx = ViewContext(kb, case.population)
        out = [Block(text) for text in _header(case, score, kb, self.learner, self.day, self.version)]
        for i, stage in enumerate(case.stages[:shown]):
            out.append(
                Block(f"## Stage {i + 1} of {n}: {_safe(stage.title)}\n\n{_safe(stage.narrative).strip()}")
            )
            data = _data(stage)
            if data:
                out.append(Block(data))
            if stage.data is not None and stage.data.series:
                names = and_list([s.name for s in stage.data.series])
                out.append(Block(f"*Chart: {_safe(names)} over time.*", trend_figure(stage.data.series)))
            for q in stage.questions:
                out.append(Block(_question(q, numbers[q.id], ctx)))
                skip = notes_before.get(q.id, frozenset())
                out.append(Block(_feedback(q, self.answers.get(q.id), results.get(q.id), ctx, skip)))
        if score is not None:
            out.append(Block(_summary(case, score)))
            if shown == n and score.results:
                out += _end_charts(case, score, kb)
        out.append(Block(f"---\n\n*{DISCLAIMER}*"))
        return out

    def notebook(self) -> NotebookNode:
        """A Jupyter notebook (nbformat v4): Markdown cells, each chart as a code cell with plotly output."""
        nb: NotebookNode = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
        cells = []
        for block in self.blocks():
            cells.append(nbformat.v4.new_markdown_cell(block.text))  # type: ignore[no-untyped-call]
            if block.chart is not None:
                cells.append(_chart_cell(block.chart))
        nb.cells = cells
        nb.metadata["myotutor"] = {
            "case": self.case.id,
            "case_version": self.version,
            "learner": self.learner,
            "date": None if self.day is None else self.day.isoformat(),
            "total": None if self.score is None else self.score.total,
            "disclaimer": DISCLAIMER,
        }
        return nb

    def notebook_json(self) -> str:
        text: str = nbformat.writes(self.notebook())  # type: ignore[no-untyped-call]
        return text

    def markdown(self) -> str:
        """The same blocks as one Markdown document (a chart's caption stands for the chart)."""
        return "\n\n".join(block.text for block in self.blocks()) + "\n"


def _end_charts(case: Case, score: CaseScore, kb: KnowledgeBase) -> list[Block]:
    blocks = [
        Block(
            "*Chart: the score by stage and by kind of question.*",
            score_breakdown_figure(stage_score_rows(case, score), score.category_scores),
        )
    ]
    path = path_on_chart(case, score, stage_plans(case, kb), ViewContext(kb, case.population))
    if path.points:
        pathway = kb.pathways[case.patient.population]
        words = "\n".join(
            f"- **{p.number}** ({_safe(pathway.step(p.step).title)}): {_safe(p.text.split(': ', 1)[1])}"
            for p in path.points
        )
        blocks.append(
            Block(
                "*Chart: your path on the flowchart, each next-step question at the step where the patient "
                "then was, your choice beside the recommended one.*\n\n" + words,
                pathway_figure(pathway, kb, current_step=path.current, path=path.points),
            )
        )
    return blocks


def _chart_cell(figure: go.Figure) -> NotebookNode:
    """A code cell whose output is the chart, as plotly's own notebook output (Jupyter draws it)."""
    cell: NotebookNode = nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
        "# A chart exported by myotutor: open in Jupyter to see it drawn."
    )
    cell.outputs = [
        nbformat.v4.new_output(  # type: ignore[no-untyped-call]
            "display_data",
            data={PLOTLY_MIME: figure.to_plotly_json(), "text/plain": "<chart>"},
        )
    ]
    return cell


# The functions the exports had before Export (same arguments: case, answers, score, kb, stages, and the
# keywords learner, day, version).
def to_notebook(*args: Any, **kwargs: Any) -> NotebookNode:
    return Export(*args, **kwargs).notebook()


def to_notebook_json(*args: Any, **kwargs: Any) -> str:
    return Export(*args, **kwargs).notebook_json()


def to_markdown(*args: Any, **kwargs: Any) -> str:
    return Export(*args, **kwargs).markdown()


def blocks(*args: Any, **kwargs: Any) -> list[str]:
    return [block.text for block in Export(*args, **kwargs).blocks()]
