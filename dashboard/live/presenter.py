"""The presenter's page of a live session, made for a projector, section by section (each callable
from AppTest). Faculty only: the page calls auth.require_faculty() first, and every button goes to
Store.act with the role checked afresh (a learner's session that somehow reached a callback is refused
by the store).

The page is the session's state in the store, drawn: which stage, which question is projected, its
phase (open, locked, revealed) and vote round, the seats and their answers. A reload, another server
process or a restart draws exactly the same page (the session's id is in the URL, ``?session=``).
"""

from __future__ import annotations

import os
from datetime import UTC

import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.analytics import flow_summary
from dashboard.analytics_figures import cohort_flowchart
from dashboard.common import get_library, get_store, plain
from dashboard.figures import trend_figure
from dashboard.links import app_url
from dashboard.live import room
from dashboard.live.context import (
    UNAVAILABLE,
    SessionCase,
    actor,
    case_version,
    read_state,
    safe_rows,
    session_case,
    watch,
)
from dashboard.live.figures import room_histogram
from dashboard.persistence import case_hash
from dashboard.player import results as pr
from dashboard.player.memo import FIGURES
from dashboard.questions import ViewContext, view_of
from dashboard.questions.render import escape, explanation_lines, grade_span, page_style
from dashboard.store import Store
from dashboard.store_live import (
    Action,
    EndSession,
    LiveState,
    LockQuestion,
    NextStage,
    OpenQuestion,
    Refused,
    RevealQuestion,
    Revote,
    ShowQuestion,
    Switches,
    Vote,
)
from logic.markdown import safe_markdown
from logic.questions import QuestionBase

SESSION_PARAM = "session"
NOTICE_KEY = "live_presenter_notice"
PHASE_LABELS = {"closed": "Not opened", "open": "Open", "locked": "Locked", "revealed": "Revealed"}


# -------------------------------------------------------------------------------------- acting
def _act(session_id: int, action: Action) -> None:
    """Button callback: the action, by whoever is signed in now, through the store's one checked door."""
    st.session_state.pop(NOTICE_KEY, None)
    store = get_store()
    if store is None:
        st.session_state[NOTICE_KEY] = UNAVAILABLE
        return
    try:
        state = store.live_session(session_id)
        found = session_case(state)
        if found is None:
            raise Refused("The case of this session is no longer in the library.")
        store.act(session_id, actor(), action, found.grader)
    except Refused as refused:
        st.session_state[NOTICE_KEY] = str(refused)
    except (SQLAlchemyError, KeyError):
        st.session_state[NOTICE_KEY] = UNAVAILABLE


def _button(
    label: str, session_id: int, action: Action, key: str, *, primary: bool = False, icon: str | None = None
) -> None:
    st.button(
        label,
        key=key,
        on_click=_act,
        args=(session_id, action),
        type="primary" if primary else "secondary",
        icon=icon,
        width="stretch",
    )


# ------------------------------------------------------------------------------ start or resume
def _start(store: Store, created_by: str | None) -> None:
    library = get_library()
    case_id = st.session_state.get("live_start_case")
    loaded = library.cases.get(case_id) if isinstance(case_id, str) else None
    if loaded is None:
        st.session_state[NOTICE_KEY] = "Choose a case first."
        return
    cohort = st.session_state.get("live_start_cohort") or None
    try:
        state = store.start_live(actor(), loaded.case.id, case_hash(loaded.path), cohort, created_by)
    except Refused as refused:
        st.session_state[NOTICE_KEY] = str(refused)
        return
    except SQLAlchemyError:
        st.session_state[NOTICE_KEY] = UNAVAILABLE
        return
    st.query_params[SESSION_PARAM] = str(state.id)


def _resume(session_id: int) -> None:
    st.query_params[SESSION_PARAM] = str(session_id)


def _leave() -> None:
    """Back to the list of sessions (the session goes on; resume it from there)."""
    st.query_params.pop(SESSION_PARAM, None)


