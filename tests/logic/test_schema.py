"""The case JSON Schema an editor uses: committed in sync, every real case valid against it (so the editor
never underlines a valid case), every field documented with an example that is itself valid, the
knowledge base's ids as enums, and every case file pointing at it in its first line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from logic import KnowledgeBase
from logic.authoring import scaffold
from logic.casefiles import with_modeline
from logic.schema import MODELINE_PREFIX, case_schema, modeline

REPO = Path(__file__).resolve().parents[2]
CASES = sorted((REPO / "cases").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema(kb: KnowledgeBase) -> dict[str, Any]:
    return case_schema(kb)


def validator(schema: dict[str, Any], ref: str = "#") -> jsonschema.Draft202012Validator:
    # A sub-schema is checked through a root holding only $defs and the case's properties (no "type").
    root = (
        {"$defs": schema["$defs"], "properties": schema["properties"], "$ref": ref} if ref != "#" else schema
    )
    return jsonschema.Draft202012Validator(root)


def test_committed_schema_is_generated_from_the_models_and_the_knowledge_base(schema: dict[str, Any]) -> None:
    committed = json.loads((REPO / "cases" / "case.schema.json").read_text())
    assert committed == schema, "run: python -m logic schema"
    jsonschema.Draft202012Validator.check_schema(committed)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_every_case_validates_against_the_schema(path: Path, schema: dict[str, Any]) -> None:
    data = yaml.safe_load(path.read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(schema).iter_errors(data)
    ]
    assert errors == []


@pytest.mark.parametrize("population", ["adult", "juvenile"])
def test_the_scaffolds_validate_against_the_schema(population: str, schema: dict[str, Any]) -> None:
    data = yaml.safe_load(scaffold("new-case", population))  # type: ignore[arg-type]
    assert list(validator(schema).iter_errors(data)) == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_every_case_file_starts_with_the_schema_modeline(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first == modeline("case.schema.json") == f"{MODELINE_PREFIX}case.schema.json"
    assert (path.parent / "case.schema.json").exists()


def test_a_draft_points_at_the_schema_one_folder_up() -> None:
    assert with_modeline("id: x\n", draft=True).splitlines()[0] == f"{MODELINE_PREFIX}../case.schema.json"
    assert with_modeline(with_modeline("id: x\n")) == with_modeline("id: x\n")  # never twice


def _objects(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"Case": schema, **{k: v for k, v in schema["$defs"].items() if "properties" in v}}


def test_every_field_has_a_title_a_description_and_valid_examples(schema: dict[str, Any]) -> None:
    missing = []
    for model, definition in _objects(schema).items():
        for name, prop in definition["properties"].items():
            if not (prop.get("title") and prop.get("description") and prop.get("examples")):
                missing.append(f"{model}.{name}")
                continue
            ref = "#/properties" if model == "Case" else f"#/$defs/{model}/properties"
            check = validator(schema, f"{ref}/{name}")
            for example in prop["examples"]:
                problems = [e.message for e in check.iter_errors(example)]
                assert problems == [], f"{model}.{name} example {example!r}: {problems}"
    assert missing == [], "document these in logic/schema.py FIELD_DOCS"


def test_ids_are_enums_of_the_knowledge_base(schema: dict[str, Any], kb: KnowledgeBase) -> None:
    defs = schema["$defs"]
    assert set(defs["AgentId"]["enum"]) == set(kb.agents)
    assert set(defs["ActionId"]["enum"]) == set(kb.actions)
    assert set(defs["OptionId"]["enum"]) == set(kb.agents) | set(kb.actions)
    assert set(defs["MonitoringId"]["enum"]) == set(kb.monitoring)
    assert set(defs["SourceId"]["enum"]) == set(kb.sources)
    assert set(defs["ClaimId"]["enum"]) == {c.id for c in kb.claims}
    assert "rituximab-adult-maintenance" in defs["RegimenId"]["enum"]
    for name in ("AgentId", "ClaimId"):
        assert len(defs[name]["enumDescriptions"]) == len(defs[name]["enum"])
    # The editor underlines a misspelt id, as the loader refuses it.
    data = yaml.safe_load(CASES[0].read_text())
    data["stages"][0]["questions"][0]["options"][0] = "ritux"
    assert any("ritux" in e.message for e in validator(schema).iter_errors(data))
