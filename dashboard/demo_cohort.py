"""A made-up cohort that plays the library's cases, for trying the faculty's analytics before a real group
has played (and for the analytics benchmark and tests).

Everything goes through the store's own API, as the player does: learners sign in (as provider
accounts, `…@demo.invalid`), join the cohort, open attempts, save each stage with its answer records
(scored by the logic, as the player scores them) and complete. The learners are simulated: each has an
ability; each question has one tempting wrong option (a "misconception") that weaker learners pick
more often; select-all items are missed, doses miscalculated now and then; some learners stop half
way and some restart a case. Optionally the dates are spread over a term afterwards (the store stamps
the present; a real term's data is spread over weeks).

    python -m dashboard.demo_cohort --learners 40 [--name "Demo cohort"] [--days 60] [--variant 1]

writes into $MYOTUTOR_DATABASE_URL (or the embedded SQLite file). The names make it plain that these
are not real learners; delete the cohort on the Cohorts page to remove it.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update

from dashboard.persistence import answer_input, case_hash
from dashboard.schema import AnswerRecord, AttemptRow
from dashboard.store import AnswerInput, CohortInfo, Store
from logic import (
    Case,
    KnowledgeBase,
    LoadedCase,
    answer_key,
    load_knowledge_base,
    load_library,
    score_case,
    score_question,
    stage_plans,
)
from logic.keys import StagePlan
from logic.questions import with_certainty

FIRST = ("Ada", "Ben", "Chloe", "Dev", "Esme", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kemi", "Luca")
LAST = ("Adler", "Brook", "Chen", "Diaz", "Evans", "Fox", "Gray", "Hale", "Iqbal", "Jones", "Khan", "Lee")
GRADE_PULL = {"recommended": 2.2, "acceptable": 1.0, "not_recommended": -0.2, "unsafe": -0.8}
MISCONCEPTION_PULL = 1.6


def learner_names(n: int) -> list[str]:
    names = [f"{f} {last}" for last in LAST for f in FIRST]
    return [names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "") for i in range(n)]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class Learner:
    """A simulated learner: an ability, and how sure of themselves they tend to be."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ability = rng.gauss(0, 1)
        self.bravado = rng.gauss(0.3, 0.6)  # most learners are a little more sure than right

    def choose(
        self, grades: Mapping[str, str], tempting: str | None, best: Sequence[str], k: int
    ) -> list[str]:
        """k options, drawn by their grade (better learners follow the grade more), the tempting one
        pulling the weaker learners."""
        weights = {}
        for option, grade in grades.items():
            pull = GRADE_PULL.get(grade, 0.0) * (0.6 + 0.5 * self.ability)
            if option in best:
                pull += 0.6
            if option == tempting:
                pull += MISCONCEPTION_PULL * (1 - 0.4 * self.ability)
            weights[option] = math.exp(pull)
        chosen: list[str] = []
        for _ in range(min(k, len(weights))):
            options = [o for o in weights if o not in chosen]
            chosen.append(self.rng.choices(options, [weights[o] for o in options])[0])
        return chosen

    def select_all(self, options: Sequence[str], correct: Iterable[str], tempting: str | None) -> list[str]:
        needed = set(correct)
        picked = []
        for option in options:
            if option in needed:
                p = _sigmoid(2.6 + self.ability - (1.3 if option == tempting else 0.0))
            else:
                p = _sigmoid(-2.0 - 0.8 * self.ability)
            if self.rng.random() < p:
                picked.append(option)
        return picked

    def dose(self, low: float, high: float) -> float:
        if self.rng.random() < 0.05 * math.exp(-self.ability):  # a slip: per kg read as per dose, etc.
            return round(high * self.rng.choice((2.0, 2.5, 10.0)), 1)
        spread = 0.25 / (1 + max(self.ability, 0.0))
        return round((low + high) / 2 * math.exp(self.rng.gauss(0, spread)), 1)

    def order(self, best: Sequence[str]) -> list[str]:
        """The pathway's order, with a neighbouring pair swapped now and then (more by weaker learners)."""
        found = list(best)
        for _ in range(2):
            if len(found) > 1 and self.rng.random() < _sigmoid(-0.5 - self.ability):
                i = self.rng.randrange(len(found) - 1)
                found[i], found[i + 1] = found[i + 1], found[i]
        return found

    def certainty(self, right: bool) -> int:
        sure = 2.4 + self.bravado + (0.7 if right else 0.0) + self.rng.gauss(0, 0.7)
        return max(1, min(4, round(sure)))

    def seconds(self, questions: int) -> float:
        return round(max(8.0, self.rng.lognormvariate(math.log(45 * max(1, questions)), 0.45)), 1)


