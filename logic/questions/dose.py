"""dose: enter the dose of an agent for the patient, in the regimen's dose unit.

Keyed by the dose computed for the patient (the population's first regimen, capped at its maximum).
Within the range ± tolerance full credit, within twice the tolerance half; above the regimen's maximum
or 1.5× the top of the range unsafe (-0.5, flagged). Where the sources give no dose, the question cannot
be keyed: any answer is accepted (and lint says so).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ..ids import AgentId
from ..vocabulary import NO_DOSE, Category
from .base import Answer, AnswerKey, Finding, Marking, QuestionBase, StagePlan, Verdict, answer_value

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase


class DoseQuestion(QuestionBase):
    """Enter the dose of `agent` for this patient, in `unit` (the regimen's dose unit, e.g. mg/week)."""

    kind: Literal["dose"]
    agent: AgentId
    unit: str | None = None
    tolerance: float = Field(default=0.1, ge=0, le=0.5, description="Fraction either side of the range.")
    expect: float | None = None

    category: ClassVar[Category] = "dosing"
    instruction: ClassVar[str] = "Enter a dose"
    learner_does: ClassVar[str] = (
        "enters the dose of `agent` in `unit` (e.g. `g/course`), within `tolerance` (default 10 %)"
    )
    keyed_by: ClassVar[str] = "the dose computed for the patient"

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        rec = plan.recommendation
        option = rec.option(self.agent)
        dose = option.dose
        why = dose.text if dose is not None else (option.dose_note or "No dose.")
        sources = dose.regimen.sources if dose is not None else ()
        return AnswerKey("dose", (), {}, frozenset(), dose, rec, why, sources)

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        dose = key.dose
        value = dose_value(answer)
        credit, unsafe, verdict = 0.0, False, "not_recommended"
        if dose is None:
            best_text, why = NO_DOSE, key.why
            credit = 1.0  # a question the logic cannot key is not held against the learner (lint flags it)
            verdict = "acceptable"
        else:
            best_text = dose.text
            why = f"{kb.name(self.agent)}: {dose.text}; {dose.regimen.schedule}."
            tol = self.tolerance
            if value is None:
                credit = 0.0
            elif dose.contains(value, tol):
                credit, verdict = 1.0, "recommended"
            elif dose.contains(value, 2 * tol):
                credit, verdict = 0.5, "acceptable"
            ceiling = dose.regimen.max
            if value is not None and (value > dose.high * 1.5 or (ceiling is not None and value > ceiling)):
                credit, unsafe, verdict = -0.5, True, "unsafe"
        shown = "no answer" if value is None else f"{value:g} {dose.unit if dose else ''}".strip()
        return Marking(
            credit=credit,
            unsafe=unsafe,
            verdicts=(Verdict(str(value), shown, verdict, why),),
            best_text=best_text,
            why=key.why,
            note_options=(self.agent,),
        )

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        if key.dose is None:
            note = plan.recommendation.option(self.agent).dose_note
            return [(["agent"], f"no dose for {kb.name(self.agent)}: {note}")]
        findings: list[Finding] = []
        if self.unit is not None and self.unit != key.dose.unit:
            findings.append((["unit"], f"unit is {self.unit!r} but the regimen gives {key.dose.unit!r}"))
        if self.expect is not None and not key.dose.contains(self.expect, self.tolerance):
            findings.append((["expect"], f"expect {self.expect:g} is outside {key.dose.text}"))
        return findings

    def best_answer(self, key: AnswerKey) -> Answer:
        return None if key.dose is None else round((key.dose.low + key.dose.high) / 2, 2)


def dose_value(answer: Answer) -> float | None:
    """A dose answer as a finite number, or None (no answer, or not a number)."""
    answer = answer_value(answer)
    value: float | None = None
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        value = float(answer)
    elif isinstance(answer, str):
        try:
            value = float(answer.strip())
        except ValueError:
            value = None
    if value is not None and not math.isfinite(value):
        value = None
    return value
