"""A live session in a real browser (Debian chromium): a presenter's page at 1920×1080 and five learners'
phones at 390×844, each in a browser context of its own. The learners join by the join URL and
answer; the presenter's count reaches 5 without a reload; the reveal shows on every phone. Screenshots
of the projector (the reveal, with the histogram and the room on the pathway) and of a phone go to
artifacts/e2e/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RUN_TIMEOUT_MS, streamlit_server, wait_for_app_run

PASSCODE = "e2e live passcode"
CASE_TITLE = "Myositis after failed initial immunosuppression"
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
REFRESH_MS = 8_000  # the phones refresh every 2 s, the presenter every second: generous on 2 cores


@pytest.fixture(scope="module")
def live_app() -> Iterator[str]:
    with streamlit_server((), {"MYOTUTOR_FACULTY_PASSCODE": PASSCODE}) as base_url:
        yield base_url


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(RUN_TIMEOUT_MS)
    return context.new_page()


def visit(page: Any, url: str) -> Any:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    wait_for_app_run(page)
    return page


def click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name).first.click()
    wait_for_app_run(page)


def test_a_presenter_and_five_phones(browser: Any, live_app: str, artifacts: Path) -> None:
    host = new_page(browser, PROJECTOR)
    visit(host, f"{live_app}/account")
    host.get_by_role("tab", name="Faculty").click()
    host.get_by_label("Faculty passcode").fill(PASSCODE)
    click(host, "Sign in as faculty")
    visit(host, f"{live_app}/present")
    host.get_by_label("Case", exact=True).click()
    host.get_by_role("option", name=CASE_TITLE).click()
    click(host, "Start the session")
    code = host.locator(".st-key-live-join-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code), code
    assert host.get_by_test_id("stSidebar").is_hidden()  # projector mode: no sidebar
    body_px = host.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('[data-testid=stMarkdownContainer] p')).fontSize)"
    )
    assert body_px >= 24, body_px
    host.get_by_test_id("stImage").first.wait_for(state="visible")  # the QR code
    host.screenshot(path=str(artifacts / "live-projector-join.png"))

    phones = []
    for i in range(5):
        phone = new_page(browser, PHONE)
        visit(phone, f"{live_app}/live?code={code}")
        assert phone.get_by_role("textbox", name="Session code").input_value() == code
        phone.get_by_role("textbox", name="Your name (optional)").fill(f"Learner {i + 1}")
        if i == 0:
            phone.screenshot(path=str(artifacts / "live-phone-join.png"), full_page=True)
        click(phone, "Join")
        phone.get_by_text("Waiting for the presenter").wait_for(state="visible")
        assert "seat=" in phone.url
        assert phone.get_by_test_id("stSidebar").is_hidden()  # no sidebar on a phone
        phones.append(phone)
    host.get_by_text("5 joined").wait_for(state="visible", timeout=REFRESH_MS)

    click(host, "Question 1")
    click(host, "Open the question")
    choices = ["Intravenous immunoglobulin (IVIG)"] * 3 + ["Rituximab", "Cyclophosphamide (IV)"]
    for phone, choice in zip(phones, choices, strict=True):
        phone.get_by_text(choice, exact=True).wait_for(state="visible", timeout=REFRESH_MS)  # no reload
        phone.get_by_text(choice, exact=True).click()
        click(phone, "Send my answer")
        phone.get_by_text("Answer saved").wait_for(state="visible")
    # The presenter's count reaches 5 without a reload.
    host.locator(".st-key-live-count").get_by_text(re.compile(r"5\s+of 5 answered")).wait_for(
        state="visible", timeout=REFRESH_MS
    )

    # Tap targets on a phone: every button and choice at least 44 px tall.
    phones[0].screenshot(path=str(artifacts / "live-phone-answered.png"), full_page=True)
    heights = phones[0].evaluate(
        "[...document.querySelectorAll('button, [data-testid=stRadio] label')]"
        ".filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights

    click(host, "Lock answers")
    click(host, "Reveal the answer")
    host.get_by_text("Best answer").first.wait_for(state="visible")
    host.get_by_text("The room on the pathway").wait_for(state="visible")
    host.wait_for_timeout(800)  # the charts draw
    host.screenshot(path=str(artifacts / "live-projector-reveal.png"))
    for phone in phones:
        phone.get_by_text("Answer revealed").wait_for(state="visible", timeout=REFRESH_MS)
        assert phone.get_by_text("Feedback").count() >= 1
    phones[3].screenshot(path=str(artifacts / "live-phone-reveal.png"), full_page=True)
    for page in (host, *phones):
        assert not page.get_by_test_id("stException").count()
        page.context.close()
