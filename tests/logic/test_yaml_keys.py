"""Keys a person did not mean: duplicates (both lines named), keys that are not text, control characters.

YAML's "last one wins" silently drops what an author wrote first; a key YAML reads as a number, a
boolean or null cannot be a field name. Each is an error at the real line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logic import load_case
from logic.yamlsource import YamlSourceError, parse_yaml
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


def refused(text: str) -> YamlSourceError:
    with pytest.raises(YamlSourceError) as info:
        parse_yaml(Path("x.yaml"), text)
    return info.value


# (document, key, line of the second occurrence, line of the first)
DUPLICATES = [
    ("a: 1\nb: 2\na: 3\n", "a", 3, 1),
    ('a: 1\n"a": 2\n', "a", 2, 1),
    ("a: 1\n'a': 2\n", "a", 2, 1),
    ('title: 1\n"ti\\x74le": 2\n', "title", 2, 1),
    ('a: 1\n"\\u0061": 2\n', "a", 2, 1),
    ("a: 1\n? a\n: 2\n", "a", 2, 1),
    ("x: {a: 1, a: 2}\n", "a", 1, 1),
    ("x: {a: 1,\n  b: 2,\n  a: 3}\n", "a", 3, 1),
    ("p:\n  age: 1\n  age: 2\n", "age", 3, 2),
    ("s:\n  - q:\n      - id: a\n        kind: b\n        id: c\n", "id", 5, 3),
    ("- a: 1\n  a: 2\n", "a", 2, 1),
    ("a: [1]\na: {b: 2}\n", "a", 2, 1),
    ("a: |\n  text\na: >\n  more\n", "a", 3, 1),
    ("a   : 1\na: 2\n", "a", 2, 1),
    ("long key: 1\nlong key: 2\n", "long key", 2, 1),
    ('"a b": 1\na b: 2\n', "a b", 2, 1),
    ("a: 1\n" + "".join(f"k{i}: {i}\n" for i in range(48)) + "a: 2\n", "a", 50, 1),
    ("a:\na:\n", "a", 2, 1),
    ("\"\": 1\n'': 2\n", "", 2, 1),
    ("- {a: 1, b: 2, a: 3}\n", "a", 1, 1),
    ("---\na: 1\na: 2\n", "a", 3, 2),
    ("a: 1\na: 2\na: 3\n", "a", 2, 1),
    ('é: 1\n"\\u00e9": 2\n', "é", 2, 1),
    ("x:\n  y:\n    z: 1\n    w: 2\n    z: 3\n", "z", 5, 3),
]


@pytest.mark.parametrize(("text", "key", "line", "first"), DUPLICATES)
def test_duplicate_keys_are_errors_naming_both_lines(text: str, key: str, line: int, first: int) -> None:
    error = refused(text)
    assert error.line == line, (error.line, str(error))
    assert (
        str(error) == f"duplicate key {key!r} (first at line {first}): YAML would silently keep only the last"
    )


@pytest.mark.parametrize(
    "text",
    ["[a: 1, a: 2]\n", "a: 1\nA: 2\n", "- a: 1\n- a: 2\n", "a: {b: 1}\nc: {b: 2}\n", "a: 'a'\nb: a\n"],
)
def test_the_same_key_in_different_mappings_is_not_a_duplicate(text: str) -> None:
    assert parse_yaml(Path("x.yaml"), text).data


def test_a_duplicate_in_a_case_file_names_file_and_both_lines() -> None:
    text = GOOD.read_text().replace(
        "  weight_kg: 68\n", "  weight_kg: 68\n  note: heavier\n  weight_kg: 86\n", 1
    )
    first = text.splitlines().index("  weight_kg: 68") + 1
    error = refused(text)
    assert (error.line, error.column) == (first + 2, 3)
    assert f"(first at line {first})" in str(error)


def test_a_duplicate_in_a_case_file_is_reported_by_load_case(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        GOOD.read_text().replace('title: "Still weak at five months"', 'title: "A"\n    title: "B"', 1)
    )
    loaded, [error] = load_case(path, KB)
    assert loaded is None
    line = next(i for i, x in enumerate(path.read_text().splitlines(), 1) if x == '    title: "B"')
    assert str(error) == (
        f"{path}:{line}:5: duplicate key 'title' (first at line {line - 1}): YAML would silently keep only the last"
    )


@pytest.mark.parametrize(
    ("key", "reads_as"),
    [
        ("1", "a number"),
        ("3.5", "a number"),
        ("0x1F", "a number"),
        ("yes", "true/false"),
        ("true", "true/false"),
        ("off", "true/false"),
        ("~", "empty (null)"),
        ("null", "empty (null)"),
        ("2020-01-01", "a date"),
    ],
)
def test_keys_that_are_not_text_are_errors_at_their_line(key: str, reads_as: str) -> None:
    error = refused(f"a: 1\nb:\n  c: 2\n  {key}: 3\n")
    assert (error.line, error.column) == (4, 3)
    assert str(error) == (
        f'key {key} is not text: YAML reads it as {reads_as}; put it in quotes ("{key}") or fix the field name'
    )


def test_a_number_key_next_to_the_same_text_key_is_reported_at_the_number() -> None:
    error = refused('"1": a\n1: b\n')
    assert error.line == 2
    assert "key 1 is not text" in str(error)


def test_a_non_text_key_in_a_case_file_points_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "key.yaml"
    path.write_text(GOOD.read_text().replace("  severity: moderate\n", "  severity: moderate\n  yes: 1\n", 1))
    loaded, [error] = load_case(path, KB)
    assert loaded is None
    line = path.read_text().splitlines().index("  yes: 1") + 1
    assert str(error).startswith(f"{path}:{line}:3: key yes is not text")


def test_merge_keys_are_refused() -> None:
    error = refused("a: 1\n<<: {b: 2}\n")
    assert error.line == 2
    assert "merge keys (<<) are not allowed" in str(error)


@pytest.mark.parametrize(
    ("char", "name"), [("\x07", "U+0007"), ("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x9b", "U+009B")]
)
def test_control_characters_are_located(tmp_path: Path, char: str, name: str) -> None:
    text = GOOD.read_text().replace("has barely changed", f"has {char}barely changed", 1)
    path = tmp_path / "ctrl.yaml"
    path.write_text(text)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if char in x)
    column = text.splitlines()[line - 1].index(char) + 1
    loaded, [error] = load_case(path, KB)
    assert loaded is None
    assert str(error) == (
        f"{path}:{line}:{column}: control character {name} is not allowed in a case file (delete it or retype the text)"
    )
