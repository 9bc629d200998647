"""Cohorts in the store (SQLite and PostgreSQL): create, join by code, memberships, archive, delete."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from dashboard.store import AnswerInput, Store
from dashboard.store_live import Actor

from .conftest import learner

CASE = "case-a"
TODAY = datetime.now(UTC).date()


def test_create_and_join_by_code(store: Store) -> None:
    year4 = store.create_cohort("  Year 4   2026 ", created_by="teacher@example.org")
    assert year4.name == "Year 4 2026" and len(year4.join_code) == 6 and year4.active()
    other = store.create_cohort("Nurses")
    assert other.join_code != year4.join_code
    ada = learner(store, "Ada")
    assert store.join_cohort(ada, year4.join_code.lower()).id == year4.id  # typed in any case
    store.join_cohort(ada, year4.join_code)  # twice is harmless
    store.join_cohort(ada, other.join_code)  # a learner may belong to several
    assert [c.id for c in store.memberships(ada)] == [other.id, year4.id]
    assert store.is_member(ada, year4.id) and not store.is_member(learner(store, "Bob"), year4.id)
    assert [m.name for m in store.members(year4.id)] == ["Ada"]
    assert {c.id: c.members for c in store.cohorts()} == {year4.id: 1, other.id: 1}
    with pytest.raises(ValueError, match="no cohort"):
        store.join_cohort(ada, "ZZZZZZ")
    store.leave_cohort(ada, other.id)
    assert [c.id for c in store.memberships(ada)] == [year4.id]


def test_cohort_dates_and_names_are_checked(store: Store) -> None:
    with pytest.raises(ValueError):
        store.create_cohort("   ")
    with pytest.raises(ValueError, match="ends before"):
        store.create_cohort("Backwards", date(2026, 5, 1), date(2026, 4, 1))
    later = store.create_cohort("Next term", starts_on=TODAY + timedelta(days=30))
    over = store.create_cohort("Last term", ends_on=TODAY - timedelta(days=1))
    ada = learner(store, "Ada")
    for cohort in (later, over):
        assert not cohort.active()
        with pytest.raises(ValueError, match="not open"):
            store.join_cohort(ada, cohort.join_code)


def test_archive_hides_and_keeps(store: Store) -> None:
    cohort = store.create_cohort("Year 4")
    ada = learner(store, "Ada")
    store.join_cohort(ada, cohort.join_code)
    store.archive_cohort(cohort.id)
    assert store.cohorts() == [] and [c.id for c in store.cohorts(include_archived=True)] == [cohort.id]
    assert store.memberships(ada) == [] and len(store.memberships(ada, active_only=False)) == 1
    with pytest.raises(ValueError, match="not open"):
        store.join_cohort(learner(store, "Bob"), cohort.join_code)
    store.archive_cohort(cohort.id, archived=False)
    assert [c.id for c in store.memberships(ada)] == [cohort.id]


def test_attempts_belong_to_a_cohort(store: Store) -> None:
    year4, nurses = store.create_cohort("Year 4"), store.create_cohort("Nurses")
    ada = learner(store, "Ada")
    own = store.open_attempt(ada, CASE)
    in_year4 = store.open_attempt(ada, CASE, year4.id, "h" * 64)
    assert in_year4.id != own.id and (in_year4.cohort_id, in_year4.case_hash) == (year4.id, "h" * 64)
    assert store.open_attempt(ada, CASE, year4.id).id == in_year4.id
    assert store.open_attempt(ada, CASE).id == own.id
    store.complete(in_year4.id, 80.0, {})
    store.complete(store.open_attempt(ada, CASE, nurses.id).id, 40.0, {})
    assert store.class_summary(CASE, year4.id) == [80.0]
    assert store.class_summary(CASE, nurses.id) == [40.0]
    assert store.class_summary(CASE) == [80.0, 40.0]
    fresh = store.restart(ada, CASE, year4.id)
    assert fresh.cohort_id == year4.id and store.open_attempt(ada, CASE).id == own.id  # others untouched


def _count(store: Store, table: str, where: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar() or 0)


def test_deleting_a_cohort_leaves_nothing_of_it_in_any_table(store: Store) -> None:
    doomed, kept = store.create_cohort("Doomed"), store.create_cohort("Kept")
    ada, bob = learner(store, "Ada"), learner(store, "Bob")
    for who in (ada, bob):
        for cohort in (doomed, kept, None):
            if cohort is not None:
                store.join_cohort(who, cohort.join_code)
            a = store.open_attempt(who, CASE, cohort.id if cohort else None)
            store.save_stage(
                a.id, {"q1": "x"}, 1, [AnswerInput("q1", 0, "next_step", "x", "unsafe", unsafe=True)]
            )
            store.complete(a.id, 10.0, {})
    for cohort in (doomed, kept):  # a live session recorded in each cohort, with a seat
        session = store.start_live(Actor("faculty"), CASE, cohort_id=cohort.id)
        store.join_live(session.id, None, "Seat")
    store.delete_cohort(doomed.id)
    with pytest.raises(KeyError):
        store.cohort(doomed.id)
    # Table by table: every table with a cohort_id column has no row of the deleted cohort, and the
    # kept cohort and the attempts outside cohorts are whole.
    with store.engine.connect() as conn:
        tables = {
            t: {c["name"] for c in inspect(conn).get_columns(t)} for t in inspect(conn).get_table_names()
        }
    with_cohort = sorted(t for t, cols in tables.items() if "cohort_id" in cols)
    assert with_cohort == ["answer_records", "attempts", "cohort_members", "live_sessions"]
    kept_rows = {"answer_records": 2, "attempts": 3, "cohort_members": 2, "live_sessions": 1}  # + the seat's
    for table in with_cohort:
        assert _count(store, table, f"cohort_id = {doomed.id}") == 0, table
        assert _count(store, table, f"cohort_id = {kept.id}") == kept_rows[table], table
    assert _count(store, "live_seats", "1 = 1") == 1
    assert _count(store, "cohorts", f"id = {doomed.id}") == 0
    assert _count(store, "attempts", "cohort_id IS NULL") == 2
    assert _count(store, "answer_records", "cohort_id IS NULL") == 2
    assert _count(store, "answer_records", "1 = 1") == 4  # no record of a deleted attempt remains
    assert store.class_summary(CASE) == [10.0] * 4
    assert {m.learner_id for m in store.members(kept.id)} == {ada, bob}
