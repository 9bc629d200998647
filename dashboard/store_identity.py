"""Who a learner is, in the store: named learners with a resume code, learners signed in through the
department's OpenID Connect provider, embedded-mode sign-in sessions, rate limits, and deleting a
learner's data. Part of Store (dashboard/store.py); pure, no streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from dashboard import secrets_hash as sh
from dashboard.schema import (
    MAX_EMAIL,
    MAX_NAME,
    AnswerRecord,
    AttemptRow,
    AuthFailure,
    CohortMember,
    Learner,
    SignInSession,
    now,
)
from dashboard.store_base import StoreBase
from dashboard.store_live import forget_live

SESSION_DAYS = 30
ROLES = ("learner", "faculty")


class NameTaken(ValueError):
    """Another learner already plays under this name (names are matched case-insensitively)."""


class RateLimited(Exception):
    """Too many wrong codes for this key lately; retry_after seconds until the next try is allowed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many attempts; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LearnerInfo:
    id: int
    name: str
    kind: str  # named | oidc | legacy
    email: str | None
    has_code: bool
    created_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    role: str  # learner | faculty
    learner_id: int | None
    expires_at: datetime
    name: str | None = None  # the learner's display name


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def clean_name(name: object) -> str:
    """A display name: stripped, inner spaces collapsed, 1..80 characters (ValueError otherwise)."""
    if not isinstance(name, str) or not 1 <= len(" ".join(name.split())) <= MAX_NAME:
        raise ValueError(f"a name must be 1 to {MAX_NAME} characters")
    return " ".join(name.split())


def _info(row: Learner) -> LearnerInfo:
    return LearnerInfo(
        row.id, row.name, row.kind, row.email, row.resume_code_hash is not None, row.created_at
    )


