"""The dashboard's registry of question kinds: one view per kind of ``logic.questions.KINDS``.

A view (``dashboard/questions/<kind>.py``) draws the kind's widget, reads its answer, shows it read-only,
lists its feedback lines and writes it in an export; ``render.py`` lays those out the same way for every
kind. ``tests/dashboard/test_question_views.py`` checks that every logic kind has a view here.
"""

from __future__ import annotations

from typing import Any

from dashboard.questions.base import DraftField, FeedbackRow, KindView, ViewContext, WidgetKey
from dashboard.questions.dose import DoseView
from dashboard.questions.monitoring import MonitoringView
from dashboard.questions.next_step import NextStepView
from dashboard.questions.ordering import OrderingView
from dashboard.questions.prerequisites import PrerequisitesView
from dashboard.questions.reflection import ReflectionView
from logic.questions import QuestionBase

VIEWS: dict[str, KindView[Any]] = {
    "next_step": NextStepView(),
    "prerequisites": PrerequisitesView(),
    "monitoring": MonitoringView(),
    "dose": DoseView(),
    "ordering": OrderingView(),
    "reflection": ReflectionView(),
}


def view_of(question: QuestionBase) -> KindView[Any]:
    """The view of a question's kind."""
    return VIEWS[question.kind]


__all__ = ["VIEWS", "DraftField", "FeedbackRow", "KindView", "ViewContext", "WidgetKey", "view_of"]