def start_or_resume(store: Store, created_by: str | None) -> None:
    """Start a session from any case (optionally for a cohort), or resume one still running."""
    library = get_library()
    st.title("Live session", anchor=False)
    st.markdown(
        "Play a case with the room: the room joins on their phones with a code or a QR code, you open "
        "each question, lock it, and reveal the answer with the room's choices. Projector mode: this "
        "page has no sidebar and large type."
    )
    cases = sorted(library.cases, key=lambda c: library.cases[c].case.title.lower())
    try:
        cohorts = [c for c in store.cohorts() if c.active()]
        running = store.live_sessions()
    except SQLAlchemyError:
        st.warning(UNAVAILABLE)
        return
    names = {c.id: plain(c.name) for c in cohorts}
    with st.form("live_start", border=True):
        st.selectbox("Case", cases, format_func=lambda c: library.cases[c].case.title, key="live_start_case")
        st.selectbox(
            "Record the answers in a cohort (optional)",
            [0, *names],
            format_func=lambda c: names.get(c, "No cohort"),
            key="live_start_cohort",
        )
        st.form_submit_button("Start the session", type="primary", on_click=_start, args=(store, created_by))
    if running:
        st.subheader("Running sessions", anchor=False)
        for state in running:
            loaded = library.cases.get(state.case_id)
            title = loaded.case.title if loaded else state.case_id
            text_col, button_col = st.columns([5, 1], vertical_alignment="center")
            started = state.created_at.astimezone(UTC).strftime("%d %b %H:%M UTC")
            text_col.markdown(
                f"**{safe_markdown(title)}** · code **{state.join_code}** · stage {state.stage_index + 1} · started {started}"
            )
            button_col.button("Resume", key=f"live_resume:{state.id}", on_click=_resume, args=(state.id,))
    _notice()


def _notice() -> None:
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        st.warning(notice, icon=":material/front_hand:")


def chosen_session(store: Store) -> LiveState | None:
    """The session named in the URL (?session=), if it exists."""
    raw = st.query_params.get(SESSION_PARAM)
    if not raw or not raw.isdigit():
        return None
    return read_state(store, int(raw))  # a database failure propagates: the page says so


# ------------------------------------------------------------------------------------- projector
def public_url() -> str:
    """The app's address for the room: $MYOTUTOR_PUBLIC_URL when set (the presenter's browser may use
    another address than the room can reach, e.g. localhost), else the address the presenter's page has."""
    return os.environ.get("MYOTUTOR_PUBLIC_URL", "").strip() or app_url("present")


@st.cache_data(show_spinner=False, max_entries=32)
def _qr(url: str) -> str:
    return room.qr_svg(url)


def join_panel(state: LiveState, seats: int, names: list[str], *, large: bool) -> None:
    """The way in: the QR code of the join link, the code, the link; how many joined (and who, only
    when names are switched on)."""
    url = room.join_url(public_url(), state.join_code)
    if large:
        st.image(_qr(url), width=420)
        st.markdown(f"Join at **{plain(url.split('?')[0])}** with the code")
        st.container(key="live-join-code").markdown(state.join_code)
    else:
        st.markdown(f"Join: **{plain(url.split('?')[0])}** · code **{state.join_code}**")
    st.container(key="live-joined").markdown(f"**{seats}** joined")
    if state.show_names and names:
        st.caption(", ".join(plain(n) for n in names))


def stage_panel(state: LiveState, sc: SessionCase) -> None:
    """The stage's narrative and data, as the room reads them."""
    case = sc.loaded.case
    stage = case.stages[state.stage_index]
    st.markdown(safe_markdown(stage.narrative))
    if stage.data is not None and stage.data.labs:
        st.table(safe_rows(pr.lab_rows(case, state.stage_index)), hide_index=True)
    if stage.data is not None and stage.data.series:
        series = stage.data.series
        version = case_version(sc.loaded)
        figure = FIGURES.get(
            ("live-trend", case.id, version, state.stage_index),
            lambda: trend_figure(series).update_layout(font_size=20, height=380),
        )
        st.plotly_chart(figure, key=f"live-trend:{state.stage_index}", config={"displayModeBar": False})


def _options_text(question: QuestionBase, sc: SessionCase) -> str:
    lines = view_of(question).question_lines(question, ViewContext(sc.kb, sc.loaded.case.population))
    return "\n".join(safe_markdown(line) for line in lines)


