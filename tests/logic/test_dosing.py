import math

import pytest

from logic import compute_dose, load_knowledge_base, mosteller_bsa
from logic.dosing import DoseUnavailable
from logic.knowledge import Regimen


def regimen(**kw: object) -> Regimen:
    base = {
        "population": "juvenile",
        "amount": [15, 15],
        "mass_unit": "mg",
        "basis": "m2",
        "per": "week",
        "schedule": "weekly",
        "sources": ["S4"],
    }
    return Regimen.model_validate({**base, **kw})


def test_mosteller() -> None:
    assert mosteller_bsa(165, 70) == pytest.approx(math.sqrt(165 * 70 / 3600))
    assert mosteller_bsa(121, 36) == pytest.approx(1.10)
    with pytest.raises(ValueError):
        mosteller_bsa(0, 70)


def test_dose_by_bsa_says_how_it_was_computed() -> None:
    dose = compute_dose(regimen(), weight_kg=36, height_cm=121)
    assert (dose.low, dose.high, dose.unit) == (16.5, 16.5, "mg/week")
    assert dose.text == "15 mg/m²/week × 1.10 m² = 16.5 mg/week"


def test_dose_by_weight_and_range() -> None:
    dose = compute_dose(regimen(amount=[1, 2], basis="kg", per="day"), weight_kg=70, height_cm=None)
    assert (dose.low, dose.high) == (70, 140)
    assert dose.text == "1–2 mg/kg/day × 70 kg = 70–140 mg/day"


def test_dose_is_capped_at_the_maximum() -> None:
    mtx = load_knowledge_base().agents["methotrexate"].regimens_for("adult")[0]
    dose = compute_dose(mtx, weight_kg=120, height_cm=190)  # BSA 2.51 m² -> 50 mg/week uncapped
    assert dose.capped
    assert dose.high == 40
    assert "capped at the maximum the sources state (40 mg/week)" in dose.text
    assert dose.cap_reason is not None and "40 mg/week" in dose.cap_reason
    assert not dose.contains(41, tolerance=0.1)  # never above the ceiling, whatever the tolerance


def test_fixed_dose_ignores_size() -> None:
    rtx = load_knowledge_base().agents["rituximab"].regimens_for("adult")[0]
    assert compute_dose(rtx, weight_kg=50, height_cm=None).text == "1000 mg/infusion"


def test_bsa_dose_needs_height() -> None:
    with pytest.raises(DoseUnavailable, match="height"):
        compute_dose(regimen(), weight_kg=36, height_cm=None)


def test_dose_contains_with_tolerance() -> None:
    dose = compute_dose(regimen(amount=[1, 2], basis="kg", per="day"), weight_kg=70, height_cm=None)
    assert dose.contains(70) and dose.contains(140) and not dose.contains(150)
    assert dose.contains(150, tolerance=0.1)


def test_regimen_amount_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        regimen(amount=[20, 15])
