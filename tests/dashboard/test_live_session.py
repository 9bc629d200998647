"""A live session played in AppTest: a presenter and several learners, each an app session of its own,
sharing one store. Counts and histograms match what was submitted; a re-vote shows the shift; lock
refuses late answers with a message; forged learner calls are refused; a restart mid-question resumes
at the same question and state; the answers land as answer records of the seats' attempts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

from dashboard.common import get_store
from dashboard.live import style
from dashboard.live.room import CaseGrader
from dashboard.store import Store
from dashboard.store_live import (
    Actor,
    EndSession,
    GiveAnswer,
    LockQuestion,
    NextStage,
    OpenQuestion,
    Refused,
    RevealQuestion,
    Switches,
)
from logic import best_answers, load_library, stage_plans
from logic.questions import NextStepQuestion
from tests.context import KB

from .conftest import S2, app_text, sign_in_faculty, sign_up
from .drive import with_certainties
from .test_auth_pages import PASSCODE, open_page, started
from .test_hostile_content import active_content, figure_specs, hostile_case, markdown_strings

CASE = (
    __import__("logic")
    .load_library([__import__("pathlib").Path(__file__).parents[2] / "cases"], KB)
    .cases[S2]
    .case
)
Q1 = CASE.stages[0].questions[0]
assert isinstance(Q1, NextStepQuestion) and not Q1.multiple


def param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return str(value[0] if isinstance(value, list) else value)


def store() -> Store:
    found = get_store()
    assert found is not None
    return found


def grader() -> CaseGrader:
    return CaseGrader(CASE, KB, stage_plans(CASE, KB))


def click(at: AppTest, label: str) -> AppTest:
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    matches[0].click().run()
    assert not at.exception, at.exception
    return at


def presenter(app: Callable[[], AppTest]) -> AppTest:
    at = started(app)
    sign_in_faculty(at, PASSCODE)
    return open_page(at, "present")


def start_session(at: AppTest) -> int:
    at.selectbox(key="live_start_case").set_value(S2)
    click(at, "Start the session")
    session_id = int(param(at, "session"))
    return session_id


def join(app: Callable[[], AppTest], code: str, name: str | None) -> AppTest:
    at = app()
    at.query_params["code"] = code
    at.switch_page("views/live.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="live_join_code").value == code
    if name is not None:
        at.text_input(key="live_join_name").set_value(name)
    click(at, "Join")
    assert at.query_params.get("seat"), "joined without a seat token in the URL"
    return at


def answer(at: AppTest, session_id: int, question_id: str, round_: int, option: str) -> AppTest:
    at.run()  # the phone refreshed: the opened question is on it
    at.radio(key=f"live:{session_id}:{question_id}:{round_}:None").set_value(option)
    label = next(b.label for b in at.button if b.label in ("Send my answer", "Change my answer"))
    return click(at, label)


def count_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if "answered" in m.value)


def histogram(at: AppTest) -> list[dict[str, Any]]:
    """The traces of the room's histogram on the presenter's page (name, labels, counts)."""
    charts = [c for c in at.get("plotly_chart") if "live-hist" in str(c.proto.id) or True]
    for chart in charts:
        figure = json.loads(chart.proto.spec)
        traces = [
            t for t in figure["data"] if t.get("type") == "bar" and t.get("x") and t["x"][0] is not None
        ]
        if traces and all(t.get("orientation") == "h" for t in traces):
            return traces
    return []


@pytest.fixture
def passcode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)


def test_a_room_plays_a_session(app: Callable[[], AppTest], passcode: None) -> None:
    host = presenter(app)
    session_id = start_session(host)
    state = store().live_session(session_id)
    assert state.join_code in app_text(host)
    assert any("/live?code=" in m.value or "/live" in m.value for m in host.markdown)  # the join URL
    assert host.get("image"), "no QR code on the projector"

    names = ["Ada", "Ben", None, "Dee"]
    phones = [join(app, state.join_code, n) for n in names]
    assert store().live_seat_count(session_id) == 4
    host.run()
    assert "**4** joined" in app_text(host)
    assert "Ada" not in app_text(host)  # names are not projected unless switched on
    assert "Waiting for the presenter" in app_text(phones[0])

    # Open question 1: the phones show it; three answer, counts follow.
    click(host, "Question 1")
    click(host, "Open the question")
    phones[3].run()  # the fourth phone shows the question, and its learner waits
    chosen = ["ivig", "rituximab", "ivig"]
    for phone, option in zip(phones, chosen, strict=False):
        answer(phone, session_id, Q1.id, 1, option)
        assert "Answer saved" in app_text(phone)
    answer(phones[1], session_id, Q1.id, 1, "cyclophosphamide")  # changed until locked
    host.run()
    assert "**3** of 4 answered" in count_text(host)
    assert not histogram(host)  # no live histogram unless switched on

    # Lock: the fourth phone, still showing the form, is refused with a message.
    click(host, "Lock answers")
    late = phones[3]
    late.radio(key=f"live:{session_id}:{Q1.id}:1:None").set_value("ivig")
    click(late, "Send my answer")
    assert "This question is locked: your answer was not taken." in [e.value for e in late.error]
    late.run()
    assert "You did not answer this question." in app_text(late)

    # Vote again after discussion: answers carried over; one learner moves.
    click(host, "Vote again")
    answer(phones[1], session_id, Q1.id, 2, "ivig")
    answer(phones[3], session_id, Q1.id, 2, "ivig")
    host.run()
    assert "**4** of 4 answered" in count_text(host) and "**1** changed" in count_text(host)
    click(host, "Lock answers")
    click(host, "Reveal the answer")
    traces = histogram(host)
    first, last = traces[0], traces[1]
    labels = [label.replace("<br>", " ") for label in last["y"]][::-1]
    counts_before = dict(zip(labels, first["x"][::-1], strict=True))
    counts_after = dict(zip(labels, last["x"][::-1], strict=True))
    ivig, ritux, cyclo = KB.name("ivig"), KB.name("rituximab"), KB.name("cyclophosphamide")
    assert counts_before[ivig] == 2 and counts_before[cyclo] == 1 and counts_before[ritux] == 0
    assert counts_after[ivig] == 4 and counts_after[cyclo] == 0
    assert "2 → 4" in last["text"][::-1][labels.index(ivig)]
    assert "Best answer" in app_text(host) and "Sources" in app_text(host)
    assert "The room on the pathway" in app_text(host)

    # Names and a leaderboard only when switched on.
    assert not [m for m in host.markdown if "Leaderboard" in m.value]
    version = store().live_session(session_id).state_version
    host.toggle(key=f"live_sw_names:{version}").set_value(True)
    host.toggle(key=f"live_sw_board:{version}").set_value(True)
    click(host, "Apply")
    assert [m for m in host.markdown if "**Leaderboard**" in m.value] and "Ada" in app_text(host)
    assert "Seat 1 · Ada — 1 point" in app_text(host)

    # Each phone shows its own feedback, and no longer says its answer can be changed.
    for phone in phones:
        phone.run()
        assert "Feedback" in app_text(phone)
        assert "You can change it" not in app_text(phone)

    # Next stage, end: the answers are answer records of each seat's attempt, with the session's id.
    click(host, "Next stage")
    host.run()
    assert "Stage 2 of" in app_text(host)
    click(host, "End the session")
    seats = store().live_seats(session_id)
    for seat in seats:
        [record] = store().answers(seat.attempt_id)
        assert (
            record.question_id == Q1.id and record.answer == "ivig" and record.live_session_id == session_id
        )
        assert record.grade == "recommended"
        assert store().attempt(seat.attempt_id).total is not None


def test_forged_learner_calls_are_refused(app: Callable[[], AppTest], passcode: None) -> None:
    host = presenter(app)
    session_id = start_session(host)
    code = store().live_session(session_id).join_code
    phone = join(app, code, "Mallory")
    token = param(phone, "seat")
    click(host, "Question 1")
    click(host, "Open the question")
    before = store().live_session(session_id)
    g = grader()
    # A learner's own page: signed in as a learner, the presenter's page refuses them.
    sign_up(phone, "Mallory Learner")
    phone.query_params["session"] = str(session_id)
    open_page(phone, "present")
    assert "This page is for faculty." in [e.value for e in phone.error]
    assert not any(b.label in ("Lock answers", "Reveal the answer", "Next stage") for b in phone.button)
    # Forged session state: a faculty user written into the learner's session grants nothing.
    from dashboard.auth import USER_KEY, User

    phone.session_state[USER_KEY] = (phone.session_state["_auth_token"], User("faculty", "Faculty"))
    open_page(phone, "present")
    assert "This page is for faculty." in [e.value for e in phone.error]
    # Forged calls to the store, with the seat's token and a learner's or guest's role.
    for role in ("learner", "guest"):
        for action in (
            LockQuestion(Q1.id),
            RevealQuestion(Q1.id),
            NextStage(),
            EndSession(),
            Switches(True, True, True),
            OpenQuestion(CASE.stages[0].questions[-1].id),
        ):
            with pytest.raises(Refused, match="Only the presenter"):
                store().act(session_id, Actor(role, token), action, g)  # type: ignore[arg-type]
    # Forged state: an answer to a question that is not open, or with another session's seat.
    with pytest.raises(Refused):
        store().act(session_id, Actor("guest", token), GiveAnswer(CASE.stages[1].questions[0].id, "x"), g)
    with pytest.raises(Refused, match="no seat"):
        store().act(session_id, Actor("guest", "x" * 43), GiveAnswer(Q1.id, "ivig"), g)
    with pytest.raises(Refused, match="not an answer"):
        store().act(session_id, Actor("guest", token), GiveAnswer(Q1.id, "not-an-option"), g)
    after = store().live_session(session_id)
    assert after.questions == before.questions and after.stage_index == before.stage_index
    assert after.state_version == before.state_version


def test_a_restart_mid_question_resumes_where_it_was(app: Callable[[], AppTest], passcode: None) -> None:
    host = presenter(app)
    session_id = start_session(host)
    code = store().live_session(session_id).join_code
    phones = [join(app, code, f"P{i}") for i in range(3)]
    click(host, "Question 1")
    click(host, "Open the question")
    answer(phones[0], session_id, Q1.id, 1, "ivig")
    answer(phones[1], session_id, Q1.id, 1, "rituximab")
    token = param(phones[0], "seat")

    # The server restarts: every process-wide cache and the store's connections are gone.
    store().close()
    st.cache_resource.clear()
    st.cache_data.clear()

    again = presenter(app)
    click(again, "Resume")  # the running session, from the list
    assert param(again, "session") == str(session_id)
    assert "**2** of 3 answered" in count_text(again)
    assert any(b.label == "Lock answers" for b in again.button)  # still open, same question
    reloaded = app()
    reloaded.query_params["seat"] = token
    reloaded.switch_page("views/live.py").run()
    assert reloaded.radio(key=f"live:{session_id}:{Q1.id}:1:None").value == "ivig"  # the same seat
    answer(reloaded, session_id, Q1.id, 1, "rituximab")
    answer(phones[2], session_id, Q1.id, 1, "ivig")
    again.run()
    assert "**3** of 3 answered" in count_text(again)
    assert store().live_seat_count(session_id) == 3


def test_a_signed_in_learner_joins_as_themselves(app: Callable[[], AppTest], passcode: None) -> None:
    host = presenter(app)
    session_id = start_session(host)
    code = store().live_session(session_id).join_code
    phone = app()
    phone.run()
    sign_up(phone, "Grace Hopper")
    phone.query_params["code"] = code
    open_page(phone, "live")
    assert "You join as **Grace Hopper**" in app_text(phone)
    click(phone, "Join")
    [seat] = store().live_seats(session_id)
    assert seat.display_name == "Grace Hopper"
    assert seat.learner_id == phone.session_state["_auth_user"][1].learner_id
    assert "Seat 1 · Grace Hopper" in app_text(phone)


def test_a_database_failure_mid_session_never_offers_a_second_seat(
    app: Callable[[], AppTest], passcode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = presenter(app)
    session_id = start_session(host)
    phone = join(app, store().live_session(session_id).join_code, "Flaky")
    click(host, "Question 1")
    click(host, "Open the question")

    def fails(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", {}, Exception("the server closed the connection"))

    for methods in (("live_seat", "live_session"), ("seat_answers", "live_votes")):
        with monkeypatch.context() as patched:
            for method in methods:
                patched.setattr(Store, method, fails)
            phone.run()
            host.run()
            for page in (phone, host):
                assert not page.exception
                assert any("not answering" in w.value for w in page.warning)
            assert not [b for b in phone.button if b.label == "Join"]  # no second seat offered
            assert not [b for b in host.button if b.label == "Start the session"]
    phone.run()
    assert phone.radio(key=f"live:{session_id}:{Q1.id}:1:None")  # back, same seat
    assert store().live_seat_count(session_id) == 1


STYLE_SHEETS = {f"<style>{css}</style>" for css in (style.PROJECTOR_CSS, style.PHONE_CSS)}


def assert_inert(at: AppTest) -> int:
    """As the hostile-content tests check a page (no active content in anything rendered as Markdown,
    no HTML in a figure), the pages' own fixed style sheets aside; returns how many strings carried
    the payload's text."""
    carrying = 0
    for field, text in markdown_strings(at):
        if text in STYLE_SHEETS:
            continue
        assert active_content(text) == [], (field, text)
        carrying += "evil.example" in text or "alert(1)" in text
    for spec in figure_specs(at):
        assert "<a " not in spec and "<img" not in spec and "<b>" not in spec.replace("<b>", "", 0), spec[
            :500
        ]
    return carrying


