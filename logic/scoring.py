"""Scoring: one function for the dashboard, the CLI and the tests.

Per question, a credit between -1 and 1 times the question's points:
- single choice: recommended 1, acceptable 0.5, not recommended 0, unsafe -0.5 (flagged);
- multiple choice: each pick adds its credit (a best pick 1, acceptable 0.5, not recommended -0.5,
  unsafe -1 and flagged), divided by the number of best picks, so missed and extra picks both cost;
- select all (prerequisites, monitoring): (hits - extras) / items to select, at least 0;
  missing a safety prerequisite is flagged;
- dose: judged by the computed Dose (logic/dosing.py): within the range ± tolerance and never above
  the sourced ceiling 1, within twice the tolerance 0.5, otherwise 0; above a maximum the sources
  state, or more than 1.5× the top of the range, is unsafe (-0.5, flagged);
- reflection: not scored.
Stage and total scores are 0–100: the sum of points over the maximum, never below 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .cases import (
    Case,
    DoseQuestion,
    MonitoringQuestion,
    NextStepQuestion,
    PrerequisitesQuestion,
    QuestionBase,
)
from .keys import AnswerKey, StagePlan, answer_key, stage_plans
from .knowledge import Grade, SourcedText, load_knowledge_base

Answer = str | float | int | list[str] | tuple[str, ...] | None

SINGLE_CREDIT: dict[Grade, float] = {
    "recommended": 1.0,
    "acceptable": 0.5,
    "not_recommended": 0.0,
    "unsafe": -0.5,
}
MULTI_CREDIT: dict[Grade, float] = {
    "recommended": 1.0,
    "acceptable": 0.5,
    "not_recommended": -0.5,
    "unsafe": -1.0,
}
CATEGORY = {
    "next_step": "escalation",
    "prerequisites": "safety",
    "dose": "dosing",
    "monitoring": "monitoring",
    "reflection": "reflection",
}


@dataclass(frozen=True)
class Verdict:
    """One thing the learner chose (or should have), with its grade and reason."""

    id: str
    name: str
    grade: str  # a Grade, or "correct" / "missed" / "extra" for select-all items
    why: str


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    stage_index: int
    kind: str
    category: str
    answer: Answer
    credit: float  # -1..1
    points: float
    max_points: float
    unsafe: bool
    verdicts: tuple[Verdict, ...]
    best: tuple[str, ...]
    best_text: str
    why: str
    sources: tuple[str, ...]
    faculty_notes: tuple[SourcedText, ...]
    discussion: str | None = None

    @property
    def scored(self) -> bool:
        return self.max_points > 0


@dataclass(frozen=True)
class CaseScore:
    results: tuple[QuestionResult, ...]
    stage_scores: tuple[float | None, ...]
    category_scores: dict[str, float]
    total: float
    unsafe: tuple[str, ...] = field(default=())

    def result(self, question_id: str) -> QuestionResult:
        for r in self.results:
            if r.question_id == question_id:
                return r
        raise KeyError(question_id)


def percent(results: list[QuestionResult] | tuple[QuestionResult, ...]) -> float | None:
    maximum = sum(r.max_points for r in results)
    if maximum == 0:
        return None
    return round(100 * max(0.0, sum(r.points for r in results)) / maximum, 1)


def as_list(answer: Answer) -> list[str]:
    """An answer as a list of choice ids (a single choice, several, or none)."""
    if answer is None:
        return []
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, list | tuple):
        return [str(a) for a in answer]
    return [str(answer)]


def _notes(ids: list[str] | tuple[str, ...]) -> tuple[SourcedText, ...]:
    kb = load_knowledge_base()
    notes: dict[str, SourcedText] = {}
    for option_id in ids:
        if option_id in kb.agents or option_id in kb.actions:
            for note in kb.option(option_id).faculty_notes:
                notes.setdefault(note.text, note)
    return tuple(notes.values())


def score_question(
    question: QuestionBase, stage_index: int, plan: StagePlan, answer: Answer
) -> QuestionResult:
    kb = load_knowledge_base()
    key = answer_key(question, plan)
    weight = question.points
    best_text = ", ".join(kb.name(b) for b in key.best)
    common = {
        "question_id": question.id,
        "stage_index": stage_index,
        "kind": key.kind,
        "category": CATEGORY[key.kind],
        "answer": answer,
        "best": key.best,
        "why": key.why,
        "sources": key.sources,
    }
    if isinstance(question, NextStepQuestion):
        chosen = [c for c in as_list(answer) if c in key.graded]
        verdicts = tuple(Verdict(c, kb.name(c), key.graded[c].grade, key.graded[c].why) for c in chosen)
        unsafe = any(v.grade == "unsafe" for v in verdicts)
        if question.multiple:
            credit = sum(1.0 if c in key.best else MULTI_CREDIT[key.graded[c].grade] for c in chosen)
            credit = max(-1.0, min(1.0, credit / max(1, len(key.best))))
        else:
            credit = 0.0
            if chosen:
                c = chosen[0]
                credit = 1.0 if c in key.best else SINGLE_CREDIT[key.graded[c].grade]
        return QuestionResult(
            **common,  # type: ignore[arg-type]
            credit=credit,
            points=round(credit * weight, 4),
            max_points=weight,
            unsafe=unsafe,
            verdicts=verdicts,
            best_text=best_text,
            faculty_notes=_notes(list(dict.fromkeys([*chosen, *key.best]))),
        )
    if isinstance(question, PrerequisitesQuestion | MonitoringQuestion):
        return _score_select_all(question, key, common, as_list(answer), weight, best_text)
    if isinstance(question, DoseQuestion):
        return _score_dose(question, key, common, answer, weight)
    discussion = getattr(question, "discussion", None)
    return QuestionResult(
        **common,  # type: ignore[arg-type]
        credit=0.0,
        points=0.0,
        max_points=0.0,
        unsafe=False,
        verdicts=(),
        best_text="",
        faculty_notes=(),
        discussion=discussion,
    )


def _score_select_all(
    question: PrerequisitesQuestion | MonitoringQuestion,
    key: AnswerKey,
    common: dict[str, object],
    chosen: list[str],
    weight: float,
    best_text: str,
) -> QuestionResult:
    kb = load_knowledge_base()
    selected = [c for c in dict.fromkeys(chosen) if c in question.options]
    hits = [c for c in selected if c in key.correct]
    extras = [c for c in selected if c not in key.correct]
    missed = [c for c in question.options if c in key.correct and c not in selected]
    if key.correct:
        credit = max(0.0, (len(hits) - len(extras)) / len(key.correct))
    else:
        credit = 0.0 if extras else 1.0

    def reason(item: str) -> str:
        if item in kb.actions:
            return kb.actions[item].why
        return kb.monitoring[item].label

    verdicts = (
        *(Verdict(c, kb.name(c), "correct", reason(c)) for c in hits),
        *(Verdict(c, kb.name(c), "missed", reason(c)) for c in missed),
        *(Verdict(c, kb.name(c), "extra", "Not needed for this patient now.") for c in extras),
    )
    agent = getattr(question, "agent", None)
    return QuestionResult(
        **common,  # type: ignore[arg-type]
        credit=credit,
        points=round(credit * weight, 4),
        max_points=weight,
        # Skipping a safety check before a start is what a learner must not do: flag it.
        unsafe=isinstance(question, PrerequisitesQuestion) and bool(missed),
        verdicts=verdicts,
        best_text=best_text or "none",
        faculty_notes=_notes([agent] if agent else []),
    )


def _score_dose(
    question: DoseQuestion, key: AnswerKey, common: dict[str, object], answer: Answer, weight: float
) -> QuestionResult:
    kb = load_knowledge_base()
    dose = key.dose
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
    if dose is None:
        # Validation refuses a dose question the logic cannot key; if one gets here, it is not scored.
        best_text, why, credit, unsafe, verdict, weight = (
            "no dose in the sources",
            key.why,
            0.0,
            False,
            "acceptable",
            0.0,
        )
    else:
        best_text = dose.text
        why = f"{kb.name(question.agent)}: {dose.text}; {dose.regimen.schedule}; {dose.ceiling_text}."
        judged = dose.judge(value, question.tolerance)
        credit, unsafe, verdict = judged.credit, judged.unsafe, judged.grade
        if value is not None and judged.credit < 1:
            why = f"{judged.reason} {why}"
    shown = "no answer" if value is None else f"{value:g} {dose.unit if dose else ''}".strip()
    return QuestionResult(
        **common,  # type: ignore[arg-type]
        credit=credit,
        points=round(credit * weight, 4),
        max_points=weight,
        unsafe=unsafe,
        verdicts=(Verdict(str(value), shown, verdict, why),),
        best_text=best_text,
        faculty_notes=_notes([question.agent]),
    )


def score_case(
    case: Case, answers: Mapping[str, Answer], plans: tuple[StagePlan, ...] | None = None
) -> CaseScore:
    """Score every question of a case; unanswered questions score 0."""
    plans = plans or stage_plans(case)
    results = tuple(
        score_question(question, index, plans[index], answers.get(question.id))
        for index, question in case.questions()
    )
    return summarise(results, len(case.stages))


def summarise(
    results: tuple[QuestionResult, ...], n_stages: int, scored_stages: set[int] | None = None
) -> CaseScore:
    """Per-stage, per-kind and total scores from question results.

    ``scored_stages`` limits the stage scores to those stages (others are None): a case in progress.
    """
    stage_scores = tuple(
        percent([r for r in results if r.stage_index == i])
        if scored_stages is None or i in scored_stages
        else None
        for i in range(n_stages)
    )
    categories: dict[str, float] = {}
    for category in ("escalation", "safety", "dosing", "monitoring"):
        value = percent([r for r in results if r.category == category])
        if value is not None:
            categories[category] = value
    return CaseScore(
        results=results,
        stage_scores=stage_scores,
        category_scores=categories,
        total=percent(results) or 0.0,
        unsafe=tuple(r.question_id for r in results if r.unsafe),
    )


def best_answers(case: Case) -> dict[str, Answer]:
    """The logic's own answers: replaying them scores 100."""
    plans = stage_plans(case)
    answers: dict[str, Answer] = {}
    for index, question in case.questions():
        key = answer_key(question, plans[index])
        if isinstance(question, NextStepQuestion):
            answers[question.id] = (
                list(key.best) if question.multiple else (key.best[0] if key.best else None)
            )
        elif isinstance(question, PrerequisitesQuestion | MonitoringQuestion):
            answers[question.id] = sorted(key.correct)
        elif isinstance(question, DoseQuestion):
            answers[question.id] = None if key.dose is None else round((key.dose.low + key.dose.high) / 2, 2)
        else:
            answers[question.id] = "reflection"
    return answers
