"""The learner's phone in a live session, section by section (each callable from AppTest).

A phone joins with the session's code (from the QR code's link, or typed), with a display name, or
anonymously, or, signed in, under its own identity. It then keeps its seat's token in its own URL
(``?seat=``): a reload, a lock screen or a dropped connection comes back to the same seat, even on
another server process or after a restart. (The URL rather than a cookie: the browsers that QR
scanners open often drop cookies, and a seat's token opens nothing but that seat's answers.)

The phone shows only what the presenter opened: the stage, and each opened question, answerable while
open (every answer saved in the store at once, changeable until locked), then locked, then with the
learner's own feedback after the reveal. Every answer goes through Store.act with the seat's token.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth
from dashboard.common import get_store, plain
from dashboard.live.context import UNAVAILABLE, SessionCase, actor, read_state, safe_rows, session_case, watch
from dashboard.player.results import lab_rows
from dashboard.questions import ViewContext, WidgetKey, view_of
from dashboard.questions.render import (
    certainty_widget,
    explanation_lines,
    feedback_markdown,
    page_style,
    read_with_certainty,
    state_with_certainty,
    submitted_markdown,
)
from dashboard.secrets_hash import normalise_code
from dashboard.store import Store
from dashboard.store_live import GiveAnswer, LiveState, Refused, SeatInfo
from logic.markdown import safe_markdown
from logic.questions import QuestionBase, answer_value

SEAT_PARAM = "seat"
CODE_PARAM = "code"
TOKEN_KEY = "live_seat_token"  # session state: this phone's seat token
NOTICE_KEY = "live_notice"  # session state: (question id, "ok" | "error", text) after sending an answer
JOIN_PROBLEM_KEY = "live_join_problem"


# ---------------------------------------------------------------------------------------- the seat
def seat_token() -> str | None:
    token = st.query_params.get(SEAT_PARAM) or st.session_state.get(TOKEN_KEY)
    return token if isinstance(token, str) and 20 <= len(token) <= 100 else None


def find_seat(store: Store) -> tuple[SeatInfo, str] | None:
    """This phone's seat (from its URL or this browser session), or None (SQLAlchemyError if the store
    fails: the page must not offer to join again then, which would give the phone a second seat)."""
    token = seat_token()
    if token is None:
        return None
    seat = store.live_seat(token)  # a database failure propagates: the page says so, no new seat
    if seat is None:
        st.query_params.pop(SEAT_PARAM, None)
        st.session_state.pop(TOKEN_KEY, None)
        return None
    st.session_state[TOKEN_KEY] = token
    if st.query_params.get(SEAT_PARAM) != token:
        st.query_params[SEAT_PARAM] = token
    return seat, token


def _join() -> None:
    store = get_store()
    if store is None:
        st.session_state[JOIN_PROBLEM_KEY] = UNAVAILABLE
        return
    code = normalise_code(str(st.session_state.get("live_join_code") or ""))
    user = auth.current_user()
    try:
        found = store.live_by_code(code) if code else None
        if found is None:
            st.session_state[JOIN_PROBLEM_KEY] = "There is no session with that code. Check it on the screen."
            return
        name = None if user.learner_id is not None else st.session_state.get("live_join_name")
        seat, token = store.join_live(found.id, user.learner_id, name)
    except Refused as refused:
        st.session_state[JOIN_PROBLEM_KEY] = str(refused)
        return
    except SQLAlchemyError:
        st.session_state[JOIN_PROBLEM_KEY] = UNAVAILABLE
        return
    st.session_state.pop(JOIN_PROBLEM_KEY, None)
    st.session_state[TOKEN_KEY] = token
    st.query_params[CODE_PARAM] = found.join_code
    st.query_params[SEAT_PARAM] = token


def join_form() -> None:
    """The way in: the code (filled in from the QR code's link), a name or none, Join."""
    user = auth.page_user()
    st.title("Join the live session", anchor=False)
    linked = st.query_params.get(CODE_PARAM)
    if linked and "live_join_code" not in st.session_state:
        st.session_state["live_join_code"] = normalise_code(linked)
    with st.form("live_join", border=False):
        st.text_input("Session code", key="live_join_code", max_chars=12, placeholder="e.g. K7M2QD")
        if user.learner_id is not None:
            st.markdown(f"You join as **{plain(user.name)}**; your answers count in your own records.")
        else:
            st.text_input(
                "Your name (optional)",
                key="live_join_name",
                max_chars=80,
                placeholder="Leave empty to join anonymously",
                help="The room sees names only if the presenter switches them on.",
            )
        st.form_submit_button("Join", type="primary", width="stretch", on_click=_join)
    problem = st.session_state.get(JOIN_PROBLEM_KEY)
    if problem:
        st.error(problem)


# -------------------------------------------------------------------------------------- answering
def _key(session_id: int, round_: int) -> WidgetKey:
    def key(question_id: str, option: str | None) -> str:
        return f"live:{session_id}:{question_id}:{round_}:{option}"

    return key


def _send(session_id: int, question_id: str, round_: int) -> None:
    """Form callback: read the answer from the form, hand it to the store with the seat's token."""
    store = get_store()
    token = seat_token()
    if store is None or token is None:
        st.session_state[NOTICE_KEY] = (question_id, "error", UNAVAILABLE)
        return
    try:
        state = store.live_session(session_id)
        found = session_case(state)
        if found is None:
            raise Refused("The case of this session is not available.")
        question = found.grader.question(question_id)
        answer = read_with_certainty(view_of(question), question, st.session_state, _key(session_id, round_))
        store.act(session_id, actor(token), GiveAnswer(question_id, answer), found.grader)
    except Refused as refused:
        st.session_state[NOTICE_KEY] = (question_id, "error", str(refused))
        return
    except (SQLAlchemyError, KeyError):
        st.session_state[NOTICE_KEY] = (
            question_id,
            "error",
            "Your answer could not be saved just now: send it again.",
        )
        return
    st.session_state[NOTICE_KEY] = (
        question_id,
        "ok",
        "Answer saved. You can change it until the question is locked.",
    )


def _notice(question_id: str, *, still_open: bool) -> None:
    """The outcome of this phone's last send: an error always; "saved, you can change it" only while the
    question is still open (after the lock it would promise what the phone can no longer do)."""
    notice = st.session_state.get(NOTICE_KEY)
    if isinstance(notice, tuple) and notice[0] == question_id and (notice[1] != "ok" or still_open):
        (st.success if notice[1] == "ok" else st.error)(notice[2])


def _open_question(
    state: LiveState, sc: SessionCase, question: QuestionBase, mine: Any, previous: Any
) -> None:
    round_ = state.round(question.id)
    key = _key(state.id, round_)
    view = view_of(question)
    ctx = ViewContext(sc.kb, sc.loaded.case.population)
    given = mine if mine is not None else previous
    if given is not None:  # the form starts from the answer already given (or the first vote's)
        for widget, value in state_with_certainty(view, question, given, key).items():
            st.session_state.setdefault(widget, value)
    with st.form(f"live:{state.id}:{question.id}:{round_}", border=False):
        view.widget(question, key, ctx)
        if question.asks_certainty:
            certainty_widget(question, key)
        st.form_submit_button(
            "Change my answer" if mine is not None else "Send my answer",
            type="primary",
            width="stretch",
            on_click=_send,
            args=(state.id, question.id, round_),
        )
    if mine is not None:
        st.caption(f"Your answer: **{plain(view.answer_text(question, answer_value(mine), ctx))}**")


def question_cell(
    state: LiveState, sc: SessionCase, question: QuestionBase, answers: dict[tuple[str, int], Any]
) -> None:
    """One opened question on the phone, as its phase allows."""
    phase = state.phase(question.id)
    round_ = state.round(question.id)
    mine = answers.get((question.id, round_))
    previous = answers.get((question.id, round_ - 1))
    view = view_of(question)
    ctx = ViewContext(sc.kb, sc.loaded.case.population)
    with st.container(border=True):
        if phase == "open":
            st.markdown(
                (":material/replay: **Vote again** · " if round_ > 1 else "") + safe_markdown(question.prompt)
            )
            _open_question(state, sc, question, mine, previous)
        elif phase == "locked":
            st.markdown(":material/lock: **Locked**\n\n" + safe_markdown(question.prompt))
            if mine is None:
                st.info("You did not answer this question.")
            else:
                st.markdown(submitted_markdown(view, question, mine, ctx).split("\n", 1)[-1])
        else:  # revealed: the learner's own feedback
            st.markdown(":material/visibility: **Answer revealed**\n\n" + safe_markdown(question.prompt))
            if mine is None:
                st.info("You did not answer this question.")
                best = sc.grader.result(question.id, None)
                st.markdown("\n".join(explanation_lines(best, page_style(sc.kb))))
            else:
                result = sc.grader.result(question.id, mine)  # (the feedback's first line flags unsafe)
                st.markdown(feedback_markdown(view, question, result, page_style(sc.kb)))
        _notice(question.id, still_open=phase == "open")


def seat_view(store: Store, seat: SeatInfo) -> None:
    """The phone's screen for its seat: the stage, the opened questions, then waits for the presenter."""
    state = read_state(store, seat.session_id)
    if state is None:
        st.error("This session no longer exists.")
        return
    sc = session_case(state)
    if sc is None:
        st.error("The case of this session is not available on this server.")
        return
    case = sc.loaded.case
    who = plain(seat.display_name) if seat.display_name else "anonymous"
    st.markdown(f"**{safe_markdown(case.title)}**  \n{seat.label} · {who}")
    if state.ended:
        st.success("The session has ended. Thank you for taking part!")
        return
    stage = case.stages[state.stage_index]
    st.subheader(
        f"Stage {state.stage_index + 1} of {len(case.stages)}: {safe_markdown(stage.title)}", anchor=False
    )
    opened = [q for q in stage.questions if state.phase(q.id) != "closed"]
    with st.expander("The patient at this stage", expanded=not opened):
        st.markdown(safe_markdown(stage.narrative))
        if stage.data is not None and stage.data.labs:
            st.table(safe_rows(lab_rows(case, state.stage_index)), hide_index=True)
    answers = store.seat_answers(seat.id)
    for question in opened:
        question_cell(state, sc, question, answers)
    if not any(state.phase(q.id) == "open" for q in opened):
        st.caption(":material/hourglass_top: Waiting for the presenter to open a question…")
    watch(state.id, state.state_version, presenter=False)