def test_a_hostile_case_is_inert_on_the_projector_and_the_phone(
    app: Callable[[], AppTest], passcode: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every question of the case opened, answered, locked and revealed: nothing a case file says
    becomes a link, an image or HTML on either page (the app's one sanitiser, as in the player)."""
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(tmp_path))
    case_id = hostile_case(tmp_path)
    case = load_library([tmp_path], KB).cases[case_id].case
    answers = with_certainties(case, best_answers(case, KB))
    answers["reflect"] = "[mine](javascript:alert(1)) ![me](https://evil.example/me.png)"
    host = presenter(app)
    host.selectbox(key="live_start_case").set_value(case_id)
    click(host, "Start the session")
    session_id = int(param(host, "session"))
    token = join(app, store().live_session(session_id).join_code, "[x](javascript:alert(1))")
    phone = token
    carried = 0
    grader = CaseGrader(case, KB, stage_plans(case, KB))
    seat = param(phone, "seat")
    for stage_index, stage in enumerate(case.stages):
        for i, question in enumerate(stage.questions, start=1):
            click(host, f"Question {i}")
            click(host, "Open the question")
            store().act(
                session_id, Actor("guest", seat), GiveAnswer(question.id, answers[question.id]), grader
            )
            phone.run()
            carried += assert_inert(phone) + assert_inert(host)
            click(host, "Lock answers")
            click(host, "Reveal the answer")
            phone.run()
            carried += assert_inert(phone) + assert_inert(host)
        if stage_index + 1 < len(case.stages):
            click(host, "Next stage")
    assert carried >= 10  # the payload's text is shown, as text
