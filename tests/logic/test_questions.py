"""The registry of question kinds is the one list: the case union, the JSON schema, the loader's tag names,
the categories and the README's table are derived from it, and no module branches on a kind's class."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from logic import library
from logic.cases import Stage
from logic.questions import (
    CATEGORY,
    KIND_LABELS,
    KIND_MODELS,
    KIND_NAMES,
    KINDS,
    ChoiceQuestion,
    QuestionBase,
    kinds_table,
)
from logic.schema import case_schema
from tests.context import CONTEXT, KB

REPO = Path(__file__).resolve().parents[2]
KIND_CLASS = re.compile(
    r"isinstance\([^)]*(NextStep|Prerequisites|Monitoring|Dose|Reflection|Ordering)Question"
)


def test_every_kind_is_one_module_of_the_package() -> None:
    modules = {p.stem for p in (REPO / "logic" / "questions").glob("*.py")} - {
        "__init__",
        "base",
        "selection",
    }
    assert modules == set(KINDS)
    for name, model in KINDS.items():
        assert model.__module__ == f"logic.questions.{name}"
        assert model.kind_name() == name
        for method in ("answer_key", "mark", "best_answer"):
            assert getattr(model, method) is not getattr(QuestionBase, method), f"{name} lacks {method}"


def test_the_case_union_is_the_registry() -> None:
    annotated, _ellipsis = get_args(Stage.model_fields["questions"].annotation)  # tuple[Question, ...]
    members, _field = get_args(annotated)
    assert tuple(get_args(members)) == KIND_MODELS


def test_the_json_schema_lists_the_registry_kinds() -> None:
    schema = case_schema(KB)
    mapping = schema["$defs"]["Stage"]["properties"]["questions"]["items"]["discriminator"]["mapping"]  # type: ignore[index]
    assert set(mapping) == set(KIND_NAMES)


def test_labels_and_categories_come_from_the_kinds() -> None:
    assert set(CATEGORY) == set(KIND_LABELS) == set(KINDS)
    assert CATEGORY["ordering"] == "escalation" and KIND_LABELS["ordering"] == "Put in order"


def test_the_readme_table_of_kinds_is_the_registry() -> None:
    readme = (REPO / "README.md").read_text()
    assert kinds_table() in readme, "paste the output of `python -m logic kinds` into the README"


def test_the_loader_drops_every_registry_tag_from_error_paths(tmp_path: Path) -> None:
    from logic.yamlsource import parse_yaml

    source = parse_yaml(tmp_path / "x.yaml", "stages:\n  - questions:\n      - kind: ordering\n")
    for kind in KIND_NAMES:
        loc = library._readable_loc(["stages", 0, "questions", 0, kind, "options"], source)
        assert loc == ["stages", 0, "questions", 0, "options"], kind


def test_certainty_is_a_field_of_choice_questions_only() -> None:
    choice = {name for name, model in KINDS.items() if issubclass(model, ChoiceQuestion)}
    assert choice == {"next_step", "prerequisites", "monitoring", "ordering"}
    for name, model in KINDS.items():
        assert ("certainty" in model.model_fields) == (name in choice)


def test_no_module_branches_on_a_kind_class() -> None:
    branches = []
    for package in ("logic", "dashboard"):
        for path in (REPO / package).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if KIND_CLASS.search(line):
                    branches.append(f"{path.relative_to(REPO)}:{n}")
    assert branches == []


@pytest.mark.parametrize("kind", ["dose", "reflection"])
def test_certainty_on_a_kind_without_choices_is_refused(kind: str) -> None:
    from pydantic import ValidationError

    data = {"id": "q", "kind": kind, "prompt": "?", "certainty": True}
    if kind == "dose":
        data["agent"] = "ivig"
    with pytest.raises(ValidationError, match="certainty"):
        KINDS[kind].model_validate(data, context=CONTEXT)
