"""Case loading: every error names file, line and column; one bad file never stops the others."""

import shutil
from pathlib import Path

import pytest

from logic import load_case, load_library
from logic.yamlsource import MAX_BYTES
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(GOOD, tmp_path / "good.yaml")
    return tmp_path


def errors_for(path: Path) -> list[str]:
    loaded, errors = load_case(path, KB)
    assert loaded is None
    return [str(e) for e in errors]


def mutate(folder: Path, old: str, new: str, name: str = "bad.yaml") -> Path:
    text = GOOD.read_text()
    assert old in text, old
    path = folder / name
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_unknown_agent_names_file_line_column_path_and_suggestion(folder: Path) -> None:
    path = mutate(folder, "options: [ivig, rituximab,", "options: [ivig, ritux,")
    [error] = errors_for(path)
    line = line_of(path, "options: [ivig, ritux,")
    column = path.read_text().splitlines()[line - 1].index("ritux") + 1
    assert error == (
        f"{path}:{line}:{column}: stages[0].questions[0].options[1]: unknown agent 'ritux' (did you mean 'rituximab'?)"
    )


def test_unknown_action_and_monitoring_item(folder: Path) -> None:
    path = mutate(
        folder, "options: [check_iga, ivig_premedication,", "options: [check_igg, ivig_premedication,"
    )
    [error] = errors_for(path)
    assert (
        "stages[0].questions[1].options[0]: unknown action 'check_igg' (did you mean 'check_iga'?)" in error
    )
    path = mutate(folder, "options: [headache, thrombosis,", "options: [headache, thrombosys,")
    [error] = errors_for(path)
    assert "unknown monitoring item 'thrombosys' (did you mean 'thrombosis'?)" in error


def test_misspelt_field_and_missing_field(folder: Path) -> None:
    path = mutate(folder, "  weight_kg: 68", "  weigth_kg: 68")
    messages = errors_for(path)
    line = line_of(path, "weigth_kg")
    assert any(m.startswith(f"{path}:{line}:") and "patient.weigth_kg: unknown field" in m for m in messages)
    assert any("patient.weight_kg: required field is missing" in m for m in messages)


def test_unknown_question_kind_points_at_kind(folder: Path) -> None:
    path = mutate(folder, "kind: monitoring", "kind: monitorin")
    [error] = errors_for(path)
    assert error.startswith(f"{path}:{line_of(path, 'kind: monitorin')}:")
    assert "stages[1].questions[0].kind: unknown question kind 'monitorin'" in error


def test_invalid_value_points_at_the_value(folder: Path) -> None:
    path = mutate(folder, "  weight_kg: 68", "  weight_kg: -3")
    [error] = errors_for(path)
    assert error.startswith(f"{path}:{line_of(path, 'weight_kg: -3')}:14: patient.weight_kg:")


def test_story_that_breaks_the_patient_is_located(folder: Path) -> None:
    path = mutate(folder, "      fail: [ivig]", "      fail: [ivig]\n      start: [{agent: ivig}]")
    [error] = errors_for(path)
    assert "stages[2].changes: the patient becomes invalid" in error


def test_duplicate_question_ids_point_at_both_lines(folder: Path) -> None:
    path = mutate(folder, "id: before-ivig", "id: next-agent")
    [error] = errors_for(path)
    first = line_of(path, "id: next-agent")
    second = next(
        i for i, line in enumerate(path.read_text().splitlines(), 1) if "id: next-agent" in line and i > first
    )
    assert error == (
        f"{path}:{second}:13: stages[0].questions[1].id: question id 'next-agent' is used twice "
        f"(first at line {first}, stages[0].questions[0].id)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"   \n\n", "file is empty"),
        (b"# only a comment\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "file is binary"),
        (b"\xff\xfe\xfa broken", "not UTF-8"),
        (b"id: [unclosed\n", "invalid YAML"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", "anchors and aliases"),
    ],
)
def test_malformed_files_give_a_clear_error_and_the_rest_still_load(
    folder: Path, content: bytes, message: str
) -> None:
    bad = folder / "bad.yaml"
    bad.write_bytes(content)
    library = load_library([folder], KB)
    assert "myositis-after-failed-immunosuppression" in library.cases
    [error] = library.errors
    assert error.path == bad
    assert message in str(error)
    assert str(error).startswith(f"{bad}:")


def test_alias_bomb_is_refused_quickly(folder: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (folder / "bomb.yaml").write_text("\n".join(lines) + "\n")
    library = load_library([folder], KB)
    assert len(library.cases) == 1
    assert "anchors and aliases" in str(library.errors[0])


def test_huge_file_is_refused_without_parsing(folder: Path) -> None:
    huge = folder / "huge.yaml"
    huge.write_text("narrative: |\n" + ("  x" * 40 + "\n") * (MAX_BYTES // 40))
    [error] = load_library([folder], KB).errors
    assert "at most 256 KiB" in str(error)


def test_duplicate_case_id_names_both_files_and_serves_neither(folder: Path) -> None:
    """File-name order must not decide which of two files is the real case."""
    shutil.copy(GOOD, folder / "zz-copy.yaml")
    (folder / "sub").mkdir()
    shutil.copy(GOOD, folder / "sub" / "third.yaml")
    library = load_library([folder, folder / "sub"], KB)
    assert "myositis-after-failed-immunosuppression" not in library.cases
    assert len(library.cases) == 0
    by_file = {e.path.name: e for e in library.errors}
    assert set(by_file) == {"good.yaml", "zz-copy.yaml", "third.yaml"}
    id_line = next(i for i, x in enumerate(GOOD.read_text().splitlines(), 1) if x.startswith("id: "))
    for error in library.errors:
        assert (error.line, error.column, error.where) == (id_line, 5, "id")
        assert "case id 'myositis-after-failed-immunosuppression' is also used by" in error.message
        assert "none of these files is served until each has its own id" in error.message
    assert (
        f"zz-copy.yaml:{id_line}" in by_file["good.yaml"].message
        and f"sub/third.yaml:{id_line}" in by_file["good.yaml"].message
    )
    assert f"good.yaml:{id_line}" in by_file["zz-copy.yaml"].message
    assert f"../good.yaml:{id_line}" in by_file["third.yaml"].message
    assert str(folder) not in by_file["good.yaml"].message, "other files are named relative to this one"
    # renaming one resolves it
    (folder / "zz-copy.yaml").unlink()
    (folder / "sub" / "third.yaml").unlink()
    assert "myositis-after-failed-immunosuppression" in load_library([folder], KB).cases


def test_markdown_asterisks_and_ampersands_are_not_mistaken_for_aliases(folder: Path) -> None:
    text = GOOD.read_text().replace("has barely changed", "has *barely* changed & her rash is **better**", 1)
    (folder / "good.yaml").write_text(text)
    library = load_library([folder], KB)
    assert not library.errors


def test_an_option_offered_twice_in_one_stage_is_linted(folder: Path) -> None:
    from logic import lint_case

    path = mutate(
        folder,
        "options: [abatacept, prednisone, ivig, methotrexate]",
        "options: [abatacept, prednisone, rituximab, methotrexate]",
    )
    loaded, errors = load_case(path, KB)
    assert loaded is not None, errors
    [finding] = [str(e) for e in lint_case(loaded, KB) if "offered" in e.message]
    line = line_of(path, "options: [abatacept, prednisone, rituximab")
    assert finding.startswith(f"{path}:{line}:")
    assert finding.endswith(
        "lint: stages[1].questions[2].options[2]: 'rituximab' is already offered by question 'ivig-month-one' "
        "of this stage: an option appears once per stage"
    )
