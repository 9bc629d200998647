"""Load: N simulated learners over Streamlit's own websocket protocol, against real server processes.

    python bench/bench_load.py                                    # the full matrix (see below)
    python bench/bench_load.py --learners 100 --processes 2 --database postgres
    python bench/bench_load.py --app-dir /tmp/main-snapshot      # the same load on another checkout

Browsers would saturate the machine before the server; these learners speak the browser's protocol
instead: each opens ``/_stcore/stream`` (through nginx for two processes, with the sticky cookie from
a first GET of the page, as a browser), sends the protobuf ``BackMsg`` a browser sends (a
``rerun_script`` ``ClientState`` with the page, the query string and every widget's state) and reads
the ``ForwardMsg``s until ``script_finished``. Each learner:

1. opens the S2 case in the player (``/player?case=...``): the time to the end of that run is the
   **time to open a case**;
2. signs up with a name on the account page (a learner in the store, with a resume code) and comes
   back to the case, which resumes;
3. answers stage 1 with the logic's best answers and submits the stage's form: the time to the end of
   that run, whose elements must hold the feedback, is the **time to feedback**.

Learners start spread over ``--ramp`` seconds and pause ``--think`` seconds (uniform) between actions,
as a room does when told "open the case now". Afterwards the store is read back: a learner shown
feedback whose stage-1 answers are not stored exactly as sent counts as an **answer lost**; a learner
with a failed connection, an exception element, a timeout or no feedback counts as an **error**.
**Server CPU per learner** is the user + system CPU time the app processes (and nginx) spent during
the measured run (``/proc/<pid>/stat``), divided by the number of learners; each process serves one
warm-up learner before the run, as a faculty member opens the app before the room does.

The matrix: N = 25, 50, 100 on SQLite and on PostgreSQL (a throwaway server, as the tests start),
one process (direct) and two processes (through deploy/nginx.conf, started by deploy/serve.py).
Figures go in the README's Performance section and bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import websockets  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from dashboard.player.answers import keys_for  # noqa: E402
from dashboard.questions import view_of  # noqa: E402
from dashboard.questions.render import state_with_certainty  # noqa: E402
from deploy.serve import backend_command, healthy, room  # noqa: E402
from logic import best_answers, load_library  # noqa: E402
from tests.context import KB  # noqa: E402
from tests.dashboard.postgres import throwaway_database  # noqa: E402
from tests.ports import free_ports  # noqa: E402

CASE_ID = "myositis-after-failed-immunosuppression"
RUN_TIMEOUT_S = 180
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------------------- a learner


class ProtocolError(RuntimeError):
    pass


@dataclass
class Run:
    seconds: float
    elements: list[tuple[str, Any]]  # (element type, its proto) of every element the run sent


class StreamlitSession:
    """One browser tab's session, spoken over the websocket like Streamlit's frontend does."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.page_name = ""
        self.page_script_hash = ""
        self.query_string = ""
        self.widgets: dict[str, WidgetState] = {}  # the frontend sends every widget's state on a rerun
        self.elements: list[tuple[str, Any]] = []

    async def rerun(self, triggers: list[WidgetState] = ()) -> Run:  # type: ignore[assignment]
        state = ClientState(
            query_string=self.query_string, page_name=self.page_name, page_script_hash=self.page_script_hash
        )
        state.widget_states.widgets.extend([*self.widgets.values(), *triggers])
        start = time.perf_counter()
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        elements: list[tuple[str, Any]] = []
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=RUN_TIMEOUT_S)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "navigation":
                self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                element_type = element.WhichOneof("type") or ""
                elements.append((element_type, getattr(element, element_type, None)))
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue
                if status != "FINISHED_SUCCESSFULLY":
                    raise ProtocolError(f"script run ended {status}")
                break
        self.elements = elements
        for element_type, proto in elements:
            if element_type == "exception":
                raise ProtocolError(f"exception on the page: {proto.message[:200]}")
        return Run(time.perf_counter() - start, elements)

    def widget(self, element_type: str, key: str) -> Any:
        """The proto of the widget with this user key, from the last run."""
        for kind, proto in self.elements:
            if kind == element_type and getattr(proto, "id", "").endswith("-" + key):
                return proto
        raise ProtocolError(f"no {element_type} with key {key!r} on the page")

    def go(self, page_name: str, query_string: str = "") -> None:
        """Navigate, as a click in the sidebar or a link does: another page, its own widgets."""
        self.page_name, self.page_script_hash, self.query_string = page_name, "", query_string
        self.widgets = {}

    def submit_button(self, label_start: str) -> Any:
        for kind, proto in self.elements:
            if kind == "button" and proto.is_form_submitter and proto.label.startswith(label_start):
                return proto
        raise ProtocolError(f"no form button {label_start!r} on the page")

    def set_answer(self, key: str, value: Any) -> None:
        """Give the widget with this key the value a learner would (as the browser sends it: a radio or a
        selectbox sends its option's label)."""
        for kind in ("radio", "checkbox", "number_input", "text_area", "selectbox"):
            for element_type, proto in self.elements:
                if element_type != kind or not getattr(proto, "id", "").endswith("-" + key):
                    continue
                if kind == "checkbox":
                    self.set(proto, bool_value=bool(value))
                elif kind == "number_input":
                    self.set(proto, double_value=float(value))
                elif kind == "text_area":
                    self.set(proto, string_value=str(value))
                else:
                    labels = list(proto.options)
                    label = KB.name(value) if KB.name(value) in labels else str(value)
                    self.set(proto, string_value=label)
                return
        raise ProtocolError(f"no answer widget with key {key!r} on the page")

    def set(self, proto: Any, **value: Any) -> None:
        state = WidgetState(id=proto.id)
        for name, v in value.items():
            setattr(state, name, v)
        self.widgets[proto.id] = state