def question_panel(
    state: LiveState, sc: SessionCase, question: QuestionBase, votes: list[Vote], seats: int
) -> None:
    """The projected question: prompt, options, its phase and the room's answers; at the reveal the
    histogram by grade (before → after a re-vote), the best answer, why, sources and faculty notes."""
    phase = state.phase(question.id)
    round_ = state.round(question.id)
    st.markdown(f"### {safe_markdown(question.prompt)}")
    st.caption(
        safe_markdown(view_of(question).instruction(question))
        + f" · {PHASE_LABELS[phase]}"
        + (f" · vote {round_}" if round_ > 1 else "")
    )
    bars = room.room_bars(question, votes, sc.grader)
    if phase == "closed" or (phase != "revealed" and not (state.live_histogram and bars)):
        st.markdown(_options_text(question, sc))
    if phase != "closed":
        n = room.answered(votes, round_)
        text = f"**{n}** of {seats} answered"
        if round_ > 1:
            text += f" · **{room.changed(votes, round_)}** changed their answer"
        st.container(key="live-count").markdown(text)
    if bars and (phase == "revealed" or state.live_histogram):
        st.plotly_chart(
            room_histogram(bars, graded=phase == "revealed"),
            key=f"live-hist:{question.id}:{round_}:{phase}",
            config={"displayModeBar": False, "staticPlot": True},
        )
    if phase == "revealed":
        reveal(question, sc)


def reveal(question: QuestionBase, sc: SessionCase) -> None:
    """The answer as the room reads it: best answer, why, sources, faculty notes (the same lines as a
    learner's feedback), or a reflection's discussion."""
    best = room.best_result(question, sc.grader)
    if not best.scored:
        st.markdown(
            "**Discussion**\n\n"
            + (
                escape(best.discussion)
                if best.discussion
                else "*No discussion was written for this question.*"
            )
        )
        return
    st.markdown("\n".join(explanation_lines(best, page_style(sc.kb))))


def option_grades(question: QuestionBase, sc: SessionCase) -> None:
    """Every option with the logic's grade and its reason (the kind's own feedback lines)."""
    rows = room.reveal_rows(question, sc.grader)
    lines = [
        f"- {grade_span(r.colour, r.label)} **{escape(r.name)}**"
        + (f" — {escape(r.why)}" if r.why and r.why != r.name else "")
        for r in rows
    ]
    if lines:
        st.markdown("\n".join(lines))


def room_on_pathway(state: LiveState, sc: SessionCase, question: QuestionBase, votes: list[Vote]) -> None:
    """The room on the flowchart: each step shaded by how many seats' answers it stands for, the step
    of the best answer starred, the patient's position outlined (the analytics' cohort overlay)."""
    pathway = sc.kb.pathways.get(sc.loaded.case.population)
    flow = room.room_flow(question, votes, sc.grader)
    if pathway is None or flow is None:
        return
    figure = go.Figure(
        cohort_flowchart(
            sc.kb,
            sc.loaded.case.population,
            flow.position,
            flow.recommended,
            tuple(sorted(flow.counts.items())),
            flow.answered,
            flow.off_pathway,
        )
    )  # a copy: the memoised figure is shared
    figure.update_layout(height=620, margin=dict(l=0, r=0, t=40, b=0), font_size=18)
    figure.update_traces(textfont_size=17, selector=dict(name="steps"))  # readable on a projector
    figure.for_each_annotation(
        lambda a: a.update(font_size=20 if str(a.name or "").startswith("count:") else 14)
    )
    sentence = flow_summary(flow, pathway, sc.kb).removeprefix(f"{flow.title}: ")
    st.markdown(f"**The room on the pathway.** {sentence}")
    st.plotly_chart(figure, key=f"live-path:{question.id}", config={"displayModeBar": False})
    st.caption("A step stands for every option it teaches; the bars beside it show the options chosen.")


