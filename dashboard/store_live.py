"""Live teaching sessions in the store: a presenter plays one case with a room of phones. Part of Store
(dashboard/store.py); pure, no streamlit, no logic (what a case's answers are worth comes from the
caller's ``Grader``).

Every piece of a session's state is a row here, never one process's memory, so any server process
can serve the presenter or any phone, and a restart loses nothing:

- ``live_sessions``: the case, the stage and the projected question, the presenter's switches, and
  two counters: ``version`` goes up on every change (a seat joining, an answer, a presenter action),
  ``state_version`` only on the presenter's changes. The presenter's page refreshes on the first, the
  phones on the second (one primary-key read each: ``live_version``).
- ``live_questions``: a question's phase once opened: open -> locked -> revealed, and its vote round
  (a re-vote reopens a locked question in the next round, each seat's answer carried over).
- ``live_seats``: who joined; the phone keeps the seat's token, only its hash is here.
- ``live_votes``: each seat's answer per question per round, saved when given.

Every change to a session goes through ``act(session_id, actor, action, grader)``: it locks the
session's row, checks that the actor may do the action (the presenter's actions need the faculty
role; an answer needs a seat token of this session and an open question) and that the action fits
the state, applies it and bumps the counters, in one transaction. Refusals raise ``Refused`` with a
sentence for the person. Starting a session (faculty) and joining one (anyone with the code) make
the rows ``act`` works on.

When a question is locked, each seat's answer of that round becomes an answer record of the seat's
attempt, exactly as the player writes one (grade, points, certainty, seconds), with the session's
id; a later round's lock replaces it. When the session ends, each seat's attempt is completed with
its score (a seat that never answered is closed as abandoned).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard import secrets_hash as sh
from dashboard.schema import (
    MAX_NAME,
    AnswerRecord,
    AttemptRow,
    Learner,
    LiveQuestion,
    LiveSeat,
    LiveSession,
    LiveVote,
    now,
)
from dashboard.store_base import StoreBase
from dashboard.store_records import AnswerInput, _json, _record_values

Phase = Literal["closed", "open", "locked", "revealed"]  # closed: not opened yet (no row)
ANONYMOUS = "Anonymous"
MAX_ANSWER_CHARS = 4000  # a reflection typed on a phone


class Refused(Exception):
    """An action the caller may not do, or not now; str() is a sentence for the person."""


@dataclass(frozen=True)
class Actor:
    """Who asks for a change, as the page established it on the server: the role from
    dashboard.auth.current_user() (checked with the store on every run) and, for a participant, the
    seat token their phone holds."""

    role: Literal["guest", "learner", "faculty"]
    seat_token: str | None = None


# ------------------------------------------------------------------------------------------ actions
@dataclass(frozen=True)
class OpenQuestion:
    question_id: str


@dataclass(frozen=True)
class LockQuestion:
    question_id: str


@dataclass(frozen=True)
class RevealQuestion:
    question_id: str


@dataclass(frozen=True)
class Revote:
    """Reopen a locked question for a second vote after discussion (each answer carried over)."""

    question_id: str


@dataclass(frozen=True)
class ShowQuestion:
    """Project a question of the stage (None: the stage itself)."""

    question_id: str | None


@dataclass(frozen=True)
class NextStage:
    pass


@dataclass(frozen=True)
class EndSession:
    pass


@dataclass(frozen=True)
class Switches:
    show_names: bool
    live_histogram: bool
    leaderboard: bool


@dataclass(frozen=True)
class GiveAnswer:
    """A participant's answer to an open question (replaces their answer of this round)."""

    question_id: str
    answer: Any


PresenterAction = (
    OpenQuestion | LockQuestion | RevealQuestion | Revote | ShowQuestion | NextStage | EndSession | Switches
)
Action = PresenterAction | GiveAnswer
PRESENTER_ACTIONS = (
    OpenQuestion,
    LockQuestion,
    RevealQuestion,
    Revote,
    ShowQuestion,
    NextStage,
    EndSession,
    Switches,
)