@dataclass
class Outcome:
    name: str
    open_s: float | None = None
    name_s: float | None = None
    feedback_s: float | None = None
    error: str | None = None
    sent: dict[str, Any] = field(default_factory=dict)


def stage_one_answers() -> tuple[dict[str, Any], Any]:
    case = load_library([REPO / "cases"], KB).cases[CASE_ID].case
    best = best_answers(case, KB)
    return {q.id: best[q.id] for q in case.stages[0].questions}, case


async def learner(
    index: int, base_url: str, delay: float, think: tuple[float, float], label: str, rng: random.Random
) -> Outcome:
    answers, case = stage_one_answers()
    outcome = Outcome(name=f"load {label} {index:03}")
    await asyncio.sleep(delay)
    try:
        headers = {"Origin": base_url}
        cookie = await asyncio.to_thread(_page_cookie, f"{base_url}/player?case={CASE_ID}")
        if cookie:
            headers["Cookie"] = cookie
        ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        async with websockets.connect(
            ws_url, subprotocols=["streamlit"], additional_headers=headers, max_size=None, open_timeout=60
        ) as ws:  # type: ignore[arg-type]
            session = StreamlitSession(ws)
            session.go("player", f"case={CASE_ID}")
            outcome.open_s = (await session.rerun()).seconds
            await asyncio.sleep(rng.uniform(*think))

            # sign up with a name (the account page's "Start" form), then back to the case: it resumes
            session.go("account")
            await session.rerun()
            session.set(session.widget("text_input", "start_name"), string_value=outcome.name)
            start = session.submit_button("Start")
            outcome.name_s = (
                await session.rerun(triggers=[WidgetState(id=start.id, trigger_value=True)])
            ).seconds
            if not any(kind == "code" for kind, _ in session.elements):
                said = [p.body for k, p in session.elements if k == "alert"]
                raise ProtocolError(f"signing up showed no resume code: {said}")
            session.go("player", f"case={CASE_ID}")
            await session.rerun()
            await asyncio.sleep(rng.uniform(*think))

            key = keys_for(CASE_ID, 0)
            for question in case.stages[0].questions:
                state = state_with_certainty(view_of(question), question, answers[question.id], key)
                for widget_key, value in state.items():
                    session.set_answer(widget_key, value)
            submit = session.submit_button("Submit stage 1")
            outcome.sent = answers
            run = await session.rerun(triggers=[WidgetState(id=submit.id, trigger_value=True)])
            bodies = [getattr(p, "body", "") for k, p in run.elements if k == "markdown"]
            if not any("**Feedback**" in b for b in bodies):
                raise ProtocolError("no feedback after submitting stage 1")
            outcome.feedback_s = run.seconds
    except Exception as exc:  # every failure is counted and reported, none stops the others
        outcome.error = f"{type(exc).__name__}: {exc}"[:300]
    return outcome


