"""Sign-in in a real browser (Debian chromium): the OpenID Connect path end to end against a real
provider started here (oidc-provider-mock), with a faculty and a learner account; the embedded path
(resume code, faculty passcode) with the cookie that keeps a reload signed in; learners refused on
faculty pages. Screenshots of the sign-in and cohort pages at 1366×900 and 390×844 go to artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import streamlit_server, wait_for_app_run

pytestmark = pytest.mark.e2e

PASSCODE = "e2e faculty passcode"
FACULTY_EMAIL = "prof@example.org"
LEARNER_EMAIL = "student@example.org"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(sub="prof", claims={"email": FACULTY_EMAIL, "email_verified": True, "name": "Pat Professor"}),
        User(sub="student", claims={"email": LEARNER_EMAIL, "email_verified": True, "name": "Sam Student"}),
    ]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def oidc_app(oidc_provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    secrets = tmp_path_factory.mktemp("oidc") / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "an-e2e-cookie-secret-that-is-long-enough"\n'
        'client_id = "myotutor-e2e"\n'
        'client_secret = "e2e-client-secret"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n'
        "[myotutor]\n"
        'provider_label = "the test provider"\n'
    )
    with streamlit_server(
        ("--secrets.files", str(secrets)), {"MYOTUTOR_FACULTY_EMAILS": FACULTY_EMAIL}
    ) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def passcode_app() -> Iterator[str]:
    with streamlit_server((), {"MYOTUTOR_FACULTY_PASSCODE": PASSCODE}) as base_url:
        yield base_url


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(25_000)
    try:
        yield ctx
    finally:
        ctx.close()


def visit(page: Any, url: str) -> Any:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    wait_for_app_run(page)
    return page


def nav_titles(page: Any) -> str:
    nav = page.get_by_test_id("stSidebarNav")
    return str(nav.inner_text()) if nav.count() else ""


def sidebar_text(page: Any) -> str:
    return str(page.get_by_test_id("stSidebar").inner_text())


def shoot(page: Any, artifacts: Path, name: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        wait_for_app_run(page, initial_wait_ms=300)
        page.screenshot(path=str(artifacts / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def oidc_sign_in(page: Any, base_url: str, who: str) -> None:
    visit(page, f"{base_url}/account")
    page.get_by_role("button", name="Sign in with the test provider").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.get_by_role("button", name=who, exact=True).click()  # the provider's predefined account
    page.wait_for_url(re.compile(re.escape(base_url) + r"/.*"))
    wait_for_app_run(page, initial_wait_ms=500)


def test_oidc_faculty_and_learner_end_to_end(context: Any, oidc_app: str, artifacts: Path) -> None:
    faculty = context.new_page()
    oidc_sign_in(faculty, oidc_app, "prof")
    assert "Signed in as Pat Professor · faculty" in sidebar_text(faculty)
    assert "Cohorts" in nav_titles(faculty)
    visit(faculty, f"{oidc_app}/cohorts")
    assert faculty.get_by_text("New cohort").count() >= 1
    assert faculty.get_by_text("This page is for faculty.").count() == 0
    faculty.reload()
    wait_for_app_run(faculty)
    assert "Pat Professor" in sidebar_text(faculty)  # Streamlit's identity cookie keeps them signed in

    other = context.browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        learner = other.new_page()
        oidc_sign_in(learner, oidc_app, "student")
        assert "Signed in as Sam Student" in sidebar_text(learner)
        assert "faculty" not in sidebar_text(learner)
        assert "Cohorts" not in nav_titles(learner)
        visit(learner, f"{oidc_app}/cohorts")  # the faculty page's URL, typed in
        assert learner.get_by_text("This page is for faculty.").count() == 1
        assert learner.get_by_text("New cohort").count() == 0
        visit(learner, f"{oidc_app}/account")
        shoot(learner, artifacts, "account-oidc-learner")
    finally:
        other.close()


def test_passcode_faculty_and_a_learner_with_a_resume_code(
    context: Any, passcode_app: str, artifacts: Path
) -> None:
    page = context.new_page()
    visit(page, f"{passcode_app}/account")
    shoot(page, artifacts, "sign-in")
    page.get_by_role("tab", name="Faculty").click()
    page.get_by_label("Faculty passcode").fill(PASSCODE)
    page.get_by_role("button", name="Sign in as faculty").click()
    wait_for_app_run(page)
    assert "Cohorts" in nav_titles(page)
    visit(page, f"{passcode_app}/cohorts")
    page.get_by_label("Name", exact=True).fill("Rheumatology year 4")
    page.get_by_role("button", name="Create cohort").click()
    wait_for_app_run(page)
    assert page.get_by_text("Cohort Rheumatology year 4 created").count() == 1
    join_link = page.get_by_test_id("stCode").first.inner_text().strip()
    assert re.fullmatch(re.escape(passcode_app) + r"/account\?join=[A-Z2-9]{6}", join_link), join_link
    page.get_by_text("Rheumatology year 4 ·").click()  # open the cohort's panel
    shoot(page, artifacts, "cohorts")
    page.reload()  # the cookie keeps faculty signed in
    wait_for_app_run(page)
    assert "Cohorts" in nav_titles(page) and page.get_by_text("This page is for faculty.").count() == 0

    learner_ctx = context.browser.new_context(viewport={"width": 390, "height": 844})
    try:
        learner = learner_ctx.new_page()
        visit(learner, join_link)  # the join link, before signing in
        learner.get_by_role("textbox", name="Your name").first.fill("Ada Lovelace")
        learner.get_by_role("button", name="Start").click()
        wait_for_app_run(learner)
        code = learner.get_by_test_id("stCode").first.inner_text().strip()
        assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code), code
        assert code not in learner.url
        shoot(learner, artifacts, "resume-code")
        learner.get_by_role("button", name="Join Rheumatology year 4").click()
        wait_for_app_run(learner)
        learner.screenshot(path=str(artifacts / "joined-phone.png"), full_page=True)
        chosen = learner.get_by_test_id("stSidebar").get_by_test_id("stSelectbox")
        assert "Rheumatology year 4" in chosen.inner_text() + str(chosen.locator("input").input_value())
        learner.reload()  # a phone reloads: still signed in, by the cookie
        wait_for_app_run(learner)
        assert "Signed in as Ada Lovelace" in sidebar_text(learner)
        assert code not in learner.url and code not in learner.content()  # shown once, not again
        visit(learner, f"{passcode_app}/cohorts")
        assert learner.get_by_text("This page is for faculty.").count() == 1
        cookies = {c["name"]: c for c in learner_ctx.cookies()}
        assert "myotutor_session" in cookies and cookies["myotutor_session"]["sameSite"] == "Strict"
        assert code.replace("-", "") not in cookies["myotutor_session"]["value"]
    finally:
        learner_ctx.close()
