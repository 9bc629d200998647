"""dose in the app: a number input in the unit the author (or the formulary) gives; the feedback grades
the learner's dose."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.questions.base import DraftField, FeedbackRow, KindView, ViewContext, WidgetKey, WidgetState
from logic import KnowledgeBase, QuestionResult
from logic.markdown import safe_markdown
from logic.questions import Answer, DoseQuestion
from logic.questions.dose import dose_value
from logic.vocabulary import Grade, Population, as_grade

# A dose is judged with the grade palette; a learner reads how right the number is.
DOSE_VERDICTS: dict[Grade, str] = {
    "recommended": "Right dose",
    "acceptable": "Close",
    "not_recommended": "Wrong dose",
    "unsafe": "Unsafe dose",
}


def dose_unit(question: DoseQuestion, population: Population, kb: KnowledgeBase) -> str:
    """The unit to answer a dose question in: the author's, else the formulary's for the population.

    Taken from the question or the formulary only (the same for every patient), never from the
    patient's computed dose.
    """
    if question.unit:
        return question.unit
    agent = kb.agents.get(question.agent)
    if agent is None:
        return ""
    units = list(dict.fromkeys(r.dose_unit for r in agent.regimens_for(population) if r.dose_unit))
    return " or ".join(units)


class DoseView(KindView[DoseQuestion]):
    marks_choice = False
    rows_show_answer = True  # the row is the learner's dose, graded, with the dose computed for the patient

    def key_line(self, question: DoseQuestion, result: QuestionResult) -> str | None:
        return None  # the row's reason gives the dose computed for the patient

    def widget(self, question: DoseQuestion, key: WidgetKey, ctx: ViewContext) -> None:
        unit = dose_unit(question, ctx.population, ctx.kb)
        st.number_input(
            f"Dose of {ctx.kb.name(question.agent)}" + (f" ({safe_markdown(unit)})" if unit else ""),
            min_value=0.0,
            value=None,
            step=0.5,
            format="%g",
            placeholder=f"dose in {unit}" if unit else "dose",
            key=key(question.id, None),
        )

    def read_answer(self, question: DoseQuestion, state: WidgetState, key: WidgetKey) -> Answer:
        value = state.get(key(question.id, None))
        if value is None or isinstance(value, bool):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    def widget_state(self, question: DoseQuestion, answer: Answer, key: WidgetKey) -> dict[str, Any]:
        return {key(question.id, None): dose_value(answer)}

    def answer_text(self, question: DoseQuestion, answer: Answer, ctx: ViewContext) -> str:
        value = dose_value(answer)
        if value is None:
            return "no answer"
        return f"{value:g} {dose_unit(question, ctx.population, ctx.kb)}".strip()

    def submitted_lines(self, question: DoseQuestion, answer: Answer, ctx: ViewContext) -> list[str]:
        answer_text = safe_markdown(self.answer_text(question, answer, ctx))  # the unit is the author's
        return [f"Your dose of {ctx.kb.name(question.agent)}: **{answer_text}**"]

    def feedback_rows(self, question: DoseQuestion, result: QuestionResult) -> list[FeedbackRow]:
        return [
            FeedbackRow(v.name, as_grade(v.grade), DOSE_VERDICTS[as_grade(v.grade)], v.why, True)
            for v in result.verdicts
        ]

    def draft_fields(self, question: DoseQuestion, key: WidgetKey, ctx: ViewContext) -> list[DraftField]:
        return [DraftField(key(question.id, None), "number")]

    def question_lines(self, question: DoseQuestion, ctx: ViewContext) -> list[str]:
        unit = dose_unit(question, ctx.population, ctx.kb) or "the unit given"
        return [f"Dose of {ctx.kb.name(question.agent)}, in {unit}."]
