"""The store's engine, transactions and failure handling, shared by every part of the Store.

A database problem must cost a learner a few seconds at most, never the page:

- every wait is bounded: PostgreSQL connect_timeout, statement_timeout and lock_timeout, plus a
  client-side deadline per transaction (a stopped or hung server never answers, so the server cannot
  time itself out: the watchdog shuts the connection's socket); SQLite waits for the write lock
  BUSY_TIMEOUT_S in all;
- after a failure the store is "down" for a back-off period (1 s, doubling up to 30 s) in which calls
  fail at once with StoreUnavailable instead of waiting again; the first call after it tries again;
- on SQLite, a room of writers is served in turn rather than left to race (see "Writers on SQLite"
  below), and a write that waited its whole bound while others kept committing is WriteBusy: the
  database is busy, not down, so nobody else is refused for it;
- the schema is migrated when the store opens (`open()`), and a store that could not open retries on
  the same back-off (`available()`), so a database that was down at start is used once it is up.

Errors keep their detail for the server log; what a learner reads is decided by the pages.

Writers on SQLite. SQLite has one write lock per database file, and a writer that finds it taken
sleeps in SQLite's busy handler (1 ms growing to 100 ms between tries), so in a burst the lock is
often free while every waiter sleeps, and the writer that arrives last often gets it first: with 100
learners signing up within 2 s, a few waited past the bound though the lock was busy only a fraction
of the time. And a thread holding the lock needs Python's interpreter lock after every statement,
which it shares with every page being drawn in that process: under load a two-statement transaction
held the file lock 10-70 ms. So, on SQLite:

- one writer at a time per process, in arrival order (WriteGate): the others wait in the process, not
  in SQLite's busy handler; only the first of each process asks SQLite, through a connection of its
  own that does not sleep in SQLite (busy timeout 0) but retries every WRITE_POLL_S, so the lock
  never sits free while a writer of another process waits;
- the whole wait (in turn, then for SQLite's lock) is bounded by BUSY_TIMEOUT_S, as before;
- every write goes through a write transaction (`_transaction(write=True)`), so through the gate: a
  statement that writes, sent in a read transaction, is refused (InvalidRequestError);
- write transactions check their inputs and do slow work (hashing a resume code) before they begin,
  so the lock (BEGIN IMMEDIATE) is held for little more than their SQL;
- commits are `synchronous=NORMAL` in WAL mode: a commit is written to the write-ahead log without
  waiting for the disk (the log is synced at each checkpoint). A crash of the app's process loses
  nothing committed (the operating system has the data); only a crash of the machine itself may lose
  the last commits before the checkpoint, never corrupting the file.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    InvalidRequestError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from dashboard import migrate

log = logging.getLogger("dashboard.store")
REPO = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT_S = 3  # PostgreSQL: establishing a connection (libpq's minimum is 2)
STATEMENT_TIMEOUT_S = 3  # PostgreSQL: one statement, and waiting for a row lock
TRANSACTION_DEADLINE_S = 4  # PostgreSQL: a whole transaction, enforced by the client
BUSY_TIMEOUT_S = 3  # SQLite: waiting for the write lock, in turn in the process and then in SQLite
WRITE_POLL_S = 0.002  # SQLite: how often the first writer of a process asks for the write lock again
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def database_url() -> str:
    """$MYOTUTOR_DATABASE_URL, or the embedded SQLite file <repo>/myotutor.db."""
    return os.environ.get("MYOTUTOR_DATABASE_URL") or f"sqlite:///{REPO / 'myotutor.db'}"


class StoreUnavailable(SQLAlchemyError):
    """The store failed recently and is waiting before it tries again."""


class WriteBusy(SQLAlchemyError):
    """A write waited its whole bound for SQLite's write lock while other writers kept committing: the
    database is busy, not down. It does not start the back-off (nobody else is refused for it); the
    caller reports it like any failure, and whatever it wrote is written again later."""


def _locked(exc: BaseException) -> bool:
    """SQLite's answer when another connection holds the lock (SQLITE_BUSY)."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def trips_breaker(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable, hung or locked (not a bug or bad input)."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class Health:
    """A circuit breaker: after a failure, calls are refused until the back-off has passed."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.failures = 0
        self.down_until = 0.0
        self.last_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.failures == 0

    def waiting(self) -> bool:
        """True while in the back-off after a failure (calls are refused without touching the database)."""
        return bool(self._clock() < self.down_until)

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            delay = BACKOFF_S[min(self.failures, len(BACKOFF_S) - 1)]
            self.failures += 1
            self.down_until = self._clock() + delay
            self.last_error = f"{exc.__class__.__name__}: {exc}"
        log.warning(
            "store: unavailable (failure %d, next try in %.0f s): %s", self.failures, delay, self.last_error
        )

    def succeeded(self) -> None:
        if self.failures:
            log.warning("store: available again after %d failure(s)", self.failures)
            with self._lock:
                self.failures = 0
                self.down_until = 0.0
                self.last_error = None


class WriteGate:
    """One writer at a time, in arrival order (first come, first served), each waiting until a deadline.

    The lock is handed from one writer to the next directly, so a writer arriving while others wait
    queues behind them instead of overtaking them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[threading.Event] = collections.deque()
        self._held = False
        self.handovers = 0  # how many times the gate passed from one writer to another (or was freed)

    def acquire(self, deadline: float) -> bool:
        """Wait for the gate until deadline (time.monotonic()); True if this thread holds it."""
        with self._lock:
            if not self._held and not self._queue:
                self._held = True
                return True
            turn = threading.Event()
            self._queue.append(turn)
        if turn.wait(max(0.0, deadline - time.monotonic())):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._queue.remove(turn)
            return False

    def release(self) -> None:
        with self._lock:
            self.handovers += 1
            if self._queue:
                self._queue.popleft().set()  # the next writer holds it now
            else:
                self._held = False


