"""One machine serves a room: nginx (Debian's package) in front of two app processes sharing one store,
started by deploy/serve.py with the committed deploy/nginx.conf, driven by a real browser.

A browser session works through the proxy and stays on one process (every HTTP response and its
websocket); killing that process lets a new session be served by the other, and a named learner who
reloads finds their saved progress there (the store is shared).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.serve import CONFIG, backend_command, render_config, room
from tests.e2e.conftest import REPO, RUN_TIMEOUT_MS, require_system, wait_for_app_run
from tests.e2e.test_browser import CASE_ID, _answer_stage_one, _stage_one, _submit_stage
from tests.ports import free_ports

pytestmark = pytest.mark.e2e
NGINX = Path("/usr/sbin/nginx")


def established(port: int) -> int:
    """Open TCP connections whose local end is ``port`` (the process's side of nginx's connections)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                local, state = line.split()[1], line.split()[3]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    require_system(NGINX, "nginx")
    proxy_port, *backend_ports = free_ports(3)
    env = {"MYOTUTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'room.db'}"}
    with room(port=proxy_port, backend_ports=backend_ports, env=env) as r:
        yield r


class Visitor:
    """A browser of its own (its own cookies), noting which process answered each page and API request."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.context.set_default_timeout(RUN_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.backends: list[str] = []
        self.page.on("response", self._note)

    def _note(self, response: Any) -> None:
        # Pages and Streamlit's own endpoints; static files and the favicon may come from the browser's
        # cache with the headers of the process that first sent them.
        path = response.url.removeprefix(self.base_url)
        if response.url.startswith(self.base_url) and not path.startswith(("/static/", "/favicon")):
            self.backends.append(response.headers.get("x-myotutor-backend", "none"))

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == 200, path
        wait_for_app_run(self.page)
        assert not self.page.get_by_test_id("stException").count()
        return self.page

    def sign_up(self, name: str) -> None:
        """Start as a named learner on the account page (the browser keeps the sign-in cookie)."""
        self.open("/account")
        self.page.get_by_role("textbox", name="Your name").first.fill(name)
        self.page.get_by_role("button", name="Start").click()
        wait_for_app_run(self.page)
        assert self.page.get_by_test_id("stCode").count(), "no resume code shown"

    def served_by(self) -> set[int]:
        return {int(b.rsplit(":", 1)[1]) for b in self.backends}


def test_a_room_sticks_each_browser_to_one_process_and_survives_losing_one(
    served: Any, browser: Any, artifacts: Path
) -> None:
    case, plan = _stage_one()
    first, second = served.backend_ports

    learner = Visitor(browser, served.url)
    learner.sign_up("Room Tester")  # progress is saved to the store from now on
    page = learner.open(f"/player?case={CASE_ID}")
    page.get_by_text(case.stages[0].title).first.wait_for(state="visible")
    _answer_stage_one(page, case, plan)
    _submit_stage(page)
    page.get_by_text(f"Stage 2 of {len(case.stages)}").first.wait_for(state="visible")
    page.screenshot(path=str(artifacts / "room-through-nginx.png"), full_page=True)

    [home] = learner.served_by()  # every page and API request went to one process...
    other = second if home == first else first
    assert established(home) >= 1 and established(other) == 0  # ...and so did the websocket
    learner.backends.clear()
    learner.open(f"/player?case={CASE_ID}")  # a reload comes back to it
    assert learner.served_by() == {home}

    # The process that holds this learner dies.
    os.killpg(served.backends[served.backend_ports.index(home)].pid, signal.SIGKILL)
    served.backends[served.backend_ports.index(home)].wait(timeout=10)

    newcomer = Visitor(browser, served.url)
    page = newcomer.open("/")
    assert page.get_by_role("heading", name="Case library").count() == 1
    assert newcomer.served_by() == {other}

    # The learner reloads, lands on the other process, is still signed in (the cookie, checked against
    # the shared store) and resumes where they were.
    learner.backends.clear()
    page = learner.open(f"/player?case={CASE_ID}")
    page.get_by_text(f"Stage 2 of {len(case.stages)}").first.wait_for(state="visible")
    assert learner.served_by() == {other}
    assert established(other) >= 2  # both browsers' websockets
    page.screenshot(path=str(artifacts / "room-after-failover.png"), full_page=True)
    for visitor in (learner, newcomer):
        visitor.context.close()
    assert "Traceback" not in served.log(served.backend_ports.index(other))


def test_the_procfile_and_the_script_start_the_same_processes() -> None:
    procfile = (REPO / "deploy" / "Procfile").read_text()
    apps = [line.split(": ", 1)[1] for line in procfile.splitlines() if re.match(r"app\d+: ", line)]
    assert apps == [" ".join(backend_command(port)) for port in (8501, 8502)]
    assert f'-c "$PWD/deploy/{CONFIG.name}"' in procfile


def test_the_committed_config_is_what_the_script_renders_for_two_processes() -> None:
    assert render_config(8080, [8501, 8502]) == CONFIG.read_text()
    three = render_config(9000, [7001, 7002, 7003])
    assert re.findall(r"server 127\.0\.0\.1:(\d+) max_fails=1 fail_timeout=10s;", three) == [
        "7001",
        "7002",
        "7003",
    ]
    assert "listen 9000;" in three
