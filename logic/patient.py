"""The patient block: the state recommend() reasons about, shared by the CLI and case files."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .ids import AgentId, did_you_mean, known_agent
from .knowledge import ORGAN_THREATENING
from .plausibility import Number, juvenile_diagnosis_problem, load_growth_limits
from .vocabulary import Diagnosis, IgaResult, Manifestation, Population, ScreenResult, Severity, Sex

__all__ = ["CurrentAgent", "Diagnosis", "Labs", "Patient", "did_you_mean", "known_agent"]


class PatientModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CurrentAgent(PatientModel):
    agent: AgentId
    months: Number = Field(default=0, ge=0, le=600)


class Labs(PatientModel):
    iga: IgaResult = "unknown"
    tb: ScreenResult = "unknown"
    hepatitis: ScreenResult = "unknown"


class Patient(PatientModel):
    age: Number = Field(ge=0, le=120, description="Years; under 18 with DM means JDM.")
    sex: Sex | None = None
    weight_kg: Number = Field(gt=0, description="Plausible for the age (see logic/data/growth_limits.yaml).")
    height_cm: Number | None = Field(default=None, gt=0, description="Needed for mg/m² doses.")
    diagnosis: Diagnosis
    manifestations: tuple[Manifestation, ...] = ()
    severity: Severity = "moderate"
    current: tuple[CurrentAgent, ...] = ()
    failed: tuple[AgentId, ...] = ()
    labs: Labs = Labs()
    infections: StrictBool = False
    cytopenias: StrictBool = False

    @field_validator("weight_kg")
    @classmethod
    def _plausible_weight(cls, value: float, info: ValidationInfo) -> float:
        age = info.data.get("age")
        problem = None if age is None else load_growth_limits().weight_problem(age, value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("height_cm")
    @classmethod
    def _plausible_height(cls, value: float | None, info: ValidationInfo) -> float | None:
        age = info.data.get("age")
        problem = None if age is None or value is None else load_growth_limits().height_problem(age, value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("diagnosis")
    @classmethod
    def _juvenile_only_under_18(cls, value: str, info: ValidationInfo) -> str:
        age = info.data.get("age")
        problem = (
            juvenile_diagnosis_problem(age)
            if value == "juvenile_dermatomyositis" and age is not None
            else None
        )
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("manifestations", "failed")
    @classmethod
    def _no_duplicates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _current_not_failed(self) -> Patient:
        both = set(self.current_ids) & set(self.failed)
        if both:
            raise ValueError(f"{', '.join(sorted(both))} cannot be both current and failed")
        return self

    @property
    def population(self) -> Population:
        """JDM rules and doses: a JDM diagnosis, or dermatomyositis under 18 (faculty notes).

        Other myositis under 18 (polymyositis, necrotising myopathy) is not JDM: the sources are about
        DM and JDM, so such a patient is graded on the adult rules, and no adult dose is computed for
        them (see logic/dosing.py).
        """
        if self.diagnosis == "juvenile_dermatomyositis":
            return "juvenile"
        if self.diagnosis == "dermatomyositis" and self.age < 18:
            return "juvenile"
        return "adult"

    @property
    def current_ids(self) -> tuple[str, ...]:
        return tuple(c.agent for c in self.current)

    @property
    def tried(self) -> frozenset[str]:
        return frozenset(self.current_ids) | frozenset(self.failed)

    @property
    def severe(self) -> bool:
        """Severe or organ-threatening disease."""
        return self.severity == "severe" or not ORGAN_THREATENING.isdisjoint(self.manifestations)