class Watchdog:
    """Client-side deadlines: a thread that shuts the socket of a connection whose transaction runs past
    its deadline, so a driver blocked reading from a server that never answers raises at once."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, int | None] = {}  # token -> socket fd (None until a connection is held)
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        with self._cond:
            token = next(self._tokens)
            self._armed[token] = None
            heapq.heappush(self._heap, (time.monotonic() + seconds, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="store-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def hold(self, token: int, fd: int) -> None:
        with self._cond:
            if token in self._armed:
                self._armed[token] = fd

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, token = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                if token not in self._armed:
                    continue
                fd = self._armed.pop(token)
                if fd is not None:  # still under the lock: the transaction cannot release it meanwhile
                    log.warning(
                        "store: a transaction passed its %s s deadline; closing its connection",
                        TRANSACTION_DEADLINE_S,
                    )
                    try:
                        with socket.socket(fileno=os.dup(fd)) as sock:
                            sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


class StoreBase:
    """Engine, sessions and the failure policy; the Store's parts (identity, cohorts, attempts) build on it."""

    def __init__(self, url: str | None = None, *, connect: bool = True) -> None:
        self.url = make_url(url or database_url())
        self.engine = self._create_engine()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite: writers take turns through the gate, on a connection of their own (see the module doc)
        sqlite_file = self.engine.dialect.name == "sqlite" and not _in_memory(self.url)
        self._writer = self._sqlite_engine(writer=True) if sqlite_file else self.engine
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)
        self._gate = WriteGate() if sqlite_file else None
        self.health = Health()
        self._watchdog = Watchdog() if self.engine.dialect.name == "postgresql" else None
        self._opened = False
        self._open_lock = threading.Lock()
        if connect:
            self.open()

    def _create_engine(self) -> Engine:
        if self.url.get_backend_name() == "postgresql":
            return create_engine(
                self.url,
                pool_pre_ping=False,  # a ping can hang on a stopped server; see _transaction's retry
                connect_args={
                    "connect_timeout": CONNECT_TIMEOUT_S,
                    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000} "
                    f"-c lock_timeout={STATEMENT_TIMEOUT_S * 1000}",
                },
            )
        if self.url.get_backend_name() != "sqlite":
            return create_engine(self.url, pool_pre_ping=True)
        return self._sqlite_engine(writer=False)

    def _sqlite_engine(self, writer: bool) -> Engine:
        """SQLite: the engine of reads, or the writers' own (one connection at a time, as the gate lets
        one writer through, which never sleeps in SQLite's busy handler: see _begin_immediate)."""
        in_memory = _in_memory(self.url)
        if in_memory:
            pooling: dict[str, Any] = {"poolclass": pool.StaticPool}
        elif writer:
            pooling = {"pool_size": 1, "max_overflow": 1, "pool_timeout": BUSY_TIMEOUT_S}
        else:
            pooling = {}
        engine = create_engine(
            self.url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}, **pooling
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                # The migration sets WAL first (dashboard.migrate); switching needs the file to itself.
                mode = dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    migrate._wal(dbapi_connection)
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # see the module doc
            if writer:
                dbapi_connection.execute("PRAGMA busy_timeout=0")  # the wait is ours: _begin_immediate

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            options = conn.get_execution_options()
            if writer:
                deadline = options.get("deadline", time.monotonic() + BUSY_TIMEOUT_S)
                _begin_immediate(conn, deadline, options.get("queued", False))
            else:
                # Writers take the write lock up front, so read-modify-write never races another Store.
                conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write", False) else "BEGIN")

        if not in_memory and not writer:

            @event.listens_for(engine, "before_cursor_execute", retval=True)
            def _reads_only(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> Any:
                # A store transaction opened for reading must not write: its write would take SQLite's
                # lock outside the gate, past the writers waiting in turn.
                if conn.get_execution_options().get("write") is False and not _reads(statement):
                    raise InvalidRequestError("a store write outside a write transaction (write=True)")
                return statement, parameters

        return engine

    def open(self) -> None:
        """Connect and migrate the schema to head (raises if the database cannot be reached)."""
        with self._open_lock:
            if not self._opened:
                migrate.upgrade(self.engine)
                self._opened = True

    def available(self) -> bool:
        """Whether the store can be used now: opens it if it could not open before, unless it is in
        the back-off after a failure. Never raises; the server log gets the detail."""
        if self.health.waiting():
            return False
        if not self._opened:
            try:
                self.open()
            except Exception as exc:  # any failure to open: try again after the back-off
                self.health.failed(exc)
                return False
            self.health.succeeded()
        return True

    def close(self) -> None:
        self.engine.dispose()
        if self._writer is not self.engine:
            self._writer.dispose()

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Session]:
        """One short transaction. Refused at once while the store is backing off; a failure that
        means the database is unreachable starts the back-off. A connection found dead when the
        transaction starts (the server restarted) is retried once on a fresh one. On SQLite a write
        waits for its turn (the gate), then for the write lock, BUSY_TIMEOUT_S in all."""
        if self.health.waiting():
            raise StoreUnavailable("the store is backing off after a failure")
        if not self._opened:
            try:
                self.open()
            except Exception as exc:
                self.health.failed(exc)
                raise
        gate = self._gate if write else None
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        queued = False  # whether other writers of this process went first (the database moved on)
        if gate is not None:
            handovers = gate.handovers
            if not gate.acquire(deadline):
                log.warning("store: a write waited %s s for its turn; the database is busy", BUSY_TIMEOUT_S)
                raise WriteBusy(f"waited {BUSY_TIMEOUT_S} s for the other writers of this process")
            queued = gate.handovers != handovers
            if self.health.waiting():  # the writer before this one found the database down
                gate.release()
                raise StoreUnavailable("the store is backing off after a failure")
        token = self._watchdog.arm(TRANSACTION_DEADLINE_S) if self._watchdog else None
        sessions = self._write_sessions if write else self._sessions
        try:
            with sessions() as session:
                self._begin(session, write, token, {"deadline": deadline, "queued": queued})
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except Exception as exc:
            if trips_breaker(exc):
                self.health.failed(exc)
            raise
        else:
            self.health.succeeded()
        finally:
            if gate is not None:
                gate.release()
            if token is not None and self._watchdog is not None:
                self._watchdog.disarm(token)

    def _begin(self, session: Session, write: bool, token: int | None, wait: dict[str, Any]) -> None:
        """Begin, and on PostgreSQL ping the connection under the deadline (a pooled connection may be
        dead after a server restart: then once more on a fresh one)."""
        for retry in (False, True):
            session.begin()
            connection = session.connection(execution_options={"write": write, **wait})
            if token is None or self._watchdog is None:
                return
            self._watchdog.hold(token, connection.connection.dbapi_connection.fileno())  # type: ignore[union-attr]
            try:
                connection.exec_driver_sql("SELECT 1")
                return
            except DBAPIError as exc:
                session.rollback()
                if retry or not exc.connection_invalidated:
                    raise


