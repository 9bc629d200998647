"""The store, on an SQLite file and on a real (throwaway) PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from dashboard.store import REPO, Store, database_url

CASE, OTHER = "case-a", "case-b"


def test_database_url(monkeypatch):
    monkeypatch.delenv("MYOTUTOR_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{REPO / 'myotutor.db'}"
    monkeypatch.setenv("MYOTUTOR_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"


def test_learner_get_or_create(store):
    ada = store.learner("Ada")
    assert store.learner("Ada") == ada
    assert store.learner("  Ada \n") == ada
    assert store.learner("Bob") != ada
    assert store.learner("x" * 80) != ada


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, None, 42])
def test_invalid_names_refused(store, name):
    with pytest.raises(ValueError, match="1 to 80 characters"):
        store.learner(name)


def test_open_attempt_resumes_unfinished(store):
    ada = store.learner("Ada")
    first = store.open_attempt(ada, CASE)
    assert (first.case_id, first.answers, first.stages_submitted, first.total, first.completed_at) == (
        CASE,
        {},
        0,
        None,
        None,
    )
    store.save_stage(first.id, {"q1": "mtx", "q2": ["tb", "hep"]}, 1)
    again = store.open_attempt(ada, CASE)
    assert again.id == first.id
    assert again.answers == {"q1": "mtx", "q2": ["tb", "hep"]}
    assert again.stages_submitted == 1
    assert store.open_attempt(ada, OTHER).id != first.id  # another case, another attempt


def test_completed_attempt_not_resumed(store):
    ada = store.learner("Ada")
    first = store.open_attempt(ada, CASE)
    store.save_stage(first.id, {"q1": "mtx"}, 1)
    store.complete(first.id, 75.0, {"escalation": 75.0})
    done = store.attempt(first.id)
    assert done.total == 75.0 and done.completed_at is not None
    assert done.completed_at.tzinfo is not None and done.completed_at.utcoffset().total_seconds() == 0
    fresh = store.open_attempt(ada, CASE)
    assert fresh.id != first.id and fresh.answers == {} and fresh.stages_submitted == 0


def test_save_stage_merges_and_never_overwrites(store):
    ada = store.learner("Ada")
    a = store.open_attempt(ada, CASE)
    store.save_stage(a.id, {"q1": "mtx", "dose": 15.0}, 1)
    store.save_stage(a.id, {"q1": "ivig", "q3": "reflect", "q4": ["a", "b"]}, 2)
    assert store.attempt(a.id).answers == {"q1": "mtx", "dose": 15.0, "q3": "reflect", "q4": ["a", "b"]}


def test_stages_submitted_never_decreases(store):
    a = store.open_attempt(store.learner("Ada"), CASE)
    store.save_stage(a.id, {}, 3)
    store.save_stage(a.id, {"q9": "x"}, 1)
    got = store.attempt(a.id)
    assert got.stages_submitted == 3 and got.answers == {"q9": "x"}
    with pytest.raises(ValueError):
        store.save_stage(a.id, {}, -1)


def test_complete_sets_totals_and_is_final(store):
    a = store.open_attempt(store.learner("Ada"), CASE)
    store.complete(a.id, 62.5, {"escalation": 50.0, "safety": 100.0})
    got = store.attempt(a.id)
    assert got.total == 62.5 and got.completed_at is not None
    store.complete(a.id, 99.0, {})  # a rerun: the first score stands
    assert store.attempt(a.id).total == 62.5
    with pytest.raises(ValueError, match="finished"):
        store.save_stage(a.id, {"late": "x"}, 1)
    assert store.attempt(a.id).answers == {}
    with pytest.raises(ValueError):
        store.complete(a.id, float("nan"), {})


def test_restart_abandons_and_opens_fresh(store):
    ada = store.learner("Ada")
    a = store.open_attempt(ada, CASE)
    store.save_stage(a.id, {"q1": "mtx"}, 1)
    fresh = store.restart(ada, CASE)
    assert fresh.id != a.id and fresh.answers == {} and fresh.stages_submitted == 0
    old = store.attempt(a.id)
    assert old.completed_at is not None and old.total is None and old.answers == {"q1": "mtx"}
    assert store.open_attempt(ada, CASE).id == fresh.id
    with pytest.raises(ValueError, match="abandoned"):
        store.complete(a.id, 50.0, {})
    assert store.class_summary(CASE) == []


def test_progress_rows(store):
    ada = store.learner("Ada")
    assert store.progress(ada) == []
    for total in (40.0, 80.0, 60.0):
        a = store.open_attempt(ada, CASE)
        store.save_stage(a.id, {"q1": "x"}, 1)
        store.complete(a.id, total, {"escalation": total})
    store.restart(ada, CASE)  # abandons nothing (no unfinished attempt) and opens one
    store.restart(ada, CASE)  # abandons that one, opens another
    b = store.open_attempt(ada, OTHER)
    store.save_stage(b.id, {"q1": "y"}, 1)  # OTHER played last

    rows = store.progress(ada)
    assert [r.case_id for r in rows] == [OTHER, CASE]
    other, case = rows
    assert (case.attempts, case.completed, case.best_total, case.last_total) == (5, 3, 80.0, 60.0)
    assert (other.attempts, other.completed, other.best_total, other.last_total) == (1, 0, None, None)
    assert other.last_played >= case.last_played
    assert case.last_played.tzinfo is not None and case.last_played <= datetime.now(UTC)


def test_class_summary(store):
    for name, total in [("Ada", 70.0), ("Bob", 90.0), ("Cy", 55.5)]:
        a = store.open_attempt(store.learner(name), CASE)
        store.complete(a.id, total, {})
    store.open_attempt(store.learner("Dee"), CASE)  # unfinished: not counted
    e = store.open_attempt(store.learner("Eve"), OTHER)
    store.complete(e.id, 10.0, {})
    assert store.class_summary(CASE) == [70.0, 90.0, 55.5]
    assert store.class_summary(OTHER) == [10.0]
    assert store.class_summary("unknown") == []


def test_learners_are_isolated(store):
    ada, bob = store.learner("Ada"), store.learner("Bob")
    a, b = store.open_attempt(ada, CASE), store.open_attempt(bob, CASE)
    assert a.id != b.id
    store.save_stage(a.id, {"q1": "mtx"}, 1)
    store.complete(a.id, 100.0, {})
    store.restart(ada, CASE)
    got = store.open_attempt(bob, CASE)
    assert (got.id, got.answers, got.stages_submitted, got.total) == (b.id, {}, 0, None)
    assert [r.case_id for r in store.progress(bob)] == [CASE]
    assert store.progress(bob)[0].completed == 0


@pytest.mark.parametrize(
    "bad",
    [{"q2": object()}, {"q2": {1, 2}}, {"q2": float("nan")}, {1: "x"}, ["q2", "x"]],
    ids=["object", "set", "nan", "int-key", "not-a-dict"],
)
def test_non_serialisable_answer_leaves_attempt_unchanged(store, bad):
    ada = store.learner("Ada")
    a = store.open_attempt(ada, CASE)
    store.save_stage(a.id, {"q1": "mtx"}, 1)
    before = store.attempt(a.id)
    with pytest.raises(ValueError):
        store.save_stage(a.id, bad, 2)
    assert store.attempt(a.id) == before
    with pytest.raises(ValueError):
        store.complete(a.id, 50.0, bad)
    assert store.attempt(a.id) == before


def test_unknown_ids_raise_key_error(store):
    with pytest.raises(KeyError):
        store.save_stage(12345, {"q1": "x"}, 1)
    with pytest.raises(KeyError):
        store.complete(12345, 50.0, {})
    with pytest.raises(KeyError):
        store.attempt(12345)
    with pytest.raises(KeyError):
        store.open_attempt(12345, CASE)
    with pytest.raises(KeyError):
        store.restart(12345, CASE)


def test_two_stores_see_each_others_writes(store, url):
    other = Store(url)
    try:
        ada = store.learner("Ada")
        assert other.learner("Ada") == ada
        a = other.open_attempt(ada, CASE)
        store.save_stage(a.id, {"q1": "mtx"}, 1)
        other.save_stage(a.id, {"q2": "tb"}, 2)
        assert store.open_attempt(ada, CASE) == other.attempt(a.id)
        assert store.attempt(a.id).answers == {"q1": "mtx", "q2": "tb"}
        other.complete(a.id, 80.0, {})
        assert store.class_summary(CASE) == [80.0]
    finally:
        other.close()


def test_concurrent_writers_lose_nothing(store, url):
    """Two Stores (as two server processes would) write at once, to one attempt and to others."""
    other = Store(url)
    try:
        ada, bob = store.learner("Ada"), store.learner("Bob")
        shared = store.open_attempt(ada, CASE).id
        errors: list[BaseException] = []

        def work(s: Store, tag: str, learner: int) -> None:
            try:
                own = s.open_attempt(learner, f"{CASE}-{tag}").id
                for i in range(25):
                    s.save_stage(shared, {f"{tag}{i}": i}, i)
                    s.save_stage(own, {f"q{i}": tag}, i)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [
            threading.Thread(target=work, args=(store, "a", ada)),
            threading.Thread(target=work, args=(other, "b", bob)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        answers = store.attempt(shared).answers
        assert answers == {f"{tag}{i}": i for tag in "ab" for i in range(25)}
        assert store.attempt(shared).stages_submitted == 24
        assert [r.case_id for r in store.progress(bob)] == [f"{CASE}-b"]
    finally:
        other.close()
