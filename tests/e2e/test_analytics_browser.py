"""The faculty Analytics page in a real browser (Debian chromium), on a seeded cohort of 30 simulated
learners: the first screen answers "where does my group go wrong?", the flowchart and question charts
render, the exports download and parse (the xAPI statements validate), and a learner typing the URL is
refused. Screenshots at 1366×900 and 390×844 (and the whole page) go to artifacts/e2e/.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dashboard.demo_cohort import make_demo_cohort
from dashboard.store import Store
from dashboard.store_analytics import Scope
from logic import load_knowledge_base, load_library
from tests.e2e.conftest import REPO, streamlit_server, wait_for_app_run

pytestmark = pytest.mark.e2e

PASSCODE = "e2e analytics passcode"
SCHEMA = json.loads((REPO / "tests" / "dashboard" / "data" / "xapi-statement.schema.json").read_text())


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """A server whose database holds a cohort of 30 learners who played four cases over 30 days."""
    folder = tmp_path_factory.mktemp("analytics-db")
    url = f"sqlite:///{folder / 'progress.db'}"
    kb = load_knowledge_base()
    library = load_library([REPO / "cases"], kb)
    cases = [library.cases[c] for c in sorted(library.cases)[:4]]
    store = Store(url)
    try:
        cohort = make_demo_cohort(
            store, cases, kb, learners=30, name="Rheumatology year 4", variant=11, days=30
        )
        answers = sum(1 for _ in store.export_answers(Scope(cohort.id)))
    finally:
        store.close()
    env = {"MYOTUTOR_DATABASE_URL": url, "MYOTUTOR_FACULTY_PASSCODE": PASSCODE}
    with streamlit_server((), env) as base_url:
        yield base_url, cohort.id, answers


def visit(page: Any, url: str) -> Any:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    wait_for_app_run(page)
    return page


def faculty_page(browser: Any, base_url: str, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.set_default_timeout(25_000)
    page = context.new_page()
    visit(page, f"{base_url}/account")
    page.get_by_role("tab", name="Faculty").click()
    page.get_by_label("Faculty passcode").fill(PASSCODE)
    page.get_by_role("button", name="Sign in as faculty").click()
    wait_for_app_run(page)
    return page


def charts_drawn(page: Any, at_least: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg').length >= {at_least}",
        timeout=25_000,
    )


def test_the_first_screen_answers_where_the_group_goes_wrong(
    browser: Any, seeded: tuple[str, int, int], artifacts: Path
) -> None:
    base_url, cohort_id, _ = seeded
    for name, (width, height) in {"desktop": (1366, 900), "phone": (390, 844)}.items():
        page = faculty_page(browser, base_url, width, height)
        try:
            visit(page, f"{base_url}/analytics?cohort={cohort_id}")
            charts_drawn(page, 1)
            answer = page.get_by_text("Most often answered unsafely:")
            box = answer.bounding_box()
            assert box is not None and box["y"] + box["height"] < height, f"{name}: not on the first screen"
            page.screenshot(path=str(artifacts / f"analytics-{name}.png"))
            if name == "desktop":
                assert page.get_by_text("Learners who played").count() == 1
                page.set_viewport_size({"width": width, "height": 5200})
                charts_drawn(page, 5)  # the trouble chart, the flowchart, questions
                wait_for_app_run(page, initial_wait_ms=500)
                page.screenshot(path=str(artifacts / "analytics-desktop-whole.png"))
                flowchart = page.locator("[data-testid=stPlotlyChart]").nth(1)
                assert "chose the recommended" in page.content()
                # The heat overlay is drawn, and its key written under the chart (the chart has no legend).
                assert flowchart.locator(".annotation-text", has_text="%").count() >= 1
                assert page.get_by_text("darker fill: more of the group chose that step").count() >= 1
        finally:
            page.context.close()


def test_the_exports_download_and_parse(browser: Any, seeded: tuple[str, int, int]) -> None:
    base_url, cohort_id, answers = seeded
    page = faculty_page(browser, base_url, 1366, 900)
    try:
        visit(page, f"{base_url}/cohorts")
        page.get_by_text("Rheumatology year 4").first.click()  # open the cohort's panel
        wait_for_app_run(page)
        with page.expect_download() as download:
            page.get_by_role("button", name="Answers (CSV)").first.click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert len(rows) == answers and {r["cohort"] for r in rows} == {"Rheumatology year 4"}
        assert download.value.suggested_filename.startswith("myotutor-rheumatology-year-4-")
        with page.expect_download() as download:
            page.get_by_role("button", name="xAPI statements (JSON lines)").first.click()
        lines = Path(download.value.path()).read_text().splitlines()
        assert len(lines) == answers
        validator = Draft202012Validator(SCHEMA)
        for line in lines:
            statement = json.loads(line)
            assert not list(validator.iter_errors(statement))
            assert statement["actor"]["account"]["homePage"] == base_url  # the app's own URL
        with page.expect_download() as download:
            page.get_by_role("button", name="Attempts (CSV)").first.click()
        attempts = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert {a["status"] for a in attempts} <= {"completed", "abandoned", "in progress"} and attempts
        page.get_by_role("link", name="Analytics: where this cohort goes wrong").first.click()
        wait_for_app_run(page)
        assert page.url.endswith(f"/analytics?cohort={cohort_id}")
        charts_drawn(page, 1)
        assert page.get_by_text("Where the group goes wrong").count() == 1
    finally:
        page.context.close()


def test_a_learner_typing_the_url_is_refused(browser: Any, seeded: tuple[str, int, int]) -> None:
    base_url, cohort_id, _ = seeded
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        visit(page, f"{base_url}/account")
        page.get_by_role("textbox", name="Your name").first.fill("Mallory")
        page.get_by_role("button", name="Start").click()
        wait_for_app_run(page)
        visit(page, f"{base_url}/analytics?cohort={cohort_id}")
        assert page.get_by_text("This page is for faculty.").count() == 1
        assert "Rheumatology year 4" not in page.content()
        assert page.get_by_text("Where the group goes wrong").count() == 0
    finally:
        context.close()
