"""Patients a clinician would call impossible: weight and height for age, and numbers that are numbers.

The ranges and their sources live in data/growth_limits.yaml (WHO growth references with WHO's flags
for implausible values for children, growthcleanr's broad limits for adults). The patient model calls
these from its field validators, so the CLI, the sandbox and case validation all say which field is
wrong and why.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator

DATA = Path(__file__).parent / "data" / "growth_limits.yaml"
JUVENILE_UNTIL = 18  # a juvenile dermatomyositis diagnosis is made before this age


def _require_number(value: Any) -> Any:
    """Accept int and float only: YAML's ``true`` is not 1 kg, and "70" is text, not a weight."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    if not isinstance(value, int | float):
        shown = repr(value) if isinstance(value, str) else type(value).__name__
        raise ValueError(f"must be a number, not {shown}")
    return value


Number = Annotated[float, BeforeValidator(_require_number)]


@dataclass(frozen=True)
class Band:
    from_age: float
    weight_kg: tuple[float, float]
    height_cm: tuple[float, float]


@dataclass(frozen=True)
class GrowthLimits:
    bands: tuple[Band, ...]  # ordered by from_age; the last one is the adults'
    adult_from: float

    def band(self, age: float) -> Band:
        found = self.bands[0]
        for band in self.bands:
            if age >= band.from_age:
                found = band
        return found

    def weight_problem(self, age: float, weight_kg: float) -> str | None:
        low, high = self.band(age).weight_kg
        if low <= weight_kg <= high:
            return None
        return f"{weight_kg:g} kg is not a plausible weight {self._at(age, f'{low:g}-{high:g} kg')}"

    def height_problem(self, age: float, height_cm: float) -> str | None:
        low, high = self.band(age).height_cm
        if low <= height_cm <= high:
            return None
        return f"{height_cm:g} cm is not a plausible height {self._at(age, f'{low:g}-{high:g} cm')}"

    def _at(self, age: float, plausible: str) -> str:
        if age >= self.adult_from:
            return f"for an adult (plausible: {plausible})"
        return f"at {age:g} years (plausible: {plausible}, by the WHO growth references)"


@functools.cache
def load_growth_limits(path: Path = DATA) -> GrowthLimits:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = [(row["age"], row) for row in data["children"]] + [(data["adults"]["from_age"], data["adults"])]
    bands = [Band(float(age), _pair(row["weight_kg"]), _pair(row["height_cm"])) for age, row in rows]
    adults = data["adults"]
    return GrowthLimits(tuple(sorted(bands, key=lambda b: b.from_age)), float(adults["from_age"]))


def _pair(values: list[float]) -> tuple[float, float]:
    low, high = values
    return float(low), float(high)


def juvenile_diagnosis_problem(age: float) -> str | None:
    if age < JUVENILE_UNTIL:
        return None
    return (
        f"juvenile dermatomyositis is diagnosed before {JUVENILE_UNTIL}; at {age:g} years "
        "the diagnosis is dermatomyositis"
    )
