"""Export a played case: a Jupyter notebook (nbformat v4, Markdown cells) or a Markdown document.

Pure: no Streamlit. Both exports hold the same blocks: the teaching-only disclaimer, the case, and per
stage its narrative, data, questions, the learner's answers and the feedback, then the score. Text
from the case and the learner is written with raw HTML neutralised ("<" as "&lt;"), as the app
renders it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import nbformat
from nbformat import NotebookNode

from logic import DISCLAIMER, Case, CaseScore, QuestionResult, load_knowledge_base
from logic.cases import (
    DoseQuestion,
    MonitoringQuestion,
    NextStepQuestion,
    PrerequisitesQuestion,
    QuestionBase,
    ReflectionQuestion,
    Stage,
)
from logic.markdown import safe_markdown
from logic.scoring import Answer

from .catalogue import DIFFICULTY_LABELS, POPULATION_LABELS, patient_summary
from .player_state import (
    CATEGORY_LABELS,
    SELECT_VERDICTS,
    dose_unit,
    explanation_lines,
    format_answer,
    points_text,
)

GRADE_TEXT = {
    "recommended": "Recommended",
    "acceptable": "Acceptable",
    "not_recommended": "Not recommended",
    "unsafe": "Unsafe",
    **{k: label for k, (_, label) in SELECT_VERDICTS.items()},
}
KIND_TEXT = {
    "next_step": "Choose one",
    "prerequisites": "Select all that apply",
    "monitoring": "Select all that apply",
    "dose": "Enter a dose",
    "reflection": "Reflection",
}


def _safe(text: str) -> str:
    """Case (or learner) text as Markdown with every active element made text: the app's one sanitiser."""
    return safe_markdown(str(text))


def _cell(text: str) -> str:
    """Text for a Markdown table cell: sanitised, on one line, its "|" escaped."""
    return re.sub(r"(?<!\\)\|", r"\\|", _safe(text)).replace("\n", " ")


def _sources(source_ids: Sequence[str]) -> str:
    return load_knowledge_base().citations(source_ids)


def _header(case: Case, score: CaseScore | None) -> list[str]:
    p = case.patient
    lines = [
        f"# {_safe(case.title)}",
        f"> ⚠️ **{DISCLAIMER}** Exported from myotutor, a teaching dashboard.",
        "",
        _safe(case.summary),
        "",
        f"- **Case:** `{case.id}`",
        f"- **Population:** {POPULATION_LABELS.get(case.population, case.population)}",
        f"- **Difficulty:** {DIFFICULTY_LABELS.get(case.difficulty, case.difficulty)}",
        f"- **Author:** {_safe(case.author)}",
    ]
    if case.tags:
        lines.append("- **Tags:** " + ", ".join(_safe(t) for t in case.tags))
    lines.append(
        f"- **Patient:** {patient_summary(p, 'years')}; {p.diagnosis.replace('_', ' ')}, {p.severity}"
    )
    if case.references:
        lines.append("- **References:** " + _sources(case.references))
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


def _question(case: Case, question: QuestionBase, number: str) -> str:
    kb = load_knowledge_base()
    worth = "not scored" if isinstance(question, ReflectionQuestion) else f"{question.points:g} point(s)"
    lines = [f"**Question {number}** ({KIND_TEXT.get(getattr(question, 'kind', ''), '')}, {worth})"]
    lines += ["", _safe(question.prompt)]
    if isinstance(question, NextStepQuestion | PrerequisitesQuestion | MonitoringQuestion):
        lines.append("")
        lines += [f"- {_safe(kb.name(o))}" for o in question.options]
    elif isinstance(question, DoseQuestion):
        lines += [
            "",
            f"Dose of {kb.name(question.agent)}, in {_safe(dose_unit(question, case.population, kb)) or 'the unit given'}.",
        ]
    return "\n".join(lines)


