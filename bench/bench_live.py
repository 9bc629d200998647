"""Live sessions under a room's load, against the store on SQLite and on PostgreSQL.

    python bench/bench_live.py                       # the room and the refresh, both backends
    python bench/bench_live.py --learners 300 --database postgres
    python bench/bench_live.py --idle 100            # also: server CPU per idle phone (real server)

1. **The room.** A presenter starts a session of the myositis case and 300 seats join; the presenter
   opens the first question; the 300 learners answer it within 5 s (each at a random moment of those
   5 s, a quarter of them changing their answer once a moment later), through ``Store.act`` as the app
   does, from two processes (two app servers) of 8 threads each. Afterwards the store is read back:
   **answers lost** (a learner whose last answer is not their seat's vote), **answers doubled** (more
   than one vote of a seat in the round), and whether **the presenter's counts** (answered, the bars of
   the histogram) equal what was sent. Times: each answer's call, p50 and p95, and the wall time.
2. **The refresh.** With those 300 seats and their answers: the refresh query every page runs each
   second (``live_version``, one primary-key read) and the presenter's redraw reads (the session, the
   seats, the question's votes), median and p95 of 500 / 100 runs, next to a floor measured in the same
   run: ``SELECT 1`` in a store transaction.
3. **Idle phones** (``--idle N``): a real app server (``streamlit run``), N phones joined to a session
   and connected over Streamlit's websocket protocol (the client of bench/bench_load.py), each sitting
   on the question page with its refresh fragment running as a browser runs it (a rerun of the fragment
   every 2 s). The server's CPU time over 30 s, per idle phone, next to the same server with no phone.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from dashboard.live.room import CaseGrader, answered, room_bars  # noqa: E402
from dashboard.store import Store  # noqa: E402
from dashboard.store_live import Actor, GiveAnswer, OpenQuestion, Refused  # noqa: E402
from logic import load_knowledge_base, load_library, stage_plans  # noqa: E402
from tests.dashboard.postgres import throwaway_database  # noqa: E402

CASE_ID = "myositis-after-failed-immunosuppression"
WINDOW_S = 5.0
PROCESSES = 2
THREADS = 8
CHANGE_SHARE = 0.25


def grader() -> CaseGrader:
    kb = load_knowledge_base()
    case = load_library([REPO / "cases"], kb).cases[CASE_ID].case
    return CaseGrader(case, kb, stage_plans(case, kb))


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# ------------------------------------------------------------------------------------------ the room
def _answer_worker(
    url: str, session_id: int, plan: list[tuple[float, str, str]], start: float, out: Any
) -> None:
    """One app server: its own Store, 8 threads, each answer at its moment (seconds after start)."""
    store = Store(url)
    g = grader()
    question = g.case.stages[0].questions[0].id
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(item: tuple[float, str, str]) -> None:
        at, token, option = item
        delay = start + at - time.time()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        try:
            store.act(session_id, Actor("guest", token), GiveAnswer(question, option), g)
        except (Refused, Exception) as exc:  # every failure is counted
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        with lock:
            latencies.append(time.perf_counter() - t0)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, sorted(plan)))
    store.close()
    out.put((latencies, errors))


def room(url: str, learners: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    g = grader()
    question = g.case.stages[0].questions[0]
    options = list(question.offered())
    store = Store(url)
    session = store.start_live(Actor("faculty"), CASE_ID)
    seats = [store.join_live(session.id, None, f"bench {i:03}") for i in range(learners)]
    store.act(session.id, Actor("faculty"), OpenQuestion(question.id), g)

    # Each learner's answers: one at a random moment of the window; some change it a moment later.
    final: dict[int, str] = {}
    plans: list[list[tuple[float, str, str]]] = [[] for _ in range(PROCESSES)]
    for i, (seat, token) in enumerate(seats):
        first_at = rng.uniform(0, WINDOW_S * 0.8)
        option = rng.choice(options)
        plans[i % PROCESSES].append((first_at, token, option))
        final[seat.id] = option
        if rng.random() < CHANGE_SHARE:
            other = rng.choice([o for o in options if o != option])
            plans[i % PROCESSES].append((rng.uniform(first_at + 0.2, WINDOW_S), token, other))
            final[seat.id] = other
    sent = sum(len(p) for p in plans)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 3.0  # the workers import and connect first
    workers = [ctx.Process(target=_answer_worker, args=(url, session.id, p, start, out)) for p in plans]
    for w in workers:
        w.start()
    results = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    wall = time.time() - start
    latencies = [x for r in results for x in r[0]]
    errors = [x for r in results for x in r[1]]

    votes = store.live_votes(session.id, question.id)
    by_seat: dict[int, list[Any]] = {}
    for v in votes:
        by_seat.setdefault(v.seat_id, []).append(v.answer)
    lost = sum(1 for seat_id, option in final.items() if by_seat.get(seat_id, [None])[-1] != option)
    doubled = sum(1 for answers in by_seat.values() if len(answers) > 1)
    bars = room_bars(question, votes, g)
    expected = {o: sum(1 for x in final.values() if x == o) for o in options}
    counts_exact = answered(votes, 1) == learners and {b.key: b.counts[-1] for b in bars} == expected
    store.close()
    return {
        "learners": learners,
        "calls": sent,
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "wall_s": wall,
        "errors": errors,
        "lost": lost,
        "doubled": doubled,
        "counts_exact": counts_exact,
        "session_id": session.id,
        "question_id": question.id,
    }


# --------------------------------------------------------------------------------------- the refresh
def refresh(url: str, session_id: int, question_id: str) -> dict[str, float]:
    store = Store(url)

    def timed(call: Any, n: int) -> list[float]:
        for _ in range(10):
            call()
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    def floor() -> None:
        with store._transaction() as s:
            s.execute(text("SELECT 1"))

    def redraw() -> None:
        store.live_session(session_id)
        store.live_seats(session_id)
        store.live_votes(session_id, question_id)

    floor_ms = timed(floor, 500)
    version_ms = timed(lambda: store.live_version(session_id), 500)
    redraw_ms = timed(redraw, 100)
    store.close()
    return {
        "floor_p50": statistics.median(floor_ms),
        "version_p50": statistics.median(version_ms),
        "version_p95": pct(version_ms, 95),
        "redraw_p50": statistics.median(redraw_ms),
        "redraw_p95": pct(redraw_ms, 95),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--idle", type=int, default=0, help="idle phones for the CPU measurement (0: skip)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print(
        "| database | learners | answer calls in 5 s | answer p50 | answer p95 | errors | lost | doubled | "
        "presenter's counts | refresh query p50 / p95 | redraw reads p50 / p95 | floor (SELECT 1) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    for kind in kinds:
        with throwaway_database(kind) as url:
            r = room(url, args.learners)
            f = refresh(url, r["session_id"], r["question_id"])
        ok = not r["errors"] and r["lost"] == 0 and r["doubled"] == 0 and r["counts_exact"]
        failed |= not ok
        print(
            f"| {kind} | {r['learners']} | {r['calls']} (done in {r['wall_s']:.1f} s) | {r['p50_ms']:.1f} ms | "
            f"{r['p95_ms']:.1f} ms | {len(r['errors'])} | {r['lost']} | {r['doubled']} | "
            f"{'exact' if r['counts_exact'] else 'WRONG'} | {f['version_p50']:.2f} / {f['version_p95']:.2f} ms "
            f"({f['version_p50'] / f['floor_p50']:.2f}× floor) | {f['redraw_p50']:.1f} / {f['redraw_p95']:.1f} ms | "
            f"{f['floor_p50']:.2f} ms |"
        )
        for e in r["errors"][:5]:
            print(f"  error: {e}")
    if args.idle:
        from bench_live_idle import idle_cpu  # noqa: PLC0415 (needs a real server and the protocol client)

        idle_cpu(args.idle)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