def _in_memory(url: Any) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _reads(statement: str) -> bool:
    """Whether an SQL statement only reads (what a read transaction may send)."""
    words = statement.split(None, 1)
    return bool(words) and words[0].upper() in ("SELECT", "WITH", "PRAGMA", "BEGIN")


def _begin_immediate(conn: Any, deadline: float, queued: bool) -> None:
    """Take SQLite's write lock for this writer (the first of its process in turn), asking again every
    WRITE_POLL_S until deadline. Past it: WriteBusy if the database moved on meanwhile (other writers
    committed, here or in other processes: contention), else SQLite's own error (a lock nobody lets
    go of), which starts the back-off."""
    version: int | None = None
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if not _locked(exc):
                raise
            raw = conn.connection.dbapi_connection
            if version is None:
                version = raw.execute("PRAGMA data_version").fetchone()[0]
            if time.monotonic() >= deadline:
                moved = raw.execute("PRAGMA data_version").fetchone()[0] != version
                if moved or queued:
                    log.warning(
                        "store: a write waited %s s for the lock; the database is busy", BUSY_TIMEOUT_S
                    )
                    raise WriteBusy(f"waited {BUSY_TIMEOUT_S} s for SQLite's write lock") from exc
                raise
        time.sleep(WRITE_POLL_S)
