"""next_step in the app: a radio (single choice) or a checkbox per option (multiple), every option in the
feedback with its grade and reason."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.questions.base import DraftField, FeedbackRow, KindView, ViewContext, WidgetKey, WidgetState
from logic import QuestionResult
from logic.questions import Answer, NextStepQuestion, as_list
from logic.vocabulary import GRADE_LABELS, as_grade


class NextStepView(KindView[NextStepQuestion]):
    marks_choice = True
    rows_show_answer = True  # every option offered, graded, the learner's marked

    def key_line(self, question: NextStepQuestion, result: QuestionResult) -> str | None:
        return None  # the rows grade every option: the recommended one is among them

    def instruction(self, question: NextStepQuestion) -> str:
        return "Select all that apply" if question.multiple else question.instruction

    def widget(self, question: NextStepQuestion, key: WidgetKey, ctx: ViewContext) -> None:
        if question.multiple:
            for option in question.options:
                st.checkbox(ctx.kb.name(option), key=key(question.id, option))
            return
        st.radio(
            "Your answer",
            list(question.options),
            index=None,
            format_func=ctx.kb.name,
            label_visibility="collapsed",
            key=key(question.id, None),
        )

    def read_answer(self, question: NextStepQuestion, state: WidgetState, key: WidgetKey) -> Answer:
        if question.multiple:
            return [o for o in question.options if state.get(key(question.id, o))]
        value = state.get(key(question.id, None))
        return value if value in question.options else None

    def widget_state(self, question: NextStepQuestion, answer: Answer, key: WidgetKey) -> dict[str, Any]:
        chosen = as_list(answer)
        if question.multiple:
            return {key(question.id, o): o in chosen for o in question.options}
        return {key(question.id, None): chosen[0] if chosen else None}

    def answer_text(self, question: NextStepQuestion, answer: Answer, ctx: ViewContext) -> str:
        return ", ".join(ctx.kb.name(a) for a in as_list(answer)) or "no answer"

    def submitted_lines(self, question: NextStepQuestion, answer: Answer, ctx: ViewContext) -> list[str]:
        chosen = set(as_list(answer))
        on, off = ("☑", "☐") if question.multiple else ("◉", "○")
        # One option a line (Markdown hard breaks), the chosen ones in bold, in the author's order.
        return [
            "  \n".join(
                f"{on} **{ctx.kb.name(o)}**" if o in chosen else f"{off} {ctx.kb.name(o)}"
                for o in question.options
            )
        ]

    def feedback_rows(self, question: NextStepQuestion, result: QuestionResult) -> list[FeedbackRow]:
        """Every option offered, in the author's order, with its grade (the learner's marked)."""
        chosen = set(as_list(result.answer))
        return [
            FeedbackRow(g.name, as_grade(g.grade), GRADE_LABELS[as_grade(g.grade)], g.why, g.id in chosen)
            for g in result.graded
        ]

    def draft_fields(self, question: NextStepQuestion, key: WidgetKey, ctx: ViewContext) -> list[DraftField]:
        if question.multiple:
            return [DraftField(key(question.id, o), "checkbox") for o in question.options]
        labels = tuple(ctx.kb.name(o) for o in question.options)
        return [DraftField(key(question.id, None), "radio", labels, tuple(question.options))]

    def question_lines(self, question: NextStepQuestion, ctx: ViewContext) -> list[str]:
        return [f"- {ctx.kb.name(o)}" for o in question.options]
