"""What a live session makes of a case and the room's answers: pure, no streamlit, no store.

- ``CaseGrader``: the store's ``Grader`` for one case (which stage a question is at, whether an answer
  is one the question's form could give, the answer record of an answer, a seat's total at the end),
  scoring every answer with the logic (``score_question``) exactly as the player does.
- ``room_bars``: the room's answers to one question as bars, one count per vote round, each bar with
  the logic's grade of what it stands for (shown only at reveal).
- ``reveal_rows`` / ``best_result``: the answer key of a question as the room reads it at reveal.
- ``join_url`` / ``join_qr`` / ``qr_svg``: the way in for the phones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import segno

from dashboard.analytics import StageFlow, stage_flows
from dashboard.persistence import answer_input
from dashboard.player.memo import RESULTS, frozen
from dashboard.questions import view_of
from dashboard.questions.base import FeedbackRow
from dashboard.questions.render import is_missing, read_with_certainty, state_with_certainty
from dashboard.store_analytics import AnswerChoice
from dashboard.store_live import Vote
from dashboard.store_records import AnswerInput
from logic import Case, KnowledgeBase, QuestionResult, StagePlan, score_case
from logic.questions import Answer, QuestionBase, answer_certainty, answer_value, as_list
from logic.scoring import score_question
from logic.vocabulary import Grade, as_grade

LIVE_PAGE = "live"  # the learners' page (its url_path in app.py)
# Select-all items have no grade of their own: needed reads as recommended, not needed as not recommended.
ITEM_GRADES: dict[str, Grade] = {"needed": "recommended", "not_needed": "not_recommended"}
MAX_GROUPS = 6  # doses and orders: the most frequent answers get a bar each, the rest one "other" bar


def _key(question_id: str, option: str | None) -> str:
    return f"check:{question_id}:{option}"


class CaseGrader:
    """The store's Grader for one case (dashboard.store_live.Grader)."""

    def __init__(
        self, case: Case, kb: KnowledgeBase, plans: Sequence[StagePlan], version: Hashable | None = None
    ) -> None:
        self.version = version  # the case file's fingerprint: results are memoised per version
        self.case = case
        self.case_id = case.id
        self.stages = len(case.stages)
        self.kb = kb
        self.plans = tuple(plans)
        self._where = {q.id: (i, q) for i, q in case.questions()}

    def stage_of(self, question_id: str) -> int | None:
        found = self._where.get(question_id)
        return found[0] if found is not None else None

    def question(self, question_id: str) -> QuestionBase:
        return self._where[question_id][1]

    def canonical(self, question: QuestionBase, answer: Any) -> Answer:
        """The answer as the question's form would give it back (the kind's own widget state, read)."""
        view = view_of(question)
        try:
            state = state_with_certainty(view, question, answer, _key)
        except (TypeError, ValueError, AttributeError):
            return None
        return read_with_certainty(view, question, state, _key)

    def normalise(self, question_id: str, answer: Any) -> Any:
        """The answer as it is kept: as the question's form gives it (a select-all in the options' order)."""
        return self.canonical(self.question(question_id), answer)

    def problem(self, question_id: str, answer: Any) -> str | None:
        if question_id not in self._where:
            return "This case has no such question."
        question = self.question(question_id)
        canonical = self.canonical(question, answer)
        if not _same_answer(question, answer, canonical):
            return "That is not an answer this question can take."
        if is_missing(question, canonical):
            return (
                "Answer the question first (and say how sure you are)."
                if question.asks_certainty
                else "Answer the question first."
            )
        return None

    def result(self, question_id: str, answer: Answer) -> QuestionResult:
        """The answer scored by the logic (memoised per case version: a room gives few distinct answers)."""
        stage, question = self._where[question_id]
        if self.version is None:
            return score_question(question, stage, self.plans[stage], answer, self.kb)
        return RESULTS.get(
            ("live", self.version, id(self.kb), question_id, frozen(answer)),
            lambda: score_question(question, stage, self.plans[stage], answer, self.kb),
        )

    def record(self, question_id: str, answer: Any, seconds: float | None) -> AnswerInput:
        return answer_input(self.result(question_id, answer), seconds)

    def total(self, answers: Mapping[str, Any]) -> tuple[float, dict[str, float]]:
        score = score_case(self.case, answers, self.kb, self.plans)
        return score.total, {str(k): v for k, v in score.category_scores.items()}


