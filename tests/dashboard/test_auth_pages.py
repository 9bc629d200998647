"""Sign-in through the pages (AppTest): the embedded default (name + resume code, faculty passcode) and
the OpenID Connect path as st.user presents it; and what a learner can never open, whatever the URL,
query parameter or session state says."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth
from dashboard.store import Store
from logic import best_answers, load_library
from tests.context import KB

from .conftest import S2, S2_FILE, app_text, sign_in, sign_in_faculty, sign_up
from .drive import with_certainties
from .test_player_page import answer_stage
from .test_progress_page import to_player

PASSCODE = "correct horse battery staple"
OIDC_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-some-length",
    "client_id": "myotutor",
    "client_secret": "secret",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}


@pytest.fixture
def passcode(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    return PASSCODE


def started(app: Callable[[], AppTest]) -> AppTest:
    at = app()
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def refused(at: AppTest) -> bool:
    return "This page is for faculty." in [e.value for e in at.error]


def cohorts_listed(at: AppTest) -> bool:
    return at.session_state["_pages"]["cohorts"].visibility == "visible"


# ------------------------------------------------------------------------------------ embedded mode
def test_a_resume_code_is_shown_once_and_then_needed(app: Callable[[], AppTest]) -> None:
    at = started(app)
    code = sign_up(at, "Ada Lovelace")
    assert len(code) == 11 and code[5] == "-"
    assert "Signed in as **Ada Lovelace**" in [m.value for m in at.sidebar.markdown]
    next(b for b in at.button if b.label == "I have written it down").click().run()
    assert code not in app_text(at)  # gone from the page once dismissed
    open_page(at, "player")
    assert code not in app_text(at)

    again = started(app)
    sign_up(again, "ADA LOVELACE")  # the name is taken, in any case
    assert any("That name is taken" in e.value for e in again.error)
    assert "_auth_token" not in again.session_state

    sign_in(again, "ada lovelace", code.lower())
    assert "Signed in as **Ada Lovelace**" in [m.value for m in again.sidebar.markdown]


def test_wrong_resume_codes_are_rate_limited(app: Callable[[], AppTest]) -> None:
    at = started(app)
    code = sign_up(at, "Ada")
    other = started(app)
    for _ in range(5):
        sign_in(other, "Ada", "WRONG-CODE1")
    sign_in(other, "Ada", code)  # the right code, too late
    assert any("Too many wrong codes" in e.value for e in other.error)
    assert "_auth_token" not in other.session_state


def test_sign_out_ends_the_session_in_the_store(app: Callable[[], AppTest]) -> None:
    at = started(app)
    sign_up(at, "Ada")
    token = at.session_state["_auth_token"]
    open_page(at, "account")
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert "Sign in to save your progress" in [p.label for p in at.sidebar.get("page_link")]
    from dashboard.common import get_store

    store = get_store()
    assert store is not None and store.session(token) is None  # a copied cookie opens nothing now


def test_without_a_passcode_nobody_is_faculty_and_the_page_says_how_to_set_one(
    app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MYOTUTOR_FACULTY_PASSCODE", raising=False)
    at = open_page(started(app), "cohorts")
    assert refused(at) and any("MYOTUTOR_FACULTY_PASSCODE" in i.value for i in at.info)
    open_page(at, "account")
    assert any("MYOTUTOR_FACULTY_PASSCODE" in i.value for i in at.info)
    assert "faculty_passcode" not in [t.key for t in at.text_input]


def test_faculty_sign_in_with_the_passcode(app: Callable[[], AppTest], passcode: str) -> None:
    at = started(app)
    assert not cohorts_listed(at)
    sign_in_faculty(at, "wrong")
    assert "Wrong passcode." in [e.value for e in at.error] and not cohorts_listed(at)
    sign_in_faculty(at, passcode)
    assert cohorts_listed(at)
    open_page(at, "cohorts")
    assert not refused(at) and "New cohort" in [h.value for h in at.subheader]


def test_wrong_passcodes_are_rate_limited_in_the_store(app: Callable[[], AppTest], passcode: str) -> None:
    for _ in range(5):  # five browsers (sessions) each try once: the limit is in the store
        sign_in_faculty(started(app), "guess")
    at = started(app)
    sign_in_faculty(at, passcode)
    assert any("Too many wrong passcodes" in e.value for e in at.error)
    assert not cohorts_listed(at)


def test_the_passcode_is_kept_as_a_hash(passcode: str) -> None:
    at = AppTest.from_function(lambda: None)
    at.run()
    stored = auth._hash_of(passcode)
    assert passcode not in stored and stored.startswith("pbkdf2_sha256$")


# ------------------------------------------------------------------------------------- refusals
def test_a_learner_cannot_open_a_faculty_page_by_url_or_forged_state(
    app: Callable[[], AppTest], passcode: str
) -> None:
    at = started(app)
    sign_up(at, "Ada")
    open_page(at, "cohorts")  # as /cohorts would
    assert refused(at) and "New cohort" not in [h.value for h in at.subheader]
    # Forged session state: a faculty user in the cache, a made-up token, a made-up OIDC identity.
    at.session_state[auth.USER_KEY] = (at.session_state[auth.TOKEN_KEY], auth.User("faculty", "Mallory"))
    at.session_state[auth.OIDC_KEY] = ("prof@example.org", 1)
    open_page(at, "cohorts")
    assert refused(at) and not cohorts_listed(at)
    at.session_state[auth.TOKEN_KEY] = "A" * 43  # a token the store never issued
    open_page(at, "cohorts")
    assert refused(at)
    at.query_params["role"] = "faculty"
    open_page(at, "cohorts")
    assert refused(at)


def test_a_learner_never_sees_another_learners_attempt(app: Callable[[], AppTest]) -> None:
    case = load_library([S2_FILE], KB).cases[S2].case
    ada = started(app)
    sign_up(ada, "Ada")
    to_player(ada)
    answer_stage(ada, case, 0, with_certainties(case, best_answers(case, KB)))
    bob = started(app)
    sign_up(bob, "Bob")
    bob.query_params["attempt"] = "1"  # no such parameter opens anything
    bob.query_params["learner"] = "1"
    to_player(bob)
    assert "Submit stage 1" in [b.label for b in bob.button]
    open_page(bob, "progress")
    [table] = bob.dataframe  # Bob's own attempt (opened, nothing submitted), not Ada's
    assert (table.value["Attempts"].tolist(), table.value["Completed"].tolist()) == ([1], [0])


def test_a_learner_never_sees_another_cohorts_results(app: Callable[[], AppTest], passcode: str) -> None:
    from dashboard.common import get_store

    started(app)
    store = get_store()
    assert store is not None
    ours, theirs = store.create_cohort("Ours"), store.create_cohort("Theirs")
    ada = started(app)
    sign_up(ada, "Ada")
    store.join_cohort(auth.User().learner_id or store.find_learners("Ada")[0].id, ours.join_code)
    ada.query_params["cohort"] = str(theirs.id)  # no parameter picks a cohort
    open_page(ada, "progress")
    assert ada.selectbox(key="progress_cohort").options == ["Ours"]
    # Forged: the cohort choice set to one the learner is not in. It counts for nothing.
    probe = AppTest.from_function(_active_cohort_script, default_timeout=30)
    probe.session_state[auth.TOKEN_KEY] = ada.session_state[auth.TOKEN_KEY]
    probe.session_state[auth.COHORT_KEY] = theirs.id
    probe.run()
    assert not probe.exception, probe.exception
    assert [m.value for m in probe.markdown] == [f"active cohort: {ours.id}"]


def _active_cohort_script() -> None:
    import streamlit as st

    from dashboard import auth

    st.markdown(f"active cohort: {auth.active_cohort_id(auth.current_user())}")


# ----------------------------------------------------------------------------------------- OIDC
def oidc(app: Callable[[], AppTest], email: str, **claims: object) -> AppTest:
    at = app()
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0].title(), **claims}
    at.run()
    assert not at.exception, at.exception
    return at


def test_oidc_faculty_are_the_listed_emails(
    app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYOTUTOR_FACULTY_EMAILS", "Prof@Example.org, other@example.org")
    prof = oidc(app, "prof@example.org")
    assert cohorts_listed(prof)
    assert not refused(open_page(prof, "cohorts"))
    learner = oidc(app, "student@example.org")
    assert not cohorts_listed(learner) and refused(open_page(learner, "cohorts"))
    unverified = oidc(app, "prof@example.org", email_verified=False)
    assert refused(open_page(unverified, "cohorts"))
    guest = app()
    guest.secrets["auth"] = OIDC_SECRETS
    guest.user = {"is_logged_in": False}
    guest.run()
    open_page(guest, "account")
    assert [b.label for b in guest.button] == ["Sign in with your institution's account"]
    assert "faculty_passcode" not in [t.key for t in guest.text_input]  # no passcode path with a provider


def test_an_oidc_learner_saves_under_their_own_identity(app: Callable[[], AppTest]) -> None:
    case = load_library([S2_FILE], KB).cases[S2].case
    at = oidc(app, "student@example.org")
    to_player(at)
    answer_stage(at, case, 0, with_certainties(case, best_answers(case, KB)))
    again = oidc(app, "Student@Example.org")  # another browser, the same account
    to_player(again)
    assert "Submit stage 2" in [b.label for b in again.button]
    other = oidc(app, "someone@example.org")
    to_player(other)
    assert "Submit stage 1" in [b.label for b in other.button]


def test_the_store_keeps_oidc_learners_apart_from_named_ones(store: Store) -> None:
    named, _ = store.new_named_learner("student")
    assert store.oidc_learner("student@example.org", "student") != named
