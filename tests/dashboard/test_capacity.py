"""One machine serves a room: a page run's cost does not grow with the library, and the post-run full
garbage collection is off with long-lived objects frozen.

(Speed itself is measured in bench/; these tests check the mechanisms.)
"""

from __future__ import annotations

import gc
import os
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.context import KB

from .conftest import REPO, S2, S2_FILE
from .test_player_page import open_player


@pytest.fixture
def big_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Forty copies of S2 under their own ids: a library whose size a rerun must not pay for."""
    folder = tmp_path / "cases"
    folder.mkdir()
    text = S2_FILE.read_text()
    for i in range(40):
        (folder / f"case-{i:02}.yaml").write_text(text.replace(f"id: {S2}", f"id: {S2}-{i:02}", 1))
    shutil.copy(S2_FILE, folder / S2_FILE.name)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(folder))
    return folder


def count_case_file_stats(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str]:
    """Record every stat of a file inside ``folder`` (os.stat and Path.stat both end in os.stat)."""
    seen: list[str] = []
    real_stat = os.stat

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        text = os.fspath(path)  # type: ignore[arg-type]
        if isinstance(text, str) and text.startswith(str(folder) + os.sep):
            seen.append(text)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", stat)
    return seen


@pytest.mark.parametrize("page", ["library", "player"])
def test_a_rerun_touches_no_case_file(
    app: Callable[[], AppTest], big_folder: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    if page == "player":
        at = open_player(app)
    else:
        at = app()
        at.run()
    assert not at.exception, at.exception
    at.run()  # opening a case may add the folder's .history/ (the folder changes once: one rescan)
    stats = count_case_file_stats(monkeypatch, big_folder)
    at.run()  # a rerun, as after any click
    at.run()
    assert not at.exception, at.exception
    assert stats == [], f"{len(stats)} case files stat'ed by two reruns"


def test_the_library_watch_reloads_on_a_new_file_at_once_and_on_an_edit_within_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logic.library import LibraryWatch

    shutil.copy(S2_FILE, tmp_path / "a.yaml")
    now = [1000.0]
    watch = LibraryWatch(tmp_path, KB, recheck_s=10.0, clock=lambda: now[0])
    first = watch.library()
    assert list(first.cases) == [S2]
    assert watch.library() is first

    stats = count_case_file_stats(monkeypatch, tmp_path)
    now[0] += 5
    assert watch.library() is first
    assert stats == [], "within the bound, only the folder is looked at"

    # an edit in place (the folder's time does not change): seen once the bound has passed
    text = (tmp_path / "a.yaml").read_text().replace('title: "Myositis', 'title: "Edited myositis', 1)
    folder_times = os.stat(tmp_path)
    (tmp_path / "a.yaml").write_text(text)
    os.utime(tmp_path, ns=(folder_times.st_atime_ns, folder_times.st_mtime_ns))
    assert watch.library() is first
    now[0] += 6
    edited = watch.library()
    assert edited.cases[S2].case.title.startswith("Edited")

    # a new file changes the folder: seen on the very next call
    (tmp_path / "b.yaml").write_text(text.replace(f"id: {S2}", "id: another", 1))
    assert set(watch.library().cases) == {S2, "another"}

    # nothing changed: the same library object, however often asked
    now[0] += 60
    assert watch.library() is watch.library()


def test_streamlit_runs_no_full_collection_after_each_script_run() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_loaded_library_and_knowledge_base_are_frozen(
    app: Callable[[], AppTest], big_folder: Path
) -> None:
    """gc.freeze() after loading: the long-lived objects leave the collector's generations."""
    gc.unfreeze()
    at = app()
    at.run()
    assert not at.exception, at.exception
    assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
