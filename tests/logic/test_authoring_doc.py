"""AUTHORING.md stays true: every YAML example in it loads (a whole case with no error and no lint; a part
of a case valid against the schema), and it documents every field of the schema."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from logic.authoring import check_text
from logic.schema import MODELINE_PREFIX, case_schema
from logic.yamlsource import parse_yaml
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "AUTHORING.md").read_text()
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", DOC, re.MULTILINE | re.DOTALL)


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def test_the_guide_has_its_examples_and_is_linked_from_the_readme() -> None:
    assert len(BLOCKS) >= 6
    assert sum(block.startswith(MODELINE_PREFIX) for block in BLOCKS) >= 1
    assert "(AUTHORING.md)" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_yaml_example_loads(block: str) -> None:
    source = parse_yaml(Path("AUTHORING.md"), block)  # the loader's own guards (tabs, aliases, keys)
    if block.startswith(MODELINE_PREFIX):  # a whole case: loads, and lint finds nothing
        checked = check_text(block, Path("example.yaml"), KB)
        assert checked.ok and checked.lint == [], [str(p) for p in checked.problems]
        return
    partial = _without_required(copy.deepcopy(case_schema(KB)))  # part of a case: right names and values
    problems = [e.message for e in jsonschema.Draft202012Validator(partial).iter_errors(source.data)]
    assert problems == []


def test_every_field_of_the_schema_is_documented() -> None:
    schema = case_schema(KB)
    objects = {"Case": schema, **{k: v for k, v in schema["$defs"].items() if "properties" in v}}
    undocumented = [
        f"{model}.{name}"
        for model, definition in objects.items()
        for name in definition["properties"]
        if f"`{name}`" not in DOC
    ]
    assert undocumented == []
    for kind in ("next_step", "prerequisites", "monitoring", "dose", "ordering", "reflection"):
        assert f"`kind: {kind}`" in DOC
