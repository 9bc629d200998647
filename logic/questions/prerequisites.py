"""prerequisites: select every check still needed before starting an agent.

Keyed by the agent's prerequisites still missing for the patient at the stage (a check whose lab result
is already known is done). Select-all credit; missing a safety prerequisite is flagged unsafe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ..ids import ActionId, AgentId
from ..vocabulary import Category
from .base import Answer, AnswerKey, ChoiceQuestion, Finding, Marking, StagePlan, names
from .selection import expect_findings, mark_selection, selection_key

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase


class PrerequisitesQuestion(ChoiceQuestion):
    """Select every check still needed before starting `agent`."""

    kind: Literal["prerequisites"]
    agent: AgentId
    options: tuple[ActionId, ...] = Field(min_length=2)
    expect: tuple[ActionId, ...] | None = None

    category: ClassVar[Category] = "safety"
    instruction: ClassVar[str] = "Select all that apply"
    learner_does: ClassVar[str] = "selects every check needed before `agent` among `options` (action ids)"
    keyed_by: ClassVar[str] = "the agent's missing prerequisites"
    needs_answer: ClassVar[bool] = False  # nothing may be needed

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        rec = plan.recommendation
        missing = rec.option(self.agent).prerequisites
        correct = frozenset(missing) & frozenset(self.options)
        why_parts = [kb.actions[a].why for a in missing]
        sources = tuple(dict.fromkeys(s for a in missing for s in kb.actions[a].sources))
        if not missing:
            why_parts = [f"Nothing further is needed before {kb.name(self.agent)} for this patient."]
        return selection_key(
            "prerequisites",
            self.options,
            correct,
            lambda o: (kb.name(o), kb.actions[o].why, kb.actions[o].sources),
            rec,
            " ".join(why_parts),
            sources,
        )

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        # Skipping a safety check before a start is what a learner must not do: flag it.
        return mark_selection(self.options, key, answer, missing_is_unsafe=True, note_options=(self.agent,))

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        findings: list[Finding] = []
        missing = plan.recommendation.option(self.agent).prerequisites
        absent = [a for a in missing if a not in self.options]
        if absent:
            findings.append((["options"], f"options lack {names(absent)}, which the logic requires"))
        return findings + expect_findings(self.expect, key.correct)

    def best_answer(self, key: AnswerKey) -> Answer:
        return sorted(key.correct)