class Grader(Protocol):
    """What the store needs to know about the session's case (dashboard/live/room.py builds it)."""

    case_id: str
    stages: int

    def stage_of(self, question_id: str) -> int | None:
        """The stage index of a question of the case, None if the case has no such question."""

    def problem(self, question_id: str, answer: Any) -> str | None:
        """Why an answer cannot be taken (a sentence), or None."""

    def normalise(self, question_id: str, answer: Any) -> Any:
        """The answer as it is kept (e.g. the options of a select-all in the form's order)."""

    def record(self, question_id: str, answer: Any, seconds: float | None) -> AnswerInput:
        """The answer record of a seat's answer."""

    def total(self, answers: Mapping[str, Any]) -> tuple[float, dict[str, float]]:
        """A seat's score at the end: total 0-100 and the category scores."""


# ------------------------------------------------------------------------------------------ values
@dataclass(frozen=True)
class QuestionState:
    question_id: str
    stage_index: int
    phase: Phase
    round: int
    opened_at: datetime


@dataclass(frozen=True)
class LiveState:
    id: int
    join_code: str
    case_id: str
    case_hash: str | None
    cohort_id: int | None
    created_by: str | None
    created_at: datetime
    ended_at: datetime | None
    stage_index: int
    question_id: str | None  # the projected question (None: the stage)
    show_names: bool
    live_histogram: bool
    leaderboard: bool
    version: int
    state_version: int
    questions: Mapping[str, QuestionState]

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def phase(self, question_id: str) -> Phase:
        found = self.questions.get(question_id)
        return found.phase if found is not None else "closed"

    def round(self, question_id: str) -> int:
        found = self.questions.get(question_id)
        return found.round if found is not None else 0


@dataclass(frozen=True)
class SeatInfo:
    id: int
    session_id: int
    number: int
    display_name: str | None
    learner_id: int
    attempt_id: int

    @property
    def label(self) -> str:
        """The seat as the room may read it: "Seat 7"."""
        return f"Seat {self.number}"


@dataclass(frozen=True)
class Vote:
    seat_id: int
    seat_number: int
    display_name: str | None
    question_id: str
    round: int
    answer: Any
    changes: int


@dataclass(frozen=True)
class SeatPoints:
    seat_number: int
    display_name: str | None
    points: float


def _state(row: LiveSession, questions: list[LiveQuestion]) -> LiveState:
    return LiveState(
        row.id, row.join_code, row.case_id, row.case_hash, row.cohort_id, row.created_by, row.created_at,
        row.ended_at, row.stage_index, row.question_id, row.show_names, row.live_histogram,
        row.leaderboard, row.version, row.state_version,
        {q.question_id: QuestionState(q.question_id, q.stage_index, q.phase, q.round, q.opened_at)  # type: ignore[arg-type]
         for q in questions},
    )  # fmt: skip


def _seat(row: LiveSeat) -> SeatInfo:
    return SeatInfo(row.id, row.session_id, row.number, row.display_name, row.learner_id, row.attempt_id)


def _clean_name(name: str | None) -> str | None:
    text = " ".join(str(name or "").split())[:MAX_NAME]
    return text or None


def forget_live(session: Session, *, learner_id: int | None = None, cohort_id: int | None = None) -> None:
    """Delete the live-session rows of a learner (their seats and votes) or of a cohort (its sessions,
    with every seat, vote and question): called by delete_learner and delete_cohort, in their
    transaction, before the attempts go."""
    if learner_id is not None:
        seats = select(LiveSeat.id).where(LiveSeat.learner_id == learner_id)
        session.execute(delete(LiveVote).where(LiveVote.seat_id.in_(seats)))
        session.execute(delete(LiveSeat).where(LiveSeat.learner_id == learner_id))
    if cohort_id is not None:
        sessions = select(LiveSession.id).where(LiveSession.cohort_id == cohort_id)
        for model in (LiveVote, LiveSeat, LiveQuestion):
            session.execute(delete(model).where(model.session_id.in_(sessions)))
        session.execute(
            delete(AnswerRecord).where(AnswerRecord.live_session_id.in_(sessions))
        )  # their records and attempts are the cohort's: they go with it
        session.execute(
            update(AttemptRow).where(AttemptRow.live_session_id.in_(sessions)).values(live_session_id=None)
        )
        session.execute(delete(LiveSession).where(LiveSession.cohort_id == cohort_id))