class IdentityStore(StoreBase):
    # ------------------------------------------------------------------------------ named learners
    def _name_in_use(self, key: str) -> bool:
        with self._transaction() as s:
            if s.scalar(select(Learner.id).where(Learner.name_key == key)) is not None:
                return True
            # Learners from before sign-in have no name_key: compare their names the same way.
            legacy = s.scalars(select(Learner.name).where(Learner.kind == "legacy"))
            return any(name_key(n) == key for n in legacy)

    def new_named_learner(self, name: str) -> tuple[int, str]:
        """Create a learner playing under name; returns (id, resume code). The code is shown to the
        learner once and kept only as a hash. NameTaken if the name is in use (any case)."""
        name = clean_name(name)
        key = name_key(name)
        if self._name_in_use(key):
            raise NameTaken(f"the name {name!r} is taken")
        code = sh.new_code()
        code_hash = sh.hash_secret(code)  # slow on purpose: before taking the write lock, not under it
        try:
            with self._transaction(write=True) as s:
                learner = Learner(name=name, kind="named", name_key=key, resume_code_hash=code_hash)
                s.add(learner)
                s.flush()
                return learner.id, code
        except IntegrityError:  # the same name created at the same moment by someone else
            raise NameTaken(f"the name {name!r} is taken") from None

    def resume_named(self, name: str, code: str, limit: int = 5, window_s: float = 900) -> int | None:
        """The learner called name if code is theirs, else None. Wrong codes are counted per name:
        after `limit` within window_s, RateLimited until the oldest leaves the window."""
        key = f"resume:{name_key(name)}"
        self.check_rate(key, limit, window_s)
        with self._transaction() as s:
            row = s.scalar(select(Learner).where(Learner.name_key == name_key(name)))
        if row is not None and sh.verify_secret(sh.normalise_code(code), row.resume_code_hash):
            self.clear_failures(key)
            return row.id
        self.record_failure(key)
        return None

    def issue_resume_code(self, learner_id: int) -> str:
        """A new resume code for a learner (a forgotten code, or a learner from before sign-in, who
        becomes a named learner). The old code stops working. NameTaken if a legacy learner's name is
        now used by another learner."""
        code = sh.new_code()
        code_hash = sh.hash_secret(code)  # slow on purpose: before taking the write lock, not under it
        try:
            with self._transaction(write=True) as s:
                row = s.get(Learner, learner_id, with_for_update=True)
                if row is None:
                    raise KeyError(f"no learner {learner_id}")
                if row.kind == "oidc":
                    raise ValueError("this learner signs in through the department's provider")
                if row.kind == "legacy":
                    row.kind, row.name_key = "named", name_key(row.name)
                row.resume_code_hash = code_hash
        except IntegrityError:
            raise NameTaken("another learner now plays under this name") from None
        return code

    # -------------------------------------------------------------------------------- oidc learners
    def oidc_learner(self, email: str, name: str | None = None) -> int:
        """The learner signed in with this e-mail (matched case-insensitively), created on first sign-in."""
        email = email.strip().lower()
        if not 3 <= len(email) <= MAX_EMAIL or "@" not in email:
            raise ValueError("an e-mail address is needed")
        display = " ".join((name or email.split("@")[0]).split())[:MAX_NAME] or email[:MAX_NAME]
        for _ in range(2):  # a concurrent first sign-in: the second try finds the row
            try:
                with self._transaction(write=True) as s:
                    found = s.scalar(select(Learner).where(Learner.email == email))
                    if found is not None:
                        if found.name != display:
                            found.name = display
                        return found.id
                    learner = Learner(name=display, kind="oidc", email=email)
                    s.add(learner)
                    s.flush()
                    return learner.id
            except IntegrityError:
                continue
        raise RuntimeError("could not create the learner")

    def learner_info(self, learner_id: int) -> LearnerInfo:
        with self._transaction() as s:
            row = s.get(Learner, learner_id)
            if row is None:
                raise KeyError(f"no learner {learner_id}")
            return _info(row)

    def find_learners(self, text: str = "", limit: int = 50) -> list[LearnerInfo]:
        """Learners whose name or e-mail contains text (any case), by name."""
        pattern = f"%{text.strip().lower()}%"
        with self._transaction() as s:
            rows = s.scalars(
                select(Learner)
                .where(
                    func.lower(Learner.name).like(pattern)
                    | func.lower(func.coalesce(Learner.email, "")).like(pattern)
                )
                .order_by(func.lower(Learner.name), Learner.id)
                .limit(limit)
            )
            return [_info(r) for r in rows]

    def delete_learner(self, learner_id: int) -> None:
        """Remove everything kept about a learner: answers, attempts, memberships, sign-ins, the learner."""
        with self._transaction(write=True) as s:
            forget_live(s, learner_id=learner_id)
            for model in (AnswerRecord, AttemptRow, CohortMember, SignInSession):
                s.execute(delete(model).where(model.learner_id == learner_id))
            s.execute(delete(Learner).where(Learner.id == learner_id))

    # ----------------------------------------------------------------------- embedded-mode sessions
    def start_session(self, role: str, learner_id: int | None, days: int = SESSION_DAYS) -> str:
        """A sign-in session for a browser; returns its token (only its hash is kept)."""
        if role not in ROLES or (role == "learner") != (learner_id is not None):
            raise ValueError(f"bad session: role {role!r}, learner {learner_id!r}")
        token = sh.new_token()
        with self._transaction(write=True) as s:
            s.execute(delete(SignInSession).where(SignInSession.expires_at <= now()))  # expired ones go
            s.add(
                SignInSession(
                    token_hash=sh.token_hash(token),
                    role=role,
                    learner_id=learner_id,
                    expires_at=now() + timedelta(days=days),
                )
            )
        return token

    def session(self, token: str) -> SessionInfo | None:
        """The live session of a token, or None (unknown, ended or expired)."""
        if not token or len(token) > 200:
            return None
        with self._transaction() as s:
            found = s.execute(
                select(SignInSession, Learner.name)
                .outerjoin(Learner, Learner.id == SignInSession.learner_id)
                .where(SignInSession.token_hash == sh.token_hash(token))
            ).first()
            if found is None or found[0].expires_at <= now():
                return None
            row, name = found
            return SessionInfo(row.role, row.learner_id, row.expires_at, name)

    def end_session(self, token: str) -> None:
        with self._transaction(write=True) as s:
            s.execute(delete(SignInSession).where(SignInSession.token_hash == sh.token_hash(token)))

    # ---------------------------------------------------------------------------------- rate limits
    def check_rate(self, key: str, limit: int, window_s: float) -> None:
        """RateLimited if key has `limit` failures within the last window_s seconds."""
        since = now() - timedelta(seconds=window_s)
        with self._transaction() as s:
            times = list(
                s.scalars(
                    select(AuthFailure.failed_at)
                    .where(AuthFailure.key == key, AuthFailure.failed_at > since)
                    .order_by(AuthFailure.failed_at.desc())
                    .limit(limit)
                )
            )
        if len(times) >= limit:
            raise RateLimited(max(1.0, (times[-1] - since).total_seconds()))

    def record_failure(self, key: str) -> None:
        with self._transaction(write=True) as s:
            s.add(AuthFailure(key=key[:200]))
            s.execute(delete(AuthFailure).where(AuthFailure.failed_at < now() - timedelta(days=1)))

    def clear_failures(self, key: str) -> None:
        with self._transaction(write=True) as s:
            s.execute(delete(AuthFailure).where(AuthFailure.key == key))
