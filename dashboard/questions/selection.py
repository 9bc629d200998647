"""The select-all layout shared by prerequisites and monitoring: a checkbox per item; the feedback lists
each item hit, missed or picked needlessly."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.questions.base import FeedbackRow, KindView, Q, ViewContext, WidgetKey, WidgetState
from logic import QuestionResult
from logic.questions import Answer, as_list
from logic.vocabulary import Grade

# Select-all verdicts, shown with the grade palette, and what the learner reads.
VERDICTS: dict[str, tuple[Grade, str]] = {
    "correct": ("recommended", "Correct"),
    "missed": ("acceptable", "Missed"),
    "extra": ("not_recommended", "Not needed"),
}


class SelectAllView(KindView[Q]):
    """A checkbox per option; ``missed_colour`` is the colour of a missed item."""

    missed_colour: Grade = "acceptable"

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
        rows = []
        for v in result.verdicts:
            colour, label = VERDICTS[v.grade]
            if v.grade == "missed":
                colour = self.missed_colour
            rows.append(FeedbackRow(v.name, colour, label, v.why, v.grade != "missed"))
        return rows

    def question_lines(self, question: Q, ctx: ViewContext) -> list[str]:
        return [f"- {ctx.kb.name(o)}" for o in question.offered()]
