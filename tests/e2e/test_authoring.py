"""The Author page in a real browser: faculty write a two-stage case from a scaffold, see one error appear
and go, publish it, and play it in the player of the same running server (no restart). Screenshots at
1366×900 and 390×844."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logic import answer_key, load_case, stage_plans
from logic.authoring import scaffold
from tests.context import KB

from .conftest import REPO, streamlit_server, wait_for_app_run
from .test_browser import _answer_stage_one, _submit_stage
from .test_sign_in import PASSCODE, shoot, visit

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e-cases")
    for name in ("new-dermatomyositis.yaml", "case.schema.json"):
        shutil.copy(REPO / "cases" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def author_app(cases: Path) -> Iterator[str]:
    env = {"MYOTUTOR_FACULTY_PASSCODE": PASSCODE, "MYOTUTOR_CASES_DIR": str(cases)}
    with streamlit_server((), env) as base_url:
        yield base_url


def editor_text(page: Any) -> str:
    return str(page.locator("textarea").first.input_value())


def type_case(page: Any, text: str) -> None:
    """Replace the editor's text and commit it as a person does (Ctrl+Enter)."""
    area = page.locator("textarea").first
    area.fill(text)
    area.press("Control+Enter")
    wait_for_app_run(page, initial_wait_ms=300)


def test_write_a_case_see_an_error_come_and_go_publish_and_play_it(
    browser: Any, author_app: str, cases: Path, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(25_000)
    page = context.new_page()
    try:
        visit(page, f"{author_app}/account")
        page.get_by_role("tab", name="Faculty").click()
        page.get_by_label("Faculty passcode").fill(PASSCODE)
        page.get_by_role("button", name="Sign in as faculty").click()
        wait_for_app_run(page)

        visit(page, f"{author_app}/author")
        page.get_by_placeholder("new case id, e.g. dm-with-calcinosis").fill("browser-case")
        page.get_by_placeholder("new case id, e.g. dm-with-calcinosis").press("Enter")
        wait_for_app_run(page)
        page.get_by_role("button", name="Open in the editor").click()
        wait_for_app_run(page, initial_wait_ms=300)
        assert editor_text(page) == scaffold("browser-case", "adult")
        page.get_by_text("The case loads and lint finds nothing").wait_for(state="visible")

        written = editor_text(page).replace('title: "New case"', 'title: "Written in the browser"')
        type_case(page, written.replace("rituximab, upadacitinib", "ritux, upadacitinib"))
        alert = page.get_by_test_id("stAlertContentError")
        alert.first.wait_for(state="visible")
        assert "did you mean 'rituximab'" in alert.first.inner_text().replace("\\", "")
        assert alert.first.locator("li").count() == 1  # one message, at its line
        assert "line 36" in alert.first.inner_text()
        shoot(page, artifacts, "author-error")

        type_case(page, written)
        page.get_by_text("The case loads and lint finds nothing").wait_for(state="visible")
        assert page.get_by_test_id("stAlertContentError").count() == 0
        page.get_by_text("Answer key of 'start-treatment'").first.wait_for(state="visible")
        shoot(page, artifacts, "author-valid")
        page.get_by_text("Answer key of 'start-treatment'").first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "author-preview-desktop.png"))

        page.get_by_role("button", name="Publish").click()
        wait_for_app_run(page, initial_wait_ms=300)
        page.get_by_text("Published: learners see it in the library now").wait_for(state="visible")
        assert (cases / "browser-case.yaml").read_text() == written

        # The same running server plays it at once.
        visit(page, f"{author_app}/player?case=browser-case")
        page.get_by_role("heading", name="Written in the browser").wait_for(state="visible")
        loaded, _ = load_case(cases / "browser-case.yaml", KB)
        assert loaded is not None
        plan = stage_plans(loaded.case, KB)[0]
        _answer_stage_one(page, loaded.case, plan)
        _submit_stage(page)
        best = answer_key(loaded.case.stages[0].questions[0], plan, KB).best
        page.get_by_text("Stage 2 of 2: Three months later").wait_for(state="visible")
        assert KB.name(best[0]) in page.get_by_test_id("stMain").inner_text()
        shoot(page, artifacts, "author-played")
    finally:
        context.close()
