"""The real renderer (Streamlit's react-markdown in chromium) shows a hostile case and a hostile URL inert:
no request leaves for another host, no image loads, no link but https and relative ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from logic.markdown import link_allowed
from tests.dashboard.test_hostile_content import hostile_case
from tests.e2e.conftest import RUN_TIMEOUT_MS, streamlit_server, wait_for_app_run
from tests.logic.test_markdown import HOSTILE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile-cases")
    hostile_case(folder)
    # and the whole corpus of tests/logic/test_markdown.py, one item a paragraph, in the first narrative
    path = folder / "hostile.yaml"
    data = yaml.safe_load(path.read_text())
    data["stages"][0]["narrative"] += "\n\n" + "\n\n".join(HOSTILE)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    saved = os.environ.get("MYOTUTOR_CASES_DIR")
    os.environ["MYOTUTOR_CASES_DIR"] = str(folder)
    try:
        with streamlit_server() as url:
            yield url
    finally:
        if saved is None:
            os.environ.pop("MYOTUTOR_CASES_DIR", None)
        else:
            os.environ["MYOTUTOR_CASES_DIR"] = saved


def _inert(page: Any, base_url: str, requests: list[str], artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    own = urlparse(base_url).netloc
    elsewhere = [
        u
        for u in requests
        if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != own
    ]
    assert elsewhere == [], f"requests left for other hosts: {elsewhere}"
    images = page.locator("[data-testid='stMain'] img").evaluate_all("els => els.map(e => e.src)")
    assert [src for src in images if "evil" in src] == []
    hrefs = page.locator("[data-testid='stMain'] a[href]").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert [h for h in hrefs if not link_allowed(h)] == [], hrefs
    assert not page.get_by_test_id("stException").count()


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    wait_for_app_run(page)
    return context, page, requests


def test_a_hostile_case_renders_inert_in_the_browser(
    browser: Any, hostile_server: str, artifacts: Path
) -> None:
    context, page, requests = _open(browser, f"{hostile_server}/player?case=hostile")
    try:
        page.get_by_text("image: px").first.wait_for(state="visible")  # the payload is shown, as text
        _inert(page, hostile_server, requests, artifacts, "hostile-case-player")
        context.close()
        context, page, requests = _open(browser, f"{hostile_server}/")
        _inert(page, hostile_server, requests, artifacts, "hostile-case-library")
    finally:
        context.close()


@pytest.mark.parametrize(
    "value",
    [
        "[Session expired: sign in](https://evil.example/login)",
        "![t](https://evil.example/track.png)",
        "<img src=https://evil.example/i.png>",
    ],
)
def test_a_hostile_case_link_renders_inert_in_the_browser(
    browser: Any, hostile_server: str, artifacts: Path, value: str
) -> None:
    from urllib.parse import quote

    for path in ("/", "/player"):
        context, page, requests = _open(browser, f"{hostile_server}{path}?case={quote(value)}")
        try:
            assert page.get_by_test_id("stAlert").count() >= 1
            assert "evil" not in page.get_by_test_id("stAlert").first.inner_text()
            _inert(page, hostile_server, requests, artifacts, "hostile-link")
        finally:
            context.close()
