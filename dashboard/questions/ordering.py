"""ordering in the app: a position (1..n) per option, so each option appears once in the form; the feedback
explains each option's place on the pathway and how many of its pairs the learner put in order."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.questions.base import DraftField, FeedbackRow, KindView, ViewContext, WidgetKey, WidgetState
from logic import QuestionResult
from logic.questions import Answer, OrderingQuestion, as_list
from logic.vocabulary import Grade

VERDICTS: dict[str, tuple[Grade, str]] = {
    "in_order": ("recommended", "In order"),
    "out_of_order": ("acceptable", "Out of order"),
    "missed": ("not_recommended", "Not placed"),
    "unplaced": ("not_recommended", "Not in the sequence"),
}


class OrderingView(KindView[OrderingQuestion]):
    rows_show_answer = True  # each option with the learner's position for it

    def key_line(self, question: OrderingQuestion, result: QuestionResult) -> str | None:
        return result.why or result.best_text  # "The pathway's order: A / B → C" (ties shown)

    def widget(self, question: OrderingQuestion, key: WidgetKey, ctx: ViewContext) -> None:
        positions = list(range(1, len(question.options) + 1))
        st.caption("Give each option its place: 1 is the earliest step of the pathway.")
        for option in question.options:
            st.selectbox(
                ctx.kb.name(option),
                positions,
                index=None,
                placeholder="position…",
                key=key(question.id, option),
            )

    def read_answer(self, question: OrderingQuestion, state: WidgetState, key: WidgetKey) -> Answer:
        """The options in the learner's order, once each has a different position; else None."""
        positions: dict[str, int] = {}
        for option in question.options:
            position = state.get(key(question.id, option))
            if not isinstance(position, int) or position in positions.values():
                return None  # a position left empty, or given twice
            positions[option] = position
        return sorted(question.options, key=positions.__getitem__)

    def widget_state(self, question: OrderingQuestion, answer: Answer, key: WidgetKey) -> dict[str, Any]:
        order = as_list(answer)
        return {key(question.id, o): order.index(o) + 1 if o in order else None for o in question.options}

    def answer_text(self, question: OrderingQuestion, answer: Answer, ctx: ViewContext) -> str:
        return " → ".join(ctx.kb.name(o) for o in as_list(answer)) or "no answer"

    def submitted_lines(self, question: OrderingQuestion, answer: Answer, ctx: ViewContext) -> list[str]:
        order = as_list(answer)
        if not order:
            return ["*(no order given)*"]
        return ["  \n".join(f"{n}. **{ctx.kb.name(o)}**" for n, o in enumerate(order, start=1))]

    def feedback_rows(self, question: OrderingQuestion, result: QuestionResult) -> list[FeedbackRow]:
        return [
            FeedbackRow(v.name, VERDICTS[v.grade][0], VERDICTS[v.grade][1], v.why, v.grade != "missed")
            for v in result.verdicts
        ]

    def reveal_rows(self, question: OrderingQuestion, best: QuestionResult) -> list[FeedbackRow]:
        """The pathway's order for the room: each option by the step that first teaches it (the learner's
        feedback says "your position", which a projector must not)."""
        graded = {g.id: g for g in best.graded}
        return [
            FeedbackRow(graded[o].name, "recommended", f"Step {rank + 1}", graded[o].why, False)
            if (rank := graded[o].rank) is not None
            else FeedbackRow(graded[o].name, *VERDICTS["unplaced"], graded[o].why, False)
            for o in best.best
        ]

    def draft_fields(self, question: OrderingQuestion, key: WidgetKey, ctx: ViewContext) -> list[DraftField]:
        positions = tuple(range(1, len(question.options) + 1))
        labels = tuple(str(p) for p in positions)
        return [DraftField(key(question.id, o), "select", labels, positions) for o in question.options]

    def question_lines(self, question: OrderingQuestion, ctx: ViewContext) -> list[str]:
        return [f"- {ctx.kb.name(o)}" for o in question.options]
