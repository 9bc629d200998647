"""Scoring: one function for the dashboard, the CLI and the tests.

Per question, a credit between -1 and 1 times the question's points; each kind marks its own answers
(``logic/questions/<kind>.py`` says how). Stage and total scores are 0–100: the sum of points over the
maximum, never below 0. A question that asks how sure the learner is carries the certainty (1-4) in its
result, classified confident (3-4) or unsure against unsafe / wrong / right.

A ``QuestionResult`` holds everything the feedback shows (the graded options and their reasons, the
best answer, sources, faculty notes, the certainty): the page, the exports and the store read it and
never derive the answer key again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .cases import Case
from .keys import StagePlan, stage_plans
from .knowledge import KnowledgeBase, SourcedText
from .questions import (
    CONFIDENT_FROM,
    Answer,
    GradedChoice,
    QuestionBase,
    Verdict,
    answer_certainty,
    answer_value,
    as_list,
    with_certainty,
)
from .vocabulary import SCORED_CATEGORIES, Calibration, Category, Outcome

__all__ = [
    "Answer",
    "CaseScore",
    "QuestionResult",
    "Verdict",
    "as_list",
    "best_answers",
    "percent",
    "score_case",
    "score_question",
    "summarise",
]

_CALIBRATION: dict[tuple[bool, Outcome], Calibration] = {
    (True, "unsafe"): "confident_unsafe",
    (True, "wrong"): "confident_wrong",
    (True, "right"): "confident_right",
    (False, "unsafe"): "unsure_unsafe",
    (False, "wrong"): "unsure_wrong",
    (False, "right"): "unsure_right",
}


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    stage_index: int
    kind: str
    category: Category
    answer: Answer  # the answer itself, without its certainty
    credit: float  # -1..1
    points: float
    max_points: float
    unsafe: bool
    verdicts: tuple[Verdict, ...]  # what the learner chose (or missed), each with its grade and reason
    graded: tuple[GradedChoice, ...]  # the answer key: every option offered, graded, with its reason
    best: tuple[str, ...]
    best_text: str
    why: str
    sources: tuple[str, ...]
    faculty_notes: tuple[SourcedText, ...]
    discussion: str | None = None
    certainty: int | None = None  # 1-4, when the question asked how sure the learner was
    outcome: Outcome = "wrong"  # unsafe; right (full credit, or what the kind counts as right); wrong
    claims: tuple[str, ...] = ()  # claim register ids the author cites on the question

    @property
    def scored(self) -> bool:
        return self.max_points > 0

    @property
    def confident(self) -> bool | None:
        return None if self.certainty is None else self.certainty >= CONFIDENT_FROM

    @property
    def calibration(self) -> Calibration | None:
        """Certainty against outcome, e.g. "confident_unsafe" (the worst result); None without a certainty."""
        if self.certainty is None:
            return None
        return _CALIBRATION[(self.certainty >= CONFIDENT_FROM, self.outcome)]

    @property
    def stored_answer(self) -> Answer:
        """The answer as it is kept (with its certainty when the question asked for one)."""
        return self.answer if self.certainty is None else with_certainty(self.answer, self.certainty)


@dataclass(frozen=True)
class CaseScore:
    results: tuple[QuestionResult, ...]
    stage_scores: tuple[float | None, ...]
    category_scores: dict[Category, float]
    total: float
    unsafe: tuple[str, ...] = field(default=())

    def result(self, question_id: str) -> QuestionResult:
        for r in self.results:
            if r.question_id == question_id:
                return r
        raise KeyError(question_id)

    @property
    def confident_unsafe(self) -> tuple[str, ...]:
        """Questions answered unsafely with certainty 3-4: the worst result a learner can get."""
        return tuple(r.question_id for r in self.results if r.calibration == "confident_unsafe")


def percent(results: list[QuestionResult] | tuple[QuestionResult, ...]) -> float | None:
    maximum = sum(r.max_points for r in results)
    if maximum == 0:
        return None
    return round(100 * max(0.0, sum(r.points for r in results)) / maximum, 1)


def _notes(ids: tuple[str, ...], kb: KnowledgeBase) -> tuple[SourcedText, ...]:
    notes: dict[str, SourcedText] = {}
    for option_id in ids:
        if option_id in kb.agents or option_id in kb.actions:
            for note in kb.option(option_id).faculty_notes:
                notes.setdefault(note.text, note)
    return tuple(notes.values())


def score_question(
    question: QuestionBase, stage_index: int, plan: StagePlan, answer: Answer, kb: KnowledgeBase
) -> QuestionResult:
    """Key the question for the stage's patient and mark the answer against it."""
    key = question.answer_key(plan, kb)
    value = answer_value(answer)
    marking = question.mark(key, value, kb)
    scored = question.scored and marking.scored
    weight = question.points if scored else 0.0
    credit = marking.credit if scored else 0.0
    return QuestionResult(
        question_id=question.id,
        stage_index=stage_index,
        kind=key.kind,
        category=question.category,
        answer=value,
        credit=credit,
        points=round(credit * weight, 4),
        max_points=weight,
        unsafe=marking.unsafe,
        verdicts=marking.verdicts,
        graded=tuple(key.graded.values()),
        best=key.best,
        best_text=marking.best_text,
        why=marking.why,
        sources=key.sources,
        faculty_notes=_notes(marking.note_options, kb),
        discussion=marking.discussion,
        certainty=answer_certainty(answer) if question.asks_certainty else None,
        outcome="unsafe" if marking.unsafe else "right" if credit >= question.right_from else "wrong",
        claims=question.claims,
    )


def score_case(
    case: Case,
    answers: Mapping[str, Answer],
    kb: KnowledgeBase,
    plans: tuple[StagePlan, ...] | None = None,
) -> CaseScore:
    """Score every question of a case; unanswered questions score 0."""
    plans = plans or stage_plans(case, kb)
    results = tuple(
        score_question(question, index, plans[index], answers.get(question.id), kb)
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
    categories: dict[Category, float] = {}
    for category in SCORED_CATEGORIES:
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


def best_answers(case: Case, kb: KnowledgeBase) -> dict[str, Answer]:
    """The logic's own answers: replaying them scores 100."""
    plans = stage_plans(case, kb)
    return {
        question.id: question.best_answer(question.answer_key(plans[index], kb))
        for index, question in case.questions()
    }