def play_case(
    learner: Learner,
    case: Case,
    plans: Sequence[StagePlan],
    tempting: Mapping[str, str | None],
    kb: KnowledgeBase,
    certainty_everywhere: bool = False,
) -> dict[str, Any]:
    """The learner's answers to every question of a case, as the player keeps them (with a certainty
    where the question asks for one)."""
    answers: dict[str, Any] = {}
    for stage_index, question in case.questions():
        plan = plans[stage_index]
        key = answer_key(question, plan, kb)
        value: Any
        if question.kind == "next_step":
            multiple = bool(getattr(question, "multiple", False))
            grades = {o: g.grade for o, g in key.graded.items()}
            picked = learner.choose(
                grades, tempting.get(question.id), key.best, len(key.best) if multiple else 1
            )
            value = picked if multiple else picked[0]
        elif question.kind in ("prerequisites", "monitoring"):
            value = learner.select_all(question.offered(), key.correct, tempting.get(question.id))
        elif question.kind == "dose":
            value = learner.dose(key.dose.low, key.dose.high) if key.dose else 100.0
        elif question.kind == "ordering":
            value = learner.order(list(key.best) or list(question.offered()))
        else:
            value = "What would change my mind here is the next set of results."
        single_choice = question.kind == "next_step" and not getattr(question, "multiple", False)
        if question.asks_certainty or (certainty_everywhere and single_choice):
            right = score_question(question, stage_index, plan, value, kb).outcome == "right"
            value = with_certainty(value, learner.certainty(right))
        answers[question.id] = value
    return answers


def misconceptions(
    case: Case, plans: Sequence[StagePlan], rng: random.Random, kb: KnowledgeBase
) -> dict[str, str | None]:
    """One tempting wrong option per question: a not-recommended or unsafe choice for choice questions
    (unsafe ones more often), a needed item that gets forgotten for select-all questions."""
    out: dict[str, str | None] = {}
    for stage_index, question in case.questions():
        key = answer_key(question, plans[stage_index], kb)
        if question.kind == "next_step":
            wrong = [o for o, g in key.graded.items() if o not in key.best]
            unsafe = [o for o in wrong if key.graded[o].grade == "unsafe"]
            pool = unsafe if unsafe and rng.random() < 0.6 else wrong
            out[question.id] = rng.choice(pool) if pool else None
        elif question.kind in ("prerequisites", "monitoring"):
            needed = sorted(key.correct)
            out[question.id] = rng.choice(needed) if needed else None
    return out


def _records(
    learner: Learner,
    case: Case,
    plans: Sequence[StagePlan],
    answers: Mapping[str, Any],
    stage_index: int,
    kb: KnowledgeBase,
    certainty_everywhere: bool,
) -> list[AnswerInput]:
    """The answer records of one stage, scored as the player scores them (certainty from the answer;
    with certainty_everywhere also on single-choice questions that do not ask, as if they did)."""
    questions = [q for i, q in case.questions() if i == stage_index]
    seconds = learner.seconds(len(questions))
    records = []
    for question in questions:
        answer = answers.get(question.id)
        record = answer_input(score_question(question, stage_index, plans[stage_index], answer, kb), seconds)
        if record.certainty is None and certainty_everywhere and isinstance(answer, dict):
            record = AnswerInput(**{**record.__dict__, "certainty": answer.get("certainty")})
        records.append(record)
    return records


