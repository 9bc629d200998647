"""Answer keys, derived from recommend() for the patient at a question's stage; never from the author."""

from __future__ import annotations

from dataclasses import dataclass

from .cases import (
    Case,
    DoseQuestion,
    MonitoringQuestion,
    NextStepQuestion,
    PrerequisitesQuestion,
    QuestionBase,
)
from .dosing import Dose, dose_for
from .knowledge import Grade, load_knowledge_base
from .patient import Patient
from .recommend import GradedOption, Recommendation, monitoring_for, recommend


@dataclass(frozen=True)
class AnswerKey:
    """What the logic says the answer to one question is, with the reasoning to show afterwards."""

    kind: str
    best: tuple[str, ...]  # ids of the best choice(s); empty for dose and reflection
    graded: dict[str, GradedOption]  # next_step: every offered option with its grade
    correct: frozenset[str]  # select-all questions: the items that should be selected
    dose: Dose | None
    recommendation: Recommendation
    why: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class StagePlan:
    patient: Patient
    recommendation: Recommendation


def stage_plans(case: Case) -> tuple[StagePlan, ...]:
    return tuple(StagePlan(p, recommend(p)) for p in case.patients())


def answer_key(question: QuestionBase, plan: StagePlan) -> AnswerKey:
    rec = plan.recommendation
    kb = load_knowledge_base()
    if isinstance(question, NextStepQuestion):
        graded = {o: rec.option(o) for o in question.options}
        best = _best(graded)
        why = " ".join(f"{kb.name(b)}: {graded[b].why}" for b in best)
        sources = tuple(dict.fromkeys(s for b in best for s in graded[b].sources))
        return AnswerKey("next_step", best, graded, frozenset(best), None, rec, why, sources)
    if isinstance(question, PrerequisitesQuestion):
        missing = rec.option(question.agent).prerequisites
        correct = frozenset(missing) & frozenset(question.options)
        why_parts = [kb.actions[a].why for a in missing]
        sources = tuple(dict.fromkeys(s for a in missing for s in kb.actions[a].sources))
        if not missing:
            why_parts = [f"Nothing further is needed before {kb.name(question.agent)} for this patient."]
        best = tuple(a for a in question.options if a in correct)
        return AnswerKey("prerequisites", best, {}, correct, None, rec, " ".join(why_parts), sources)
    if isinstance(question, MonitoringQuestion):
        agents = question.agents if question.agents is not None else plan.patient.current_ids
        advice = monitoring_for(agents)
        correct = frozenset(m.id for m in advice) & frozenset(question.options)
        names = ", ".join(kb.name(a) for a in agents) or "treatment"
        why = (
            f"On {names}: monitor " + ", ".join(kb.monitoring[m].label.lower() for m in sorted(correct)) + "."
        )
        sources = tuple(dict.fromkeys(s for m in advice if m.id in correct for s in m.sources))
        best = tuple(m for m in question.options if m in correct)
        return AnswerKey("monitoring", best, {}, correct, None, rec, why, sources)
    if isinstance(question, DoseQuestion):
        option = rec.option(question.agent)
        dose, note = option.dose, option.dose_note
        if question.regimen is not None:
            dose, note = dose_for(kb.agents[question.agent], plan.patient, question.regimen)
        why = dose.text if dose is not None else (note or "No dose.")
        sources = dose.regimen.sources if dose is not None else ()
        return AnswerKey("dose", (), {}, frozenset(), dose, rec, why, sources)
    return AnswerKey("reflection", (), {}, frozenset(), None, rec, "", ())


_RANK: dict[Grade, int] = {"recommended": 0, "acceptable": 1, "not_recommended": 2, "unsafe": 3}


def _best(graded: dict[str, GradedOption]) -> tuple[str, ...]:
    """The recommended options offered; if none is offered, the acceptable ones."""
    for grade in ("recommended", "acceptable"):
        best = tuple(o for o, g in graded.items() if g.grade == grade)
        if best:
            return best
    return ()
