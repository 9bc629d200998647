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
from dashboard import versions
from dashboard.common import get_store
from dashboard.player.progress import STORE
from logic import best_answers, load_case
from logic.authoring import scaffold
from logic.casefiles import content_hash
from tests.bad_inputs import BAD_INPUTS, BadInput, params
from tests.context import KB

from .conftest import REPO, app_text, sign_in, sign_in_faculty, sign_up
from .drive import with_certainties
from .test_auth_pages import PASSCODE, open_page, refused, started
from .test_player_page import answer_stage

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
    assert refused(learner)
    assert not learner.text_area and "Open in the editor" not in [b.label for b in learner.button]
    # A callback cannot be reached either: the page draws nothing a learner could press.
    assert not (cases / "drafts").exists()


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


def problem_lines(at: AppTest) -> list[str]:
    return [line for e in at.error for line in e.value.splitlines() if line.startswith("- **line")]


@pytest.mark.parametrize(
    "bad", params([b for b in BAD_INPUTS if b.text is not None and b.file_name == "bad-case.yaml"])
)
def test_each_bad_input_in_the_editor_gives_one_message_at_its_line(
    author: AppTest, cases: Path, bad: BadInput, app: Callable[[], AppTest]
) -> None:
    before = {p.name: p.read_bytes() for p in cases.glob("*.yaml")}
    start(author, "scaffold:adult", "bad-case")
    assert bad.text is not None
    edit(author, bad.text)
    [line] = problem_lines(author)
    assert line.startswith(f"- **line {bad.line}**") and bad.says.replace("'", "") in line.replace(
        "\\", ""
    ).replace("'", "")
    assert not any(b.label == "Publish" for b in author.button)  # saving is off
    assert "The preview appears once the case loads" in app_text(author)
    # Forcing the save callback anyway (a crafted request) writes nothing.
    sections_state = author.session_state
    assert sections_state[sections.TEXT] == bad.text
    assert {p.name: p.read_bytes() for p in cases.glob("*.yaml")} == before
    assert not (cases / "drafts").exists()
    # The app keeps serving every other case.
    library = open_page(author, "library")
    assert "New dermatomyositis" in app_text(library)


@pytest.mark.parametrize(
    "bad",
    [
        b
        for b in BAD_INPUTS
        if b.name in ("not-utf-8", "file-name-not-an-id", "over-size-limit", "unknown-agent")
    ],
    ids=lambda b: b.name,
)
def test_each_bad_upload_gives_one_message_at_its_line(bad: BadInput, cases: Path) -> None:
    def script(name: str, raw: bytes) -> None:
        from dashboard import authoring
        from dashboard.context import get_kb

        authoring.show_upload(name, raw, get_kb())

    at = AppTest.from_function(script, args=(bad.file_name, bad.content), default_timeout=30).run()
    assert not at.exception, at.exception
    [line] = problem_lines(at)
    assert line.startswith(f"- **line {bad.line}**") and bad.says.replace("'", "") in line.replace(
        "\\", ""
    ).replace("'", "")
    opens = [b.label for b in at.button]
    # Text that is not UTF-8 or over the limit cannot be edited; a readable file can be opened in the editor.
    assert ("Open the upload in the editor" in opens) == (
        bad.name in ("unknown-agent", "file-name-not-an-id")
    )


def test_a_valid_upload_is_checked_and_opens_in_the_editor(author: AppTest) -> None:
    raw = (REPO / "cases" / f"{GOOD}.yaml").read_bytes()
    checked = sections.check_upload(raw, f"{GOOD}.yaml", KB)
    assert checked.ok and checked.lint == []


def test_an_invalid_edit_is_never_saved_over_a_valid_case(author: AppTest, cases: Path) -> None:
    original = (cases / f"{GOOD}.yaml").read_bytes()
    start(author, f"case:{GOOD}")
    assert author.session_state[sections.ORIGIN][0] == str(cases / f"{GOOD}.yaml")
    edit(author, original.decode().replace("weight_kg: 70", "weight_kg: heavy"))
    assert len(problem_lines(author)) == 1
    sections._save(False, KB)  # the callback itself, as a forged click would reach it  # noqa: SLF001
    assert (cases / f"{GOOD}.yaml").read_bytes() == original
    assert not (cases / ".history").exists()


def test_saving_over_another_case_needs_an_explicit_confirm_and_keeps_a_backup(
    author: AppTest, cases: Path, app: Callable[[], AppTest]
) -> None:
    original = (cases / f"{GOOD}.yaml").read_text()
    start(author, "scaffold:juvenile", GOOD)  # a new case under an id that is taken
    assert any(
        "already used by new-dermatomyositis.yaml" in w.value.replace("\\", "") for w in author.warning
    )
    click(author, "Publish")
    assert any("tick the box" in e for e in errors(author))
    assert (cases / f"{GOOD}.yaml").read_text() == original
    author.checkbox(key=sections.CONFIRM).check().run()
    click(author, "Publish")
    assert (cases / f"{GOOD}.yaml").read_text() == scaffold(GOOD, "juvenile")
    [backup] = (cases / ".history" / "backups").iterdir()
    assert backup.name.startswith(f"{GOOD}.") and backup.name.endswith(".yaml.bak")
    assert backup.read_text() == original
    assert not list(cases.glob("*.tmp")) and not list(cases.glob(".*.tmp"))


def test_editing_a_case_and_publishing_replaces_it_without_a_confirm(author: AppTest, cases: Path) -> None:
    start(author, f"case:{GOOD}")
    text = author.text_area(key=sections.TEXT).value
    edit(author, text.replace('title: "New dermatomyositis"', 'title: "New dermatomyositis, revised"'))
    assert not [c for c in author.checkbox if c.key == sections.CONFIRM]
    click(author, "Publish")
    assert 'title: "New dermatomyositis, revised"' in (cases / f"{GOOD}.yaml").read_text()
    assert len(list((cases / ".history" / "backups").iterdir())) == 1


