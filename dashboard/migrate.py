"""Bringing a database to the head revision of dashboard/migrations, safely from several processes.

`upgrade(engine)` is what a Store calls when it opens. It is quick when the database is current (one
query), and otherwise runs Alembic inside one transaction under a lock that serialises concurrent
starters: a PostgreSQL transaction-level advisory lock, or SQLite's write lock (BEGIN IMMEDIATE). The
second process to arrive waits, then finds nothing left to do.

A database made before migrations existed (learners and attempts, no alembic_version table) is that
schema's revision, 0001: it is stamped 0001 and upgraded from there, its rows kept.

Revisions are files `dashboard/migrations/versions/NNNN_what_it_adds.py` with revision "NNNN" and
down_revision the previous number: one straight line (tests/dashboard/test_migrations.py checks it).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, pool, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LEGACY_REVISION = "0001"  # the schema that shipped before migrations
ADVISORY_LOCK = 0x6D796F74_75746F72  # "myotutor": one lock id for every myotutor database
MIGRATION_WAIT_S = 120  # how long a starting process waits for another one's migration


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def head() -> str:
    """The head revision id (one straight line of revisions, so exactly one head)."""
    heads = ScriptDirectory.from_config(config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(
            f"dashboard/migrations has {len(heads)} heads {heads}: renumber the newest revision"
        )
    return str(heads[0])


def current(connection: Connection) -> str | None:
    """The database's revision: None for an empty database, LEGACY_REVISION for one made before
    migrations, else what alembic_version says."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if {"learners", "attempts"} <= tables:
        return LEGACY_REVISION
    return None


def _stamped(connection: Connection) -> bool:
    return "alembic_version" in inspect(connection).get_table_names()


def _run(connection: Connection) -> None:
    """Under the lock, in the open transaction: stamp a pre-migration database, then upgrade to head."""
    revision = current(connection)
    if revision == head() and _stamped(connection):
        return
    cfg = config(connection)
    if revision == LEGACY_REVISION and not _stamped(connection):
        log.warning("store: a database made before migrations: stamping %s and upgrading", LEGACY_REVISION)
        command.stamp(cfg, LEGACY_REVISION)
    log.info("store: upgrading the database from %s to %s", revision, head())
    command.upgrade(cfg, "head")


def is_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        return _stamped(connection) and current(connection) == head()


def upgrade(engine: Engine) -> None:
    """Bring the database behind engine to head; safe when several processes start at once."""
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine)  # its own connection first: it sets the journal mode under the lock's wait
        return
    if is_current(engine):
        return
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text(f"SET LOCAL statement_timeout = {MIGRATION_WAIT_S * 1000}"))
            connection.execute(text(f"SET LOCAL lock_timeout = {MIGRATION_WAIT_S * 1000}"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
            _run(connection)
        return
    with engine.begin() as connection:  # another backend: no lock of ours, one transaction
        _run(connection)


def _wal(dbapi_connection: Any) -> None:
    """Switch the file to WAL (readers never wait for a writer). The switch needs the file to itself
    and SQLite does not wait for that, so another process starting at the same moment is waited for here."""
    deadline = time.monotonic() + MIGRATION_WAIT_S
    while True:
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _upgrade_sqlite(engine: Engine) -> None:
    """SQLite: a connection of its own, with foreign keys off (batch mode rebuilds tables, and the
    pragma cannot change inside a transaction), holding the write lock for the whole upgrade."""
    if engine.url.database in (None, "", ":memory:"):
        with engine.begin() as connection:  # one connection, one process: nothing to lock against
            _run(connection)
        return
    migrating = create_engine(
        engine.url,
        poolclass=pool.NullPool,
        connect_args={"timeout": MIGRATION_WAIT_S, "check_same_thread": False},
    )

    @event.listens_for(migrating, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        _wal(dbapi_connection)
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(migrating, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before reading the revision

    try:
        with migrating.connect() as connection:
            if _stamped(connection) and current(connection) == head():
                return  # the usual case: nothing to do, no write lock taken
        with migrating.begin() as connection:
            _run(connection)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the upgrade left rows with broken foreign keys: {broken[:5]}")
    finally:
        migrating.dispose()
