"""Live sessions in the store, on SQLite and PostgreSQL: one checked function for every change, the
phases and rounds of a question, answers kept once per seat and round (also when many arrive at
once from several stores), answer records written at lock and replaced by a re-vote's, attempts
completed at the end, seats found again by token or identity, and nothing left behind when a learner
or a cohort is deleted."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dashboard.live.room import CaseGrader, room_bars
from dashboard.store import Store
from dashboard.store_live import (
    Actor,
    EndSession,
    GiveAnswer,
    LockQuestion,
    NextStage,
    OpenQuestion,
    Refused,
    RevealQuestion,
    Revote,
    ShowQuestion,
)
from logic import load_library, stage_plans
from tests.context import KB

from .conftest import S2, learner

CASE = load_library([Path(__file__).parents[2] / "cases"], KB).cases[S2].case
GRADER = CaseGrader(CASE, KB, stage_plans(CASE, KB))
Q1 = CASE.stages[0].questions[0]
FACULTY = Actor("faculty")


def started(store: Store) -> int:
    state = store.start_live(FACULTY, S2, cohort_id=None)
    assert len(state.join_code) == 6 and state.stage_index == 0 and state.question_id is None
    return state.id


def test_only_faculty_start_and_every_change_is_checked(store: Store) -> None:
    with pytest.raises(Refused):
        store.start_live(Actor("learner"), S2)
    session_id = started(store)
    seat, token = store.join_live(session_id, None, "  Ada   Lovelace ")
    assert seat.display_name == "Ada Lovelace" and seat.number == 1
    assert store.live_seat(token) == seat
    assert store.live_by_code(store.live_session(session_id).join_code.lower()) is not None
    version = store.live_version(session_id)
    with pytest.raises(Refused, match="Only the presenter"):
        store.act(session_id, Actor("learner", token), OpenQuestion(Q1.id), GRADER)
    with pytest.raises(Refused, match="not open"):
        store.act(session_id, Actor("guest", token), GiveAnswer(Q1.id, "ivig"), GRADER)
    assert store.live_version(session_id) == version  # a refusal changes nothing
    with pytest.raises(Refused, match="not part of the current stage"):
        store.act(session_id, FACULTY, OpenQuestion(CASE.stages[1].questions[0].id), GRADER)
    state = store.act(session_id, FACULTY, OpenQuestion(Q1.id), GRADER)
    assert state.phase(Q1.id) == "open" and state.question_id == Q1.id
    assert state.version > version[0] and state.state_version > version[1]
    answered = store.act(session_id, Actor("guest", token), GiveAnswer(Q1.id, "ivig"), GRADER)
    assert (
        answered.version == state.version + 1 and answered.state_version == state.state_version
    )  # phones stay
    with pytest.raises(Refused, match="Lock the question"):
        store.act(session_id, FACULTY, RevealQuestion(Q1.id), GRADER)
    with pytest.raises(Refused, match="opened already"):
        store.act(session_id, FACULTY, OpenQuestion(Q1.id), GRADER)
    store.act(session_id, FACULTY, ShowQuestion(None), GRADER)
    assert store.live_session(session_id).question_id is None


def test_rounds_records_and_the_end(store: Store) -> None:
    session_id = started(store)
    seats = [store.join_live(session_id, None, None if i == 2 else f"S{i}") for i in range(3)]
    assert seats[2][0].display_name is None  # anonymous
    store.act(session_id, FACULTY, OpenQuestion(Q1.id), GRADER)
    for (_, token), option in zip(seats, ["ivig", "rituximab", "cyclophosphamide"], strict=True):
        store.act(session_id, Actor("guest", token), GiveAnswer(Q1.id, option), GRADER)
    store.act(session_id, Actor("guest", seats[1][1]), GiveAnswer(Q1.id, "etanercept"), GRADER)  # changed
    store.act(session_id, FACULTY, LockQuestion(Q1.id), GRADER)
    with pytest.raises(Refused, match="locked"):
        store.act(session_id, Actor("guest", seats[0][1]), GiveAnswer(Q1.id, "rituximab"), GRADER)
    first = {s.id: store.answers(s.attempt_id)[0].answer for s, _ in seats}
    assert list(first.values()) == ["ivig", "etanercept", "cyclophosphamide"]

    store.act(session_id, FACULTY, Revote(Q1.id), GRADER)  # answers carried over, then one changes
    store.act(session_id, Actor("guest", seats[2][1]), GiveAnswer(Q1.id, "ivig"), GRADER)
    store.act(session_id, FACULTY, LockQuestion(Q1.id), GRADER)
    state = store.act(session_id, FACULTY, RevealQuestion(Q1.id), GRADER)
    assert state.round(Q1.id) == 2 and state.phase(Q1.id) == "revealed"
    with pytest.raises(Refused, match="not revealed yet"):
        store.act(session_id, FACULTY, Revote(Q1.id), GRADER)
    votes = store.live_votes(session_id, Q1.id)
    bars = {b.key: b.counts for b in room_bars(Q1, votes, GRADER)}
    assert bars["ivig"] == (1, 2) and bars["cyclophosphamide"] == (1, 0) and bars["etanercept"] == (1, 1)
    [record] = store.answers(seats[2][0].attempt_id)  # the re-vote's record replaced the first
    assert record.answer == "ivig" and record.grade == "recommended" and record.live_session_id == session_id

    store.act(session_id, FACULTY, NextStage(), GRADER)
    store.act(session_id, FACULTY, NextStage(), GRADER)
    with pytest.raises(Refused, match="last stage"):
        store.act(session_id, FACULTY, NextStage(), GRADER)
    late = store.join_live(session_id, None, "Late")  # joins, never answers
    store.act(session_id, FACULTY, EndSession(), GRADER)
    with pytest.raises(Refused, match="ended"):
        store.act(session_id, FACULTY, ShowQuestion(None), GRADER)
    with pytest.raises(Refused, match="ended"):
        store.join_live(session_id, None, "Later")
    attempts = {s.id: store.attempt(s.attempt_id) for s, _ in [*seats, late]}
    assert all(a.completed_at is not None for a in attempts.values())
    assert attempts[late[0].id].total is None  # no answer: abandoned, not a zero score
    assert attempts[seats[0][0].id].total is not None and attempts[seats[0][0].id].answers == {Q1.id: "ivig"}
    assert len(store.class_summary(S2)) == 3


def test_a_signed_in_learner_has_one_seat_and_the_player_never_resumes_it(store: Store) -> None:
    session_id = started(store)
    ada = learner(store, "Ada")
    seat, token = store.join_live(session_id, ada)
    again, token2 = store.join_live(session_id, ada)  # another phone: the same seat, a new token
    assert again.id == seat.id and token2 != token
    assert store.live_seat(token) is None and store.live_seat(token2) == again
    assert again.display_name == "Ada"
    assert store.open_attempt(ada, S2).id != seat.attempt_id  # the player opens its own attempt


def test_many_answers_at_once_from_two_stores_are_each_kept_once(url: str) -> None:
    stores = [Store(url), Store(url)]
    try:
        session_id = started(stores[0])
        seats = [stores[0].join_live(session_id, None, f"P{i}") for i in range(40)]
        stores[0].act(session_id, FACULTY, OpenQuestion(Q1.id), GRADER)
        options = list(Q1.offered())
        errors: list[BaseException] = []

        def answer(i: int) -> None:
            try:
                token = seats[i][1]
                store = stores[i % 2]
                store.act(session_id, Actor("guest", token), GiveAnswer(Q1.id, options[i % 3]), GRADER)
                store.act(session_id, Actor("guest", token), GiveAnswer(Q1.id, options[i % 5]), GRADER)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=answer, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        votes = stores[1].live_votes(session_id, Q1.id)
        assert sorted(v.seat_id for v in votes) == sorted(s.id for s, _ in seats)
        assert {v.seat_id: v.answer for v in votes} == {
            s.id: options[i % 5] for i, (s, _) in enumerate(seats)
        }
        assert stores[0].live_version(session_id)[0] == 1 + 40 + 1 + 80  # start, joins, open, answers
    finally:
        for s in stores:
            s.close()


def test_deleting_a_learner_or_a_cohort_takes_their_live_rows(store: Store) -> None:
    cohort = store.create_cohort("Year 4")
    state = store.start_live(FACULTY, S2, cohort_id=cohort.id)
    other = started(store)
    ada = learner(store, "Ada")
    seat, token = store.join_live(state.id, ada)
    seat2, token2 = store.join_live(other, ada)
    store.act(state.id, FACULTY, OpenQuestion(Q1.id), GRADER)
    store.act(state.id, Actor("guest", token), GiveAnswer(Q1.id, "ivig"), GRADER)
    store.act(state.id, FACULTY, LockQuestion(Q1.id), GRADER)
    assert store.attempt(seat.attempt_id).cohort_id == cohort.id
    store.delete_cohort(cohort.id)
    with pytest.raises(KeyError):
        store.live_session(state.id)
    assert store.live_seat(token) is None and store.live_seat(token2) is not None
    store.delete_learner(ada)
    assert store.live_seat(token2) is None and store.live_seats(other) == []


def test_a_sessions_answers_are_in_the_analytics_and_the_exports(store: Store) -> None:
    from dashboard.cohort_export import answers_csv, xapi_jsonl
    from dashboard.store_analytics import Scope

    cohort = store.create_cohort("Year 5")
    session_id = store.start_live(FACULTY, S2, cohort_id=cohort.id).id
    seats = [store.join_live(session_id, None, f"R{i}") for i in range(3)]
    store.act(session_id, FACULTY, OpenQuestion(Q1.id), GRADER)
    for (_, token), option in zip(seats, ["ivig", "ivig", "etanercept"], strict=True):
        store.act(session_id, Actor("guest", token), GiveAnswer(Q1.id, option), GRADER)
    store.act(session_id, FACULTY, EndSession(), GRADER)  # locks the open question: records written
    scope = Scope(cohort_id=cohort.id)
    [activity] = [a for a in store.question_activity(scope) if a.question_id == Q1.id]
    assert activity.answers == 3 and activity.learners == 3 and activity.right == 2
    choices = store.answer_choices(scope, S2, [Q1.id])
    assert sorted(c.answer for c in choices) == ["etanercept", "ivig", "ivig"]
    rows = list(store.export_answers(scope))
    cases = load_library([Path(__file__).parents[2] / "cases"], KB).cases
    csv = answers_csv(rows, cases)
    assert csv.count("\n") == 4 and "R0" in csv  # a header and one line per answer
    statements = xapi_jsonl(rows, "https://teach.example.org", cases, KB).splitlines()
    assert len(statements) == 3
