"""The store's engine, transactions and failure handling, shared by every part of the Store.

A database problem must cost a learner a few seconds at most, never the page:

- every wait is bounded: PostgreSQL connect_timeout, statement_timeout and lock_timeout, plus a
  client-side deadline per transaction (a stopped or hung server never answers, so the server cannot
  time itself out: the watchdog shuts the connection's socket); SQLite waits for a lock BUSY_TIMEOUT_S;
- after a failure the store is "down" for a back-off period (1 s, doubling up to 30 s) in which calls
  fail at once with StoreUnavailable instead of waiting again; the first call after it tries again;
- the schema is migrated when the store opens (`open()`), and a store that could not open retries on
  the same back-off (`available()`), so a database that was down at start is used once it is up.

Errors keep their detail for the server log; what a learner reads is decided by the pages.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from dashboard import migrate

log = logging.getLogger("dashboard.store")
REPO = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT_S = 3  # PostgreSQL: establishing a connection (libpq's minimum is 2)
STATEMENT_TIMEOUT_S = 3  # PostgreSQL: one statement, and waiting for a row lock
TRANSACTION_DEADLINE_S = 4  # PostgreSQL: a whole transaction, enforced by the client
BUSY_TIMEOUT_S = 3  # SQLite: waiting for another writer's lock
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def database_url() -> str:
    """$MYOTUTOR_DATABASE_URL, or the embedded SQLite file <repo>/myotutor.db."""
    return os.environ.get("MYOTUTOR_DATABASE_URL") or f"sqlite:///{REPO / 'myotutor.db'}"


class StoreUnavailable(SQLAlchemyError):
    """The store failed recently and is waiting before it tries again."""


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
        in_memory = self.url.database in (None, "", ":memory:")
        engine = create_engine(
            self.url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
            **({"poolclass": pool.StaticPool} if in_memory else {}),
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

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock up front, so read-modify-write never races another Store.
            immediate = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

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

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Session]:
        """One short transaction. Refused at once while the store is backing off; a failure that
        means the database is unreachable starts the back-off. A connection found dead when the
        transaction starts (the server restarted) is retried once on a fresh one."""
        if self.health.waiting():
            raise StoreUnavailable("the store is backing off after a failure")
        if not self._opened:
            try:
                self.open()
            except Exception as exc:
                self.health.failed(exc)
                raise
        token = self._watchdog.arm(TRANSACTION_DEADLINE_S) if self._watchdog else None
        try:
            with self._sessions() as session:
                self._begin(session, write, token)
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
            if token is not None and self._watchdog is not None:
                self._watchdog.disarm(token)

    def _begin(self, session: Session, write: bool, token: int | None) -> None:
        """Begin, and on PostgreSQL ping the connection under the deadline (a pooled connection may be
        dead after a server restart: then once more on a fresh one)."""
        for retry in (False, True):
            session.begin()
            connection = session.connection(execution_options={"write": write})
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
