"""Saved progress through the pages: a named learner resumes a case in a new session and sees it listed."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from dashboard.common import LEARNER_KEY
from logic import best_answers, load_library
from tests.context import KB

from .conftest import S2, S2_FILE
from .drive import with_certainties
from .test_player_page import answer_stage, open_player


def named(at: AppTest, name: str) -> AppTest:
    at.text_input(key=LEARNER_KEY).set_value(name).run()
    assert not at.exception, at.exception
    return at


def test_a_named_learner_resumes_a_case_in_a_new_session(app: Callable[[], AppTest]) -> None:
    case = load_library([S2_FILE], KB).cases[S2].case
    first = named(open_player(app), "Ada Lovelace")
    answer_stage(first, case, 0, with_certainties(case, best_answers(case, KB)))
    assert any(h.value.startswith("Stage 2 of") for h in first.subheader)

    later = named(open_player(app), "Ada Lovelace")  # a new browser session, same name
    headings = [h.value for h in later.subheader]
    assert any(h.startswith("Stage 2 of") for h in headings), headings
    assert "Submit stage 2" in [b.label for b in later.button]

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
    at.selectbox(key="progress_case").set_value(S2).run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["1"]


def test_progress_page_without_a_name_explains_how(app: Callable[[], AppTest]) -> None:
    at = app()
    at.run()
    at.switch_page("views/progress.py").run()
    assert not at.exception, at.exception
    assert any("Enter your name in the sidebar" in i.value for i in at.info)