def _feedback(case: Case, question: QuestionBase, answer: Answer, result: QuestionResult | None) -> str:
    kb = load_knowledge_base()
    unit = dose_unit(question, case.population, kb) if isinstance(question, DoseQuestion) else ""
    lines = [f"**Your answer:** {_safe(format_answer(question, answer, kb, unit))}"]
    if result is None:
        return "\n".join(lines)
    if isinstance(question, ReflectionQuestion):
        if result.discussion:
            lines += ["", f"**Discussion:** {_safe(result.discussion)}"]
        return "\n".join(lines)
    lines += ["", f"**Feedback** ({points_text(result)}){' ⚠️ **unsafe**' if result.unsafe else ''}"]
    for v in result.verdicts:
        why = f" — {_safe(v.why)}" if v.why and v.why != v.name else ""
        lines.append(f"- {_safe(v.name)}: *{GRADE_TEXT.get(v.grade, v.grade)}*{why}")
    return "\n".join(lines + explanation_lines(result, _sources, _safe))


def _summary(case: Case, score: CaseScore) -> str:
    lines = ["## Score", "", f"**Total: {score.total:g} / 100**", "", "| Stage | Score |", "|---|---|"]
    for i, (stage, value) in enumerate(zip(case.stages, score.stage_scores, strict=True)):
        lines.append(f"| {i + 1}. {_cell(stage.title)} | {'not scored' if value is None else f'{value:g}'} |")
    if score.category_scores:
        lines += ["", "| Kind | Score |", "|---|---|"]
        lines += [f"| {CATEGORY_LABELS.get(k, k)} | {v:g} |" for k, v in score.category_scores.items()]
    if score.unsafe:
        lines += ["", "⚠️ Unsafe answers: " + ", ".join(f"`{q}`" for q in score.unsafe)]
    return "\n".join(lines)


def blocks(
    case: Case, answers: Mapping[str, Answer], score: CaseScore | None, stages: int | None = None
) -> list[str]:
    """The export as Markdown blocks (one notebook cell each): the first ``stages`` stages (default all).
    Feedback is written only for the questions the score holds."""
    results = {r.question_id: r for r in score.results} if score is not None else {}
    shown = len(case.stages) if stages is None else max(0, min(stages, len(case.stages)))
    out = _header(case, score)
    for i, stage in enumerate(case.stages[:shown]):
        out.append(
            f"## Stage {i + 1} of {len(case.stages)}: {_safe(stage.title)}\n\n{_safe(stage.narrative).strip()}"
        )
        data = _data(stage)
        if data:
            out.append(data)
        for n, q in enumerate(stage.questions, start=1):
            out.append(_question(case, q, f"{i + 1}.{n}"))
            out.append(_feedback(case, q, answers.get(q.id), results.get(q.id)))
    if score is not None:
        out.append(_summary(case, score))
    out.append(f"---\n\n*{DISCLAIMER}*")
    return out


def to_notebook(
    case: Case, answers: Mapping[str, Answer], score: CaseScore | None, stages: int | None = None
) -> NotebookNode:
    """A Jupyter notebook (nbformat v4) of Markdown cells."""
    nb: NotebookNode = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.cells = [
        nbformat.v4.new_markdown_cell(block)  # type: ignore[no-untyped-call]
        for block in blocks(case, answers, score, stages)
    ]
    nb.metadata["myotutor"] = {
        "case": case.id,
        "total": None if score is None else score.total,
        "disclaimer": DISCLAIMER,
    }
    return nb


def to_notebook_json(
    case: Case, answers: Mapping[str, Answer], score: CaseScore | None, stages: int | None = None
) -> str:
    text: str = nbformat.writes(to_notebook(case, answers, score, stages))  # type: ignore[no-untyped-call]
    return text


def to_markdown(
    case: Case, answers: Mapping[str, Answer], score: CaseScore | None, stages: int | None = None
) -> str:
    return "\n\n".join(blocks(case, answers, score, stages)) + "\n"