def make_demo_cohort(
    store: Store,
    cases: Sequence[LoadedCase],
    kb: KnowledgeBase,
    *,
    learners: int,
    name: str = "Demo cohort",
    variant: int = 1,
    certainty_everywhere: bool = False,
    complete_rate: float = 0.85,
    restart_rate: float = 0.08,
    days: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> CohortInfo:
    """A new cohort of `learners` simulated learners who each play every case (see the module doc).
    certainty_everywhere: also give a certainty on single-choice questions that do not ask for one.
    days > 0: spread each learner's attempts over that many days before now."""
    rng = random.Random(variant)  # the same variant makes the same cohort
    cohort = store.create_cohort(name, created_by="demo@demo.invalid")
    plans = {lc.case.id: stage_plans(lc.case, kb) for lc in cases}
    hashes = {lc.case.id: case_hash(lc.path) for lc in cases}
    tempting = {lc.case.id: misconceptions(lc.case, plans[lc.case.id], rng, kb) for lc in cases}
    for n, display in enumerate(learner_names(learners)):
        email = f"{display.lower().replace(' ', '.')}.{cohort.id}@demo.invalid"
        learner_id = store.oidc_learner(email, display)
        store.join_cohort(learner_id, cohort.join_code)
        learner = Learner(rng)
        for lc in cases:
            case = lc.case
            replays = 2 if rng.random() < restart_rate else 1
            for replay in range(replays):
                open_ = store.restart if replay else store.open_attempt
                attempt = open_(learner_id, case.id, cohort.id, hashes[case.id])
                answers = play_case(
                    learner, case, plans[case.id], tempting[case.id], kb, certainty_everywhere
                )
                finishes = replay or rng.random() < complete_rate + 0.05 * learner.ability
                stages = len(case.stages) if finishes else rng.randrange(0, len(case.stages))
                if replays == 2 and not replay:
                    stages = max(1, min(stages, len(case.stages) - 1))  # stopped part way, then restarted
                for stage_index in range(stages):
                    stage_answers = {q.id: answers[q.id] for i, q in case.questions() if i == stage_index}
                    records = _records(
                        learner, case, plans[case.id], answers, stage_index, kb, certainty_everywhere
                    )
                    store.save_stage(attempt.id, stage_answers, stage_index + 1, records, learner_id)
                if stages == len(case.stages):
                    score = score_case(case, answers, kb, plans[case.id])
                    store.complete(
                        attempt.id, score.total, {str(k): v for k, v in score.category_scores.items()}
                    )
        if progress is not None:
            progress(n + 1, learners)
    if days > 0:
        spread_over_days(store, cohort.id, days, rng)
    return cohort


def spread_over_days(store: Store, cohort_id: int, days: int, rng: random.Random) -> None:
    """Move a cohort's attempts and answers back in time, as a term's would be: each learner starts
    on a day of the first half of the term and plays the cases in order, a few days apart."""
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        attempts = conn.execute(
            select(AttemptRow.id, AttemptRow.learner_id, AttemptRow.started_at)
            .where(AttemptRow.cohort_id == cohort_id)
            .order_by(AttemptRow.id)
        ).all()
        start: dict[int, float] = {}
        shift: dict[int, timedelta] = {}
        for attempt_id, learner_id, started_at in attempts:
            day = start.setdefault(learner_id, rng.uniform(0, days / 2))
            start[learner_id] = day + rng.uniform(0.5, days / 16 + 0.5)
            target = now - timedelta(days=days) + timedelta(days=min(day, days - 0.01))
            shift[attempt_id] = started_at - target
        # Timestamps are shifted in Python (the same on both backends), row by row in one transaction.
        rows = conn.execute(
            select(
                AttemptRow.id, AttemptRow.started_at, AttemptRow.updated_at, AttemptRow.completed_at
            ).where(AttemptRow.cohort_id == cohort_id)
        ).all()
        conn.execute(
            update(AttemptRow)
            .where(AttemptRow.id == bindparam("b_id"))
            .values(
                started_at=bindparam("b_started"),
                updated_at=bindparam("b_updated"),
                completed_at=bindparam("b_completed"),
            ),
            [
                {
                    "b_id": i,
                    "b_started": s - shift[i],
                    "b_updated": u - shift[i],
                    "b_completed": None if c is None else c - shift[i],
                }
                for i, s, u, c in rows
            ],
        )
        records = conn.execute(
            select(AnswerRecord.id, AnswerRecord.attempt_id, AnswerRecord.submitted_at).where(
                AnswerRecord.cohort_id == cohort_id
            )
        ).all()
        if records:
            conn.execute(
                update(AnswerRecord)
                .where(AnswerRecord.id == bindparam("b_id"))
                .values(submitted_at=bindparam("b_submitted")),
                [{"b_id": i, "b_submitted": t - shift[a]} for i, a, t in records],
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make a made-up cohort that plays the library's cases.")
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--name", default="Demo cohort")
    parser.add_argument("--days", type=int, default=60, help="spread the attempts over this many days")
    parser.add_argument("--variant", type=int, default=1, help="the same number makes the same cohort")
    parser.add_argument("--cases", type=Path, default=Path(__file__).resolve().parent.parent / "cases")
    parser.add_argument("--url", default=None, help="database URL (default: $MYOTUTOR_DATABASE_URL)")
    args = parser.parse_args(argv)
    kb = load_knowledge_base()
    library = load_library([args.cases], kb)
    cases = [library.cases[c] for c in sorted(library.cases)]
    store = Store(args.url)
    cohort = make_demo_cohort(
        store,
        cases,
        kb,
        learners=args.learners,
        name=args.name,
        variant=args.variant,
        days=args.days,
        progress=lambda i, n: print(f"\r{i}/{n} learners", end="", flush=True),
    )
    print(
        f"\ncohort {cohort.name!r} (join code {cohort.join_code}): {args.learners} learners × {len(cases)} cases"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
