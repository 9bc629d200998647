"""Saved progress through the pages: a named learner resumes a case in a new session and sees it listed."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from logic import best_answers, load_library
from tests.context import KB

from .conftest import S2, S2_FILE, sign_in, sign_up
from .drive import with_certainties
from .test_player_page import answer_stage, open_player


def to_player(at: AppTest, case_id: str = S2) -> AppTest:
    at.switch_page("views/player.py")
    at.query_params["case"] = case_id
    at.run()
    assert not at.exception, at.exception
    return at


def named(at: AppTest, name: str) -> AppTest:
    """A new learner signed in, back on the player."""
    sign_up(at, name)
    return to_player(at)


def test_a_learner_resumes_a_case_in_a_new_session_only_with_their_code(app: Callable[[], AppTest]) -> None:
    case = load_library([S2_FILE], KB).cases[S2].case
    first = open_player(app)
    code = sign_up(first, "Ada Lovelace")
    to_player(first)
    answer_stage(first, case, 0, with_certainties(case, best_answers(case, KB)))
    assert any(h.value.startswith("Stage 2 of") for h in first.subheader)

    later = app()  # a new browser session, same name and code
    later.run()
    sign_in(later, "ada lovelace", code)
    to_player(later)
    headings = [h.value for h in later.subheader]
    assert any(h.startswith("Stage 2 of") for h in headings), headings
    assert "Submit stage 2" in [b.label for b in later.button]

    impostor = app()  # the name alone opens nothing
    impostor.run()
    sign_in(impostor, "Ada Lovelace", "AAAAA-AAAAA")
    assert "That name and resume code do not match." in [e.value for e in impostor.error]
    to_player(impostor)
    assert "Submit stage 1" in [b.label for b in impostor.button]

    stranger = named(open_player(app), "Grace Hopper")
    assert "Submit stage 1" in [b.label for b in stranger.button]


def test_progress_page_lists_the_learners_cases_and_the_group_histogram(app: Callable[[], AppTest]) -> None:
    case = load_library([S2_FILE], KB).cases[S2].case
    at = named(open_player(app), "Ada Lovelace")
    for i in range(len(case.stages)):
        answer_stage(at, case, i, with_certainties(case, best_answers(case, KB)))
    at.switch_page("views/progress.py").run()
    assert not at.exception, at.exception
    [table] = at.dataframe
    assert table.value["Case"].tolist() == [case.title]
    assert table.value["Best"].tolist() == [100]
    assert any("join your cohort" in i.value for i in at.info)  # group results are a cohort's


def test_progress_page_without_a_name_explains_how(app: Callable[[], AppTest]) -> None:
    at = app()
    at.run()
    at.switch_page("views/progress.py").run()
    assert not at.exception, at.exception
    assert any("Sign in (see the sidebar)" in i.value for i in at.info)