def _same_answer(question: QuestionBase, given: Any, canonical: Answer) -> bool:
    """Whether the form would give back what was given: equal, or for a choice of several (not an
    ordering) the same options, each once, in another order."""
    if given == canonical:
        return True
    value, kept = answer_value(given), answer_value(canonical)
    if question.kind == "ordering" or not isinstance(value, list | tuple) or not isinstance(kept, list):
        return False
    return (
        answer_certainty(given) == answer_certainty(canonical)
        and len(set(map(str, value))) == len(value)
        and sorted(map(str, value)) == sorted(kept)
    )


# --------------------------------------------------------------------------------------- the room
@dataclass(frozen=True)
class Bar:
    """One bar of the room's histogram: what it stands for, how many chose it in each round, and the
    logic's grade of it (None: no grade, e.g. the "other answers" bar)."""

    key: str
    label: str
    counts: tuple[int, ...]  # per vote round, round 1 first
    grade: Grade | None
    legend: str | None = None  # what the grade's colour means here, where not the grade's own label


# An order is not "recommended": the room's orders are named by how much of the pathway's order they keep.
ORDER_LEGENDS: dict[Grade, str] = {
    "recommended": "The pathway's order",
    "acceptable": "Partly in order",
    "not_recommended": "Mostly out of order",
}


def rounds_of(votes: Iterable[Vote]) -> int:
    return max((v.round for v in votes), default=0)


def answered(votes: Iterable[Vote], round_: int) -> int:
    return sum(1 for v in votes if v.round == round_)


def changed(votes: Sequence[Vote], round_: int) -> int:
    """Seats whose answer in this round differs from their answer in the round before."""
    before = {v.seat_id: v.answer for v in votes if v.round == round_ - 1}
    return sum(
        1 for v in votes if v.round == round_ and v.seat_id in before and before[v.seat_id] != v.answer
    )


def room_bars(question: QuestionBase, votes: Sequence[Vote], grader: CaseGrader) -> list[Bar]:
    """The room's answers as bars (one count per round). Choice questions: a bar per option offered
    (select-all: per item ticked), in the author's order, graded by the answer key; an ordering or a
    dose: a bar per distinct answer (the most frequent; the rest together), graded by scoring it; a
    reflection: no bars."""
    rounds = rounds_of(votes)
    if question.kind == "reflection" or rounds == 0:
        return []
    by_round = [[v.answer for v in votes if v.round == r] for r in range(1, rounds + 1)]
    if question.kind in ("next_step", "prerequisites", "monitoring"):
        key = grader.result(question.id, None)
        graded = {g.id: g for g in key.graded}
        bars = []
        for option in question.offered():
            counts = tuple(sum(1 for a in answers if option in as_list(a)) for answers in by_round)
            grade = graded[option].grade if option in graded else ""
            bars.append(Bar(option, grader.kb.name(option), counts, ITEM_GRADES.get(grade) or _grade(grade)))
        return bars
    return _grouped(question, by_round, grader)


def _grade(grade: str | None) -> Grade | None:
    if grade is None:
        return None
    try:
        return as_grade(grade)
    except (KeyError, ValueError):
        return None


