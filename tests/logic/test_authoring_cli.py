"""Authoring from the command line: new-case writes a commented scaffold (or a copy) that validates and
lints clean, refusing a bad id or an existing file; every bad input gives ONE message at its line and
the other cases in the folder still load; an invalid case is never written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from logic import load_case
from logic.authoring import check_text, copy_case, scaffold
from tests.bad_inputs import BAD_INPUTS, BadInput, params
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logic", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("population", ["adult", "juvenile"])
def test_new_case_writes_a_scaffold_that_validates_and_lints_clean(tmp_path: Path, population: str) -> None:
    result = run("new-case", "dm-calcinosis", "--population", population, "--folder", str(tmp_path))
    assert result.returncode == 0, result.stderr
    path = tmp_path / "dm-calcinosis.yaml"
    text = path.read_text()
    assert text == scaffold("dm-calcinosis", population)  # type: ignore[arg-type]
    assert text.startswith("# yaml-language-server: $schema=case.schema.json\n")
    assert text.count("#") > 15  # commented: what each field is
    checked = run("validate", str(path))
    assert checked.returncode == 0 and checked.stdout == "", checked.stdout
    loaded, _ = load_case(path, KB)
    assert loaded is not None and loaded.case.population == population and len(loaded.case.stages) == 2


def test_new_case_copies_a_case_under_a_new_id(tmp_path: Path) -> None:
    source = REPO / "cases" / "new-dermatomyositis.yaml"
    result = run("new-case", "my-copy", "--from", str(source), "--folder", str(tmp_path))
    assert result.returncode == 0, result.stderr
    copy = (tmp_path / "my-copy.yaml").read_text()
    assert copy == copy_case(source.read_text(), "my-copy")
    assert "\nid: my-copy\n" in copy and copy.count("\nid: ") == 1
    assert run("validate", str(tmp_path / "my-copy.yaml")).returncode == 0


@pytest.mark.parametrize("bad_id", ["My Case", "../escape", "a/b", "_lead", "", "x" * 101])
def test_new_case_refuses_an_id_that_cannot_name_a_file(tmp_path: Path, bad_id: str) -> None:
    result = run("new-case", bad_id, "--folder", str(tmp_path))
    assert result.returncode == 1 and "case id" in result.stderr
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "escape.yaml").exists()


def test_new_case_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken.yaml").write_text("mine\n")
    result = run("new-case", "taken", "--folder", str(tmp_path))
    assert result.returncode == 1 and "already exists" in result.stderr
    assert (tmp_path / "taken.yaml").read_text() == "mine\n"


@pytest.mark.parametrize("bad", params(BAD_INPUTS))
def test_each_bad_input_gives_one_message_at_its_line_and_the_others_still_load(
    tmp_path: Path, bad: BadInput
) -> None:
    (tmp_path / bad.file_name).write_bytes(bad.content)
    (tmp_path / "good-case.yaml").write_text(scaffold("good-case", "adult"))
    result = run("validate", str(tmp_path))
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"{tmp_path / bad.file_name}:{bad.line}:"), lines[0]
    assert bad.says in lines[0]
    assert "2 file(s) checked, 1 case(s) loaded, 1 problem(s)" in result.stderr
    assert result.returncode == 1


@pytest.mark.parametrize("bad", params([b for b in BAD_INPUTS if b.text is not None]))
def test_the_author_page_check_gives_the_same_one_message(bad: BadInput) -> None:
    assert bad.text is not None
    checked = check_text(bad.text, Path(bad.file_name), KB)
    if bad.name == "file-name-not-an-id":
        return  # a text has no file name: the page names the file from the id (see the upload test)
    assert not checked.ok and len(checked.problems) == 1, [str(p) for p in checked.problems]
    assert checked.problems[0].line == bad.line and bad.says in str(checked.problems[0])


def test_a_case_id_used_by_two_files_is_reported_naming_the_other_file(tmp_path: Path) -> None:
    (tmp_path / "first.yaml").write_text(scaffold("same-id", "adult"))
    (tmp_path / "second.yaml").write_text(scaffold("same-id", "juvenile"))
    (tmp_path / "good-case.yaml").write_text(scaffold("good-case", "adult"))
    result = run("validate", str(tmp_path))
    lines = result.stdout.splitlines()
    assert 1 <= len(lines) <= 2 and len({line.split(":")[0] for line in lines}) == len(lines)  # one per file
    for line in lines:
        assert ":5:" in line and "'same-id'" in line and ("first.yaml" in line or "second.yaml" in line)
    assert "1 case(s) loaded" in result.stderr or "2 case(s) loaded" in result.stderr
