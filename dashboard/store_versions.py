"""The store's part in case versions: an attempt records the hash of the case file it is played on, and
an attempt nobody has answered yet follows the case to its new version (one with answers keeps its own:
the learner finishes the version they started, see dashboard/versions.py)."""

from __future__ import annotations

from sqlalchemy import update

from dashboard.schema import AttemptRow, now
from dashboard.store_base import StoreBase


class VersionStore(StoreBase):
    def rebase_attempt(self, attempt_id: int, case_hash: str) -> bool:
        """Move an unfinished attempt with no stage submitted to another version of its case.
        Returns whether it moved (False once a stage is submitted, or when it is finished)."""
        with self._transaction(write=True) as s:
            moved = s.execute(
                update(AttemptRow)
                .where(
                    AttemptRow.id == attempt_id,
                    AttemptRow.stages_submitted == 0,
                    AttemptRow.completed_at.is_(None),
                )
                .values(case_hash=case_hash, updated_at=now())
            )
            return bool(getattr(moved, "rowcount", 0))
