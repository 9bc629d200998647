"""next_step: choose the next step (one, or several with ``multiple: true``) among agents and actions.

Keyed by recommend() for the patient at the stage: the recommended options offered are best (if none is
offered, the acceptable ones). Single choice: recommended 1, acceptable 0.5, not recommended 0, unsafe
-0.5 (flagged). Multiple choice: each pick adds its credit (a best pick 1, acceptable 0.5, not recommended
-0.5, unsafe -1 and flagged) over the number of best picks, so missed and extra picks both cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ..ids import OptionId
from ..vocabulary import Category
from .base import (
    Answer,
    AnswerKey,
    ChoiceQuestion,
    Finding,
    GradedChoice,
    Marking,
    StagePlan,
    Verdict,
    as_list,
    names,
)

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase

SINGLE_CREDIT: dict[str, float] = {
    "recommended": 1.0,
    "acceptable": 0.5,
    "not_recommended": 0.0,
    "unsafe": -0.5,
}
MULTI_CREDIT: dict[str, float] = {
    "recommended": 1.0,
    "acceptable": 0.5,
    "not_recommended": -0.5,
    "unsafe": -1.0,
}


class NextStepQuestion(ChoiceQuestion):
    """Choose the next step among agents and actions; graded by recommend()."""

    kind: Literal["next_step"]
    options: tuple[OptionId, ...] = Field(min_length=2)
    multiple: bool = False
    expect: OptionId | tuple[OptionId, ...] | None = None

    category: ClassVar[Category] = "escalation"
    instruction: ClassVar[str] = "Choose one"
    learner_does: ClassVar[str] = (
        "picks one (or, with `multiple: true`, several) of `options` (agent/action ids)"
    )
    keyed_by: ClassVar[str] = "the grades from `recommend()` at that stage"
    right_from: ClassVar[float] = 0.5  # an acceptable alternative (one the sources name) is right

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        rec = plan.recommendation
        graded: dict[str, GradedChoice] = {}
        for o in self.options:
            option = rec.option(o)
            graded[o] = GradedChoice(
                o, option.name, option.grade, option.why, option.sources, rule=option.rule
            )
        best = _best(graded)
        why = " ".join(f"{graded[b].name}: {graded[b].why}" for b in best)
        sources = tuple(dict.fromkeys(s for b in best for s in graded[b].sources))
        return AnswerKey("next_step", best, graded, frozenset(best), None, rec, why, sources)

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        chosen = [c for c in dict.fromkeys(as_list(answer)) if c in key.graded]
        if not self.multiple:
            chosen = chosen[:1]
        verdicts = tuple(
            Verdict(c, key.graded[c].name, key.graded[c].grade, key.graded[c].why) for c in chosen
        )
        if self.multiple:
            credit = sum(1.0 if c in key.best else MULTI_CREDIT[key.graded[c].grade] for c in chosen)
            credit = max(-1.0, min(1.0, credit / max(1, len(key.best))))
        else:
            credit = 0.0
            if chosen:
                c = chosen[0]
                credit = 1.0 if c in key.best else SINGLE_CREDIT[key.graded[c].grade]
        return Marking(
            credit=credit,
            unsafe=any(v.grade == "unsafe" for v in verdicts),
            verdicts=verdicts,
            best_text=", ".join(key.graded[b].name for b in key.best),
            why=key.why,
            note_options=tuple(dict.fromkeys([*chosen, *key.best])),
        )

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        findings: list[Finding] = []
        if not key.best:
            findings.append((["options"], "no option offered is recommended or acceptable"))
        if isinstance(self.expect, tuple) and not self.multiple:
            findings.append((["expect"], "a single-choice question expects one option"))
        elif self.expect is not None:
            expected = {self.expect} if isinstance(self.expect, str) else set(self.expect)
            agrees = expected <= set(key.best) if not self.multiple else expected == set(key.best)
            if not agrees:
                why = "; ".join(f"{o}: {key.graded[o].grade}" for o in sorted(expected) if o in key.graded)
                findings.append(
                    (
                        ["expect"],
                        f"expect says {names(sorted(expected))} but the logic's best is "
                        f"{names(key.best)} ({why})",
                    )
                )
        return findings

    def best_answer(self, key: AnswerKey) -> Answer:
        if self.multiple:
            return list(key.best)
        return key.best[0] if key.best else None


def _best(graded: dict[str, GradedChoice]) -> tuple[str, ...]:
    """The recommended options offered; if none is offered, the acceptable ones."""
    for grade in ("recommended", "acceptable"):
        best = tuple(o for o, g in graded.items() if g.grade == grade)
        if best:
            return best
    return ()
