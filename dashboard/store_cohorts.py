"""Cohorts in the store: faculty create, archive and delete them; learners join by code. Part of Store
(dashboard/store.py); pure, no streamlit.

A cohort is active while it is not archived and today is within its optional dates. Learners join
only active cohorts. Deleting a cohort removes its answer records, its attempts and its memberships
with it: nothing of it is left in any table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from dashboard import secrets_hash as sh
from dashboard.schema import AnswerRecord, AttemptRow, Cohort, CohortMember, Learner, now
from dashboard.store_base import StoreBase
from dashboard.store_live import forget_live

MAX_COHORT_NAME = 120


@dataclass(frozen=True)
class CohortInfo:
    id: int
    name: str
    join_code: str
    starts_on: date | None
    ends_on: date | None
    archived_at: datetime | None
    created_at: datetime
    members: int = 0

    def active(self, today: date | None = None) -> bool:
        today = today or datetime.now(UTC).date()
        return (
            self.archived_at is None
            and (self.starts_on is None or self.starts_on <= today)
            and (self.ends_on is None or today <= self.ends_on)
        )


@dataclass(frozen=True)
class MemberInfo:
    learner_id: int
    name: str
    kind: str
    email: str | None
    joined_at: datetime


def _info(row: Cohort, members: int = 0) -> CohortInfo:
    return CohortInfo(
        row.id, row.name, row.join_code, row.starts_on, row.ends_on, row.archived_at, row.created_at, members
    )


class CohortStore(StoreBase):
    def create_cohort(
        self,
        name: str,
        starts_on: date | None = None,
        ends_on: date | None = None,
        created_by: str | None = None,
    ) -> CohortInfo:
        """A new cohort with a fresh join code. ValueError for an empty name or dates out of order."""
        name = " ".join(str(name).split())
        if not 1 <= len(name) <= MAX_COHORT_NAME:
            raise ValueError(f"a cohort's name must be 1 to {MAX_COHORT_NAME} characters")
        if starts_on and ends_on and ends_on < starts_on:
            raise ValueError("the cohort ends before it starts")
        for _ in range(5):  # a join code already in use: draw another
            try:
                with self._transaction(write=True) as s:
                    row = Cohort(
                        name=name,
                        join_code=sh.new_code(sh.JOIN_CODE_LENGTH),
                        starts_on=starts_on,
                        ends_on=ends_on,
                        created_by=created_by,
                    )
                    s.add(row)
                    s.flush()
                    return _info(row)
            except IntegrityError:
                continue
        raise RuntimeError("could not draw a free join code")

    def cohorts(self, include_archived: bool = False) -> list[CohortInfo]:
        """Every cohort (archived ones only if asked), newest first, with its number of members."""
        with self._transaction() as s:
            counts = (
                select(CohortMember.cohort_id, func.count().label("n"))
                .group_by(CohortMember.cohort_id)
                .subquery()
            )
            query = (
                select(Cohort, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.cohort_id == Cohort.id)
                .order_by(Cohort.created_at.desc(), Cohort.id.desc())
            )
            if not include_archived:
                query = query.where(Cohort.archived_at.is_(None))
            return [_info(row, n) for row, n in s.execute(query)]

    def cohort(self, cohort_id: int) -> CohortInfo:
        with self._transaction() as s:
            row = s.get(Cohort, cohort_id)
            if row is None:
                raise KeyError(f"no cohort {cohort_id}")
            n = s.scalar(select(func.count()).where(CohortMember.cohort_id == cohort_id)) or 0
            return _info(row, n)

    def cohort_by_code(self, code: str) -> CohortInfo | None:
        with self._transaction() as s:
            row = s.scalar(select(Cohort).where(Cohort.join_code == sh.normalise_code(code)))
            return _info(row) if row is not None else None

    def join_cohort(self, learner_id: int, code: str) -> CohortInfo:
        """Add the learner to the cohort of a join code (joining twice is harmless). ValueError for a
        code of no cohort, or of a cohort that is archived or outside its dates."""
        cohort = self.cohort_by_code(code)
        if cohort is None:
            raise ValueError("no cohort has this join code")
        if not cohort.active():
            raise ValueError(f"the cohort {cohort.name!r} is not open for joining")
        try:
            with self._transaction(write=True) as s:
                if s.get(Learner, learner_id) is None:
                    raise KeyError(f"no learner {learner_id}")
                if s.get(CohortMember, (cohort.id, learner_id)) is None:
                    s.add(CohortMember(cohort_id=cohort.id, learner_id=learner_id))
        except IntegrityError:
            pass  # joined at the same moment from another tab
        return cohort

    def leave_cohort(self, learner_id: int, cohort_id: int) -> None:
        with self._transaction(write=True) as s:
            s.execute(
                delete(CohortMember).where(
                    CohortMember.cohort_id == cohort_id, CohortMember.learner_id == learner_id
                )
            )

    def memberships(self, learner_id: int, active_only: bool = True) -> list[CohortInfo]:
        """The cohorts a learner belongs to, most recently joined first."""
        with self._transaction() as s:
            rows = s.execute(
                select(Cohort)
                .join(CohortMember, CohortMember.cohort_id == Cohort.id)
                .where(CohortMember.learner_id == learner_id)
                .order_by(CohortMember.joined_at.desc(), Cohort.id.desc())
            ).scalars()
            found = [_info(r) for r in rows]
        return [c for c in found if c.active()] if active_only else found

    def is_member(self, learner_id: int, cohort_id: int) -> bool:
        with self._transaction() as s:
            return s.get(CohortMember, (cohort_id, learner_id)) is not None

    def members(self, cohort_id: int) -> list[MemberInfo]:
        with self._transaction() as s:
            rows = s.execute(
                select(Learner, CohortMember.joined_at)
                .join(CohortMember, CohortMember.learner_id == Learner.id)
                .where(CohortMember.cohort_id == cohort_id)
                .order_by(func.lower(Learner.name), Learner.id)
            )
            return [MemberInfo(r.id, r.name, r.kind, r.email, joined) for r, joined in rows]

    def archive_cohort(self, cohort_id: int, archived: bool = True) -> None:
        """Hide a cohort (kept whole; learners can no longer join or pick it) or bring it back."""
        with self._transaction(write=True) as s:
            row = s.get(Cohort, cohort_id, with_for_update=True)
            if row is None:
                raise KeyError(f"no cohort {cohort_id}")
            row.archived_at = now() if archived else None

    def delete_cohort(self, cohort_id: int) -> None:
        """Delete a cohort and everything recorded in it: its answer records, its attempts, its
        memberships. Learners stay (with their attempts outside this cohort)."""
        with self._transaction(write=True) as s:
            if s.get(Cohort, cohort_id, with_for_update=True) is None:
                raise KeyError(f"no cohort {cohort_id}")
            forget_live(s, cohort_id=cohort_id)
            attempts = select(AttemptRow.id).where(AttemptRow.cohort_id == cohort_id)
            s.execute(
                delete(AnswerRecord).where(
                    (AnswerRecord.cohort_id == cohort_id) | AnswerRecord.attempt_id.in_(attempts)
                )
            )
            s.execute(delete(AttemptRow).where(AttemptRow.cohort_id == cohort_id))
            s.execute(delete(CohortMember).where(CohortMember.cohort_id == cohort_id))
            s.execute(delete(Cohort).where(Cohort.id == cohort_id))
