"""The case library page: cards, filters, load errors for faculty, deep links into the player."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import catalogue
from logic import load_library
from tests.context import KB

from .conftest import REPO, S2, S2_FILE, app_text, sign_in_faculty
from .test_auth_pages import PASSCODE

BROKEN = """\
id: broken-case
title: "A broken case"
summary: "Does not load."
population: adult
difficulty: impossible
author: faculty
patient: {age: 50, sex: female, weight_kg: 70, height_cm: 165, diagnosis: dermatomyositis, manifestations: [skin], severity: mild}
stages:
  - title: "One"
    narrative: "Text."
"""


def test_library_page_loads_with_every_case(app: Callable[[], AppTest]) -> None:
    at = app()
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Case library"
    library = load_library([REPO / "cases"], KB)
    titles = {s.value for s in at.subheader}
    assert {lc.case.title for lc in library.cases.values()} <= titles
    assert len([b for b in at.button if b.label == "Open in the player"]) == len(library.cases)


def test_library_search_and_filters(app: Callable[[], AppTest]) -> None:
    at = app()
    at.run()
    library = load_library([REPO / "cases"], KB)
    at.text_input(key="lib_search").input("immunosuppression").run()
    titles = {s.value for s in at.subheader}
    assert library.cases[S2].case.title in titles
    assert titles == {lc.case.title for lc in catalogue.filter_cases(library.cases, "immunosuppression")}
    at.text_input(key="lib_search").input("").run()
    at.multiselect(key="lib_population").select("juvenile").run()
    titles = {s.value for s in at.subheader}
    assert library.cases[S2].case.title not in titles
    assert titles == {lc.case.title for lc in library.cases.values() if lc.case.population == "juvenile"}


@pytest.fixture
def tmp_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(S2_FILE, folder / S2_FILE.name)
    (folder / "broken.yaml").write_text(BROKEN)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(folder))
    return folder


def faculty_library(app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The library page as faculty see it (signed in with the passcode): with the load errors."""
    monkeypatch.setenv("MYOTUTOR_FACULTY_PASSCODE", PASSCODE)
    at = app()
    at.run()
    sign_in_faculty(at, PASSCODE)
    at.switch_page("views/library.py").run()
    assert not at.exception, at.exception
    return at


