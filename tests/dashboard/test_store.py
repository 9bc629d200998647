"""The store, on an SQLite file and on a real (throwaway) PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from dashboard.store import REPO, AnswerInput, NameTaken, RateLimited, Store, database_url

from .conftest import learner

CASE, OTHER = "case-a", "case-b"


def test_database_url(monkeypatch):
    monkeypatch.delenv("MYOTUTOR_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{REPO / 'myotutor.db'}"
    monkeypatch.setenv("MYOTUTOR_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"


def test_a_named_learner_resumes_only_with_their_code(store):
    ada, code = store.new_named_learner("  Ada   Lovelace \n")
    assert store.learner_info(ada).name == "Ada Lovelace"
    assert store.resume_named("ada lovelace", code) == ada  # names match case-insensitively
    assert store.resume_named("ADA  LOVELACE", code.lower()[:5] + "-" + code[5:]) == ada  # any case, hyphen
    assert store.resume_named("Ada Lovelace", "WRONGCODE1") is None
    assert store.resume_named("Grace", code) is None  # a code opens only its own name
    assert store.learner_info(ada).has_code and store.learner_info(ada).kind == "named"


def test_a_taken_name_is_refused_in_any_case(store):
    store.new_named_learner("Ada")
    for name in ("Ada", "ADA", " ada "):
        with pytest.raises(NameTaken):
            store.new_named_learner(name)
    assert store.new_named_learner("Bob")[0] != store.new_named_learner("x" * 80)[0]


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, None, 42])
def test_invalid_names_refused(store, name):
    with pytest.raises(ValueError, match="1 to 80 characters"):
        store.new_named_learner(name)


def test_wrong_codes_are_rate_limited_per_name_across_stores(store, url):
    _, code = store.new_named_learner("Ada")
    other = Store(url)  # another server process
    try:
        for _ in range(3):
            assert store.resume_named("Ada", "AAAAAAAAAA", limit=5) is None
        for _ in range(2):
            assert other.resume_named("ada", "BBBBBBBBBB", limit=5) is None
        with pytest.raises(RateLimited) as limited:
            store.resume_named("Ada", code, limit=5)  # even the right code waits now
        assert 0 < limited.value.retry_after <= 900
        store.new_named_learner("Bob")
        assert store.resume_named("Bob", "CCCCCCCCCC", limit=5) is None  # another name is not limited
    finally:
        other.close()


def test_oidc_learner_by_email(store):
    ada = store.oidc_learner("Ada@Example.org", "Ada L.")
    assert store.oidc_learner("ada@example.org", "Ada Lovelace") == ada
    info = store.learner_info(ada)
    assert (info.kind, info.email, info.name, info.has_code) == (
        "oidc",
        "ada@example.org",
        "Ada Lovelace",
        False,
    )
    store.new_named_learner("Ada Lovelace")  # display names are not identities
    with pytest.raises(ValueError):
        store.oidc_learner("not-an-email")


def test_sign_in_sessions(store):
    ada, _ = store.new_named_learner("Ada")
    token = store.start_session("learner", ada)
    assert store.session(token).role == "learner" and store.session(token).learner_id == ada
    faculty = store.start_session("faculty", None)
    assert store.session(faculty).role == "faculty" and store.session(faculty).learner_id is None
    assert store.session("forged") is None and store.session("") is None
    store.end_session(token)
    assert store.session(token) is None
    expired = store.start_session("learner", ada, days=-1)
    assert store.session(expired) is None
    store.start_session("faculty", None)  # a new sign-in clears the expired ones away
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sign_in_sessions")).scalar() == 2
    with pytest.raises(ValueError):
        store.start_session("admin", None)
    with pytest.raises(ValueError):
        store.start_session("learner", None)


def test_issue_resume_code(store):
    ada, old = store.new_named_learner("Ada")
    new = store.issue_resume_code(ada)
    assert store.resume_named("Ada", old) is None and store.resume_named("Ada", new) == ada
    with pytest.raises(ValueError):
        store.issue_resume_code(store.oidc_learner("b@example.org"))


def test_delete_learner_removes_everything_about_them(store):
    ada, bob = learner(store, "Ada"), learner(store, "Bob")
    cohort = store.create_cohort("Year 4")
    for who in (ada, bob):
        store.join_cohort(who, cohort.join_code)
        a = store.open_attempt(who, CASE, cohort.id)
        store.save_stage(a.id, {"q1": "x"}, 1, [AnswerInput("q1", 0, "next_step", "x", "recommended")])
        store.start_session("learner", who)
    store.delete_learner(ada)
    with pytest.raises(KeyError):
        store.learner_info(ada)
    assert [m.learner_id for m in store.members(cohort.id)] == [bob]
    assert store.progress(ada) == []
    with store.engine.connect() as conn:
        for table in ("attempts", "answer_records", "cohort_members", "sign_in_sessions"):
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE learner_id = {ada}")).scalar() == 0
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE learner_id = {bob}")).scalar() == 1


def test_open_attempt_resumes_unfinished(store):
    ada = learner(store, "Ada")
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
    ada = learner(store, "Ada")
    first = store.open_attempt(ada, CASE)
    store.save_stage(first.id, {"q1": "mtx"}, 1)
    store.complete(first.id, 75.0, {"escalation": 75.0})
    done = store.attempt(first.id)
    assert done.total == 75.0 and done.completed_at is not None
    assert done.completed_at.tzinfo is not None and done.completed_at.utcoffset().total_seconds() == 0
    fresh = store.open_attempt(ada, CASE)
    assert fresh.id != first.id and fresh.answers == {} and fresh.stages_submitted == 0


def test_save_stage_merges_and_never_overwrites(store):
    ada = learner(store, "Ada")
    a = store.open_attempt(ada, CASE)
    store.save_stage(a.id, {"q1": "mtx", "dose": 15.0}, 1)
    store.save_stage(a.id, {"q1": "ivig", "q3": "reflect", "q4": ["a", "b"]}, 2)
    assert store.attempt(a.id).answers == {"q1": "mtx", "dose": 15.0, "q3": "reflect", "q4": ["a", "b"]}


def test_stages_submitted_never_decreases(store):
    a = store.open_attempt(learner(store, "Ada"), CASE)
    store.save_stage(a.id, {}, 3)
    store.save_stage(a.id, {"q9": "x"}, 1)
    got = store.attempt(a.id)
    assert got.stages_submitted == 3 and got.answers == {"q9": "x"}
    with pytest.raises(ValueError):
        store.save_stage(a.id, {}, -1)


def test_complete_sets_totals_and_is_final(store):
    a = store.open_attempt(learner(store, "Ada"), CASE)
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
    ada = learner(store, "Ada")
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
    ada = learner(store, "Ada")
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
        a = store.open_attempt(learner(store, name), CASE)
        store.complete(a.id, total, {})
    store.open_attempt(learner(store, "Dee"), CASE)  # unfinished: not counted
    e = store.open_attempt(learner(store, "Eve"), OTHER)
    store.complete(e.id, 10.0, {})
    assert store.class_summary(CASE) == [70.0, 90.0, 55.5]
    assert store.class_summary(OTHER) == [10.0]
    assert store.class_summary("unknown") == []


def test_learners_are_isolated(store):
    ada, bob = learner(store, "Ada"), learner(store, "Bob")
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
    ada = learner(store, "Ada")
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
        ada = learner(store, "Ada")
        assert other.learner_info(ada).name == "Ada"
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
        ada, bob = learner(store, "Ada"), learner(store, "Bob")
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


def test_answer_records_are_written_exactly_once_by_concurrent_writers(store, url):
    """Four writers (two Stores, as two server processes, two threads each) submit the same stage of
    one attempt at once, and records of their own attempts: one record per attempt and question."""
    stores = [store, Store(url)]
    try:
        ada = learner(store, "Ada")
        shared = store.open_attempt(ada, CASE).id
        records = [
            AnswerInput(f"q{i}", 0, "next_step", "ivig", "recommended", [], 1.0, 1.0, 1.0) for i in range(10)
        ]
        errors: list[BaseException] = []
        barrier = threading.Barrier(4)

        def work(s: Store, tag: str) -> None:
            try:
                own = s.open_attempt(learner(s, f"L{tag}"), CASE).id
                barrier.wait()
                for _ in range(5):
                    s.save_stage(shared, {r.question_id: "ivig" for r in records}, 1, records)
                    s.save_stage(own, {"q1": tag}, 1, records[:1])
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(stores[i % 2], str(i))) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        rows = store.answers(shared)
        assert sorted(r.question_id for r in rows) == sorted(r.question_id for r in records)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM answer_records")).scalar() == 10 + 4
    finally:
        stores[1].close()


def test_a_record_belongs_to_its_attempts_learner(store):
    ada, bob = learner(store, "Ada"), learner(store, "Bob")
    a = store.open_attempt(ada, CASE)
    with pytest.raises(KeyError):
        store.save_stage(a.id, {"q1": "x"}, 1, [], learner_id=bob)
    with pytest.raises(ValueError):
        store.save_stage(a.id, {"q1": "x"}, 1, [AnswerInput("q1", 0, "dose", float("nan"), None)])
    with pytest.raises(ValueError):
        store.save_stage(a.id, {"q1": "x"}, 1, [AnswerInput("q1", 0, "next_step", "x", None, certainty=7)])
    assert store.answers(a.id) == [] and store.attempt(a.id).answers == {}
