"""The faculty Cohorts page and joining a cohort (AppTest): create, join by link and by code, attempts
recorded in the chosen cohort, archive, delete only through the confirmation dialog."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth
from dashboard.common import get_store, plain
from dashboard.store import Store
from logic import best_answers, load_library
from tests.context import KB
from tests.logic.test_markdown import active_content, gfm_autolinks, rendered

from .conftest import S2, S2_FILE, sign_in_faculty, sign_up
from .drive import with_certainties
from .test_auth_pages import PASSCODE, open_page, started
from .test_player_page import answer_stage
from .test_progress_page import to_player


@pytest.fixture
def faculty(app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    at = started(app)
    sign_in_faculty(at, PASSCODE)
    return open_page(at, "cohorts")


def store() -> Store:
    found = get_store()
    assert found is not None
    return found


def create(at: AppTest, name: str) -> str:
    at.text_input(key="new_cohort_name").set_value(name)
    next(b for b in at.button if b.label == "Create cohort").click().run()
    assert not at.exception, at.exception
    [made] = [c for c in store().cohorts() if c.name == name]
    assert any(made.join_code in s.value for s in at.success)
    return made.join_code


def button(at: AppTest, label: str) -> object:
    return next(b for b in at.button if b.label == label)


def test_faculty_create_a_cohort_and_a_learner_joins_by_link(
    faculty: AppTest, app: Callable[[], AppTest]
) -> None:
    faculty.context = {"url": "https://myotutor.example.org/cohorts"}
    code = create(faculty, "Year 4")
    assert f"https://myotutor.example.org/account?join={code}" in [c.value for c in faculty.code]

    learner = started(app)
    learner.query_params["join"] = code  # the join link, opened before signing in
    open_page(learner, "account")
    assert any("sign in first" in i.value for i in learner.info)
    sign_up(learner, "Ada")
    learner.query_params["join"] = code
    open_page(learner, "account")
    button(learner, "Join Year 4").click().run()  # type: ignore[attr-defined]
    assert any("You joined Year 4" in s.value for s in learner.success)
    assert learner.sidebar.selectbox(key=auth.COHORT_KEY).value == store().cohort_by_code(code).id  # type: ignore[union-attr]

    open_page(faculty, "cohorts")
    assert any("Ada" in str(d.value["Learner"].tolist()) for d in faculty.dataframe)


def test_attempts_count_in_the_cohort_chosen_in_the_sidebar(
    faculty: AppTest, app: Callable[[], AppTest]
) -> None:
    year4, nurses = create(faculty, "Year 4"), create(faculty, "Nurses")
    case = load_library([S2_FILE], KB).cases[S2].case
    learner = started(app)
    sign_up(learner, "Ada")
    for code in (year4, nurses):
        open_page(learner, "account")
        learner.text_input(key="join_code").set_value(code.lower())
        button(learner, "Join").click().run()  # type: ignore[attr-defined]
    cohorts = {c.name: c.id for c in store().cohorts()}
    assert learner.sidebar.selectbox(key=auth.COHORT_KEY).value == cohorts["Nurses"]  # the one just joined
    learner.sidebar.selectbox(key=auth.COHORT_KEY).set_value(cohorts["Year 4"]).run()
    to_player(learner)
    for i in range(len(case.stages)):
        answer_stage(learner, case, i, with_certainties(case, best_answers(case, KB)))
    assert store().class_summary(S2, cohorts["Year 4"]) == [100]
    assert store().class_summary(S2, cohorts["Nurses"]) == []
    learner_id = store().find_learners("Ada")[0].id
    [attempt] = [
        a for a in (store().attempt(i) for i in range(1, 5) if _exists(i)) if a.learner_id == learner_id
    ]
    assert attempt.cohort_id == cohorts["Year 4"] and attempt.case_hash is not None
    records = store().answers(attempt.id)
    assert {r.cohort_id for r in records} == {cohorts["Year 4"]} and len(records) == len(
        list(case.questions())
    )


def _exists(attempt_id: int) -> bool:
    try:
        store().attempt(attempt_id)
    except KeyError:
        return False
    return True


def test_archive_hides_a_cohort_and_delete_needs_the_confirmation(
    faculty: AppTest, app: Callable[[], AppTest]
) -> None:
    code = create(faculty, "Old year")
    learner = started(app)
    sign_up(learner, "Ada")
    store().join_cohort(store().find_learners("Ada")[0].id, code)
    cohort_id = store().cohort_by_code(code).id  # type: ignore[union-attr]

    open_page(faculty, "cohorts")
    button(faculty, "Archive (keep, hide)").click().run()  # type: ignore[attr-defined]
    assert store().cohorts() == [] and store().cohort(cohort_id).archived_at is not None
    assert not any("Old year" in e.label for e in faculty.expander)
    faculty.toggle(key="show_archived").set_value(True).run()
    assert any("Old year" in e.label and "archived" in e.label for e in faculty.expander)

    button(faculty, "Delete…").click().run()  # type: ignore[attr-defined]
    button(faculty, "Cancel").click().run()  # type: ignore[attr-defined]
    assert not any(b.label == "Delete the cohort and its data" for b in faculty.button)
    assert store().cohort(cohort_id).members == 1
    button(faculty, "Delete…").click().run()  # type: ignore[attr-defined]
    confirm = button(faculty, "Delete the cohort and its data")
    assert confirm.disabled  # type: ignore[attr-defined]
    assert store().cohort(cohort_id).members == 1  # nothing deleted by opening the dialog
    faculty.text_input(key=f"confirm_delete:{cohort_id}").set_value("Old year").run()
    button(faculty, "Delete the cohort and its data").click().run()  # type: ignore[attr-defined]
    assert not faculty.exception, faculty.exception
    with pytest.raises(KeyError):
        store().cohort(cohort_id)
    assert any("were deleted" in s.value for s in faculty.success)


def test_faculty_issue_a_new_resume_code_and_delete_a_learners_data(
    faculty: AppTest, app: Callable[[], AppTest]
) -> None:
    learner = started(app)
    old = sign_up(learner, "Ada Lovelace")
    learner_id = store().find_learners("Ada")[0].id
    faculty.text_input(key="learner_search").set_value("ada").run()
    button(faculty, "New resume code").click().run()  # type: ignore[attr-defined]
    [new] = [c.value for c in faculty.code if c.value != old and len(c.value) == 11]
    assert store().resume_named("Ada Lovelace", new) == learner_id
    assert store().resume_named("Ada Lovelace", old) is None

    button(faculty, "Delete data…").click().run()  # type: ignore[attr-defined]
    faculty.text_input(key=f"confirm_forget:{learner_id}").set_value("Ada Lovelace").run()
    button(faculty, "Delete everything about this learner").click().run()  # type: ignore[attr-defined]
    assert store().find_learners("Ada") == []


def test_names_typed_by_people_show_as_typed_never_as_markdown(
    faculty: AppTest, app: Callable[[], AppTest]
) -> None:
    hostile = "![x](https://evil.example/i.png) [click](https://evil.example) :material/home:"
    create(faculty, "Year [4](https://evil.example)")
    learner = started(app)
    sign_up(learner, hostile)
    assert any("Signed in as" in m.value and "\\]\\(https\\:" in m.value for m in learner.sidebar.markdown)
    faculty.text_input(key="learner_search").set_value("evil").run()
    shown = [m.value for m in faculty.markdown] + [e.label for e in faculty.expander]
    assert not any("](https://evil" in text for text in shown), shown
    assert any(plain(hostile) in text for text in shown)
    # no link, image or autolinked address in any of it once rendered (escapes do not stop GitHub's
    # autolinking of "https://...": the text must not hold one after escapes are resolved either)
    assert [a for text in shown for a in active_content(text) if "evil" in a] == []
    assert not [u for text in shown for u in gfm_autolinks(_rendered_text(text)) if "evil" in u]


def _rendered_text(markdown: str) -> str:
    """The text a Markdown string shows, escapes resolved (what GitHub's autolinking looks at)."""
    return " ".join(t.content for t in rendered(markdown) if t.type == "text")
