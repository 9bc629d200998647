"""The select-all layout shared by prerequisites and monitoring: a checkbox per item; the feedback lists
each item hit, missed or picked needlessly."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.questions.base import DraftField, FeedbackRow, KindView, Q, ViewContext, WidgetKey, WidgetState
from logic import QuestionResult
from logic.questions import Answer, as_list
from logic.vocabulary import Grade

# Select-all verdicts, shown with the grade palette, and what the learner reads.
VERDICTS: dict[str, tuple[Grade, str]] = {
    "correct": ("recommended", "Correct"),
    "missed": ("acceptable", "Missed"),
    "extra": ("not_recommended", "Not needed"),
}
LEFT_OUT: tuple[Grade, str] = ("not_recommended", "Not needed")  # not ticked, rightly


class SelectAllView(KindView[Q]):
    """A checkbox per option; ``missed_colour`` is the colour of a missed item."""

    missed_colour: Grade = "acceptable"
    marks_choice = True
    rows_show_answer = True  # every item offered, in the form's order, the ticked ones marked

    def key_line(self, question: Q, result: QuestionResult) -> str | None:
        return None  # the rows mark every item needed (correct or missed)

    def widget(self, question: Q, key: WidgetKey, ctx: ViewContext) -> None:
        for option in question.offered():
            st.checkbox(ctx.kb.name(option), key=key(question.id, option))

    def read_answer(self, question: Q, state: WidgetState, key: WidgetKey) -> Answer:
        return [o for o in question.offered() if state.get(key(question.id, o))]

    def widget_state(self, question: Q, answer: Answer, key: WidgetKey) -> dict[str, Any]:
        chosen = as_list(answer)
        return {key(question.id, o): o in chosen for o in question.offered()}

    def answer_text(self, question: Q, answer: Answer, ctx: ViewContext) -> str:
        return ", ".join(ctx.kb.name(a) for a in as_list(answer)) or "none"

    def submitted_lines(self, question: Q, answer: Answer, ctx: ViewContext) -> list[str]:
        chosen = set(as_list(answer))
        return [
            "  \n".join(
                f"☑ **{ctx.kb.name(o)}**" if o in chosen else f"☐ {ctx.kb.name(o)}"
                for o in question.offered()
            )
        ]

    def feedback_rows(self, question: Q, result: QuestionResult) -> list[FeedbackRow]:
        """Every item offered, in the form's order: ticked and needed, missed, ticked needlessly, or
        rightly left out (the last without a reason: nothing to explain)."""
        verdicts = {v.id: v for v in result.verdicts}
        names = {g.id: g.name for g in result.graded}
        rows = []
        for option in question.offered():
            verdict = verdicts.get(option)
            if verdict is None:
                colour, label = LEFT_OUT
                rows.append(FeedbackRow(names.get(option, option), colour, label, "", False))
                continue
            colour, label = VERDICTS[verdict.grade]
            if verdict.grade == "missed":
                colour = self.missed_colour
            rows.append(FeedbackRow(verdict.name, colour, label, verdict.why, verdict.grade != "missed"))
        return rows

    def draft_fields(self, question: Q, key: WidgetKey, ctx: ViewContext) -> list[DraftField]:
        return [DraftField(key(question.id, o), "checkbox") for o in question.offered()]

    def question_lines(self, question: Q, ctx: ViewContext) -> list[str]:
        return [f"- {ctx.kb.name(o)}" for o in question.offered()]