def controls(state: LiveState, sc: SessionCase, question: QuestionBase | None) -> None:
    """The presenter's buttons: project a question, open, lock, reveal, re-vote; next stage; end."""
    case = sc.loaded.case
    stage = case.stages[state.stage_index]
    sid = state.id
    cols = st.columns(len(stage.questions) + 1)
    with cols[0]:
        _button(
            "The stage",
            sid,
            ShowQuestion(None),
            "live_show_stage",
            primary=question is None,
            icon=":material/article:",
        )
    for i, (col, q) in enumerate(zip(cols[1:], stage.questions, strict=True), start=1):
        with col:
            mark = {"closed": "", "open": " · open", "locked": " · locked", "revealed": " ✓"}[
                state.phase(q.id)
            ]
            _button(
                f"Question {i}{mark}",
                sid,
                ShowQuestion(q.id),
                f"live_show:{q.id}",
                primary=question is not None and q.id == question.id,
            )
    action_cols = st.columns(4)
    if question is not None:
        phase = state.phase(question.id)
        qid = question.id
        with action_cols[0]:
            if phase == "closed":
                _button(
                    "Open the question",
                    sid,
                    OpenQuestion(qid),
                    "live_open",
                    primary=True,
                    icon=":material/play_arrow:",
                )
            elif phase == "open":
                _button(
                    "Lock answers", sid, LockQuestion(qid), "live_lock", primary=True, icon=":material/lock:"
                )
            elif phase == "locked":
                _button(
                    "Reveal the answer",
                    sid,
                    RevealQuestion(qid),
                    "live_reveal",
                    primary=True,
                    icon=":material/visibility:",
                )
        with action_cols[1]:
            if phase == "locked":
                _button("Vote again", sid, Revote(qid), "live_revote", icon=":material/replay:")
    with action_cols[2]:
        if state.stage_index + 1 < len(case.stages):
            _button("Next stage", sid, NextStage(), "live_next_stage", icon=":material/skip_next:")
    with action_cols[3]:
        _button("End the session", sid, EndSession(), "live_end", icon=":material/stop_circle:")
    with st.popover("Settings", icon=":material/settings:"):
        st.toggle(
            "Live histogram while open (no grades)",
            value=state.live_histogram,
            key=f"live_sw_hist:{state.state_version}",
        )
        st.toggle(
            "Show names",
            value=state.show_names,
            key=f"live_sw_names:{state.state_version}",
            help="Names are never projected unless this is on.",
        )
        st.toggle(
            "Leaderboard",
            value=state.leaderboard,
            key=f"live_sw_board:{state.state_version}",
            help="Off by default: teaching, not a quiz show.",
        )
        st.button("Apply", key="live_sw_apply", on_click=_switches, args=(sid, state.state_version))
        st.button(
            "All sessions", key="live_leave", on_click=_leave, help="The session goes on; resume it there."
        )
    _notice()


def _switches(session_id: int, version: int) -> None:
    _act(
        session_id,
        Switches(
            show_names=bool(st.session_state.get(f"live_sw_names:{version}")),
            live_histogram=bool(st.session_state.get(f"live_sw_hist:{version}")),
            leaderboard=bool(st.session_state.get(f"live_sw_board:{version}")),
        ),
    )


def leaderboard(store: Store, state: LiveState) -> None:
    """The top seats by points so far (only when switched on; names only when names are on)."""
    if not state.leaderboard:
        return
    top = store.live_points(state.id)[:5]
    if not top:
        return
    lines = [
        f"{i}. Seat {p.seat_number}"
        + (f" · {plain(p.display_name)}" if state.show_names and p.display_name else "")
        + f" — {p.points:g} point{'' if p.points == 1 else 's'}"
        for i, p in enumerate(top, start=1)
    ]
    st.markdown("**Leaderboard**\n\n" + "\n".join(lines))


def projector(store: Store, state: LiveState) -> None:
    """The projected session: header, the stage (or the room on the pathway), the question or the
    way in, the presenter's controls; refreshed when anything in the session changes."""
    sc = session_case(state)
    if sc is None:
        st.error(f"The case {state.case_id!r} of this session is not in the library any more.")
        return
    case = sc.loaded.case
    seats = store.live_seats(state.id)
    names = [s.display_name or s.label for s in seats]
    question = sc.grader.question(state.question_id) if state.question_id else None
    stage = case.stages[state.stage_index]
    head, join = st.columns([3, 2], vertical_alignment="bottom")
    head.markdown(
        f"## {safe_markdown(case.title)}\nStage {state.stage_index + 1} of {len(case.stages)}: "
        f"**{safe_markdown(stage.title)}**"
    )
    if state.ended:
        st.success(
            "The session has ended. Its answers are in the store like any attempt's: the Progress page "
            "and the cohort's results count them."
        )
        st.button("All sessions", key="live_all_sessions", on_click=_leave, icon=":material/list:")
        return
    with join:
        if question is not None:
            join_panel(state, len(seats), names, large=False)
    left, right = st.columns([3, 2], gap="large")
    votes = store.live_votes(state.id, question.id) if question is not None else []
    with left:
        if question is not None and state.phase(question.id) == "revealed":
            room_on_pathway(state, sc, question, votes)
            option_grades(question, sc)
        else:
            stage_panel(state, sc)
    with right:
        if question is None:
            join_panel(state, len(seats), names, large=True)
        else:
            question_panel(state, sc, question, votes, len(seats))
            if state.phase(question.id) == "revealed":
                leaderboard(store, state)
    st.divider()
    controls(state, sc, question)
    watch(state.id, state.version, presenter=True)
