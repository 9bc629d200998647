"""Real-browser fixtures: a Streamlit server for the whole session and Debian's chromium driven by Playwright.

Modelled on Streamlit's own e2e_playwright/conftest.py (free port, /_stcore/health polling,
wait_for_app_run on the stApp data-test-* attributes), without pytest-playwright: the browser is
/usr/bin/chromium (``apt-get install chromium``), since ``playwright install`` cannot download here.
Without it the tests are skipped locally and fail under CI=true (CI always installs it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts" / "e2e"
STREAMLIT = REPO / ".venv" / "bin" / "streamlit"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60
RUN_TIMEOUT_MS = 25_000
RUNNING_INDICATOR = ", ".join(
    f"[data-testid='stStatusWidget'] [data-testid='{icon}']"
    for icon in ("stStatusWidgetRunningIcon", "stStatusWidgetRunningManIcon", "stStatusWidgetNewYearsIcon")
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test (``-m "not e2e"`` deselects them all)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def require_system(path: Path, package: str) -> None:
    """Skip where a Debian package the test drives is missing; on CI (which installs it in .ci/run) fail."""
    if path.exists():
        return
    reason = f"{path} missing: apt-get install {package}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} -- CI installs it in .ci/run, so this is a broken CI image", pytrace=False)
    pytest.skip(reason)


def _require_chromium() -> None:
    require_system(CHROMIUM, "chromium")


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=1) as response:
            return bool(response.read().decode().strip() == "ok")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it was started in its own session), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class ServerFailed(RuntimeError):
    """The server exited, or was not healthy in time; the message holds its output."""


@contextmanager
def streamlit_server_at(
    app_dir: Path = REPO, extra_env: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()
) -> Iterator[str]:
    """Start ``streamlit run dashboard/app.py`` of the checkout ``app_dir`` on a free port, with a throwaway
    database; yield its base URL; stop it (its process group) after. Plain Python (the benches use it too):
    raises ServerFailed when the server does not come up."""
    port = free_port()
    base_url = f"http://localhost:{port}"
    args = [
        str(STREAMLIT if STREAMLIT.exists() else "streamlit"),
        "run",
        "dashboard/app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        *extra_args,
    ]
    database = tempfile.mkdtemp(prefix="myotutor-e2e-db-")  # the server's progress store, thrown away
    env = {**os.environ, "MYOTUTOR_DATABASE_URL": f"sqlite:///{database}/progress.db", **(extra_env or {})}
    if app_dir.resolve() != REPO:
        env["PYTHONPATH"] = str(app_dir)  # that checkout's packages before this venv's editable install
    with tempfile.TemporaryFile("w+b") as log:
        proc = subprocess.Popen(
            args, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _healthy(base_url):
                problem = None
                if proc.poll() is not None:
                    problem = f"streamlit exited ({proc.returncode}) before serving"
                elif time.monotonic() > deadline:
                    problem = f"streamlit not healthy after {SERVER_START_TIMEOUT_S}s at {base_url}"
                if problem:
                    raise ServerFailed(f"{problem}:\n{output()}")
                time.sleep(0.25)
            yield base_url
        finally:
            _stop(proc)
            text = output()
            if "Traceback" in text:
                print(f"--- streamlit server output ---\n{text}")


@contextmanager
def streamlit_server(
    extra_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start ``streamlit run dashboard/app.py`` on a free port; yield its base URL; stop it (its group) after.
    extra_args: more command-line options (e.g. ``--secrets.files``); extra_env: more environment."""
    _require_chromium()
    try:
        with streamlit_server_at(REPO, extra_env, extra_args) as base_url:
            yield base_url
    except ServerFailed as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def app_server() -> Iterator[str]:
    """The app for the whole session (its first request is made by the ``browser`` fixture, at "/")."""
    with streamlit_server() as base_url:
        yield base_url


@pytest.fixture
def fresh_server() -> Iterator[str]:
    """A server of its own that no browser has visited yet (for first-request behaviour)."""
    with streamlit_server() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser(app_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # Visit "/" first, as a person does: the deep-link-first case has its own test (fresh_server).
            page = browser.new_page()
            page.goto(app_server + "/")
            wait_for_app_run(page)
            page.close()
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def wait_for_app_run(page: Any, initial_wait_ms: int = 150, settle_ms: int = 100) -> None:
    """Wait until the script run triggered by the last interaction has finished and been rendered.

    As in Streamlit's e2e conftest: the websocket is connected, stApp's script state is ``notRunning``,
    no element skeletons remain; plus no status-widget running indicator and a main block present.
    """
    from playwright.sync_api import expect

    page.wait_for_timeout(initial_wait_ms)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=RUN_TIMEOUT_MS
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=RUN_TIMEOUT_MS
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    expect(page.locator(RUNNING_INDICATOR)).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    page.get_by_test_id("stMainBlockContainer").wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    if settle_ms:
        page.wait_for_timeout(settle_ms)


@pytest.fixture
def open_app(page: Any, app_server: str) -> Any:
    """``open_app("/player?case=...")``: load a URL of the running app and wait for its first run."""

    def open_(path: str = "/", base_url: str | None = None) -> Any:
        response = page.goto((base_url or app_server) + path)
        assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"
        page.wait_for_selector("[data-testid='stAppViewContainer']", state="attached", timeout=30_000)
        wait_for_app_run(page)
        nav = page.get_by_test_id("stSidebarNav")
        titles = nav.inner_text() if nav.count() else ""
        assert "Escalation pathways" in titles, (
            f"GET {path}: the sidebar is not app.py's st.navigation ({titles!r}). Streamlit ran the page file "
            "directly (multipage v1): a folder named 'pages' next to the main script switches the process to "
            "v1 until app.py's st.navigation runs once, so a deep link as a fresh server's first request "
            "bypasses app.py (no footer, no page config)."
        )
        return page

    return open_


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