def _page_cookie(url: str) -> str:
    """GET the page as a browser does first; returns the Cookie header to send back (nginx's sticky key)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    return "; ".join(c.split(";", 1)[0] for c in cookies)


# -------------------------------------------------------------------------------------------- servers


@dataclass
class Served:
    url: str
    pids: list[int]  # every process whose CPU counts (the app processes, and nginx)
    ports: list[int]


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total / CLOCK_TICKS


def _nginx_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [master, *(int(p) for p in children.read_text().split())] if children.exists() else [master]


@contextlib.contextmanager
def single(port: int, env: dict[str, str], app_dir: Path) -> Iterator[Served]:
    streamlit = str(REPO / ".venv" / "bin" / "streamlit")
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            backend_command(port, streamlit),
            cwd=app_dir,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while not healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"server did not start:\n{log.read().decode(errors='replace')}")
                time.sleep(0.25)
            yield Served(url, [proc.pid], [port])
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


@contextlib.contextmanager
def served(processes: int, env: dict[str, str], app_dir: Path) -> Iterator[Served]:
    ports = free_ports(processes + 1)
    if processes == 1:
        with single(ports[0], env, app_dir) as s:
            yield s
        return
    with room(port=ports[0], backend_ports=ports[1:], env=env, cwd=app_dir) as r:
        yield Served(r.url, [b.pid for b in r.backends] + _nginx_pids(r.nginx.pid), r.backend_ports)


# -------------------------------------------------------------------------------------------- a run


@dataclass
class Result:
    setup: str
    learners: int
    open_s: list[float]
    feedback_s: list[float]
    errors: list[str]
    lost: int
    server_cpu_s: float
    client_cpu_s: float
    wall_s: float
    load: tuple[float, float, float]

    def row(self) -> str:
        def pct(values: list[float], q: int) -> str:
            if not values:
                return "-"
            return (
                f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.2f} s"
                if len(values) > 1
                else f"{values[0]:.2f} s"
            )

        return (
            f"| {self.setup} | {self.learners} | {pct(self.open_s, 50)} | {pct(self.open_s, 95)} | "
            f"{pct(self.feedback_s, 50)} | {pct(self.feedback_s, 95)} | {len(self.errors)} | {self.lost} | "
            f"{self.server_cpu_s / self.learners:.3f} s | {self.load[0]:.1f} |"
        )


HEADER = (
    "| setup | learners | open p50 | open p95 | feedback p50 | feedback p95 | errors | answers lost | "
    "server CPU / learner | load avg (1 min) at end |\n|---|---|---|---|---|---|---|---|---|---|"
)


def stored_answers(url: str, label: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT l.name, a.answers FROM learners l JOIN attempts a ON a.learner_id = l.id "
                    "WHERE a.case_id = :case AND l.name LIKE :prefix"
                ),
                {"case": CASE_ID, "prefix": f"load {label} %"},
            ).all()
    finally:
        engine.dispose()
    out: dict[str, dict[str, Any]] = {}
    for name, answers in rows:
        if isinstance(answers, str):
            import json

            answers = json.loads(answers)
        out.setdefault(name, {}).update(answers or {})
    return out


async def _room(
    base_url: str, n: int, ramp: float, think: tuple[float, float], label: str, seed: int
) -> list[Outcome]:
    rng = random.Random(seed)
    delays = sorted(rng.uniform(0, ramp) for _ in range(n))
    return await asyncio.gather(
        *(learner(i, base_url, delays[i], think, label, random.Random(seed + i)) for i in range(n))
    )


def measure(
    n: int, processes: int, db: str, ramp: float, think: tuple[float, float], app_dir: Path, seed: int = 7
) -> Result:
    setup = f"{processes} process{'es' if processes > 1 else ''}{' + nginx' if processes > 1 else ''}, {db}"
    label = f"{processes}p-{db}-{n}-{int(time.time())}"
    with (
        throwaway_database(db) as url,
        served(processes, {"MYOTUTOR_DATABASE_URL": url, "PYTHONPATH": str(app_dir)}, app_dir) as s,
    ):
        # warm-up: one learner on each process, so that loading the case library is not counted
        for port in s.ports:
            [warm] = asyncio.run(_room(f"http://127.0.0.1:{port}", 1, 0, (0, 0), f"warm{port}-{label}", seed))
            if warm.error:
                raise RuntimeError(f"warm-up failed: {warm.error}")
        cpu0, client0, wall0 = _cpu_seconds(s.pids), _client_cpu(), time.perf_counter()
        outcomes = asyncio.run(_room(s.url, n, ramp, think, label, seed))
        cpu1, client1, wall1 = _cpu_seconds(s.pids), _client_cpu(), time.perf_counter()
        load = os.getloadavg()
        stored = stored_answers(url, label)
    lost = sum(
        1
        for o in outcomes
        if o.feedback_s is not None and any(stored.get(o.name, {}).get(q) != v for q, v in o.sent.items())
    )
    return Result(
        setup=setup,
        learners=n,
        open_s=[o.open_s for o in outcomes if o.open_s is not None],
        feedback_s=[o.feedback_s for o in outcomes if o.feedback_s is not None],
        errors=[f"{o.name}: {o.error}" for o in outcomes if o.error],
        lost=lost,
        server_cpu_s=cpu1 - cpu0,
        client_cpu_s=client1 - client0,
        wall_s=wall1 - wall0,
        load=load,
    )


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, nargs="*", default=[25, 50, 100])
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2])
    parser.add_argument(
        "--database", nargs="*", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which learners arrive")
    parser.add_argument("--think", type=float, nargs=2, default=[2.0, 6.0], help="pause between actions (s)")
    parser.add_argument("--app-dir", type=Path, default=REPO, help="the checkout whose app is served")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, app from {args.app_dir}")
    print(
        f"ramp {args.ramp:g} s, think {args.think[0]:g}-{args.think[1]:g} s, load avg at start {os.getloadavg()[0]:.1f}\n"
    )
    print(HEADER)
    for db in args.database:
        for processes in args.processes:
            for n in args.learners:
                result = measure(n, processes, db, args.ramp, tuple(args.think), args.app_dir)  # type: ignore[arg-type]
                print(result.row(), flush=True)
                for error in result.errors[:5]:
                    print(f"    error: {error}", file=sys.stderr)
                print(
                    f"    (wall {result.wall_s:.1f} s, client CPU {result.client_cpu_s:.1f} s, "
                    f"server CPU {result.server_cpu_s:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