def _group_key(answer: Answer) -> str:
    value = answer_value(answer)
    if isinstance(value, list | tuple):
        return " > ".join(str(v) for v in value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{float(value):g}"
    return str(value)


def _grouped(question: QuestionBase, by_round: list[list[Any]], grader: CaseGrader) -> list[Bar]:
    last = Counter(_group_key(a) for a in by_round[-1])
    first_seen: dict[str, Answer] = {}
    for answers in by_round:
        for a in answers:
            first_seen.setdefault(_group_key(a), answer_value(a))
    everyone = Counter(_group_key(a) for answers in by_round for a in answers)
    kept = [k for k, _ in sorted(everyone.items(), key=lambda kv: (-last[kv[0]], -kv[1], kv[0]))][:MAX_GROUPS]
    ctx_names = grader.kb.name
    bars = []
    for k in kept:
        answer = first_seen[k]
        result = grader.result(question.id, answer)
        grade: Grade = (
            "unsafe"
            if result.unsafe
            else "recommended"
            if result.credit >= 1
            else "acceptable"
            if result.credit >= 0.5
            else "not_recommended"
        )
        if question.kind == "ordering":
            label = " → ".join(ctx_names(o) for o in as_list(answer))
        else:
            unit = getattr(question, "unit", "")
            label = f"{k} {unit}".strip()
        counts = tuple(sum(1 for a in answers if _group_key(a) == k) for answers in by_round)
        legend = ORDER_LEGENDS.get(grade) if question.kind == "ordering" else None
        bars.append(Bar(k, label, counts, grade, legend))
    others = tuple(sum(1 for a in answers if _group_key(a) not in kept) for answers in by_round)
    if any(others):
        bars.append(Bar("~other", "Other answers", others, None))
    if question.kind == "dose":
        bars.sort(key=lambda b: (b.key == "~other", _as_float(b.key)))
    return bars


def _as_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")


def best_result(question: QuestionBase, grader: CaseGrader) -> QuestionResult:
    """The logic's own answer to the question, scored: its best answer, why, sources, faculty notes."""
    stage = grader.stage_of(question.id)
    assert stage is not None
    key = question.answer_key(grader.plans[stage], grader.kb)
    return grader.result(question.id, question.best_answer(key))


def reveal_rows(question: QuestionBase, grader: CaseGrader) -> list[FeedbackRow]:
    """Every option with the logic's grade and reason (the kind's own feedback lines of the best answer)."""
    return view_of(question).reveal_rows(question, best_result(question, grader))


# ------------------------------------------------------------------------------------ the way in
def join_url(base_url: str, code: str) -> str:
    """The URL a phone opens to join: the app's base URL, the learners' page, the code."""
    return f"{base_url.rstrip('/')}/{LIVE_PAGE}?code={code}"


# How the join QR code is drawn: 10 px modules, dark on white, the quiet zone of 4 modules a scanner needs.
QR_LOOK: dict[str, Any] = {"scale": 10, "border": 4, "dark": "#1f2328", "light": "#ffffff"}


def join_qr(url: str) -> segno.QRCode:
    """The URL as a QR code (error correction M: still read with 15 % of it lost to glare or a hand)."""
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str) -> str:
    """The join QR code as the projector shows it: an SVG document drawn with QR_LOOK."""
    return str(join_qr(url).svg_inline(**QR_LOOK))


# ----------------------------------------------------------------------------- on the pathway
def room_flow(question: QuestionBase, votes: Sequence[Vote], grader: CaseGrader) -> StageFlow | None:
    """Where the room's last vote on a next-step question sits on the pathway, against the recommended
    step: the analytics' StageFlow of the cohort on the flowchart, made from the room's answers (each
    scored as its answer record is, so that a choice stands for the same step as in the analytics)."""
    stage = grader.stage_of(question.id)
    if stage is None or question.kind != "next_step":
        return None
    last = rounds_of(votes)
    choices = []
    for vote in votes:
        if vote.round != last:
            continue
        record = grader.record(question.id, vote.answer, None)
        choices.append(
            AnswerChoice(
                vote.seat_id,
                vote.seat_id,
                question.id,
                stage,
                question.kind,
                record.answer,
                record.grade,
                record.verdicts,
                record.credit,
                record.unsafe,
                record.certainty,
            )  # fmt: skip
        )
    flows = stage_flows(grader.case, choices, grader.kb, grader.plans)
    return next((f for f in flows if f.stage_index == stage), None)
