"""A stage form's answers: the widget keys, and reading the answers back through each kind's view."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.questions import view_of
from dashboard.questions.base import WidgetKey, WidgetState
from dashboard.questions.render import is_missing, read_with_certainty
from logic.questions import Answer, QuestionBase


def widget_key(case_id: str, attempt: int, question_id: str, option: str | None = None) -> str:
    """Session-state key of a live answer widget (one per checkbox, position or certainty where needed)."""
    key = f"pq:{case_id}:{attempt}:{question_id}"
    return f"{key}:{option}" if option is not None else key


def keys_for(case_id: str, attempt: int) -> WidgetKey:
    """The widget keys of one attempt at one case."""

    def key(question_id: str, option: str | None = None) -> str:
        return widget_key(case_id, attempt, question_id, option)

    return key


def collect_answers(
    questions: Sequence[QuestionBase], state: WidgetState, key: WidgetKey
) -> tuple[dict[str, Answer], list[str]]:
    """Read a stage's answers from widget state; also the ids of questions that still need an answer.

    A choice, an order and a dose must be given (and the certainty where it is asked); select-all may be
    empty (nothing may be needed); a reflection may be left blank.
    """
    answers: dict[str, Answer] = {}
    missing: list[str] = []
    for q in questions:
        answers[q.id] = read_with_certainty(view_of(q), q, state, key)
        if is_missing(q, answers[q.id]):
            missing.append(q.id)
    return answers, missing
