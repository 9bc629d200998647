"""A room writes at once on SQLite (issue 7, "One machine serves a room"): real server processes, each
drawing pages while its learners' writes arrive within a moment, all on one SQLite file. Every write
arrives exactly once, none fails and none waits past the store's bound.

Found by bench/bench_load.py with 100 learners arriving within 2 s on two processes: SQLite's busy
handler sleeps between tries (1 ms growing to 100 ms), so the write lock often sat free while every
waiter slept, a few writers waited past BUSY_TIMEOUT_S and their learners were told that progress was not
being saved (1 error, 3 answers lost). The store now serves a process's writers in turn (WriteGate) and
only the first of each process polls SQLite's lock; these tests pin both."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from dashboard import store_base
from dashboard.store import AnswerInput, Store
from dashboard.store_base import BUSY_TIMEOUT_S, WriteBusy, WriteGate

PROCESSES = 3  # server processes on one machine
LEARNERS = 6  # learners per process, each its own thread (as Streamlit runs a script per session)
PAGES = 1  # threads per process drawing pages meanwhile
STAGES = 4  # stages each learner submits
CASE = "case-burst"


def _draw_pages(stop: threading.Event) -> None:
    """Python work holding the interpreter lock, as a process drawing pages for a room does; a thread
    inside a write transaction needs that lock back after every SQLite call."""
    while not stop.is_set():
        sum(range(20_000))


def _a_room_in_one_process(url: str, process: int, ready: Any, go: Any, out: Any) -> None:
    """One server process: LEARNERS learners sign in, open the case and submit every stage, all
    starting within the same 0.3 s as the other processes' learners."""
    store = Store(url)
    stop = threading.Event()
    pages = [threading.Thread(target=_draw_pages, args=(stop,), daemon=True) for _ in range(PAGES)]
    errors: list[str] = []
    slowest: list[float] = []
    attempts: dict[str, int] = {}

    def timed(call: Any) -> Any:
        start = time.monotonic()
        try:
            return call()
        finally:
            slowest.append(time.monotonic() - start)

    def learner(index: int) -> None:
        name = f"p{process}-l{index}"
        go.wait()
        time.sleep(index * 0.03)
        try:
            learner_id = timed(lambda: store.oidc_learner(f"{name}@example.org"))
            attempt = timed(lambda: store.open_attempt(learner_id, CASE)).id
            attempts[name] = attempt
            for stage in range(STAGES):
                record = AnswerInput(f"q{stage}", stage, "next_step", name, "recommended", [], 1.0, 1.0, 1.0)
                timed(
                    lambda stage=stage, record=record: store.save_stage(
                        attempt, {f"q{stage}": name}, stage + 1, [record], learner_id=learner_id
                    )
                )
            timed(lambda: store.complete(attempt, 100.0, {}))
        except Exception as exc:  # reported by the test
            errors.append(f"{name}: {exc.__class__.__name__}: {exc}")

    for page in pages:
        page.start()
    learners = [threading.Thread(target=learner, args=(i,)) for i in range(LEARNERS)]
    for thread in learners:
        thread.start()
    ready.put(process)
    for thread in learners:
        thread.join()
    stop.set()
    store.close()
    out.put((errors, max(slowest, default=0.0), attempts))


