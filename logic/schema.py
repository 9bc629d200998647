"""The JSON Schema of a case file, for editors: generated from the case models, with a title, a
description and examples for every field, and the ids of a knowledge base as enums.

``python -m logic schema`` writes it to ``cases/case.schema.json``; every case file names it in its
first line (``# yaml-language-server: $schema=case.schema.json``) so that VS Code and other editors
using the YAML language server complete field names and ids and underline mistakes while the author
types. A test keeps the committed file equal to ``case_schema(kb)``, another checks that every case
validates against it (the editor never underlines a valid case), and one that every field is documented.

The documentation lives here, once, in ``FIELD_DOCS``; the models keep the rules. The ids come from the
knowledge base: the models mark their id types (``logic.ids.KbIds``) and ``case_schema`` puts the ids,
with their names as descriptions, in ``$defs`` (``AgentId``, ``ActionId``, ``OptionId``,
``MonitoringId``, ``SourceId``, ``ClaimId``, ``RegimenId``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .cases import Case
from .knowledge import KnowledgeBase

SCHEMA_FILE = "case.schema.json"
MODELINE_PREFIX = "# yaml-language-server: $schema="

# (title, description, examples) of every field, by model; QUESTION applies to every question kind
# (a kind's own entry overrides it).
Doc = tuple[str, str, list[Any]]

QUESTION: dict[str, Doc] = {
    "id": (
        "Question id",
        "Unique within the case: lower-case letters, digits, '-' or '_'. Answer files and the store key "
        "answers by it, so keep it once learners have played the case.",
        ["start-treatment", "ivig-dose"],
    ),
    "kind": (
        "Question kind",
        "What the learner does and how the logic keys it: next_step, prerequisites, monitoring, dose, "
        "ordering or reflection.",
        ["next_step"],
    ),
    "prompt": (
        "Prompt",
        "The question as the learner reads it (Markdown; raw HTML is never rendered).",
        ["Which treatment do you start? Select all that apply."],
    ),
    "points": (
        "Points",
        "Weight of the question in the stage and total score (default 1, at most 10).",
        [1, 2],
    ),
    "claims": (
        "Claims taught",
        "Ids from the claim register (logic/data/claims.yaml) that this question teaches. Each must "
        "exist; the feedback shows each claim with its source and strength after the stage is submitted.",
        [["prednisone-dose-first-line"]],
    ),
    "options": (
        "Options",
        "What the learner chooses among, in the order shown. Each option once per stage; the logic grades "
        "every one of them.",
        [["prednisone", "methotrexate", "rituximab"]],
    ),
    "certainty": (
        "Ask for certainty",
        "Also ask how sure the learner is (1 guessing to 4 certain); the end of the case flags confident "
        "and unsafe answers.",
        [True],
    ),
    "expect": (
        "What the author expects",
        "What you believe the right answer is. Never the key: lint (python -m logic validate) reports every "
        "place where it and the logic disagree.",
        [["prednisone", "methotrexate"]],
    ),
}

FIELD_DOCS: dict[str, dict[str, Doc]] = {
    "Case": {
        "id": (
            "Case id",
            "Lower-case letters, digits, '-' or '_'; also the file name (<id>.yaml) and the link ?case=<id>.",
            ["new-dermatomyositis"],
        ),
        "title": ("Title", "The case's name in the library and the player.", ["New dermatomyositis"]),
        "summary": (
            "Summary",
            "One or two sentences on the library card: who the patient is and what the learner decides.",
            ["A 54-year-old woman with a heliotrope rash and proximal weakness. How do you start treatment?"],
        ),
        "population": (
            "Population",
            "adult or juvenile: which pathway, rules and doses apply. Must match the patient (under 18 with "
            "dermatomyositis is juvenile).",
            ["adult"],
        ),
        "difficulty": ("Difficulty", "introductory, intermediate or advanced.", ["introductory"]),
        "tags": ("Tags", "Free words the library filters by.", [["first-line", "dosing"]]),
        "objectives": (
            "Learning objectives",
            "What the learner should be able to do after the case, one sentence each.",
            [["Start high-dose prednisone with a steroid-sparing agent."]],
        ),
        "author": ("Author", "Who wrote the case (shown on the card).", ["myotutor faculty"]),
        "references": (
            "References",
            "Source ids (logic/data/sources.yaml) the case draws on; shown by their plain labels.",
            [["answer_treating_dm", "content_notes"]],
        ),
        "patient": (
            "Patient",
            "The patient at the start of the case; each stage's changes apply to it in turn.",
            [{"age": 54, "sex": "female", "weight_kg": 70, "diagnosis": "dermatomyositis"}],
        ),
        "stages": (
            "Stages",
            "The case in order, like the cells of a notebook; a case needs at least two.",
            [[{"title": "A new diagnosis", "narrative": "Mrs D., 54, ..."}]],
        ),
    },
    "Patient": {
        "age": ("Age (years)", "0 to 120; under 18 with dermatomyositis means JDM.", [54, 9]),
        "sex": ("Sex", "Optional; with height, needed for doses on ideal body weight.", ["female"]),
        "weight_kg": (
            "Weight (kg)",
            "Actual body weight; doses per kg use it. Must be plausible for the age (WHO growth references "
            "for children, 20-500 kg for adults: logic/data/growth_limits.yaml).",
            [70],
        ),
        "height_cm": (
            "Height (cm)",
            "Optional; needed for mg/m² doses and ideal body weight. Must be plausible for the age "
            "(logic/data/growth_limits.yaml).",
            [165],
        ),
        "diagnosis": (
            "Diagnosis",
            "dermatomyositis, juvenile_dermatomyositis (under 18 only), polymyositis or necrotizing_myopathy.",
            ["dermatomyositis"],
        ),
        "manifestations": (
            "Manifestations",
            "What the disease involves now (skin, muscle, ild, rapidly_progressive_ild, calcinosis, dysphagia, "
            "skin_ulceration, major_organ).",
            [["skin", "muscle"]],
        ),
        "severity": ("Severity", "mild, moderate (default) or severe.", ["moderate"]),
        "current": (
            "Current treatment",
            "Agents the patient is on, each with the months on it.",
            [[{"agent": "ivig", "months": 6}]],
        ),
        "failed": (
            "Failed agents",
            "Agents tried and stopped for inadequate response or intolerance.",
            [["methotrexate"]],
        ),
        "labs": (
            "Screening results",
            "IgA level and TB and hepatitis screens; unknown until tested.",
            [{"iga": "normal", "tb": "negative", "hepatitis": "unknown"}],
        ),
        "infections": (
            "Active infection",
            "An active infection makes starting immunosuppression unsafe.",
            [False],
        ),
        "cytopenias": ("Cytopenias", "Cytopenias make starting immunosuppression unsafe.", [False]),
    },
    "CurrentAgent": {
        "agent": ("Agent", "An agent id from the formulary.", ["prednisone"]),
        "months": ("Months on it", "How long the patient has taken it (0 to 600).", [3]),
    },
    "Labs": {
        "iga": ("IgA", "unknown, normal or deficient (checked before IVIG).", ["unknown"]),
        "tb": ("TB screen", "unknown, negative or positive.", ["negative"]),
        "hepatitis": ("Hepatitis screen", "unknown, negative or positive.", ["negative"]),
    },
    "Stage": {
        "title": ("Stage title", "Shown as 'Stage k of n: <title>'.", ["A new diagnosis"]),
        "narrative": (
            "Narrative",
            "What happens, as the learner reads it (Markdown; raw HTML is never rendered).",
            ["Three months later her CK has not fallen and she still cannot climb stairs."],
        ),
        "changes": (
            "Changes to the patient",
            "What happens to the patient before this stage's questions; the questions are keyed on the "
            "patient after these changes.",
            [{"months_pass": 3, "fail": ["methotrexate"]}],
        ),
        "data": (
            "Data",
            "Labs to show as a table and series (such as CK over months) to plot.",
            [{"labs": [{"test": "CK", "value": 4800, "unit": "U/L", "flag": "high"}]}],
        ),
        "questions": (
            "Questions",
            "The stage's questions, answered in one form and submitted together.",
            [[{"id": "next", "kind": "next_step", "prompt": "What next?", "options": ["ivig", "rituximab"]}]],
        ),
    },
    "PatientChange": {
        "months_pass": (
            "Months pass",
            "Time since the previous stage (0 to 120); current agents age by it.",
            [3],
        ),
        "fail": (
            "Agents that failed",
            "Stopped and recorded as failed (inadequate response or intolerance).",
            [["methotrexate"]],
        ),
        "stop": ("Agents stopped", "Stopped without counting as a failure.", [["prednisone"]]),
        "start": ("Agents started", "Started now (months on them from 0).", [[{"agent": "ivig"}]]),
        "add_manifestations": ("New manifestations", "Manifestations that appear.", [["ild"]]),
        "remove_manifestations": ("Resolved manifestations", "Manifestations that resolve.", [["skin"]]),
        "severity": ("New severity", "mild, moderate or severe from now on.", ["severe"]),
        "labs": ("New screening results", "Results now known.", [{"iga": "normal"}]),
        "infections": ("Active infection", "true when an infection appears, false when it resolves.", [True]),
        "cytopenias": ("Cytopenias", "true when cytopenias appear, false when they resolve.", [False]),
        "weight_kg": ("New weight (kg)", "The patient's weight from now on.", [68]),
        "height_cm": ("New height (cm)", "The patient's height from now on.", [140]),
        "age": ("New age (years)", "The patient's age from now on.", [10]),
    },
    "LabChange": {
        "iga": ("IgA", "unknown, normal or deficient.", ["normal"]),
        "tb": ("TB screen", "unknown, negative or positive.", ["negative"]),
        "hepatitis": ("Hepatitis screen", "unknown, negative or positive.", ["negative"]),
    },
    "StageData": {
        "labs": (
            "Lab table",
            "Rows of the stage's lab table.",
            [[{"test": "CK", "value": 4800, "unit": "U/L", "reference": "< 200", "flag": "high"}]],
        ),
        "series": (
            "Trends",
            "Series to plot over time, e.g. CK over months.",
            [[{"name": "CK", "unit": "U/L", "points": [[0, 4800], [3, 2100]]}]],
        ),
    },
    "LabRow": {
        "test": ("Test", "The test's name as shown.", ["CK"]),
        "value": ("Value", "A number or a short text.", [4800, "positive"]),
        "unit": ("Unit", "Optional unit.", ["U/L"]),
        "reference": ("Reference range", "Optional, as text.", ["< 200"]),
        "flag": ("Flag", "high, low or abnormal (optional).", ["high"]),
    },
    "Series": {
        "name": ("Series name", "What is plotted, e.g. CK.", ["CK"]),
        "unit": ("Unit", "Optional unit of the values.", ["U/L"]),
        "x_label": ("X axis", "The label of the time axis (default 'month').", ["month"]),
        "points": ("Points", "[time, value] pairs, at least one.", [[[0, 4800], [3, 2100]]]),
    },
    "NextStepQuestion": {
        "options": (
            "Options",
            "Agent and action ids to choose among, in the order shown (at least two). recommend() grades "
            "each for the patient at this stage.",
            [["ivig", "rituximab", "upadacitinib"]],
        ),
        "multiple": (
            "Several answers",
            "true: the learner picks every option that applies; each pick adds or costs credit.",
            [True],
        ),
        "expect": (
            "What the author expects",
            "The option (or, with multiple: true, the list) you believe is best. Never the key: lint reports "
            "where it and recommend() disagree.",
            ["ivig", ["prednisone", "methotrexate"]],
        ),
    },
    "PrerequisitesQuestion": {
        "agent": ("Agent to start", "The agent whose checks the learner selects.", ["ivig"]),
        "options": (
            "Checks offered",
            "Action ids; the logic keys the agent's prerequisites still missing for this patient.",
            [["check_iga", "tb_screening", "hepatitis_screening"]],
        ),
        "expect": (
            "What the author expects",
            "The checks you believe are needed; lint reports a disagreement with the logic.",
            [["check_iga"]],
        ),
    },
    "MonitoringQuestion": {
        "agents": (
            "Agents monitored",
            "Agent ids to monitor (default: what the patient is on at this stage).",
            [["prednisone", "methotrexate"]],
        ),
        "options": (
            "Monitoring items offered",
            "Monitoring item ids; the formulary keys which are needed for the agents.",
            [["cbc", "lft", "muscle_strength"]],
        ),
        "expect": (
            "What the author expects",
            "The items you believe are needed; lint reports a disagreement with the formulary.",
            [["cbc", "lft"]],
        ),
    },
    "DoseQuestion": {
        "agent": (
            "Agent",
            "The agent whose dose the learner enters; the sources must give a dose for this patient.",
            ["prednisone"],
        ),
        "regimen": (
            "Regimen",
            "A regimen id, when the question is about one regimen (e.g. maintenance); default: the first "
            "regimen of the population.",
            ["rituximab-adult-maintenance"],
        ),
        "unit": (
            "Unit",
            "The unit the learner answers in, e.g. mg/day; lint checks it against the regimen's.",
            ["mg/day"],
        ),
        "tolerance": (
            "Tolerance",
            "Fraction either side of the computed range that still earns full credit (default 0.1).",
            [0.1],
        ),
        "expect": (
            "What the author expects",
            "The dose you believe is right; lint reports a value outside the computed range.",
            [60],
        ),
    },
    "OrderingQuestion": {
        "options": (
            "Options to order",
            "Three to eight agent or action ids; the pathway's escalation steps key their order.",
            [["prednisone", "ivig", "rituximab"]],
        ),
        "expect": (
            "What the author expects",
            "Every option once, in the order you believe the pathway takes them.",
            [["prednisone", "ivig", "rituximab"]],
        ),
    },
    "ReflectionQuestion": {
        "discussion": (
            "Discussion",
            "Shown after the stage is submitted (Markdown). Reflections are not scored.",
            ["Weigh the evidence for IVIG against the burden of monthly infusions."],
        ),
    },
}

# Fields holding ids that are not marked on the model (the regimen is a plain string there).
EXTRA_IDS: dict[tuple[str, str], str] = {("DoseQuestion", "regimen"): "regimens"}

ID_DEFS: dict[tuple[str, ...], str] = {
    ("agents",): "AgentId",
    ("actions",): "ActionId",
    ("agents", "actions"): "OptionId",
    ("monitoring",): "MonitoringId",
    ("sources",): "SourceId",
    ("claims",): "ClaimId",
    ("regimens",): "RegimenId",
}


def _id_tables(kb: KnowledgeBase) -> dict[str, Callable[[], list[tuple[str, str]]]]:
    """Each id table as (id, what an editor shows beside it)."""
    return {
        "agents": lambda: [(a, f"{x.name} (agent)") for a, x in kb.agents.items()],
        "actions": lambda: [(a, f"{x.name} (action)") for a, x in kb.actions.items()],
        "monitoring": lambda: [(m, x.label) for m, x in kb.monitoring.items()],
        "sources": lambda: [(s, x.label) for s, x in kb.sources.items()],
        "claims": lambda: [(c.id, c.claim) for c in kb.claims],
        "regimens": lambda: [
            (r.id, f"{kb.agents[a].name}: {r.label}")
            for a in kb.agents
            for r in kb.agents[a].regimens
            if r.id
        ],
    }


def _id_def(tables: tuple[str, ...], kb: KnowledgeBase) -> dict[str, Any]:
    source = _id_tables(kb)
    items = sorted(dict(pair for t in tables for pair in source[t]()).items())
    what = " or ".join(t.rstrip("s") if t != "monitoring" else "monitoring item" for t in tables)
    return {
        "type": "string",
        "title": ID_DEFS[tables],
        "description": f"An {what} id of the knowledge base.",
        "enum": [i for i, _ in items],
        "enumDescriptions": [d for _, d in items],
        "markdownEnumDescriptions": [d for _, d in items],
    }


def _replace_ids(node: Any, used: set[tuple[str, ...]]) -> Any:
    """Every ``{"type": "string", "x-kb-ids": [...]}`` becomes a ``$ref`` to the ids in ``$defs``."""
    if isinstance(node, dict):
        if "x-kb-ids" in node:
            tables = tuple(node["x-kb-ids"])
            used.add(tables)
            return {"$ref": f"#/$defs/{ID_DEFS[tables]}"}
        return {k: _replace_ids(v, used) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_ids(v, used) for v in node]
    return node


def _document(model: str, definition: dict[str, Any]) -> None:
    docs = FIELD_DOCS.get(model, {})
    is_question = model.endswith("Question")
    for name, prop in definition.get("properties", {}).items():
        doc = docs.get(name) or (QUESTION.get(name) if is_question else None)
        if doc is None:
            continue  # a field without docs: tests/logic/test_schema.py fails on it
        title, description, examples = doc
        prop["title"] = title
        prop["description"] = description
        prop["examples"] = [prop["const"]] if "const" in prop else examples


def case_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The JSON Schema of a case file, documented, with the ids of ``kb`` as enums."""
    schema: dict[str, Any] = Case.model_json_schema()
    used: set[tuple[str, ...]] = set()
    schema = _replace_ids(schema, used)
    defs: dict[str, Any] = schema["$defs"]
    for (model, field), table in EXTRA_IDS.items():
        prop = defs[model]["properties"][field]
        prop["anyOf"] = [{"$ref": f"#/$defs/{ID_DEFS[(table,)]}"}, {"type": "null"}]
        used.add((table,))
    for tables in sorted(used):
        defs[ID_DEFS[tables]] = _id_def(tables, kb)
    for model, definition in defs.items():
        _document(model, definition)
    _document("Case", schema)
    schema["$defs"] = dict(sorted(defs.items()))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "myotutor case file"
    schema["description"] = (
        "A teaching case: a patient and stages of narrative, data and questions. The answer keys come from "
        "the logic, never from the file. See AUTHORING.md."
    )
    return schema


def schema_text(kb: KnowledgeBase) -> str:
    """The schema as committed in cases/case.schema.json."""
    return json.dumps(case_schema(kb), indent=2, ensure_ascii=False) + "\n"


def modeline(schema_path: str = SCHEMA_FILE) -> str:
    """The first line of a case file: points the YAML language server at the schema (relative path)."""
    return f"{MODELINE_PREFIX}{schema_path}"
