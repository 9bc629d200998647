"""How a question kind looks in the app: one ``KindView`` subclass per kind, in ``dashboard/questions/<kind>.py``.

A view draws the kind's live widget in the stage form, reads the answer back from widget state (and the
inverse, for tests and benches that drive the form), writes the submitted answer read-only, lists the
graded lines of its feedback from the scoring result, and writes what the question asks in an export.
The shared layout of those pieces (and the certainty a choice question may ask for) is in ``render.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from logic import KnowledgeBase, QuestionResult
from logic.questions import Answer, QuestionBase
from logic.vocabulary import Grade, Population

Q = TypeVar("Q", bound=QuestionBase)

# The session-state key of a live widget: (question id, option id or None) -> key.
WidgetKey = Callable[[str, str | None], str]


class WidgetState(Protocol):
    """Widget values by key: ``st.session_state``, or a plain dict in tests."""

    def get(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class ViewContext:
    """What a view needs besides the question: the knowledge base (names, units) and the population."""

    kb: KnowledgeBase
    population: Population


@dataclass(frozen=True)
class DraftField:
    """One widget of a stage form as the browser keeps it in a draft (typed, not yet submitted): its key,
    the kind of control, and for a choice control its options' labels (as shown) and values (as read)."""

    key: str
    control: Literal["radio", "checkbox", "number", "text", "select"]
    labels: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class FeedbackRow:
    """One line of a feedback cell: an option (or the learner's dose) with its grade and reason."""

    name: str
    colour: Grade  # the grade whose colour the label takes
    label: str  # what the learner reads: a grade's label, Missed, In order...
    why: str
    chosen: bool  # marked "your answer" where the kind marks choices


class KindView(Generic[Q]):
    """The dashboard half of a question kind. Subclasses implement every method for their kind."""

    marks_choice = False  # feedback rows say "your answer" on the learner's choices
    # The feedback rows show the learner's answer (every option offered, the choices marked; or the dose
    # given): a submitted question then shows its feedback alone, not the answer a second time.
    rows_show_answer = False

    def key_line(self, question: Q, result: QuestionResult) -> str | None:
        """The best answer in words, for under the feedback rows; None where the rows already show it."""
        return result.best_text or None

    def instruction(self, question: Q) -> str:
        """What the learner is asked to do, e.g. "Choose one"."""
        return question.instruction

    def widget(self, question: Q, key: WidgetKey, ctx: ViewContext) -> None:
        """Draw the live answer widget(s) in the stage form (after the prompt), options in the author's order."""
        raise NotImplementedError

    def read_answer(self, question: Q, state: WidgetState, key: WidgetKey) -> Answer:
        """The answer from widget state, or None when nothing usable is given."""
        raise NotImplementedError

    def widget_state(self, question: Q, answer: Answer, key: WidgetKey) -> dict[str, Any]:
        """The widget values that give this answer (the inverse of ``read_answer``)."""
        raise NotImplementedError

    def answer_text(self, question: Q, answer: Answer, ctx: ViewContext) -> str:
        """The answer as a learner reads it (names, not ids)."""
        raise NotImplementedError

    def submitted_lines(self, question: Q, answer: Answer, ctx: ViewContext) -> list[str]:
        """The submitted answer, read-only, as Markdown lines (the form's widgets, frozen)."""
        raise NotImplementedError

    def feedback_rows(self, question: Q, result: QuestionResult) -> list[FeedbackRow]:
        """The graded lines of the feedback, from the scoring result (never from a recomputed key)."""
        raise NotImplementedError

    def reveal_rows(self, question: Q, best: QuestionResult) -> list[FeedbackRow]:
        """The graded lines a presenter reveals to the room, from the logic's best answer scored: by default
        the feedback of that answer (a kind whose feedback speaks to one learner says it for the room)."""
        return self.feedback_rows(question, best)

    def question_lines(self, question: Q, ctx: ViewContext) -> list[str]:
        """What the question offers, for an export (its options, or the unit of a dose)."""
        raise NotImplementedError

    def draft_fields(self, question: Q, key: WidgetKey, ctx: ViewContext) -> list[DraftField]:
        """The widgets ``widget`` draws, for a draft the browser keeps until the stage is submitted (a
        kind without them simply keeps no draft)."""
        return []
