"""Answer keys, derived from recommend() for the patient at a question's stage; never from the author.

Each kind derives its own key (``logic/questions/<kind>.py``); these functions are the entry points.
"""

from __future__ import annotations

from .cases import Case
from .knowledge import KnowledgeBase
from .questions import AnswerKey, QuestionBase, StagePlan
from .recommend import recommend

__all__ = ["AnswerKey", "StagePlan", "answer_key", "stage_plans"]


def stage_plans(case: Case, kb: KnowledgeBase) -> tuple[StagePlan, ...]:
    """The patient and recommend() for them at every stage of the case."""
    return tuple(StagePlan(p, recommend(p, kb)) for p in case.patients(kb))


def answer_key(question: QuestionBase, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
    """What the logic says the answer to ``question`` is, for the patient of ``plan``."""
    return question.answer_key(plan, kb)
