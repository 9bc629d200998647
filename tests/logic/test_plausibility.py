"""Patients a clinician would call impossible are refused, saying which field and why; real outliers pass."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from logic import Patient, load_case, recommend
from logic.dosing import DoseUnavailable, compute_dose
from logic.knowledge import load_knowledge_base
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
S2 = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


def refusal(make_patient: Callable[..., Patient], **fields: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        make_patient(**fields)
    [error] = info.value.errors()
    return ".".join(str(p) for p in error["loc"]), error["msg"].removeprefix("Value error, ")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"weight_kg": True}, "weight_kg", "must be a number, not true"),
        ({"weight_kg": False}, "weight_kg", "must be a number, not false"),
        ({"height_cm": True}, "height_cm", "must be a number, not true"),
        ({"age": True}, "age", "must be a number, not true"),
        ({"weight_kg": "70"}, "weight_kg", "must be a number, not '70'"),
        ({"current": [{"agent": "prednisone", "months": True}]}, "current.0.months", "must be a number"),
        ({"age": -1}, "age", "greater than or equal to 0"),
        ({"age": 121}, "age", "less than or equal to 120"),
        ({"weight_kg": 5}, "weight_kg", "5 kg is not a plausible weight for an adult (plausible: 20-500 kg)"),
        ({"weight_kg": 700}, "weight_kg", "not a plausible weight for an adult"),
        (
            {"height_cm": 40},
            "height_cm",
            "40 cm is not a plausible height for an adult (plausible: 50-244 cm)",
        ),
        (
            {"age": 2, "weight_kg": 70, "height_cm": 90},
            "weight_kg",
            "70 kg is not a plausible weight at 2 years",
        ),
        (
            {"age": 3, "weight_kg": 15, "height_cm": 180},
            "height_cm",
            "180 cm is not a plausible height at 3 years",
        ),
        (
            {"age": 12, "weight_kg": 6, "height_cm": 150},
            "weight_kg",
            "(plausible: 12.1-191 kg, by the WHO growth references)",
        ),
        ({"age": 25, "diagnosis": "juvenile_dermatomyositis"}, "diagnosis", "diagnosed before 18"),
    ],
)
def test_impossible_patients_are_refused_naming_the_field(
    make_patient: Callable[..., Patient], fields: dict[str, Any], field: str, words: str
) -> None:
    where, message = refusal(make_patient, **fields)
    assert where == field
    assert words in message


@pytest.mark.parametrize(
    "fields",
    [
        {"age": 10, "weight_kg": 100, "height_cm": 150},  # severe childhood obesity
        {"age": 15, "weight_kg": 160, "height_cm": 175},
        {"age": 45, "weight_kg": 250, "height_cm": 170},
        {"age": 70, "weight_kg": 32, "height_cm": 150},  # cachexia
        {"age": 35, "weight_kg": 40, "height_cm": 125},  # achondroplasia
        {"age": 30, "weight_kg": 140, "height_cm": 215},
        {"age": 1.5, "weight_kg": 9, "height_cm": 78, "diagnosis": "juvenile_dermatomyositis"},
        {"age": 17.9, "weight_kg": 55, "height_cm": 160, "diagnosis": "juvenile_dermatomyositis"},
        {"age": 50, "weight_kg": 70.5, "height_cm": None},
    ],
)
def test_real_outliers_pass(make_patient: Callable[..., Patient], fields: dict[str, Any]) -> None:
    make_patient(**fields)


def test_no_dose_is_ever_computed_as_zero() -> None:
    kb = load_knowledge_base()
    regimen = next(r for a in kb.agents.values() for r in a.regimens if r.basis == "kg")
    with pytest.raises(DoseUnavailable, match="rounds to 0"):
        compute_dose(regimen, weight_kg=0.001, height_cm=None)
    for agent in kb.agents.values():
        for regimen in agent.regimens:
            try:
                dose = compute_dose(regimen, weight_kg=0.9, height_cm=37)  # the lightest patient allowed
            except DoseUnavailable:
                continue
            assert dose.high > 0 and " 0 " not in f" {dose.text} "


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logic", *args], cwd=REPO, capture_output=True, text=True)


def test_cli_recommend_says_which_field_and_why(tmp_path: Path) -> None:
    patient = tmp_path / "patient.yaml"
    patient.write_text("age: 40\nweight_kg: true\ndiagnosis: dermatomyositis\n")
    result = run("recommend", str(patient))
    assert result.returncode == 1
    assert f"{patient}:2:12: weight_kg: must be a number, not true" in result.stderr
    patient.write_text("age: 4\nweight_kg: 80\nheight_cm: 100\ndiagnosis: juvenile_dermatomyositis\n")
    result = run("recommend", str(patient))
    assert result.returncode == 1
    assert f"{patient}:2:12: weight_kg: 80 kg is not a plausible weight at 4 years" in result.stderr


def test_case_validation_locates_an_impossible_patient(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(S2.read_text().replace("  weight_kg: 68\n", "  weight_kg: 6.8\n", 1))
    loaded, [error] = load_case(path, KB)
    assert loaded is None
    line = path.read_text().splitlines().index("  weight_kg: 6.8") + 1
    assert str(error) == (
        f"{path}:{line}:14: patient.weight_kg: 6.8 kg is not a plausible weight for an adult (plausible: 20-500 kg)"
    )


def test_a_story_that_makes_the_patient_impossible_is_located(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        S2.read_text().replace(
            "      labs: {iga: normal}\n", "      labs: {iga: normal}\n      weight_kg: 680\n", 1
        )
    )
    loaded, [error] = load_case(path, KB)
    assert loaded is None
    assert "stages[1].changes: the patient becomes invalid: 680 kg is not a plausible weight" in str(error)


def test_stage_changes_need_numbers_too(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        S2.read_text().replace(
            "      labs: {iga: normal}\n", "      labs: {iga: normal}\n      weight_kg: yes\n", 1
        )
    )
    loaded, [error] = load_case(path, KB)
    assert loaded is None
    assert "stages[1].changes.weight_kg: must be a number, not true" in str(error)


def test_the_shipped_cases_and_the_sandbox_default_are_plausible() -> None:
    from logic import load_library

    library = load_library([REPO / "cases"], KB)
    assert not library.errors
    for loaded in library.cases.values():
        for patient in loaded.case.patients(KB):
            assert recommend(patient, KB).options
