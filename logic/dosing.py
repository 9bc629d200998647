"""Doses for a patient: regimen amount × weight or body surface area, capped at the regimen maximum."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .knowledge import Regimen


@dataclass(frozen=True, slots=True)
class Dose:
    low: float
    high: float
    unit: str
    text: str
    capped: bool
    regimen: Regimen

    def contains(self, value: float, tolerance: float = 0.0) -> bool:
        return self.low * (1 - tolerance) <= value <= self.high * (1 + tolerance)


class DoseUnavailable(ValueError):
    """A dose cannot be computed for this patient (e.g. height missing for a mg/m² regimen)."""


def mosteller_bsa(height_cm: float, weight_kg: float) -> float:
    """Body surface area in m², Mosteller: sqrt(height_cm × weight_kg / 3600)."""
    if height_cm <= 0 or weight_kg <= 0:
        raise ValueError("height and weight must be positive")
    return math.sqrt(height_cm * weight_kg / 3600)


def compute_dose(regimen: Regimen, weight_kg: float, height_cm: float | None) -> Dose:
    low, high = regimen.amount
    unit = regimen.dose_unit
    if regimen.basis == "fixed":
        factor, how = 1.0, ""
    elif regimen.basis == "kg":
        factor, how = weight_kg, f" × {_fmt(weight_kg)} kg"
    else:
        if height_cm is None:
            raise DoseUnavailable(f"{regimen.unit} needs the patient's height")
        factor = round(mosteller_bsa(height_cm, weight_kg), 2)
        how = f" × {factor:.2f} m²"
    dose_low, dose_high = low * factor, high * factor
    capped = False
    if regimen.max is not None and dose_high > regimen.max:
        capped = True
        dose_high = regimen.max
        dose_low = min(dose_low, regimen.max)
    if round(dose_high, 1) <= 0:
        raise DoseUnavailable(f"the computed dose rounds to 0 {unit}: check the patient's weight and height")
    amount = _fmt(low) if low == high else f"{_fmt(low)}–{_fmt(high)}"
    result = _fmt(dose_low) if dose_low == dose_high else f"{_fmt(dose_low)}–{_fmt(dose_high)}"
    if regimen.basis == "fixed":
        text = f"{result} {unit}"
    else:
        text = f"{amount} {regimen.unit}{how} = {result} {unit}"
    if capped:
        text += f" (capped at the maximum, {_fmt(regimen.max)} {unit})"
    return Dose(low=dose_low, high=dose_high, unit=unit, text=text, capped=capped, regimen=regimen)


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    rounded = round(value, 1)
    return f"{rounded:g}" if rounded < 1e6 else f"{rounded:.0f}"
