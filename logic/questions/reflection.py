"""reflection: free text, not scored; the author's ``discussion`` is shown after the stage is submitted."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from ..vocabulary import Category
from .base import Answer, AnswerKey, Marking, QuestionBase, StagePlan

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase


class ReflectionQuestion(QuestionBase):
    """Free text, not scored; `discussion` is shown after the learner answers."""

    kind: Literal["reflection"]
    discussion: str | None = None

    category: ClassVar[Category] = "reflection"
    instruction: ClassVar[str] = "Write a reflection"
    learner_does: ClassVar[str] = "writes free text; `discussion` is shown afterwards"
    keyed_by: ClassVar[str] = "not scored"
    scored: ClassVar[bool] = False
    needs_answer: ClassVar[bool] = False  # a reflection may be left blank

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        return AnswerKey("reflection", (), {}, frozenset(), None, plan.recommendation, "", ())

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        return Marking(0.0, False, (), "", "", discussion=self.discussion)

    def best_answer(self, key: AnswerKey) -> Answer:
        return "reflection"
