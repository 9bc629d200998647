"""A room signs up at once: the slow part of signing up (hashing the resume code, ~0.1 s of CPU by design)
happens outside the database's write lock, so that other learners' writes do not wait on it and time out
(found by bench/bench_load.py: on SQLite, 17 of 100 learners signing up within 2 s failed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dashboard import secrets_hash as sh
from dashboard.store import Store


def test_resume_codes_are_hashed_outside_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}")
    seen: list[str] = []
    real_hash = sh.hash_secret

    def hash_secret(secret: str, *args: object, **kwargs: object) -> str:
        other = sqlite3.connect(path, timeout=0)  # another process's connection, not willing to wait
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            seen.append("free")
        except sqlite3.OperationalError:
            seen.append("locked")
        finally:
            other.close()
        return real_hash(secret, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sh, "hash_secret", hash_secret)
    try:
        learner_id, code = store.new_named_learner("Ada Lovelace")
        store.issue_resume_code(learner_id)
        assert seen == ["free", "free"]
        monkeypatch.setattr(sh, "hash_secret", real_hash)
        assert store.resume_named("Ada Lovelace", store.issue_resume_code(learner_id)) == learner_id
        assert code
    finally:
        store.close()
