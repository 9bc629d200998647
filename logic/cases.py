"""Case files: the models a faculty-authored ``cases/*.yaml`` is validated against.

A case holds a patient and a story. It never holds the answer key: each question kind keys itself from
the logic for the patient as they stand at that stage (see logic/questions/). An author may write
``expect:`` to say what they believe is right; lint reports every place where that and the logic
disagree. Ids in a case are checked against the knowledge base given in the validation context:
``Case.model_validate(data, context={"kb": kb})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from .ids import AgentId, SourceId, validation_context
from .knowledge import KnowledgeBase
from .patient import CurrentAgent, Labs, Patient
from .plausibility import Number
from .questions import Question, QuestionBase
from .questions.base import SLUG, CaseModel
from .vocabulary import Difficulty, IgaResult, Manifestation, Population, ScreenResult, Severity


class DuplicateQuestionId(ValueError):
    """Two questions share an id (loading a file reports both lines instead, see logic/library.py)."""


class LabRow(CaseModel):
    test: str
    value: str | float
    unit: str | None = None
    reference: str | None = None
    flag: Literal["high", "low", "abnormal"] | None = None


class Series(CaseModel):
    """A trend to plot, e.g. CK over months."""

    name: str
    unit: str | None = None
    x_label: str = "month"
    points: tuple[tuple[float, float], ...] = Field(min_length=1)


class StageData(CaseModel):
    labs: tuple[LabRow, ...] = ()
    series: tuple[Series, ...] = ()


class LabChange(CaseModel):
    iga: IgaResult | None = None
    tb: ScreenResult | None = None
    hepatitis: ScreenResult | None = None


class PatientChange(CaseModel):
    """What happens to the patient before this stage's questions (the story moves on)."""

    months_pass: Number = Field(default=0, ge=0, le=120)
    fail: tuple[AgentId, ...] = ()  # stop and record as failed (inadequate response or intolerance)
    stop: tuple[AgentId, ...] = ()  # stop without counting as a failure
    start: tuple[CurrentAgent, ...] = ()
    add_manifestations: tuple[Manifestation, ...] = ()
    remove_manifestations: tuple[Manifestation, ...] = ()
    severity: Severity | None = None
    labs: LabChange | None = None
    infections: StrictBool | None = None
    cytopenias: StrictBool | None = None
    weight_kg: Number | None = Field(default=None, gt=0)  # plausibility for the age: checked on the patient
    height_cm: Number | None = Field(default=None, gt=0)
    age: Number | None = Field(default=None, ge=0, le=120)

    def apply(self, patient: Patient, kb: KnowledgeBase) -> Patient:
        months = self.months_pass
        gone = set(self.fail) | set(self.stop)
        started = {s.agent for s in self.start}
        # Plain data: the patient below validates it all again (months may pass their maximum).
        current = [
            {"agent": c.agent, "months": c.months + months}
            for c in patient.current
            if c.agent not in gone and c.agent not in started
        ] + [s.model_dump() for s in self.start]
        failed = [f for f in patient.failed if f not in started] + [
            f for f in self.fail if f not in patient.failed
        ]
        manifestations = [m for m in patient.manifestations if m not in self.remove_manifestations]
        manifestations += [m for m in self.add_manifestations if m not in manifestations]
        labs = patient.labs
        if self.labs is not None:
            labs = Labs.model_validate({**labs.model_dump(), **self.labs.model_dump(exclude_none=True)})
        update: dict[str, object] = {
            "current": current,
            "failed": failed,
            "manifestations": manifestations,
            "labs": labs,
        }
        for name in ("severity", "infections", "cytopenias", "weight_kg", "height_cm", "age"):
            value = getattr(self, name)
            if value is not None:
                update[name] = value
        return Patient.model_validate(
            {**patient.model_dump(), **_dump(update)}, context=validation_context(kb)
        )


def _dump(update: dict[str, object]) -> dict[str, object]:
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in update.items()}


class Stage(CaseModel):
    title: str
    narrative: str = Field(description="Markdown; rendered without raw HTML.")
    changes: PatientChange | None = None
    data: StageData | None = None
    questions: tuple[Question, ...] = ()


class Case(CaseModel):
    id: str
    title: str
    summary: str
    population: Population
    difficulty: Difficulty
    tags: tuple[str, ...] = ()
    objectives: tuple[str, ...] = Field(default=(), description="Learning objectives.")
    author: str
    references: tuple[SourceId, ...] = Field(default=(), description="Source ids from the knowledge base.")
    patient: Patient
    stages: tuple[Stage, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"case id {value!r} must be lower-case letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _unique_question_ids(self) -> Case:
        seen: set[str] = set()
        for stage in self.stages:
            for question in stage.questions:
                if question.id in seen:
                    raise DuplicateQuestionId(f"question id {question.id!r} is used twice")
                seen.add(question.id)
        return self

    def patients(self, kb: KnowledgeBase) -> tuple[Patient, ...]:
        """The patient as they stand at each stage (changes applied in order).

        Computed once per case and knowledge base: loading, lint and the player share the result."""
        cached: tuple[KnowledgeBase, tuple[Patient, ...]] | None = self.__dict__.get("_stage_patients")
        if cached is not None and cached[0] is kb:
            return cached[1]
        states = []
        patient = self.patient
        for stage in self.stages:
            if stage.changes is not None:
                patient = stage.changes.apply(patient, kb)
            states.append(patient)
        patients = tuple(states)
        self.__dict__["_stage_patients"] = (kb, patients)
        return patients

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Case:
        """A copy without the cached stage patients, which an update may invalidate."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("_stage_patients", None)
        return copy

    def questions(self) -> tuple[tuple[int, QuestionBase], ...]:
        return tuple((i, q) for i, stage in enumerate(self.stages) for q in stage.questions)

    def question(self, question_id: str) -> tuple[int, QuestionBase]:
        for index, question in self.questions():
            if question.id == question_id:
                return index, question
        raise KeyError(question_id)
