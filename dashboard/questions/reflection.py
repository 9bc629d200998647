"""reflection in the app: a text area; afterwards, the author's discussion (not scored)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.questions.base import DraftField, FeedbackRow, KindView, ViewContext, WidgetKey, WidgetState
from logic import QuestionResult
from logic.markdown import safe_markdown
from logic.questions import Answer, ReflectionQuestion, answer_value


class ReflectionView(KindView[ReflectionQuestion]):
    def key_line(self, question: ReflectionQuestion, result: QuestionResult) -> str | None:
        return None  # not scored: the discussion follows

    def widget(self, question: ReflectionQuestion, key: WidgetKey, ctx: ViewContext) -> None:
        st.text_area("Your reflection (not scored)", key=key(question.id, None))

    def read_answer(self, question: ReflectionQuestion, state: WidgetState, key: WidgetKey) -> Answer:
        value = state.get(key(question.id, None))
        return "" if value is None else str(value)

    def widget_state(self, question: ReflectionQuestion, answer: Answer, key: WidgetKey) -> dict[str, Any]:
        return {key(question.id, None): _text(answer)}

    def answer_text(self, question: ReflectionQuestion, answer: Answer, ctx: ViewContext) -> str:
        return _text(answer) or "no answer"

    def submitted_lines(self, question: ReflectionQuestion, answer: Answer, ctx: ViewContext) -> list[str]:
        text = _text(answer).strip()
        if not text:
            return ["Your reflection: *(left blank)*"]
        return ["Your reflection: ", "", *(f"> {safe_markdown(line)}  " for line in text.splitlines())]

    def feedback_rows(self, question: ReflectionQuestion, result: QuestionResult) -> list[FeedbackRow]:
        return []  # not scored: the feedback is the discussion

    def draft_fields(
        self, question: ReflectionQuestion, key: WidgetKey, ctx: ViewContext
    ) -> list[DraftField]:
        return [DraftField(key(question.id, None), "text")]

    def question_lines(self, question: ReflectionQuestion, ctx: ViewContext) -> list[str]:
        return []


def _text(answer: Answer) -> str:
    value = answer_value(answer)
    return "" if value is None else str(value)
