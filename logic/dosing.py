"""Doses for a patient: regimen amount × weight or body surface area, never above a sourced ceiling.

A computed ``Dose`` knows its regimen, the weight or body surface area it was computed on, and its
ceiling: it says when it was capped and why, it never contains a value above the ceiling, and it
judges an entered value (``Dose.judge``), so a dose question can never give full credit above a
ceiling the sources state. Where the sources give no ceiling, it says so (``NO_MAXIMUM``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .knowledge import NO_MAXIMUM, Agent, Ceiling, Grade, Regimen
from .vocabulary import Population, no_dose_note

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .patient import Patient

INCHES_PER_CM = 1 / 2.54
DEVINE_MIN_HEIGHT_CM = 152.4  # 5 ft: Devine's formula adds weight per inch above it
NO_ADULT_DOSE_UNDER_18 = (
    "The sources' doses for this diagnosis are adult doses, and they give none for a patient under 18 "
    "who does not have juvenile dermatomyositis."
)


@dataclass(frozen=True, slots=True)
class DoseJudgement:
    """How an entered dose compares with the computed one."""

    credit: float  # 1 full, 0.5 half, 0 none, -0.5 unsafe
    grade: Grade  # recommended | acceptable | not_recommended | unsafe
    unsafe: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Dose:
    low: float
    high: float  # never above the ceiling
    unit: str
    text: str
    capped: bool
    regimen: Regimen
    uncapped_low: float = 0.0
    uncapped_high: float = 0.0
    weight_basis: Literal["actual", "ideal"] | None = None  # per-kg doses: which weight was used
    dosing_weight_kg: float | None = None

    @property
    def ceiling(self) -> Ceiling | None:
        return self.regimen.ceiling

    @property
    def ceiling_text(self) -> str:
        return self.regimen.ceiling_text

    @property
    def cap_reason(self) -> str | None:
        """Why the dose was capped, or None if it was not."""
        if not self.capped or self.ceiling is None:
            return None
        words = "the maximum" if self.ceiling.kind == "maximum" else "the usual upper dose"
        return (
            f"{_fmt(self.uncapped_low)}–{_fmt(self.uncapped_high)} {self.unit} would exceed {words} the "
            f"sources state ({_fmt(self.ceiling.amount)} {self.unit})"
        )

    def _upper(self, tolerance: float) -> float:
        upper = self.high * (1 + tolerance)
        return min(upper, self.ceiling.amount) if self.ceiling is not None else upper

    def contains(self, value: float, tolerance: float = 0.0) -> bool:
        """Within the range, give or take ``tolerance``, and never above the ceiling."""
        return self.low * (1 - tolerance) <= value <= self._upper(tolerance)

    def judge(self, value: float | None, tolerance: float) -> DoseJudgement:
        """Credit for an entered dose.

        Within the range ± tolerance (and at most the ceiling): full. Within twice the tolerance: half.
        Above a *maximum* the sources state, or above 1.5× the top of the uncapped range: unsafe.
        Above a *usual* upper dose but within the per-kg range: half, never full.
        """
        if value is None:
            return DoseJudgement(0.0, "not_recommended", False, "No dose was entered.")
        ceiling = self.ceiling
        if ceiling is not None and ceiling.kind == "maximum" and value > ceiling.amount:
            return DoseJudgement(
                -0.5,
                "unsafe",
                True,
                f"{_fmt(value)} {self.unit} is above the maximum of {_fmt(ceiling.amount)} {self.unit} "
                "the sources state.",
            )
        if value > 1.5 * max(self.high, self.uncapped_high):
            return DoseJudgement(-0.5, "unsafe", True, f"{_fmt(value)} {self.unit} is far above the range.")
        if self.contains(value, tolerance):
            return DoseJudgement(1.0, "recommended", False, "Within the range.")
        if ceiling is not None and value > ceiling.amount:
            if value <= self.uncapped_high * (1 + tolerance):
                return DoseJudgement(
                    0.5,
                    "acceptable",
                    False,
                    f"{_fmt(value)} {self.unit} is within the per-weight range but above the usual upper "
                    f"dose of {_fmt(ceiling.amount)} {self.unit}.",
                )
            return DoseJudgement(
                0.0,
                "not_recommended",
                False,
                f"{_fmt(value)} {self.unit} is above the usual upper dose of {_fmt(ceiling.amount)} {self.unit}.",
            )
        if self.contains(value, 2 * tolerance):
            return DoseJudgement(0.5, "acceptable", False, "Close to the range.")
        return DoseJudgement(0.0, "not_recommended", False, "Outside the range.")


class DoseUnavailable(ValueError):
    """A dose cannot be computed for this patient (e.g. height missing for a mg/m² regimen)."""


def mosteller_bsa(height_cm: float, weight_kg: float) -> float:
    """Body surface area in m², Mosteller: sqrt(height_cm × weight_kg / 3600)."""
    if height_cm <= 0 or weight_kg <= 0:
        raise ValueError("height and weight must be positive")
    return math.sqrt(height_cm * weight_kg / 3600)


def ideal_body_weight(sex: str | None, height_cm: float | None) -> float:
    """Ideal body weight in kg by Devine (1974): 50 kg (men) or 45.5 kg (women) + 2.3 kg per inch over 5 ft.

    Devine's formula is defined from 5 ft (152.4 cm); below that no ideal body weight is computed.
    """
    if sex not in ("female", "male") or height_cm is None:
        missing = " and ".join(
            w
            for w, absent in (("sex", sex not in ("female", "male")), ("height", height_cm is None))
            if absent
        )
        raise DoseUnavailable(
            f"this dose is computed on ideal body weight, which needs the patient's {missing}"
        )
    if height_cm < DEVINE_MIN_HEIGHT_CM:
        raise DoseUnavailable(
            "this dose is computed on ideal body weight, and Devine's formula starts at 152.4 cm (5 ft); "
            "the sources give no dosing weight for a shorter patient"
        )
    base = 50.0 if sex == "male" else 45.5
    return base + 2.3 * (height_cm * INCHES_PER_CM - 60)


def compute_dose(regimen: Regimen, weight_kg: float, height_cm: float | None, sex: str | None = None) -> Dose:
    low, high = regimen.amount
    unit = regimen.dose_unit
    weight_basis: Literal["actual", "ideal"] | None = None
    dosing_weight: float | None = None
    if regimen.basis == "fixed":
        factor, how = 1.0, ""
    elif regimen.basis == "kg":
        weight_basis, dosing_weight = "actual", weight_kg
        how = f" × {_fmt(weight_kg)} kg"
        if regimen.weight == "ideal":
            ideal = round(ideal_body_weight(sex, height_cm), 1)
            if ideal < weight_kg:
                weight_basis, dosing_weight = "ideal", ideal
                how = f" × {_fmt(ideal)} kg ideal body weight (Devine; actual weight {_fmt(weight_kg)} kg)"
            else:
                # The conservative reading where the sources are silent: never dose above actual weight.
                how = (
                    f" × {_fmt(weight_kg)} kg actual weight (below the ideal body weight of {_fmt(ideal)} kg)"
                )
        factor = dosing_weight
    else:
        if height_cm is None:
            raise DoseUnavailable(f"{regimen.unit} needs the patient's height")
        factor = round(mosteller_bsa(height_cm, weight_kg), 2)
        how = f" × {factor:.2f} m²"
    uncapped_low, uncapped_high = low * factor, high * factor
    dose_low, dose_high = uncapped_low, uncapped_high
    ceiling = regimen.ceiling
    capped = ceiling is not None and uncapped_high > ceiling.amount
    if ceiling is not None and capped:
        dose_high = ceiling.amount
        dose_low = min(dose_low, ceiling.amount)
    if round(dose_high, 1) <= 0:
        raise DoseUnavailable(f"the computed dose rounds to 0 {unit}: check the patient's weight and height")
    amount = _fmt(low) if low == high else f"{_fmt(low)}–{_fmt(high)}"
    result = _range(dose_low, dose_high)
    if regimen.basis == "fixed":
        text = f"{result} {unit}"
    elif capped and ceiling is not None:
        words = "the maximum" if ceiling.kind == "maximum" else "the usual upper dose"
        text = (
            f"{amount} {regimen.unit}{how} = {_range(uncapped_low, uncapped_high)} {unit}, capped at {words} "
            f"the sources state ({_fmt(ceiling.amount)} {unit}): {result} {unit}"
        )
    else:
        text = f"{amount} {regimen.unit}{how} = {result} {unit}"
    return Dose(
        low=dose_low,
        high=dose_high,
        unit=unit,
        text=text,
        capped=capped,
        regimen=regimen,
        uncapped_low=uncapped_low,
        uncapped_high=uncapped_high,
        weight_basis=weight_basis,
        dosing_weight_kg=dosing_weight,
    )


def dose_for(agent: Agent, patient: Patient, regimen_id: str | None = None) -> tuple[Dose | None, str | None]:
    """The dose of ``agent`` for ``patient`` (the population's first regimen, or ``regimen_id``), or why none.

    No adult dose is computed for a patient under 18: an under-18 patient whose diagnosis is not
    dermatomyositis is graded on the adult rules (the sources' myositis advice is not age-specific),
    but the sources give no dose for such a child.
    """
    population = patient.population
    regimens = agent.regimens_for(population)
    if regimen_id is not None:
        regimens = tuple(r for r in regimens if r.id == regimen_id)
    return dose_from(regimens, agent, patient)


def dose_from(
    regimens: tuple[Regimen, ...], agent: Agent, patient: Patient
) -> tuple[Dose | None, str | None]:
    """The dose from the first of ``regimens`` (those of the patient's population), or why there is none."""
    population = patient.population
    if population == "adult" and patient.age < 18:
        return None, NO_ADULT_DOSE_UNDER_18
    if not regimens:
        return None, no_dose_note(population, agent.name)
    try:
        return compute_dose(regimens[0], patient.weight_kg, patient.height_cm, patient.sex), None
    except DoseUnavailable as exc:
        return None, f"No dose: {exc}."


class DoseTable:
    """A knowledge base's doses for an agent and a patient, memoised: one hangs off each knowledge base
    (``kb.doses``), so the doses follow the knowledge base they come from.

    The memo key holds only what the dose depends on (agent, population, under 18, and for a dose by
    weight or body surface area the weight, height and sex), so a fixed dose is shared by every patient.
    """

    MAX_ENTRIES = 65536

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # Each agent's regimens by population (the first computes the dose).
        self.regimens: dict[tuple[str, Population], tuple[Regimen, ...]] = {
            (a.id, p): a.regimens_for(p) for a in kb.agents.values() for p in ("adult", "juvenile")
        }
        self._memo: dict[tuple[object, ...], tuple[Dose | None, str | None]] = {}

    def dose(self, agent_id: str, patient: Patient) -> tuple[Dose | None, str | None]:
        """The dose of the population's first regimen for this patient, or None and why there is none."""
        population = patient.population
        regimens = self.regimens[agent_id, population]
        key: tuple[object, ...] = (agent_id, population, patient.age < 18)
        if regimens and regimens[0].basis != "fixed":
            key += (patient.weight_kg, patient.height_cm, patient.sex)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= self.MAX_ENTRIES:
                self._memo.clear()
            found = self._memo[key] = dose_from(regimens, self.kb.agents[agent_id], patient)
        return found

    def clear(self) -> None:
        self._memo.clear()


def _range(low: float, high: float) -> str:
    return _fmt(low) if _fmt(low) == _fmt(high) else f"{_fmt(low)}–{_fmt(high)}"


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    rounded = round(value, 1)
    return f"{rounded:g}" if rounded < 1e6 else f"{rounded:.0f}"


__all__ = [
    "NO_MAXIMUM",
    "Dose",
    "DoseJudgement",
    "DoseUnavailable",
    "compute_dose",
    "DoseTable",
    "dose_for",
    "dose_from",
    "ideal_body_weight",
    "mosteller_bsa",
]