def test_copying_a_case_under_a_new_id(author: AppTest, cases: Path) -> None:
    start(author, f"case:{GOOD}", "my-copy")
    text = author.text_area(key=sections.TEXT).value
    assert "\nid: my-copy\n" in text and author.session_state[sections.ORIGIN] is None
    click(author, "Save draft")
    assert load_case(cases / "drafts" / "my-copy.yaml", KB)[0] is not None


def test_the_preview_shows_each_stage_with_its_answer_key_and_position(author: AppTest) -> None:
    start(author, f"case:{GOOD}")
    first = app_text(author)
    assert "Stage 1 of" in first and "Answer key of 'start-treatment'" in first and "Best answer" in first
    assert "Position on the adult pathway at this stage" in first
    assert [s for s in author.selectbox if s.key == sections.STAGE]
    author.selectbox(key=sections.STAGE).set_value(2).run()
    third = app_text(author)
    assert "Stage 3 of" in third and "Answer key of 'start-treatment'" not in third
    # The learner's form, as the player draws it, with its submit disabled.
    assert any(b.label.startswith("Submit (disabled") and b.disabled for b in author.button)


def test_a_draft_is_hidden_from_learners_and_marked_for_faculty(
    author: AppTest, cases: Path, app: Callable[[], AppTest]
) -> None:
    start(author, "scaffold:adult", "draft-case")
    edit(
        author, author.text_area(key=sections.TEXT).value.replace('title: "New case"', 'title: "Draft only"')
    )
    click(author, "Save draft")
    faculty_library = app_text(open_page(author, "library"))
    assert "Draft only" in faculty_library and "Draft · faculty only" in faculty_library
    learner = started(app)
    assert "Draft only" not in app_text(learner)
    learner.switch_page("views/player.py")
    learner.query_params["case"] = "draft-case"
    learner.run()
    assert "Draft only" not in app_text(learner) and any(
        "no case `draft-case`" in w.value for w in learner.warning
    )


def test_a_published_case_plays_at_once_and_a_learner_mid_case_keeps_their_version(
    author: AppTest, cases: Path, app: Callable[[], AppTest]
) -> None:
    start(author, "scaffold:adult", "fresh-case")
    click(author, "Publish")
    learner = started(app)
    learner.switch_page("views/player.py")
    learner.query_params["case"] = "fresh-case"
    learner.run()
    assert not learner.exception and "Stage 1 of 2: A new diagnosis" in app_text(learner)
    loaded, _ = load_case(cases / "fresh-case.yaml", KB)
    assert loaded is not None
    answer_stage(learner, loaded.case, 0, with_certainties(loaded.case, best_answers(loaded.case, KB)))
    assert "Stage 2 of 2: Three months later" in app_text(learner)

    # The author renames stage 2 and publishes: the learner mid-case finishes the version they started.
    edit(
        author,
        author.text_area(key=sections.TEXT).value.replace('"Three months later"', '"Six months later"'),
    )
    click(author, "Publish")
    learner.run()
    text = app_text(learner)
    assert "Stage 2 of 2: Three months later" in text and "updated after you started it" in text
    # A new learner gets the new version at once, without a restart.
    other = started(app)
    other.switch_page("views/player.py")
    other.query_params["case"] = "fresh-case"
    other.run()
    new_hash = content_hash((cases / "fresh-case.yaml").read_text())
    assert other.session_state[STORE]["fresh-case"][versions.VERSION] == new_hash
    # Restarting moves the first learner to the new version.
    next(b for b in learner.button if b.label == "Restart case").click().run()
    learner.button(key="restart_confirmed").click().run()  # the player asks first
    assert learner.session_state[STORE]["fresh-case"]["submitted"] == []
    answer_stage(learner, loaded.case, 0, with_certainties(loaded.case, best_answers(loaded.case, KB)))
    assert "Stage 2 of 2: Six months later" in app_text(learner)


def test_a_signed_in_learner_resumes_the_version_their_attempt_recorded(
    author: AppTest, cases: Path, app: Callable[[], AppTest]
) -> None:
    start(author, "scaffold:adult", "fresh-case")
    click(author, "Publish")
    first_hash = content_hash((cases / "fresh-case.yaml").read_text())
    learner = started(app)
    code = sign_up(learner, "Grace")
    learner.switch_page("views/player.py")
    learner.query_params["case"] = "fresh-case"
    learner.run()
    loaded, _ = load_case(cases / "fresh-case.yaml", KB)
    assert loaded is not None
    answer_stage(learner, loaded.case, 0, with_certainties(loaded.case, best_answers(loaded.case, KB)))

    edit(
        author,
        author.text_area(key=sections.TEXT).value.replace('"Three months later"', '"Six months later"'),
    )
    click(author, "Publish")
    # Another browser: the stored attempt says which version; the learner finishes it.
    again = started(app)
    sign_in(again, "Grace", code)
    again.switch_page("views/player.py")
    again.query_params["case"] = "fresh-case"
    again.run()
    assert not again.exception, again.exception
    text = app_text(again)
    assert "Stage 2 of 2: Three months later" in text and "updated after you started it" in text
    store = get_store()
    assert store is not None
    answer_stage(again, loaded.case, 1, with_certainties(loaded.case, best_answers(loaded.case, KB)))
    assert "Case complete" in app_text(again)
    records = store.answers(again.session_state[STORE]["fresh-case"]["db_attempt"])
    assert records and {r.case_hash for r in records} == {first_hash}
