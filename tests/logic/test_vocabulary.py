"""One vocabulary: every label table is keyed by exactly its literal's values, the models use those literals,
and no other module of the app spells a label out again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

from logic import vocabulary as v
from logic.cases import Case, LabChange
from logic.knowledge import Action, Pathway, Regimen, Rule, Step
from logic.patient import Labs, Patient
from logic.questions import KINDS
from logic.recommend import GradedOption

REPO = Path(__file__).resolve().parents[2]

TABLES: list[tuple[str, dict[Any, str], Any]] = [
    ("POPULATION_LABELS", v.POPULATION_LABELS, v.Population),
    ("PATHWAY_LABELS", v.PATHWAY_LABELS, v.Population),
    ("GRADE_LABELS", v.GRADE_LABELS, v.Grade),
    ("MANIFESTATION_LABELS", v.MANIFESTATION_LABELS, v.Manifestation),
    ("STEP_KIND_LABELS", v.STEP_KIND_LABELS, v.StepKind),
    ("DIAGNOSIS_LABELS", v.DIAGNOSIS_LABELS, v.Diagnosis),
    ("SEVERITY_LABELS", v.SEVERITY_LABELS, v.Severity),
    ("SEX_LABELS", v.SEX_LABELS, v.Sex),
    ("LAB_LABELS", v.LAB_LABELS, v.LabName),
    ("DIFFICULTY_LABELS", v.DIFFICULTY_LABELS, v.Difficulty),
    ("OPTION_KIND_LABELS", v.OPTION_KIND_LABELS, v.OptionKind),
    ("ACTION_CATEGORY_LABELS", v.ACTION_CATEGORY_LABELS, v.ActionCategory),
    ("CATEGORY_LABELS", v.CATEGORY_LABELS, v.Category),
    ("OUTCOME_LABELS", v.OUTCOME_LABELS, v.Outcome),
    ("CALIBRATION_LABELS", v.CALIBRATION_LABELS, v.Calibration),
]


@pytest.mark.parametrize(("name", "table", "literal"), TABLES, ids=[t[0] for t in TABLES])
def test_label_keys_are_the_literal_values(name: str, table: dict[Any, str], literal: Any) -> None:
    assert set(table) == set(get_args(literal)), name
    assert all(isinstance(label, str) and label for label in table.values())


def test_lab_values_are_the_lab_fields_literals() -> None:
    assert set(v.LAB_VALUES) == set(Labs.model_fields) == set(LabChange.model_fields) == set(v.LAB_NAMES)
    for lab, values in v.LAB_VALUES.items():
        assert values == get_args(Labs.model_fields[lab].annotation)
        assert set(values) <= set(v.LAB_VALUE_LABELS)
        assert values[0] == "unknown"  # the default comes first in every list of choices


def _args(annotation: Any) -> set[Any]:
    """Every literal value reachable in an annotation (through Optional, tuple...)."""
    out: set[Any] = set()
    for arg in get_args(annotation):
        if arg is not Ellipsis:
            out |= _args(arg) if get_args(arg) else {arg}
    return out


def test_the_models_use_the_vocabulary_literals() -> None:
    assert Patient.model_fields["diagnosis"].annotation == v.Diagnosis
    assert Patient.model_fields["severity"].annotation == v.Severity
    assert _args(Patient.model_fields["sex"].annotation) == set(v.SEXES) | {type(None)}
    assert _args(Patient.model_fields["manifestations"].annotation) == set(v.MANIFESTATIONS)
    assert Case.model_fields["difficulty"].annotation == v.Difficulty
    assert Case.model_fields["population"].annotation == v.Population
    assert Step.model_fields["kind"].annotation == v.StepKind
    assert Action.model_fields["category"].annotation == v.ActionCategory
    assert Rule.model_fields["grade"].annotation == v.Grade
    assert Regimen.model_fields["population"].annotation == v.Population
    assert Pathway.model_fields["population"].annotation == v.Population
    assert GradedOption.__annotations__["kind"] in ("OptionKind", v.OptionKind)
    assert {model.category for model in KINDS.values()} <= set(v.CATEGORIES)
    assert set(v.SCORED_CATEGORIES) == set(v.CATEGORIES) - {"reflection"}


def test_no_dose_text_is_one_sentence_per_population() -> None:
    assert v.no_dose_note("adult", "Prednisone") == "The sources give no adult dose for Prednisone."
    assert v.no_dose_note("juvenile", "Prednisone") == "The sources give no JDM dose for Prednisone."
    assert "no" in v.NO_DOSE and "no" in v.NO_MAXIMUM


# Words that are also headings of their own (a table column, a page section), not an enumerated value.
HEADINGS = {"Agent", "Monitoring"}


def _labels() -> set[str]:
    labels = {label for _, table, _ in TABLES for label in table.values()}
    labels |= set(v.LAB_VALUE_LABELS.values()) | {v.NO_DOSE, v.NO_MAXIMUM}
    return {label for label in labels if len(label) > 3} - HEADINGS


def test_no_module_spells_a_label_again() -> None:
    """A label in quotes anywhere else in the app's code is a copy that can drift from the vocabulary."""
    copies = []
    for package in ("logic", "dashboard"):
        for path in (REPO / package).rglob("*.py"):
            if path.name == "vocabulary.py":
                continue
            text = path.read_text()
            for label in _labels():
                if re.search(r"""["']""" + re.escape(label) + r"""["']""", text):
                    copies.append(f"{path.relative_to(REPO)}: {label!r}")
    assert copies == []
