"""A live session served as the README says to serve a room: nginx (Debian's package) with sticky
sessions in front of two app processes (deploy/serve.py with the committed deploy/nginx.conf), one
PostgreSQL. The presenter and the learners land on different processes; one process is killed in the
middle of a question, and no answer is lost: its phones come back to their seats on the other process
and the presenter's count and the store hold every answer once."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.store import Store
from tests.dashboard.postgres import postgres_server, server_bin
from tests.e2e.conftest import REPO, RUN_TIMEOUT_MS, STREAMLIT, require_system, wait_for_app_run
from tests.e2e.test_live_browser import CASE_TITLE, PASSCODE, PHONE, PROJECTOR, click, visit
from tests.ports import free_ports

pytestmark = pytest.mark.e2e
NGINX = Path("/usr/sbin/nginx")
RECOVER_MS = 40_000  # nginx skips the dead process; the phone's websocket reconnects to the other one


@pytest.fixture
def served() -> Iterator[tuple[Any, str]]:
    require_system(NGINX, "nginx")
    bin_dir = server_bin()
    if bin_dir is None:
        require_system(Path("/usr/lib/postgresql"), "postgresql")
    from deploy.serve import room

    assert bin_dir is not None
    proxy_port, *backend_ports = free_ports(3)
    with postgres_server(bin_dir) as url:
        env = {"MYOTUTOR_DATABASE_URL": url, "MYOTUTOR_FACULTY_PASSCODE": PASSCODE}
        with room(
            port=proxy_port, backend_ports=backend_ports, env=env, cwd=REPO, streamlit=str(STREAMLIT)
        ) as r:
            yield r, url


class Browser:
    """A browser context of its own, noting which process answered its pages and Streamlit requests."""

    def __init__(self, browser: Any, base_url: str, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.context.set_default_timeout(RUN_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.backends: list[int] = []
        self.page.on("response", self._note)

    def _note(self, response: Any) -> None:
        path = response.url.removeprefix(self.base_url)
        backend = response.headers.get("x-myotutor-backend", "")
        if (
            response.url.startswith(self.base_url)
            and not path.startswith(("/static/", "/favicon"))
            and backend
        ):
            self.backends.append(int(backend.rsplit(":", 1)[1]))

    @property
    def home(self) -> int:
        return self.backends[-1]


def test_two_processes_behind_nginx_one_killed_mid_question(
    served: tuple[Any, str], browser: Any, artifacts: Path
) -> None:
    r, url = served
    host = Browser(browser, r.url, PROJECTOR)
    visit(host.page, f"{r.url}/account")
    host.page.get_by_role("tab", name="Faculty").click()
    host.page.get_by_label("Faculty passcode").fill(PASSCODE)
    click(host.page, "Sign in as faculty")
    visit(host.page, f"{r.url}/present")
    host.page.get_by_label("Case", exact=True).click()
    host.page.get_by_role("option", name=CASE_TITLE).click()
    click(host.page, "Start the session")
    code = host.page.locator(".st-key-live-join-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)

    # Phones join until each process serves at least two of them. The hash splits them about evenly, but a
    # process slow to answer on a loaded machine is skipped by nginx for 10 s (max_fails=1), and the phones
    # that join meanwhile all land on the other one: room for 20 outlasts that.
    phones: list[Browser] = []
    while min(sum(p.home == port for p in phones) for port in r.backend_ports) < 2:
        assert len(phones) < 20, [p.home for p in phones]
        phone = Browser(browser, r.url, PHONE)
        visit(phone.page, f"{r.url}/live?code={code}")
        phone.page.get_by_role("textbox", name="Your name (optional)").fill(f"Phone {len(phones) + 1}")
        click(phone.page, "Join")
        phone.page.get_by_text("Waiting for the presenter").wait_for(state="visible")
        phones.append(phone)
    assert {p.home for p in phones} == set(r.backend_ports)

    click(host.page, "Question 1")
    click(host.page, "Open the question")
    doomed = next(port for port in r.backend_ports if port != host.home)  # not the presenter's process
    ivig = "Intravenous immunoglobulin (IVIG)"
    answered_before = [p for p in phones if p.home == doomed][:1] + [p for p in phones if p.home != doomed][
        :1
    ]
    for phone in answered_before:
        choice = phone.page.get_by_test_id("stRadioGroup").get_by_text(ivig, exact=True)
        choice.wait_for(state="visible", timeout=10_000)
        choice.click()
        click(phone.page, "Send my answer")
        phone.page.get_by_text("Answer saved").wait_for(state="visible")
    seats_before = {p.page.url.split("seat=")[1].split("&")[0] for p in phones}

    # One process dies in the middle of the question.
    index = r.backend_ports.index(doomed)
    os.killpg(r.backends[index].pid, signal.SIGKILL)
    r.backends[index].wait(timeout=10)

    # Every phone, wherever it was, answers on the survivor; those that had answered find their answer.
    for phone in phones:
        if phone.home == doomed:
            phone.page.reload()
            wait_for_app_run(phone.page)
        radio = phone.page.get_by_test_id("stRadioGroup").get_by_text(ivig, exact=True)
        radio.wait_for(state="visible", timeout=RECOVER_MS)
        if phone in answered_before:
            assert phone.page.get_by_text("Your answer:").count() == 1  # the seat and its answer came back
            continue
        radio.click()
        click(phone.page, "Send my answer")
        phone.page.get_by_text("Answer saved").wait_for(state="visible")
    assert {p.page.url.split("seat=")[1].split("&")[0] for p in phones} == seats_before  # the same seats
    n = len(phones)
    host.page.locator(".st-key-live-count").get_by_text(re.compile(rf"{n}\s+of {n} answered")).wait_for(
        state="visible", timeout=10_000
    )
    click(host.page, "Lock answers")
    click(host.page, "Reveal the answer")
    host.page.get_by_text("Best answer").first.wait_for(state="visible")
    host.page.screenshot(path=str(artifacts / "live-room-after-failover.png"))

    store = Store(url)
    try:
        [state] = store.live_sessions()
        seats = store.live_seats(state.id)
        assert len(seats) == n
        question = state.question_id
        assert question is not None
        votes = store.live_votes(state.id, question)
        assert sorted(v.seat_id for v in votes) == sorted(s.id for s in seats)  # each once, none lost
        assert all(v.answer == "ivig" for v in votes)
        for seat in seats:
            [record] = store.answers(seat.attempt_id)
            assert record.answer == "ivig" and record.live_session_id == state.id
    finally:
        store.close()
    for b in (host, *phones):
        b.context.close()
    assert "Traceback" not in r.log(1 - index)
