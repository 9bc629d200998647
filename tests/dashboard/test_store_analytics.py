"""The analytics queries of the store (SQLite and PostgreSQL): counts per case and question, the
scope (cohort, dates, first attempts), the answers of one case, stage times and the exports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from dashboard import store_analytics
from dashboard.schema import AnswerRecord, AttemptRow
from dashboard.store import AnswerInput, Store
from dashboard.store_analytics import Scope

from .conftest import learner

CASE, OTHER = "case-a", "case-b"


def record(
    question: str,
    stage: int,
    answer: object,
    grade: str | None,
    credit: float,
    *,
    kind: str = "next_step",
    unsafe: bool = False,
    certainty: int | None = None,
    seconds: float | None = 60.0,
    max_points: float = 1.0,
) -> AnswerInput:
    items = answer if isinstance(answer, list) else [answer]
    verdicts = [{"id": str(a), "grade": grade} for a in items] if grade is not None else []
    return AnswerInput(
        question, stage, kind, answer, grade, verdicts, credit, credit * max_points, max_points, unsafe,
        certainty, seconds,
    )  # fmt: skip


def play(
    store: Store,
    who: int,
    cohort: int | None,
    stages: list[list[AnswerInput]],
    total: float | None,
    case: str = CASE,
) -> int:
    """An attempt saved stage by stage; completed with total unless total is None."""
    attempt = store.open_attempt(who, case, cohort, "h" * 64)
    for n, records in enumerate(stages):
        store.save_stage(attempt.id, {r.question_id: r.answer for r in records}, n + 1, records, who)
    if total is not None:
        store.complete(attempt.id, total, {"escalation": total})
    return attempt.id


@pytest.fixture
def cohort_data(store: Store) -> dict[str, int]:
    """Year 4: Ada (right, sure), Bob (unsafe and sure; abandons, then completes), Cy (stops after
    stage 1, gives no certainty). Nurses: Dee. Self-paced: Ada again."""
    year4, nurses = store.create_cohort("Year 4"), store.create_cohort("Nurses")
    ada, bob, cy, dee = (learner(store, n) for n in ("Ada", "Bob", "Cy", "Dee"))
    for who in (ada, bob, cy):
        store.join_cohort(who, year4.join_code)
    store.join_cohort(dee, nurses.join_code)
    play(
        store, ada, year4.id,
        [[record("q1", 0, "ivig", "recommended", 1.0, certainty=4, seconds=30.0)],
         [record("q2", 1, ["a", "b"], "correct", 1.0, kind="prerequisites", seconds=40.0)]],
        100.0,
    )  # fmt: skip
    first_bob = play(
        store, bob, year4.id,
        [[record("q1", 0, "cyclophosphamide", "unsafe", -0.5, unsafe=True, certainty=3, seconds=90.0)]],
        None,
    )  # fmt: skip
    store.restart(bob, CASE, year4.id, "h" * 64)
    play(
        store, bob, year4.id,
        [[record("q1", 0, "rituximab", "acceptable", 0.5, certainty=2, seconds=50.0)],
         [record("q2", 1, ["a"], "partial", 0.5, kind="prerequisites", unsafe=True, seconds=70.0)]],
        50.0,
    )  # fmt: skip
    play(store, cy, year4.id, [[record("q1", 0, "ivig", "recommended", 1.0, seconds=20.0)]], None)
    reflection = record("r1", 0, "thoughts", None, 0.0, kind="reflection", max_points=0)
    play(store, ada, year4.id, [[reflection]], None, OTHER)
    play(store, dee, nurses.id, [[record("q1", 0, "ivig", "recommended", 1.0)]], 100.0)
    play(store, ada, None, [[record("q1", 0, "methotrexate", "not_recommended", 0.0)]], None)
    return {
        "year4": year4.id,
        "nurses": nurses.id,
        "ada": ada,
        "bob": bob,
        "cy": cy,
        "dee": dee,
        "first_bob": first_bob,
    }


def by_question(store: Store, scope: Scope) -> dict[tuple[str, str], store_analytics.QuestionActivity]:
    return {(q.case_id, q.question_id): q for q in store.question_activity(scope)}


def test_case_activity_counts_learners_attempts_and_completions(
    store: Store, cohort_data: dict[str, int]
) -> None:
    year4 = Scope(cohort_data["year4"])
    [a, other] = store.case_activity(year4)
    assert (a.case_id, a.learners, a.attempts, a.completed, a.learners_completed, a.abandoned) == (
        CASE, 3, 4, 2, 2, 1,
    )  # fmt: skip
    assert a.mean_total == pytest.approx(75.0)
    assert (other.case_id, other.attempts, other.completed, other.mean_total) == (OTHER, 1, 0, None)
    assert store.active_learners(year4) == 3
    assert store.active_learners(Scope(cohort_data["nurses"])) == 1
    assert store.active_learners(Scope()) == 4  # everyone, self-paced attempts included
    assert sum(c.attempts for c in store.case_activity(Scope())) == 7


def test_question_activity_scores_unsafe_and_confident_wrong(
    store: Store, cohort_data: dict[str, int]
) -> None:
    found = by_question(store, Scope(cohort_data["year4"]))
    q1 = found[(CASE, "q1")]
    assert (q1.stage_index, q1.kind, q1.answers, q1.learners, q1.scored) == (0, "next_step", 4, 3, 4)
    assert q1.mean_score == pytest.approx(100 * (1 - 0.5 + 0.5 + 1) / 4)
    # Right as the kind counts it: an acceptable alternative (0.5) is right for a next-step choice.
    assert (q1.right, q1.wrong, q1.unsafe) == (3, 1, 1)
    # Certainty: Ada 4 (right), Bob 3 (unsafe), Bob 2 (acceptable), Cy none.
    assert (q1.with_certainty, q1.confident, q1.confident_wrong, q1.confident_unsafe) == (3, 2, 0, 1)
    q2 = found[(CASE, "q2")]
    assert (q2.stage_index, q2.kind, q2.answers, q2.right, q2.unsafe, q2.with_certainty) == (
        1,
        "prerequisites",
        2,
        1,
        1,
        0,
    )  # fmt: skip  (half the needed checks, unsafe: never right)
    r1 = found[(OTHER, "r1")]
    assert (r1.answers, r1.scored, r1.mean_score, r1.wrong) == (1, 0, None, 0)  # reflections are not scored
    assert list(found) == [(CASE, "q1"), (CASE, "q2"), (OTHER, "r1")]  # by case, stage, question
    assert [q.question_id for q in store.question_activity(Scope(cohort_data["year4"]), [OTHER])] == ["r1"]


def test_scope_keeps_cohorts_apart(store: Store, cohort_data: dict[str, int]) -> None:
    nurses = by_question(store, Scope(cohort_data["nurses"]))
    assert list(nurses) == [(CASE, "q1")] and nurses[(CASE, "q1")].answers == 1
    everyone = by_question(store, Scope())
    assert everyone[(CASE, "q1")].answers == 6  # Year 4's four, the nurse's, Ada's self-paced one
    assert store.answer_choices(Scope(cohort_data["nurses"]), OTHER) == []
    assert {c.learner_id for c in store.answer_choices(Scope(), CASE)} == {
        cohort_data[n] for n in ("ada", "bob", "cy", "dee")
    }


def test_confident_and_wrong_is_sure_of_a_wrong_safe_answer(store: Store) -> None:
    who = learner(store, "Eve")
    play(store, who, None, [[record("q1", 0, "upadacitinib", "not_recommended", 0.0, certainty=4)]], None)
    play(
        store, who, None, [[record("q1", 0, "etanercept", "not_recommended", 0.0, certainty=1)]], None, OTHER
    )
    found = by_question(store, Scope())
    assert (found[(CASE, "q1")].confident_wrong, found[(CASE, "q1")].confident_unsafe) == (1, 0)
    assert (found[(OTHER, "q1")].confident, found[(OTHER, "q1")].confident_wrong) == (0, 0)  # unsure


def test_first_attempts_only(store: Store, cohort_data: dict[str, int]) -> None:
    first = Scope(cohort_data["year4"], first_attempts=True)
    q1 = by_question(store, first)[(CASE, "q1")]
    assert (q1.answers, q1.unsafe) == (3, 1)  # Bob's first (unsafe) attempt, not his second
    assert {
        c.attempt_id for c in store.answer_choices(first, CASE) if c.learner_id == cohort_data["bob"]
    } == {cohort_data["first_bob"]}
    [a, _] = store.case_activity(first)
    assert (a.attempts, a.completed, a.abandoned) == (3, 1, 1)


def test_dates_filter_answers_by_submission_and_attempts_by_start(
    store: Store, cohort_data: dict[str, int]
) -> None:
    long_ago = datetime(2026, 1, 10, 23, 30, tzinfo=UTC)
    with store.engine.begin() as conn:  # Bob's attempts were played in January
        conn.execute(
            update(AttemptRow).where(AttemptRow.learner_id == cohort_data["bob"]).values(started_at=long_ago)
        )
        conn.execute(
            update(AnswerRecord)
            .where(AnswerRecord.learner_id == cohort_data["bob"])
            .values(submitted_at=long_ago)
        )
    year4 = cohort_data["year4"]
    january = Scope.between(year4, date(2026, 1, 10), date(2026, 1, 10))  # the end day is included
    assert {c.learner_id for c in store.answer_choices(january, CASE)} == {cohort_data["bob"]}
    assert store.active_learners(january) == 1
    assert store.answer_choices(Scope.between(year4, date(2026, 1, 11), None), CASE) != []
    assert cohort_data["bob"] not in {
        c.learner_id for c in store.answer_choices(Scope.between(year4, date(2026, 1, 11), None), CASE)
    }
    assert store.answer_choices(Scope.between(year4, None, date(2026, 1, 9)), CASE) == []
    assert Scope.between(1, date(2026, 1, 10), date(2026, 1, 10)) == Scope(
        1, datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC)
    )


def test_answer_choices_of_one_case(store: Store, cohort_data: dict[str, int]) -> None:
    year4 = Scope(cohort_data["year4"])
    choices = store.answer_choices(year4, CASE)
    assert [(c.question_id, c.answer) for c in choices] == [
        ("q1", "ivig"), ("q2", ["a", "b"]), ("q1", "cyclophosphamide"), ("q1", "rituximab"),
        ("q2", ["a"]), ("q1", "ivig"),
    ]  # fmt: skip
    unsafe = choices[2]
    assert (unsafe.grade, unsafe.unsafe, unsafe.credit, unsafe.certainty, unsafe.stage_index) == (
        "unsafe", True, -0.5, 3, 0,
    )  # fmt: skip
    assert unsafe.verdicts == [{"id": "cyclophosphamide", "grade": "unsafe"}]
    assert [c.question_id for c in store.answer_choices(year4, CASE, ["q2"])] == ["q2", "q2"]
    assert store.case_hashes(year4, CASE) == {"h" * 64}


def test_stage_times_once_per_attempt_and_stage(store: Store, cohort_data: dict[str, int]) -> None:
    year4 = Scope(cohort_data["year4"])
    counts = store.stage_time_counts(year4, CASE)
    assert sorted((t.stage_index, t.seconds, t.attempts) for t in counts) == [
        (0, 20.0, 1), (0, 30.0, 1), (0, 50.0, 1), (0, 90.0, 1), (1, 40.0, 1), (1, 70.0, 1),
    ]  # fmt: skip
    assert {t.case_id for t in store.stage_time_counts(year4)} == {CASE, OTHER}
    attempts = sorted((t.case_id, t.stages, t.seconds) for t in store.attempt_times(year4))
    assert attempts == [
        (CASE, 1, 20.0), (CASE, 1, 90.0), (CASE, 2, 70.0), (CASE, 2, 120.0), (OTHER, 1, 60.0),
    ]  # fmt: skip


def test_exports_join_names_and_come_in_batches(
    store: Store, cohort_data: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = list(store.export_answers(Scope()))
    monkeypatch.setattr(store_analytics, "EXPORT_BATCH", 2)
    batched = list(store.export_answers(Scope()))
    assert [r.id for r in batched] == [r.id for r in everyone] and len(everyone) == 9
    assert [r.submitted_at for r in everyone] == sorted(r.submitted_at for r in everyone)
    year4 = list(store.export_answers(Scope(cohort_data["year4"])))
    assert {r.learner_name for r in year4} == {"Ada", "Bob", "Cy"} and {r.cohort_name for r in year4} == {
        "Year 4"
    }
    self_paced = [r for r in everyone if r.cohort_id is None]
    assert [(r.learner_name, r.cohort_name, r.answer) for r in self_paced] == [("Ada", None, "methotrexate")]
    attempts = store.export_attempts(Scope(cohort_data["year4"]))
    assert sorted((a.learner_name, a.case_id, a.status) for a in attempts) == [
        ("Ada", CASE, "completed"), ("Ada", OTHER, "in progress"), ("Bob", CASE, "abandoned"),
        ("Bob", CASE, "completed"), ("Cy", CASE, "in progress"),
    ]  # fmt: skip
    assert next(
        a for a in attempts if a.status == "completed" and a.learner_name == "Bob"
    ).category_scores == {"escalation": 50.0}


def test_a_deleted_cohort_leaves_nothing_to_analyse(store: Store, cohort_data: dict[str, int]) -> None:
    store.delete_cohort(cohort_data["year4"])
    gone = Scope(cohort_data["year4"])
    assert store.case_activity(gone) == [] and store.question_activity(gone) == []
    assert list(store.export_answers(gone)) == [] and store.export_attempts(gone) == []
    assert by_question(store, Scope())[(CASE, "q1")].answers == 2  # the nurse's and the self-paced one


def test_an_empty_scope(store: Store) -> None:
    nobody = Scope(12345, datetime.now(UTC) - timedelta(days=1))
    assert store.case_activity(nobody) == [] and store.question_activity(nobody) == []
    assert (
        store.active_learners(nobody) == 0
        and store.stage_time_counts(nobody) == []
        and store.attempt_times(nobody) == []
    )
    assert store.answer_choices(nobody, CASE) == [] and list(store.export_answers(nobody)) == []


def test_answers_counted_by_choice_in_the_database(store: Store, cohort_data: dict[str, int]) -> None:
    year4 = Scope(cohort_data["year4"])
    found = store.answer_counts(year4, [(CASE, "q1"), (CASE, "q2"), (OTHER, "r1"), (OTHER, "q1")])
    counted = sorted(
        (c.case_id, c.question_id, c.grade, c.verdicts[0]["id"], c.answers, c.unsafe) for c in found
    )
    assert counted == [
        (CASE, "q1", "acceptable", "rituximab", 1, False),
        (CASE, "q1", "recommended", "ivig", 2, False),  # Ada's and Cy's, counted once with 2
        (CASE, "q1", "unsafe", "cyclophosphamide", 1, True),
        (CASE, "q2", "correct", "a", 1, False),
        (CASE, "q2", "partial", "a", 1, True),
    ]  # the reflection (not scored) is not counted
    assert store.answer_counts(year4, []) == []