class LiveStore(StoreBase):
    # ------------------------------------------------------------------------------------- reading
    def live_version(self, session_id: int) -> tuple[int, int] | None:
        """(version, state_version) of a session: the refresh's one primary-key read. None if unknown."""
        with self._transaction() as s:
            found = s.execute(
                select(LiveSession.version, LiveSession.state_version).where(LiveSession.id == session_id)
            ).first()
        return (int(found[0]), int(found[1])) if found is not None else None

    def live_session(self, session_id: int) -> LiveState:
        """The whole state of a session (KeyError if unknown)."""
        with self._transaction() as s:
            return self._read(s, session_id)

    @staticmethod
    def _read(s: Session, session_id: int) -> LiveState:
        row = s.get(LiveSession, session_id)
        if row is None:
            raise KeyError(f"no live session {session_id}")
        questions = list(s.scalars(select(LiveQuestion).where(LiveQuestion.session_id == session_id)))
        return _state(row, questions)

    def live_by_code(self, code: str) -> LiveState | None:
        """The session with this join code (typed in any case, spaces ignored), ended or not."""
        with self._transaction() as s:
            found = s.scalar(select(LiveSession.id).where(LiveSession.join_code == sh.normalise_code(code)))
            return self._read(s, found) if found is not None else None

    def live_sessions(self, include_ended: bool = False, limit: int = 50) -> list[LiveState]:
        """Sessions, the newest first (for the presenter to resume one)."""
        query = select(LiveSession.id).order_by(LiveSession.id.desc()).limit(limit)
        if not include_ended:
            query = query.where(LiveSession.ended_at.is_(None))
        with self._transaction() as s:
            return [self._read(s, i) for i in s.scalars(query).all()]

    def live_seat(self, token: str) -> SeatInfo | None:
        """The seat whose token this is, or None."""
        if not isinstance(token, str) or not token:
            return None
        with self._transaction() as s:
            row = s.scalar(select(LiveSeat).where(LiveSeat.token_hash == sh.token_hash(token)))
            return _seat(row) if row is not None else None

    def live_seat_count(self, session_id: int) -> int:
        with self._transaction() as s:
            return int(s.scalar(select(func.count()).where(LiveSeat.session_id == session_id)) or 0)

    def live_seats(self, session_id: int) -> list[SeatInfo]:
        with self._transaction() as s:
            rows = s.scalars(
                select(LiveSeat).where(LiveSeat.session_id == session_id).order_by(LiveSeat.number)
            )
            return [_seat(r) for r in rows]

    def live_votes(self, session_id: int, question_id: str) -> list[Vote]:
        """Every round's answers to one question, by round and seat."""
        with self._transaction() as s:
            rows = s.execute(
                select(LiveVote, LiveSeat.number, LiveSeat.display_name)
                .join(LiveSeat, LiveSeat.id == LiveVote.seat_id)
                .where(LiveVote.session_id == session_id, LiveVote.question_id == question_id)
                .order_by(LiveVote.round, LiveSeat.number)
            ).all()
            return [
                Vote(v.seat_id, number, name, v.question_id, v.round, v.answer, v.changes)
                for v, number, name in rows
            ]

    def seat_answers(self, seat_id: int) -> dict[tuple[str, int], Any]:
        """A seat's answers: (question id, round) -> answer."""
        with self._transaction() as s:
            rows = s.execute(
                select(LiveVote.question_id, LiveVote.round, LiveVote.answer).where(
                    LiveVote.seat_id == seat_id
                )
            ).all()
            return {(q, r): a for q, r, a in rows}

    def live_points(self, session_id: int) -> list[SeatPoints]:
        """Each seat's points so far (from the answer records of locked questions), the highest first."""
        with self._transaction() as s:
            rows = s.execute(
                select(
                    LiveSeat.number, LiveSeat.display_name, func.coalesce(func.sum(AnswerRecord.points), 0.0)
                )
                .join(AnswerRecord, AnswerRecord.attempt_id == LiveSeat.attempt_id, isouter=True)
                .where(LiveSeat.session_id == session_id)
                .group_by(LiveSeat.id, LiveSeat.number, LiveSeat.display_name)
            ).all()
        return sorted(
            (SeatPoints(n, name, float(p)) for n, name, p in rows), key=lambda r: (-r.points, r.seat_number)
        )

    # ------------------------------------------------------------------------- starting and joining
    def start_live(
        self,
        actor: Actor,
        case_id: str,
        case_hash: str | None = None,
        cohort_id: int | None = None,
        created_by: str | None = None,
    ) -> LiveState:
        """A new session at the case's first stage, with a fresh join code (faculty only)."""
        if actor.role != "faculty":
            raise Refused("Only faculty can start a live session.")
        for _ in range(5):  # a join code in use: draw another
            try:
                with self._transaction(write=True) as s:
                    row = LiveSession(
                        join_code=sh.new_code(sh.JOIN_CODE_LENGTH),
                        case_id=case_id,
                        case_hash=case_hash,
                        cohort_id=cohort_id,
                        created_by=created_by,
                        stage_index=0,
                        show_names=False,
                        live_histogram=False,
                        leaderboard=False,
                        version=1,
                        state_version=1,
                    )
                    s.add(row)
                    s.flush()
                    return _state(row, [])
            except IntegrityError:
                continue
        raise RuntimeError("could not draw a free join code")

    def join_live(
        self, session_id: int, learner_id: int | None = None, display_name: str | None = None
    ) -> tuple[SeatInfo, str]:
        """A seat in the session and its token (to keep on the phone). A signed-in learner
        (learner_id) has one seat per session: joining again returns it with a new token. Anyone else
        gets a new seat under a learner of kind 'seat' (display_name, or anonymous). Refused once
        the session has ended."""
        token = sh.new_token()
        name = _clean_name(display_name)
        with self._transaction(write=True) as s:
            row = s.get(LiveSession, session_id, with_for_update=True)
            if row is None:
                raise Refused("There is no such session.")
            if row.ended_at is not None:
                raise Refused("This session has ended.")
            if learner_id is not None:
                found = s.scalar(
                    select(LiveSeat).where(
                        LiveSeat.session_id == session_id, LiveSeat.learner_id == learner_id
                    )
                )
                if found is not None:
                    found.token_hash = sh.token_hash(token)
                    return _seat(found), token
                learner = s.get(Learner, learner_id)
                if learner is None:
                    raise KeyError(f"no learner {learner_id}")
                name = name or learner.name
            else:
                learner = Learner(name=name or ANONYMOUS, kind="seat")
                s.add(learner)
                s.flush()
            attempt = AttemptRow(
                learner_id=learner.id,
                case_id=row.case_id,
                answers={},
                stages_submitted=0,
                cohort_id=row.cohort_id,
                case_hash=row.case_hash,
                live_session_id=row.id,
            )
            s.add(attempt)
            s.flush()
            number = (
                int(
                    s.scalar(
                        select(func.coalesce(func.max(LiveSeat.number), 0)).where(
                            LiveSeat.session_id == session_id
                        )
                    )
                    or 0
                )
                + 1
            )
            seat = LiveSeat(
                session_id=session_id,
                number=number,
                token_hash=sh.token_hash(token),
                display_name=name,
                learner_id=learner.id,
                attempt_id=attempt.id,
            )
            s.add(seat)
            row.version += 1
            s.flush()
            return _seat(seat), token

    # ------------------------------------------------------------------------------------ changing
    def act(self, session_id: int, actor: Actor, action: Action, grader: Grader) -> LiveState:
        """The one way to change a session: check who asks and what for, apply, bump the counters.
        Refused (a sentence for the person) if the actor may not do it or the session's state does
        not allow it; the state after the change otherwise."""
        with self._transaction(write=True) as s:
            row = s.get(LiveSession, session_id, with_for_update=True)
            if row is None:
                raise Refused("There is no such session.")
            if grader.case_id != row.case_id:
                raise ValueError(f"a grader of case {grader.case_id!r} for a session of {row.case_id!r}")
            if isinstance(action, GiveAnswer):
                self._answer(s, row, actor, action, grader)
            elif isinstance(action, PRESENTER_ACTIONS):
                if actor.role != "faculty":
                    raise Refused("Only the presenter can do that.")
                if row.ended_at is not None:
                    raise Refused("This session has ended.")
                self._present(s, row, action, grader)
                row.state_version += 1
            else:
                raise TypeError(f"not a live session action: {action!r}")
            row.version += 1
            s.flush()
            return self._read(s, session_id)

    @staticmethod
    def _question(s: Session, session_id: int, question_id: str) -> LiveQuestion | None:
        return s.get(LiveQuestion, (session_id, question_id), with_for_update=True)

    def _answer(self, s: Session, row: LiveSession, actor: Actor, action: GiveAnswer, grader: Grader) -> None:
        seat = (
            s.scalar(select(LiveSeat).where(LiveSeat.token_hash == sh.token_hash(actor.seat_token)))
            if actor.seat_token
            else None
        )
        if seat is None or seat.session_id != row.id:
            raise Refused("This phone has no seat in this session: join it first.")
        if row.ended_at is not None:
            raise Refused("This session has ended.")
        question = self._question(s, row.id, action.question_id)
        if question is None or question.phase != "open":
            raise Refused(
                "This question is locked: your answer was not taken."
                if question is not None
                else "This question is not open."
            )
        _json({"answer": action.answer}, "answer")
        if isinstance(action.answer, str) and len(action.answer) > MAX_ANSWER_CHARS:
            raise Refused(f"Keep the answer under {MAX_ANSWER_CHARS} characters.")
        problem = grader.problem(action.question_id, action.answer)
        if problem:
            raise Refused(problem)
        answer = grader.normalise(action.question_id, action.answer)
        vote = s.scalar(
            select(LiveVote).where(
                LiveVote.seat_id == seat.id,
                LiveVote.question_id == action.question_id,
                LiveVote.round == question.round,
            )
        )
        if vote is None:
            s.add(
                LiveVote(
                    session_id=row.id,
                    seat_id=seat.id,
                    question_id=action.question_id,
                    round=question.round,
                    answer=answer,
                    changes=0,
                    answered_at=now(),
                )
            )
        else:
            vote.answer = answer
            vote.changes += 1
            vote.answered_at = now()

    def _present(self, s: Session, row: LiveSession, action: PresenterAction, grader: Grader) -> None:
        if isinstance(action, Switches):
            row.show_names, row.live_histogram, row.leaderboard = (
                bool(action.show_names),
                bool(action.live_histogram),
                bool(action.leaderboard),
            )
            return
        if isinstance(action, NextStage):
            if row.stage_index + 1 >= grader.stages:
                raise Refused("This is the last stage: end the session instead.")
            self._lock_open(s, row, grader)
            row.stage_index += 1
            row.question_id = None
            return
        if isinstance(action, EndSession):
            self._lock_open(s, row, grader)
            self._complete(s, row, grader)
            row.ended_at = now()
            return
        if isinstance(action, ShowQuestion) and action.question_id is None:
            row.question_id = None
            return
        question_id = action.question_id
        assert question_id is not None
        if grader.stage_of(question_id) != row.stage_index:
            raise Refused("That question is not part of the current stage.")
        question = self._question(s, row.id, question_id)
        if isinstance(action, ShowQuestion):
            row.question_id = question_id
        elif isinstance(action, OpenQuestion):
            if question is not None:
                raise Refused("This question was opened already; reopen it with a re-vote.")
            s.add(
                LiveQuestion(
                    session_id=row.id,
                    question_id=question_id,
                    stage_index=row.stage_index,
                    phase="open",
                    round=1,
                    opened_at=now(),
                )
            )
            row.question_id = question_id
        elif isinstance(action, LockQuestion):
            if question is None or question.phase != "open":
                raise Refused("Only an open question can be locked.")
            self._lock(s, row, question, grader)
        elif isinstance(action, RevealQuestion):
            if question is None or question.phase != "locked":
                raise Refused("Lock the question before revealing the answer.")
            question.phase = "revealed"
            row.question_id = question_id
        elif isinstance(action, Revote):
            if question is None or question.phase != "locked":
                raise Refused("Only a locked question that is not revealed yet can be voted on again.")
            question.round += 1
            question.phase = "open"
            question.opened_at = now()
            previous = select(
                LiveVote.session_id,
                LiveVote.seat_id,
                LiveVote.question_id,
                (LiveVote.round + 1).label("round"),
                LiveVote.answer,
                literal(0).label("changes"),
                LiveVote.answered_at,
            ).where(
                LiveVote.session_id == row.id,
                LiveVote.question_id == question_id,
                LiveVote.round == question.round - 1,
            )
            s.execute(
                insert(LiveVote).from_select(
                    ["session_id", "seat_id", "question_id", "round", "answer", "changes", "answered_at"],
                    previous,
                )
            )
            row.question_id = question_id

    def _lock_open(self, s: Session, row: LiveSession, grader: Grader) -> None:
        for question in s.scalars(
            select(LiveQuestion)
            .where(LiveQuestion.session_id == row.id, LiveQuestion.phase == "open")
            .with_for_update()
        ).all():
            self._lock(s, row, question, grader)

    @staticmethod
    def _lock(s: Session, row: LiveSession, question: LiveQuestion, grader: Grader) -> None:
        """Lock a question and write each seat's answer of this round as its attempt's answer record
        (replacing an earlier round's)."""
        question.phase = "locked"
        votes = s.execute(
            select(LiveVote, LiveSeat.attempt_id)
            .join(LiveSeat, LiveSeat.id == LiveVote.seat_id)
            .where(
                LiveVote.session_id == row.id,
                LiveVote.question_id == question.question_id,
                LiveVote.round == question.round,
            )
        ).all()
        if not votes:
            return
        attempts = {
            a.id: a
            for a in s.scalars(
                select(AttemptRow).where(AttemptRow.id.in_([attempt_id for _, attempt_id in votes]))
            )
        }
        values = []
        opened = question.opened_at
        for vote, attempt_id in votes:
            attempt = attempts[attempt_id]
            # From the question opened (in this round) to the answer; a carried-over answer counts as 0.
            seconds = max(0.0, (vote.answered_at - opened).total_seconds())
            record = grader.record(question.question_id, vote.answer, seconds)
            values.append(_record_values(record, attempt))
            attempt.answers = {**attempt.answers, question.question_id: vote.answer}
            attempt.stages_submitted = max(attempt.stages_submitted, question.stage_index + 1)
            attempt.updated_at = now()
        s.execute(
            delete(AnswerRecord).where(
                AnswerRecord.attempt_id.in_(list(attempts)), AnswerRecord.question_id == question.question_id
            )
        )
        s.execute(insert(AnswerRecord), values)

    @staticmethod
    def _complete(s: Session, row: LiveSession, grader: Grader) -> None:
        stamp = now()
        attempts = s.scalars(
            select(AttemptRow).where(AttemptRow.live_session_id == row.id, AttemptRow.completed_at.is_(None))
        ).all()
        for attempt in attempts:
            if attempt.answers:
                total, categories = grader.total(attempt.answers)
                attempt.total = float(total)
                attempt.category_scores = dict(categories)
            attempt.completed_at = attempt.updated_at = stamp  # no answers: closed as abandoned
