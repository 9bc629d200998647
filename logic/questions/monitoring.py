"""monitoring: select everything to monitor on some agents (default: what the patient is on).

Keyed by the formulary's monitoring items for those agents, plus response monitoring. Select-all credit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ..ids import AgentId, MonitoringId
from ..recommend import monitoring_for
from ..vocabulary import Category
from .base import Answer, AnswerKey, ChoiceQuestion, Finding, Marking, StagePlan
from .selection import expect_findings, mark_selection, selection_key

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase


class MonitoringQuestion(ChoiceQuestion):
    """Select everything to monitor on `agents` (default: what the patient is on at this stage)."""

    kind: Literal["monitoring"]
    agents: tuple[AgentId, ...] | None = None
    options: tuple[MonitoringId, ...] = Field(min_length=2)
    expect: tuple[MonitoringId, ...] | None = None

    category: ClassVar[Category] = "monitoring"
    instruction: ClassVar[str] = "Select all that apply"
    learner_does: ClassVar[str] = "selects what to monitor on `agents` (default: what the patient is on)"
    keyed_by: ClassVar[str] = "the formulary's monitoring items"
    needs_answer: ClassVar[bool] = False

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        agents = self.agents if self.agents is not None else plan.patient.current_ids
        advice = monitoring_for(agents, kb)
        correct = frozenset(m.id for m in advice) & frozenset(self.options)
        on = ", ".join(kb.name(a) for a in agents) or "treatment"
        why = f"On {on}: monitor " + ", ".join(kb.monitoring[m].label.lower() for m in sorted(correct)) + "."
        sources = tuple(dict.fromkeys(s for m in advice if m.id in correct for s in m.sources))
        return selection_key(
            "monitoring",
            self.options,
            correct,
            lambda o: (kb.name(o), kb.monitoring[o].label, kb.monitoring[o].sources),
            plan.recommendation,
            why,
            sources,
        )

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        return mark_selection(self.options, key, answer, missing_is_unsafe=False)

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        findings: list[Finding] = []
        if not key.correct:
            findings.append((["options"], "none of the options is monitored for these agents"))
        return findings + expect_findings(self.expect, key.correct)

    def best_answer(self, key: AnswerKey) -> Answer:
        return sorted(key.correct)
