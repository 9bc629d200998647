"""A throwaway PostgreSQL server for the tests: initdb in a temp folder, start on a free port on
127.0.0.1 (unix socket in the same folder), create a database, yield its URL, stop and clean up.

PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user (the
Debian package `postgresql` creates it), or `nobody` if there is none.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

from tests.ports import free_port

DATABASE = "myotutor_test"


def server_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and postgres, or None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bin_dir = Path(initdb).parent
        version = re.findall(r"\d+", bin_dir.parent.name)
        if version and all((bin_dir / b).exists() for b in ("pg_ctl", "postgres")):
            found.append((tuple(int(v) for v in version), bin_dir))
    return max(found)[1] if found else None


def _run_as() -> pwd.struct_passwd | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and there is neither a postgres nor a nobody user")


@contextlib.contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """Start a server from bin_dir; yield a postgresql+psycopg:// URL to an empty database."""
    user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="myotutor-pg-"))
    data = folder / "data"
    prefix = ["runuser", "-u", user.pw_name, "--"] if user else []
    if user:
        os.chown(folder, user.pw_uid, user.pw_gid)

    def run(*args: str) -> None:
        # cwd: the server user may not be allowed into ours
        done = subprocess.run(
            [*prefix, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            log = folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}{tail}")

    started = False

    def stop() -> None:
        nonlocal started
        if started:
            started = False
            with contextlib.suppress(Exception):
                run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)  # also when the test session dies before the finally below
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        for attempt in range(3):  # another process may take the free port first
            port = free_port()
            options = f"-k {shlex.quote(str(folder))} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
            started = True  # if start fails half way, stop() still tries
            try:
                run(
                    str(bin_dir / "pg_ctl"),
                    *("-D", str(data), "-l", str(folder / "log"), "-w", "-t", "30", "-o", options, "start"),
                )
                break
            except RuntimeError:
                started = False
                if attempt == 2:
                    raise
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        stop()
        atexit.unregister(stop)


@contextlib.contextmanager
def throwaway_database(kind: str) -> Iterator[str]:
    """The URL of an empty database for a bench run: a SQLite file in a temporary folder, or a PostgreSQL
    server of its own ("postgres"), gone afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="myotutor-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    bin_dir = server_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")
    with postgres_server(bin_dir) as url:
        yield url
