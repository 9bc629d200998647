"""dose: enter the dose of an agent for the patient, in the regimen's dose unit.

Keyed by the dose computed for the patient (the population's first regimen, or the one the question
names, never above the ceiling the sources state) and judged by it (``Dose.judge``): within the range ±
tolerance and at most the ceiling full credit, within twice the tolerance half; above a maximum the
sources state, or 1.5× the top of the range, unsafe (-0.5, flagged). A dose question the logic cannot
key (no sourced dose for the patient at that stage) is refused when the case loads.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, ValidationInfo, model_validator

from ..dosing import dose_for
from ..ids import AgentId, context_kb, did_you_mean
from ..vocabulary import NO_DOSE, Category
from .base import Answer, AnswerKey, Finding, Marking, QuestionBase, StagePlan, Verdict, answer_value

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase
    from ..patient import Patient


class DoseQuestion(QuestionBase):
    """Enter the dose of `agent` for this patient, in `unit` (the regimen's dose unit, e.g. mg/week)."""

    kind: Literal["dose"]
    agent: AgentId
    regimen: str | None = Field(
        default=None, description="Regimen id, when the question is about one regimen (e.g. maintenance)."
    )
    unit: str | None = None
    tolerance: float = Field(default=0.1, ge=0, le=0.5, description="Fraction either side of the range.")
    expect: float | None = None

    category: ClassVar[Category] = "dosing"
    instruction: ClassVar[str] = "Enter a dose"
    learner_does: ClassVar[str] = (
        "enters the dose of `agent` in `unit` (e.g. `g/course`), within `tolerance` (default 10 %); "
        "optional `regimen` (a regimen id, e.g. `rituximab-adult-maintenance`)"
    )
    keyed_by: ClassVar[str] = (
        "the dose computed for the patient, capped at the sourced ceiling; refused at validation if the "
        "sources give none"
    )

    @model_validator(mode="after")
    def _known_regimen(self, info: ValidationInfo) -> DoseQuestion:
        if self.regimen is not None:
            ids = [r.id for r in context_kb(info).agents[self.agent].regimens if r.id]
            if self.regimen not in ids:
                raise ValueError(
                    f"unknown regimen {self.regimen!r} for {self.agent}{did_you_mean(self.regimen, ids)}"
                )
        return self

    def load_problems(self, patient: Patient, kb: KnowledgeBase) -> list[Finding]:
        # Without a sourced dose for the patient any number would score: refused, not a warning.
        dose, note = dose_for(kb.agents[self.agent], patient, self.regimen)
        return [] if dose is not None else [(["agent"], f"a dose question needs a sourced dose: {note}")]

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        rec = plan.recommendation
        option = rec.option(self.agent)
        dose, note = option.dose, option.dose_note
        if self.regimen is not None:
            dose, note = dose_for(kb.agents[self.agent], plan.patient, self.regimen)
        why = dose.text if dose is not None else (note or "No dose.")
        sources = dose.regimen.sources if dose is not None else ()
        return AnswerKey("dose", (), {}, frozenset(), dose, rec, why, sources)

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        dose = key.dose
        value = dose_value(answer)
        if dose is None:
            # Loading refuses a dose question the logic cannot key; if one gets here, it is not scored.
            verdict = Verdict(
                str(value), "no answer" if value is None else f"{value:g}", "acceptable", key.why
            )
            return Marking(0.0, False, (verdict,), NO_DOSE, key.why, (self.agent,), scored=False)
        why = f"{kb.name(self.agent)}: {dose.text}; {dose.regimen.schedule}; {dose.ceiling_text}."
        judged = dose.judge(value, self.tolerance)
        if value is not None and judged.credit < 1:
            why = f"{judged.reason} {why}"
        shown = "no answer" if value is None else f"{value:g} {dose.unit}"
        return Marking(
            credit=judged.credit,
            unsafe=judged.unsafe,
            verdicts=(Verdict(str(value), shown, judged.grade, why),),
            best_text=dose.text,
            why=key.why,
            note_options=(self.agent,),
        )

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        if key.dose is None:
            return []  # refused when the case loads (load_problems)
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
