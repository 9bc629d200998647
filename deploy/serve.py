"""Serve a room from one machine: N processes of the app on consecutive ports, behind nginx.

    python deploy/serve.py --processes 2 --port 8080          # or: make serve PROCESSES=2 PROXY_PORT=8080

One Streamlit process uses about one core; a 2-core machine serves a room of 100 with two (see the
README's Performance section). nginx (Debian's package: /usr/sbin/nginx) runs deploy/nginx.conf with its
`listen` port and `server` lines rewritten for the processes started here, sends each browser to one
process for its whole session, and skips a process that is down. Every process shares:

- the progress store: $MYOTUTOR_DATABASE_URL (a PostgreSQL URL for a busy room), else the SQLite file;
- the cookie secret ($STREAMLIT_SERVER_COOKIE_SECRET, else a random one for this run), so that a cookie
  one process signed is valid on the others.

Ctrl-C or SIGTERM stops nginx and every process. `make run` stays one process without nginx.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().parent / "nginx.conf"
NGINX = "/usr/sbin/nginx"
START_TIMEOUT_S = 60


def backend_command(port: int, streamlit: str = ".venv/bin/streamlit") -> list[str]:
    """The command of one app process (the same as deploy/Procfile's app lines)."""
    return [
        streamlit,
        "run",
        "dashboard/app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]


def render_config(listen: int, backend_ports: Sequence[int], template: str | None = None) -> str:
    """deploy/nginx.conf with its listen port and upstream servers replaced."""
    text = CONFIG.read_text() if template is None else template
    server_line = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+ (.*);\n", re.MULTILINE)
    first = server_line.search(text)
    if first is None:
        raise ValueError("no upstream server line in the nginx template")
    indent, options = first.group(1), first.group(2)
    servers = "".join(f"{indent}server 127.0.0.1:{port} {options};\n" for port in backend_ports)
    text = server_line.sub("", text)
    text = text[: first.start()] + servers + text[first.start() :]
    text, n = re.subn(r"^(\s*)listen \d+;", rf"\g<1>listen {listen};", text, flags=re.MULTILINE)
    if n != 1:
        raise ValueError("expected one listen directive in the nginx template")
    return text


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read().decode().strip() == "ok")
    except OSError:
        return False


@dataclass
class Room:
    url: str
    backend_ports: list[int]
    backends: list[subprocess.Popen[bytes]]
    nginx: subprocess.Popen[bytes]
    folder: Path
    logs: list[IO[bytes]] = field(default_factory=list)

    def backend_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.backend_ports[index]}"

    def log(self, index: int | None = None) -> str:
        """The output of backend ``index`` (None: nginx)."""
        name = "nginx.log" if index is None else f"app-{self.backend_ports[index]}.log"
        return (self.folder / name).read_text(errors="replace")


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def room(
    processes: int = 2,
    port: int = 8080,
    first_port: int = 8501,
    nginx: str = NGINX,
    env: dict[str, str] | None = None,
    backend_ports: Sequence[int] | None = None,
    streamlit: str | None = None,
    cwd: Path = REPO,
) -> Iterator[Room]:
    """Start the processes and nginx, wait until the proxy answers, yield the Room, stop everything."""
    ports = list(backend_ports or range(first_port, first_port + processes))
    streamlit = streamlit or str(REPO / ".venv" / "bin" / "streamlit")
    if not Path(streamlit).exists():
        streamlit = shutil.which("streamlit") or streamlit
    env = {**os.environ, **(env or {})}
    env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    folder = Path(tempfile.mkdtemp(prefix="myotutor-room-"))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / sub).mkdir(parents=True)
    if os.geteuid() == 0:  # nginx's workers drop root: let them use the temp folders
        for path in (folder, folder / "tmp", *(folder / "tmp").iterdir()):
            path.chmod(0o777 if path.parent.name == "tmp" else 0o755)
    config = folder / "nginx.conf"
    config.write_text(render_config(port, ports))
    backends: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for p in ports:
            log = (folder / f"app-{p}.log").open("wb")
            logs.append(log)
            backends.append(
                subprocess.Popen(
                    backend_command(p, streamlit),
                    cwd=cwd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        _wait_healthy([f"http://127.0.0.1:{p}" for p in ports], backends, deadline, folder)
        # nginx starts once every process answers, so that none is marked down while it boots
        log = (folder / "nginx.log").open("wb")
        logs.append(log)
        proxy = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(config), "-e", "stderr"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_healthy([url], [*backends, proxy], deadline, folder)
        yield Room(url, ports, backends, proxy, folder, logs)
    finally:
        for proc in ([proxy] if proxy else []) + backends:
            _stop(proc)
        for log in logs:
            log.close()


def _wait_healthy(
    urls: list[str], procs: Sequence[subprocess.Popen[bytes]], deadline: float, folder: Path
) -> None:
    waiting = list(urls)
    while waiting:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a process of the room exited early; logs in {folder}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy after {START_TIMEOUT_S} s: {waiting}; logs in {folder}")
        waiting = [u for u in waiting if not healthy(u)]
        if waiting:
            time.sleep(0.25)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a room: N app processes behind nginx.")
    parser.add_argument("--processes", type=int, default=2, help="app processes (about one per core)")
    parser.add_argument("--port", type=int, default=8080, help="the port the room connects to")
    parser.add_argument("--first-port", type=int, default=8501, help="the first app process's port")
    parser.add_argument("--nginx", default=NGINX, help="the nginx binary")
    args = parser.parse_args(argv)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with room(args.processes, args.port, args.first_port, args.nginx) as served:
        print(f"myotutor: {served.url}/ served by {args.processes} processes on ports {served.backend_ports}")
        print(f"logs: {served.folder}   (Ctrl-C stops everything)")
        sys.stdout.flush()
        while not stop and served.nginx.poll() is None:
            dead = [
                p for p, b in zip(served.backend_ports, served.backends, strict=True) if b.poll() is not None
            ]
            if dead:
                print(
                    f"process on port(s) {dead} exited; nginx sends its learners to the others",
                    file=sys.stderr,
                )
                served.backend_ports = [p for p in served.backend_ports if p not in dead]
                served.backends = [b for b in served.backends if b.poll() is None]
                if not served.backends:
                    return 1
            time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