def test_bad_case_file_is_listed_and_the_good_one_still_opens(
    app: Callable[[], AppTest], tmp_cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = load_library([tmp_cases], KB)
    assert list(library.cases) == [S2]
    (error,) = [e for e in library.errors if e.path.name == "broken.yaml"]
    assert error.line == 5  # difficulty: impossible

    at = faculty_library(app, monkeypatch)
    text = app_text(at)
    assert f"broken.yaml:{error.line}:{error.column}:" in text
    assert error.message in text
    assert any("could not be loaded" in e.label for e in at.expander)
    titles = [s.value for s in at.subheader]
    assert titles == [library.cases[S2].case.title]

    at.button(key=f"lib_open:{S2}").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Case player"
    assert at.selectbox(key="player_case").value == S2
    assert at.selectbox(key="player_case").options == [library.cases[S2].case.title]


def test_deep_link_on_the_root_url_opens_the_player(app: Callable[[], AppTest]) -> None:
    library = load_library([REPO / "cases"], KB)
    for case_id in (S2, sorted(library.cases)[-1]):
        at = app()
        at.query_params["case"] = case_id
        at.run()
        assert not at.exception, at.exception
        assert at.title[0].value == "Case player"
        assert at.selectbox(key="player_case").value == case_id
        assert at.header[0].value == library.cases[case_id].case.title


def test_unknown_deep_link_stays_on_the_library(app: Callable[[], AppTest]) -> None:
    at = app()
    at.query_params["case"] = "no-such-case"
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Case library"
    assert "no-such-case" in at.warning[0].value


def test_load_errors_name_files_relative_to_the_cases_folder(
    app: Callable[[], AppTest], tmp_cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faculty see where to fix a file, never the server's absolute paths."""
    shutil.copy(S2_FILE, tmp_cases / "copy.yaml")  # the same case id twice: both files named
    id_line = next(i for i, x in enumerate(S2_FILE.read_text().splitlines(), 1) if x.startswith("id: "))
    at = faculty_library(app, monkeypatch)
    [code] = [c.value for c in at.code if "broken.yaml" in c.value]
    assert str(tmp_cases) not in app_text(at)
    lines = code.splitlines()
    assert any(line.startswith("broken.yaml:5:") for line in lines), lines
    assert any(
        line.startswith(f"copy.yaml:{id_line}:5: id: case id '{S2}' is also used by {S2_FILE.name}:{id_line}")
        for line in lines
    )
    assert catalogue.error_lines(load_library([tmp_cases], KB).errors, tmp_cases) == lines


def test_load_errors_outside_the_cases_folder_show_the_file_name_only(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.yaml").write_text("id: [unclosed\n")
    errors = load_library([tmp_path / "elsewhere.yaml"], KB).errors
    assert catalogue.error_lines(errors, tmp_path / "cases") == [
        f"elsewhere.yaml:{errors[0].line}:{errors[0].column}: {errors[0].message}"
    ]


def test_load_errors_are_shown_only_to_faculty(app: Callable[[], AppTest], tmp_cases: Path) -> None:
    """A learner or a guest sees the cases that load and nothing of the files that did not."""
    at = app()
    at.run()
    assert not at.exception, at.exception
    assert "broken.yaml" not in app_text(at)
    assert not [e for e in at.expander if "could not be loaded" in e.label]
    assert [s.value for s in at.subheader] == [load_library([tmp_cases], KB).cases[S2].case.title]


@pytest.fixture
def many_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """30 generated valid cases (the bench's generator) in a cases folder of their own."""
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import bench_core  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "bench"))
    folder = tmp_path / "cases"
    folder.mkdir()
    bench_core.generate(folder, 30)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(folder))
    return folder


def test_a_large_library_is_paged_and_searched_on_its_index(
    app: Callable[[], AppTest], many_cases: Path
) -> None:
    from dashboard.library import PAGE_SIZE

    library = load_library([many_cases], KB)
    assert len(library.cases) == 30
    at = app()
    at.run()
    assert not at.exception, at.exception
    opens = [b for b in at.button if b.label == "Open in the player"]
    assert len(opens) == PAGE_SIZE, "only the first page of cards is drawn"
    ordered = [lc.case.title for lc in catalogue.filter_cases(library.cases)]
    assert {s.value for s in at.subheader} == set(ordered[:PAGE_SIZE])  # (two columns: read as a set)
    assert any("30 cases" in c.value for c in at.caption)
    at.session_state["lib_page"] = 3
    at.run()
    assert {s.value for s in at.subheader} == set(ordered[2 * PAGE_SIZE :])
    # A search narrows the list and goes back to its first page.
    word = library.cases[sorted(library.cases)[0]].case.title.split()[0]
    at.text_input(key="lib_search").input(word).run()
    expected = {lc.case.title for lc in catalogue.filter_cases(library.cases, word)}
    shown = {s.value for s in at.subheader}
    assert shown <= expected and len(shown) == min(PAGE_SIZE, len(expected))


def test_the_index_finds_what_the_filters_find() -> None:
    library = load_library([REPO / "cases"], KB)
    index = catalogue.build_index(library.cases)
    assert list(index.tags) == catalogue.all_tags(library.cases)
    for query in ("", "ivig", "JDM after", "nothing-like-this"):
        for populations in ((), ("adult",), ("juvenile",)):
            for tags in ((), ("safety",)):
                assert index.search(query, tags, populations) == [
                    lc.case.id for lc in catalogue.filter_cases(library.cases, query, tags, populations)
                ]
