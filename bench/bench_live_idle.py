"""Server CPU per idle phone in a live session, with the phones' refresh fragment running.

    python bench/bench_live_idle.py --phones 100          # or: python bench/bench_live.py --idle 100

A real app server (``streamlit run``, one process, SQLite) serves a session of the myositis case with
its first question open. N phones, joined through the store, connect over Streamlit's websocket
protocol with the client of bench/bench_load.py and open ``/live?seat=<token>``: each page draws the
open question and its refresh fragment, and the server sends the fragment's ``auto_rerun`` (every 2 s).
Each phone then does what a browser does with it: it asks for a rerun of that fragment at that
interval, and reads the answer. Nothing changes in the session, so each refresh is the fragment's one
primary-key read and nothing else: the idle cost of a connected phone.

The server's CPU time (user + system, /proc) is measured over ``--seconds`` with the phones connected
and idle, next to the same server over the same time with no phone (the floor), and reported per
phone as a share of one core and per refresh in milliseconds. Then the presenter opens the next
question: the time until each phone has redrawn its page with it (its refresh sees the presenter's
counter move and reruns the page).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import websockets  # noqa: E402
from bench_load import StreamlitSession, _cpu_seconds, single  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from dashboard.live.room import CaseGrader  # noqa: E402
from dashboard.store import Store  # noqa: E402
from dashboard.store_live import Actor, OpenQuestion  # noqa: E402
from logic import load_knowledge_base, load_library, stage_plans  # noqa: E402
from tests.ports import free_ports  # noqa: E402

CASE_ID = "myositis-after-failed-immunosuppression"
TIMEOUT_S = 120


class Tap:
    """The websocket, noting the fragments the server asks the browser to rerun, and how often."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.auto: dict[str, float] = {}

    async def send(self, data: bytes) -> None:
        await self.ws.send(data)

    async def recv(self) -> bytes:
        raw: bytes = await self.ws.recv()
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "auto_rerun":
            self.auto[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        return raw


async def fragment_rerun(session: StreamlitSession, fragment_id: str) -> bool:
    """What a browser sends when a fragment's run_every comes round; reads to the end of that run, and
    of the page's full run when the fragment saw the session move (``st.rerun``). True in that case."""
    state = ClientState(
        query_string=session.query_string,
        page_name=session.page_name,
        page_script_hash=session.page_script_hash,
        fragment_id=fragment_id,
        is_auto_rerun=True,
    )
    state.widget_states.widgets.extend(session.widgets.values())
    await session.ws.send(BackMsg(rerun_script=state).SerializeToString())
    redrawn = False
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await asyncio.wait_for(session.ws.recv(), timeout=TIMEOUT_S))
        if msg.WhichOneof("type") == "script_finished":
            if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                redrawn = True  # the page's full run follows
                continue
            return redrawn


@dataclass
class Phones:
    drawn: list[int] = field(default_factory=list)
    refreshes: list[int] = field(default_factory=list)
    redrawn_at: list[float] = field(default_factory=list)  # when a phone finished redrawing its page


async def phone(base_url: str, token: str, until: float, room: Phones, ready: asyncio.Event) -> None:
    headers = {"Origin": base_url}
    ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(
        ws_url, subprotocols=["streamlit"], additional_headers=headers, max_size=None, open_timeout=60
    ) as ws:  # type: ignore[arg-type]
        tap = Tap(ws)
        session = StreamlitSession(tap)
        session.go("live", f"seat={token}")
        await session.rerun()
        if not tap.auto:
            raise RuntimeError("the phone's page has no refresh fragment")
        room.drawn.append(1)
        await ready.wait()
        (fragment_id, interval), *_ = tap.auto.items()
        next_at = time.monotonic() + interval * (hash(token) % 1000) / 1000  # phones are not in step
        while time.monotonic() < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if await fragment_rerun(session, fragment_id):
                room.redrawn_at.append(time.monotonic())
                fragment_id, interval = next(iter(tap.auto.items()))  # the redrawn page's fragment
            room.refreshes.append(1)
            next_at += interval


