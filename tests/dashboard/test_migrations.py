"""Migrations: one straight line of numbered revisions; a database made before migrations is upgraded
with its rows intact (SQLite: a file made by that code; PostgreSQL: made by a frozen copy of its
models); the head schema is what the ORM models say; two processes starting at once migrate once."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from dashboard import migrate
from dashboard.schema import Base
from dashboard.store import NameTaken, Store

from .conftest import wipe
from .legacy_schema import AttemptRow as LegacyAttempt
from .legacy_schema import Learner as LegacyLearner
from .legacy_schema import LegacyBase

LEGACY_DB = Path(__file__).parent / "data" / "legacy-0001.db"
VERSIONS = Path(migrate.__file__).parent / "migrations" / "versions"
REPO = Path(__file__).resolve().parents[2]


def legacy_rows() -> dict[str, list[dict[str, Any]]]:
    """The rows of the committed pre-migration database, as plain values."""
    with sqlite3.connect(LEGACY_DB) as conn:
        conn.row_factory = sqlite3.Row
        return {
            table: [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY id")]
            for table in ("learners", "attempts")
        }


def test_revisions_are_one_line_of_numbered_files() -> None:
    files = sorted(p for p in VERSIONS.glob("*.py") if p.name != "__init__.py")
    previous = None
    for number, path in enumerate(files, start=1):
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", path.name), f"{path.name}: name it NNNN_what_it_adds.py"
        source = path.read_text()
        assert f'revision = "{number:04d}"' in source, f"{path.name}: revision must be {number:04d}"
        assert f"down_revision = {previous!r}".replace("'", '"') in source, (
            f"{path.name}: down_revision {previous}"
        )
        assert path.name.startswith(f"{number:04d}_")
        previous = f"{number:04d}"
    assert migrate.head() == previous


def test_the_frozen_models_are_the_committed_legacy_file(tmp_path: Path) -> None:
    """The PostgreSQL legacy test trusts legacy_schema.py: it makes exactly the committed file's schema."""
    engine = create_engine(f"sqlite:///{tmp_path / 'frozen.db'}")
    LegacyBase.metadata.create_all(engine)
    engine.dispose()

    def schema(path: Path) -> list[str]:
        with sqlite3.connect(path) as conn:
            return sorted(r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))

    assert schema(tmp_path / "frozen.db") == schema(LEGACY_DB)


def assert_upgraded_intact(store: Store, before: dict[str, list[dict[str, Any]]]) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == migrate.head()
        learners = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM learners ORDER BY id"))]
        attempts = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM attempts ORDER BY id"))]
    assert [(r["id"], r["name"], r["kind"]) for r in learners] == [
        (r["id"], r["name"], "legacy") for r in before["learners"]
    ]
    assert len(attempts) == len(before["attempts"])
    for new, old in zip(attempts, before["attempts"], strict=True):
        for column in ("id", "learner_id", "case_id", "stages_submitted", "total"):
            assert new[column] == old[column], column
        for column in ("answers", "category_scores"):
            value = new[column]
            assert (json.loads(value) if isinstance(value, str) else value) == (
                json.loads(old[column]) if old[column] is not None else None
            ), column
        assert (new["cohort_id"], new["case_hash"]) == (None, None)
    # The store reads the old rows as it always did.
    completed = store.attempt(1)
    assert completed.total == 87.5 and completed.completed_at is not None
    assert completed.completed_at.tzinfo is not None
    [row] = store.progress(1)
    assert (row.attempts, row.completed, row.best_total) == (2, 1, 87.5)
    assert store.open_attempt(1, "myositis-after-failed-immunosuppression").id == 2  # the unfinished one
    # A legacy name opens nothing by itself, and is not given to someone else in any case.
    assert store.resume_named("Ada Lovelace", "ABCDEFGHJK") is None
    with pytest.raises(NameTaken):
        store.new_named_learner("GRACE HOPPER")
    code = store.issue_resume_code(2)  # faculty hand Grace a code: now she can come back
    assert store.resume_named("grace hopper", code) == 2


def test_a_sqlite_file_made_before_migrations_is_upgraded_intact(tmp_path: Path) -> None:
    copy = tmp_path / "old.db"
    shutil.copy(LEGACY_DB, copy)
    before = legacy_rows()
    store = Store(f"sqlite:///{copy}")
    try:
        assert_upgraded_intact(store, before)
    finally:
        store.close()
    assert Store(f"sqlite:///{copy}").attempt(1).total == 87.5  # opening again: nothing to do


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    wipe(postgres_url)
    try:
        yield postgres_url
    finally:
        wipe(postgres_url)


@pytest.mark.postgres
def test_a_postgres_database_made_before_migrations_is_upgraded_intact(empty_postgres: str) -> None:
    url = empty_postgres
    engine = create_engine(url)
    LegacyBase.metadata.create_all(engine)
    before = legacy_rows()
    with engine.begin() as conn:
        conn.execute(LegacyLearner.__table__.insert(), before["learners"])
        conn.execute(
            LegacyAttempt.__table__.insert(),
            [
                {
                    **r,
                    "answers": json.loads(r["answers"]),
                    "category_scores": json.loads(r["category_scores"]) if r["category_scores"] else None,
                }
                for r in before["attempts"]
            ],
        )
        conn.execute(text("SELECT setval('learners_id_seq', 3)"))
        conn.execute(text("SELECT setval('attempts_id_seq', 5)"))
    engine.dispose()
    store = Store(url)
    try:
        assert_upgraded_intact(store, before)
        assert store.new_named_learner("Edsger")[0] == 4  # sequences carry on after the old rows
    finally:
        store.close()


def test_a_new_database_gets_the_head_schema_of_the_models(url: str) -> None:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diffs == [], f"the migrations and dashboard/schema.py disagree: {diffs}"
        assert {
            "learners",
            "attempts",
            "cohorts",
            "cohort_members",
            "answer_records",
            "alembic_version",
        } <= tables
    finally:
        store.close()


def test_an_upgraded_legacy_database_matches_the_models(tmp_path: Path) -> None:
    copy = tmp_path / "old.db"
    shutil.copy(LEGACY_DB, copy)
    store = Store(f"sqlite:///{copy}")
    try:
        with store.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diffs == [], diffs
    finally:
        store.close()


def test_two_processes_starting_at_once_migrate_once(url: str, tmp_path: Path) -> None:
    """Two app processes open the same empty database at the same moment: both start, one migrates."""
    script = (
        "import sys, time; from dashboard.store import Store\n"
        "start = float(sys.argv[2])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "s = Store(sys.argv[1]); s.new_named_learner(sys.argv[3]); s.close()\n"
    )
    import time

    start = time.time() + 2.0  # both interpreters are up by then, and start together
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(start), name],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("Ada", "Bob")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                migrate.head()
            ]
            assert sorted(conn.execute(text("SELECT name FROM learners")).scalars()) == ["Ada", "Bob"]
    finally:
        store.close()
