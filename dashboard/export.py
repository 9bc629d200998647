"""Export a played case: a Jupyter notebook (nbformat v4, Markdown cells) or a Markdown document.

Pure: no Streamlit. Both exports hold the same blocks: the teaching-only disclaimer, the case, and per
stage its narrative, data, questions, the learner's answers and the feedback, then the score. Text
from the case and the learner goes through the app's one Markdown sanitiser (logic.markdown), as the app
renders it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import nbformat
from nbformat import NotebookNode

from dashboard.catalogue import patient_line
from dashboard.questions import ViewContext, view_of
from dashboard.questions.render import escape, export_style, feedback_markdown
from logic import DISCLAIMER, Case, CaseScore, KnowledgeBase, QuestionResult
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


def _cell(text: str) -> str:
    """Text for a Markdown table cell: sanitised, on one line, its "|" escaped."""
    return re.sub(r"(?<!\\)\|", r"\\|", _safe(text)).replace("\n", " ")


def _header(case: Case, score: CaseScore | None, kb: KnowledgeBase) -> list[str]:
    p = case.patient
    lines = [
        f"# {_safe(case.title)}",
        f"> ⚠️ **{DISCLAIMER}** Exported from myotutor, a teaching dashboard.",
        "",
        _safe(case.summary),
        "",
        f"- **Case:** `{case.id}`",
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
        blocks.append(f"**Score: {score.total:g} / 100**")
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


def _question(question: QuestionBase, number: str, ctx: ViewContext) -> str:
    view = view_of(question)
    worth = f"{question.points:g} point(s)" if question.scored else "not scored"
    lines = [f"**Question {number}** ({view.instruction(question)}, {worth})", "", _safe(question.prompt)]
    asked = [_safe(line) for line in view.question_lines(question, ctx)]
    return "\n".join(lines + ([""] + asked if asked else []))


def _feedback(question: QuestionBase, answer: Answer, result: QuestionResult | None, ctx: ViewContext) -> str:
    view = view_of(question)
    lines = [
        f"**Your answer:** {_safe(view.answer_text(question, answer if result is None else result.answer, ctx))}"
    ]
    if result is None:
        certainty = answer_certainty(answer)
        if certainty is not None:
            lines.append(f"**Your certainty:** {CERTAINTY_LABELS[certainty]}")
        return "\n".join(lines)
    return "\n".join([*lines, "", feedback_markdown(view, question, result, export_style(ctx.kb))])


def _summary(case: Case, score: CaseScore) -> str:
    lines = ["## Score", "", f"**Total: {score.total:g} / 100**", "", "| Stage | Score |", "|---|---|"]
    for i, (stage, value) in enumerate(zip(case.stages, score.stage_scores, strict=True)):
        lines.append(f"| {i + 1}. {_cell(stage.title)} | {'not scored' if value is None else f'{value:g}'} |")
    if score.category_scores:
        lines += ["", "| Kind | Score |", "|---|---|"]
        lines += [f"| {CATEGORY_LABELS[k]} | {v:g} |" for k, v in score.category_scores.items()]
    if score.unsafe:
        lines += ["", "⚠️ Unsafe answers: " + ", ".join(f"`{q}`" for q in score.unsafe)]
    if score.confident_unsafe:
        lines += ["", "🚩 **Confident and unsafe:** " + ", ".join(f"`{q}`" for q in score.confident_unsafe)]
        lines += ["", f"**{CONFIDENT_UNSAFE_WARNING}**"]
    return "\n".join(lines)


def blocks(
    case: Case,
    answers: Mapping[str, Answer],
    score: CaseScore | None,
    kb: KnowledgeBase,
    stages: int | None = None,
) -> list[str]:
    """The export as Markdown blocks (one notebook cell each): the first ``stages`` stages (default all).
    Feedback is written only for the questions the score holds, from its results (never re-scored)."""
    results = {r.question_id: r for r in score.results} if score is not None else {}
    shown = len(case.stages) if stages is None else max(0, min(stages, len(case.stages)))
    ctx = ViewContext(kb, case.population)
    out = _header(case, score, kb)
    for i, stage in enumerate(case.stages[:shown]):
        out.append(
            f"## Stage {i + 1} of {len(case.stages)}: {_safe(stage.title)}\n\n{_safe(stage.narrative).strip()}"
        )
        data = _data(stage)
        if data:
            out.append(data)
        for n, q in enumerate(stage.questions, start=1):
            out.append(_question(q, f"{i + 1}.{n}", ctx))
            out.append(_feedback(q, answers.get(q.id), results.get(q.id), ctx))
    if score is not None:
        out.append(_summary(case, score))
    out.append(f"---\n\n*{DISCLAIMER}*")
    return out


def to_notebook(
    case: Case,
    answers: Mapping[str, Answer],
    score: CaseScore | None,
    kb: KnowledgeBase,
    stages: int | None = None,
) -> NotebookNode:
    """A Jupyter notebook (nbformat v4) of Markdown cells."""
    nb: NotebookNode = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.cells = [
        nbformat.v4.new_markdown_cell(block)  # type: ignore[no-untyped-call]
        for block in blocks(case, answers, score, kb, stages)
    ]
    nb.metadata["myotutor"] = {
        "case": case.id,
        "total": None if score is None else score.total,
        "disclaimer": DISCLAIMER,
    }
    return nb


def to_notebook_json(
    case: Case,
    answers: Mapping[str, Answer],
    score: CaseScore | None,
    kb: KnowledgeBase,
    stages: int | None = None,
) -> str:
    text: str = nbformat.writes(to_notebook(case, answers, score, kb, stages))  # type: ignore[no-untyped-call]
    return text


def to_markdown(
    case: Case,
    answers: Mapping[str, Answer],
    score: CaseScore | None,
    kb: KnowledgeBase,
    stages: int | None = None,
) -> str:
    return "\n\n".join(blocks(case, answers, score, kb, stages)) + "\n"