def test_a_room_of_processes_writing_at_once_loses_nothing_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'room.db'}"
    Store(url).close()  # the schema, as the first server process to start makes it
    # A new process would run the parent's __main__ again, which AppTest tests leave as the app's script.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")  # real processes, each with its own interpreter
    ready, go, out = context.Queue(), context.Event(), context.Queue()
    processes = [
        context.Process(target=_a_room_in_one_process, args=(url, p, ready, go, out))
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=60)
        started = time.monotonic()
        go.set()  # the room arrives
        results = [out.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
    print(
        f"the room wrote in {time.monotonic() - started:.1f} s; slowest write {max(s for _, s, _ in results):.2f} s"
    )
    errors = [e for found, _, _ in results for e in found]
    slowest = max(s for _, s, _ in results)
    attempts = {name: a for _, _, found in results for name, a in found.items()}
    assert errors == []
    assert slowest < BUSY_TIMEOUT_S, f"a write waited {slowest:.2f} s"
    assert len(attempts) == PROCESSES * LEARNERS
    store = Store(url)
    try:
        for name, attempt_id in attempts.items():
            attempt = store.attempt(attempt_id)
            assert attempt.answers == {f"q{s}": name for s in range(STAGES)}
            assert attempt.stages_submitted == STAGES and attempt.total == 100.0
            records = store.answers(attempt_id)
            assert [(r.question_id, r.answer) for r in records] == [(f"q{s}", name) for s in range(STAGES)]
        assert len(store.class_summary(CASE)) == PROCESSES * LEARNERS  # no attempt twice
    finally:
        store.close()


# ------------------------------------------------------------------------------------- the write gate
def _queued(gate: WriteGate, waiting: int) -> None:
    """Wait until `waiting` writers are queued at the gate."""
    for _ in range(500):
        if len(gate._queue) == waiting:
            return
        time.sleep(0.002)
    raise AssertionError(f"{len(gate._queue)} writers queued, expected {waiting}")


def test_the_write_gate_lets_writers_through_one_at_a_time_in_arrival_order() -> None:
    gate = WriteGate()
    assert gate.acquire(time.monotonic() + 1)  # free: taken at once
    order: list[int] = []
    inside = 0
    most_inside = 0

    def writer(n: int) -> None:
        nonlocal inside, most_inside
        assert gate.acquire(time.monotonic() + 10)
        inside += 1
        most_inside = max(most_inside, inside)
        order.append(n)
        time.sleep(0.005)  # the write, during which the next writers keep waiting
        inside -= 1
        gate.release()

    threads = []
    for n in range(8):  # each arrives once the previous one is queued
        threads.append(threading.Thread(target=writer, args=(n,)))
        threads[-1].start()
        _queued(gate, n + 1)
    gate.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert most_inside == 1
    assert gate.acquire(time.monotonic())  # free again once the last one left
    gate.release()


def test_a_writer_past_its_deadline_leaves_the_queue_and_is_never_handed_the_gate() -> None:
    gate = WriteGate()
    assert gate.acquire(time.monotonic() + 1)
    results: dict[str, tuple[bool, float]] = {}

    def writer(name: str, wait_s: float) -> None:
        start = time.monotonic()
        got = gate.acquire(start + wait_s)
        results[name] = (got, time.monotonic() - start)
        if got:
            gate.release()

    impatient = threading.Thread(target=writer, args=("impatient", 0.2))
    impatient.start()
    _queued(gate, 1)
    patient = threading.Thread(target=writer, args=("patient", 10))
    patient.start()
    _queued(gate, 2)
    impatient.join()
    got, waited = results["impatient"]
    assert not got and 0.2 <= waited < 1.0  # refused at its deadline, not before, not much after
    _queued(gate, 1)  # it left the queue; the patient one is still waiting
    gate.release()  # handed to the patient writer, not to the one that gave up
    patient.join()
    assert results["patient"][0]
    assert gate.acquire(time.monotonic())
    gate.release()


# ------------------------------------------------------------------------- busy is not down (SQLite)
@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(store_base, "BUSY_TIMEOUT_S", 0.5)  # the bound, shortened for the test
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.close()


def test_a_write_that_waits_its_bound_behind_this_process_writers_is_busy_not_down(
    sqlite_store: Store,
) -> None:
    """A writer of this process holds the gate past the bound: the one behind it gives up with WriteBusy
    within the bound, the store is not marked down (nobody else is refused) and the next write works."""
    store = sqlite_store
    learner_id = store.oidc_learner("ada@example.org")
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with store._transaction(write=True):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=long_write)
    holder.start()
    assert holding.wait(5)
    start = time.monotonic()
    with pytest.raises(WriteBusy):
        store.open_attempt(learner_id, CASE)
    assert 0.5 <= time.monotonic() - start < 1.5
    assert store.health.ok and not store.health.waiting()
    release.set()
    holder.join()
    assert store.open_attempt(learner_id, CASE).learner_id == learner_id


def test_a_write_lock_nobody_lets_go_of_marks_the_store_down_within_the_bound(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Another process holds SQLite's write lock and commits nothing: that is a database that does not
    answer, so the write fails within the bound and the store backs off (the pages say so)."""
    import sqlite3

    store = sqlite_store
    learner_id = store.oidc_learner("ada@example.org")
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        start = time.monotonic()
        with pytest.raises(Exception) as failed:
            store.open_attempt(learner_id, CASE)
        assert 0.5 <= time.monotonic() - start < 1.5
        assert not isinstance(failed.value, WriteBusy)
        assert not store.health.ok and store.health.waiting()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_read_transaction_cannot_write_past_the_gate(sqlite_store: Store) -> None:
    """Every write goes through a write transaction (the gate); one sent in a read transaction is refused."""
    from sqlalchemy import text
    from sqlalchemy.exc import InvalidRequestError

    with pytest.raises(InvalidRequestError), sqlite_store._transaction() as s:
        s.execute(text("INSERT INTO auth_failures (key, failed_at) VALUES ('x', CURRENT_TIMESTAMP)"))
    sqlite_store.check_rate("x", 1, 60)  # nothing was written: one failure would be the limit