async def measure(
    base_url: str, tokens: list[str], pids: list[int], seconds: float, open_next: Callable[[], None] | None
) -> tuple[float, int, list[float]]:
    """Connect every phone, let each draw its page, measure the server over ``seconds`` of idling; then
    (open_next) the presenter opens the next question: how long until each phone has redrawn."""
    ready = asyncio.Event()
    room = Phones()
    until = time.monotonic() + 3600
    tasks = [asyncio.create_task(phone(base_url, t, until, room, ready)) for t in tokens]
    while len(room.drawn) < len(tokens):
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise RuntimeError(f"a phone failed: {failed[0].exception()!r}")
        await asyncio.sleep(0.2)
    ready.set()
    await asyncio.sleep(3)  # into the steady state
    room.refreshes.clear()
    cpu0 = _cpu_seconds(pids)
    await asyncio.sleep(seconds)
    cpu = _cpu_seconds(pids) - cpu0
    refreshes = len(room.refreshes)
    reactions: list[float] = []
    if open_next is not None:
        opened = time.monotonic()
        await asyncio.to_thread(open_next)
        deadline = opened + 60
        while len(room.redrawn_at) < len(tokens) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        reactions = sorted(t - opened for t in room.redrawn_at)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return cpu, refreshes, reactions


def idle_cpu(phones: int, seconds: float = 30.0) -> None:
    kb = load_knowledge_base()
    case = load_library([REPO / "cases"], kb).cases[CASE_ID].case
    grader = CaseGrader(case, kb, stage_plans(case, kb))
    with tempfile.TemporaryDirectory(prefix="myotutor-idle-") as folder:
        url = f"sqlite:///{folder}/idle.db"
        store = Store(url)
        session = store.start_live(Actor("faculty"), CASE_ID)
        tokens = [store.join_live(session.id, None, f"idle {i:03}")[1] for i in range(phones)]
        store.act(session.id, Actor("faculty"), OpenQuestion(case.stages[0].questions[0].id), grader)
        store.close()
        [port] = free_ports(1)
        second = case.stages[0].questions[1].id

        def open_next() -> None:
            presenter = Store(url)
            presenter.act(session.id, Actor("faculty"), OpenQuestion(second), grader)
            presenter.close()

        with single(port, {"MYOTUTOR_DATABASE_URL": url}, REPO) as served:
            asyncio.run(measure(served.url, tokens[:1], served.pids, 1, None))  # warm-up: imports, library
            cpu0 = _cpu_seconds(served.pids)
            time.sleep(seconds)
            floor = _cpu_seconds(served.pids) - cpu0
            cpu, refreshes, reactions = asyncio.run(
                measure(served.url, tokens, served.pids, seconds, open_next)
            )
    per_phone = (cpu - floor) / seconds / phones
    print(
        f"\nIdle phones: {phones} connected for {seconds:.0f} s, {refreshes} fragment refreshes "
        f"({refreshes / seconds:.1f}/s). Server CPU {cpu:.2f} s (no phone: {floor:.2f} s) -> "
        f"{per_phone * 100:.2f} % of a core per idle phone, "
        f"{(cpu - floor) / max(1, refreshes) * 1000:.1f} ms of CPU per refresh; "
        f"one core holds about {int(1 / per_phone) if per_phone > 0 else 0} idle phones."
    )
    if reactions:
        print(
            f"The presenter opens the next question: {len(reactions)} of {phones} phones redrawn with it, "
            f"median {statistics.median(reactions):.1f} s, p95 {reactions[int(0.95 * (len(reactions) - 1))]:.1f} s, "
            f"last {reactions[-1]:.1f} s (each phone's refresh comes round within 2 s)."
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    idle_cpu(args.phones, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
