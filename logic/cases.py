"""Case files: the models a faculty-authored ``cases/*.yaml`` is validated against.

A case holds a patient and a story. It never holds the answer key: next_step, prerequisites,
monitoring and dose questions are keyed by recommend() for the patient as they stand at that stage
(see logic/keys.py). An author may write ``expect:`` to say what they believe is right; lint reports
every place where that and the logic disagree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from .knowledge import Manifestation, Population, load_knowledge_base
from .patient import CurrentAgent, Labs, Patient, did_you_mean, known_agent
from .plausibility import Number

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

Difficulty = Literal["introductory", "intermediate", "advanced"]


class DuplicateQuestionId(ValueError):
    """Two questions share an id (loading a file reports both lines instead, see logic/library.py)."""


class CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_option(value: str) -> str:
    kb = load_knowledge_base()
    if value in kb.agents or value in kb.actions:
        return value
    hint = did_you_mean(value, kb.option_ids)
    what = "action" if any(a in hint for a in (f"'{x}'" for x in kb.actions)) else "agent"
    raise ValueError(f"unknown {what} {value!r}{hint}")


def _known_action(value: str) -> str:
    actions = load_knowledge_base().actions
    if value not in actions:
        raise ValueError(f"unknown action {value!r}{did_you_mean(value, actions)}")
    return value


def _known_monitoring(value: str) -> str:
    items = load_knowledge_base().monitoring
    if value not in items:
        raise ValueError(f"unknown monitoring item {value!r}{did_you_mean(value, items)}")
    return value


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{v!r} is listed twice")
        seen.add(v)
    return values


OptionId = Annotated[str, AfterValidator(_known_option)]
ActionId = Annotated[str, AfterValidator(_known_action)]
MonitoringId = Annotated[str, AfterValidator(_known_monitoring)]
AgentId = Annotated[str, AfterValidator(known_agent)]


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
    iga: Literal["normal", "deficient", "unknown"] | None = None
    tb: Literal["negative", "positive", "unknown"] | None = None
    hepatitis: Literal["negative", "positive", "unknown"] | None = None


class PatientChange(CaseModel):
    """What happens to the patient before this stage's questions (the story moves on)."""

    months_pass: Number = Field(default=0, ge=0, le=120)
    fail: tuple[AgentId, ...] = ()  # stop and record as failed (inadequate response or intolerance)
    stop: tuple[AgentId, ...] = ()  # stop without counting as a failure
    start: tuple[CurrentAgent, ...] = ()
    add_manifestations: tuple[Manifestation, ...] = ()
    remove_manifestations: tuple[Manifestation, ...] = ()
    severity: Literal["mild", "moderate", "severe"] | None = None
    labs: LabChange | None = None
    infections: StrictBool | None = None
    cytopenias: StrictBool | None = None
    weight_kg: Number | None = Field(default=None, gt=0)  # plausibility for the age: checked on the patient
    height_cm: Number | None = Field(default=None, gt=0)
    age: Number | None = Field(default=None, ge=0, le=120)

    def apply(self, patient: Patient) -> Patient:
        months = self.months_pass
        gone = set(self.fail) | set(self.stop)
        current = [
            CurrentAgent(agent=c.agent, months=c.months + months)
            for c in patient.current
            if c.agent not in gone
        ]
        started = {s.agent for s in self.start}
        current = [c for c in current if c.agent not in started] + list(self.start)
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
        return Patient.model_validate({**patient.model_dump(), **_dump(update)})


def _dump(update: dict[str, object]) -> dict[str, object]:
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in update.items()}


class QuestionBase(CaseModel):
    id: str = Field(description="Unique within the case; answers files are keyed by it.")
    prompt: str = Field(description="Markdown; rendered without raw HTML.")
    points: float = Field(default=1, gt=0, le=10)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"question id {value!r} must be lower-case letters, digits, '-' or '_'")
        return value


class NextStepQuestion(QuestionBase):
    """Choose the next step among agents and actions; graded by recommend()."""

    kind: Literal["next_step"]
    options: tuple[OptionId, ...] = Field(min_length=2)
    multiple: bool = False
    expect: OptionId | tuple[OptionId, ...] | None = None

    _options = field_validator("options")(classmethod(lambda cls, v: _unique(v)))


class PrerequisitesQuestion(QuestionBase):
    """Select every check still needed before starting `agent`."""

    kind: Literal["prerequisites"]
    agent: AgentId
    options: tuple[ActionId, ...] = Field(min_length=2)
    expect: tuple[ActionId, ...] | None = None

    _options = field_validator("options")(classmethod(lambda cls, v: _unique(v)))


class MonitoringQuestion(QuestionBase):
    """Select everything to monitor on `agents` (default: what the patient is on at this stage)."""

    kind: Literal["monitoring"]
    agents: tuple[AgentId, ...] | None = None
    options: tuple[MonitoringId, ...] = Field(min_length=2)
    expect: tuple[MonitoringId, ...] | None = None

    _options = field_validator("options")(classmethod(lambda cls, v: _unique(v)))


class DoseQuestion(QuestionBase):
    """Enter the dose of `agent` for this patient, in `unit` (the regimen's dose unit, e.g. mg/week)."""

    kind: Literal["dose"]
    agent: AgentId
    regimen: str | None = Field(
        default=None, description="Regimen id, when the question is about one regimen (e.g. maintenance)."
    )
    unit: str | None = None
    tolerance: float = Field(default=0.1, ge=0, le=0.5, description="Fraction either side of the range.")
    expect: float | None = None

    @model_validator(mode="after")
    def _known_regimen(self) -> DoseQuestion:
        if self.regimen is not None:
            ids = [r.id for r in load_knowledge_base().agents[self.agent].regimens if r.id]
            if self.regimen not in ids:
                raise ValueError(
                    f"unknown regimen {self.regimen!r} for {self.agent}{did_you_mean(self.regimen, ids)}"
                )
        return self


class ReflectionQuestion(QuestionBase):
    """Free text, not scored; `discussion` is shown after the learner answers."""

    kind: Literal["reflection"]
    discussion: str | None = None


Question = Annotated[
    NextStepQuestion | PrerequisitesQuestion | MonitoringQuestion | DoseQuestion | ReflectionQuestion,
    Field(discriminator="kind"),
]


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
    references: tuple[str, ...] = Field(default=(), description="Source ids from the knowledge base.")
    patient: Patient
    stages: tuple[Stage, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"case id {value!r} must be lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("references")
    @classmethod
    def _known_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        sources = load_knowledge_base().sources
        for ref in value:
            if ref not in sources:
                raise ValueError(f"unknown source {ref!r}{did_you_mean(ref, sources)}")
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

    def patients(self) -> tuple[Patient, ...]:
        """The patient as they stand at each stage (changes applied in order); computed once per case."""
        return self._stage_patients

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Case:
        """A copy without the cached stage patients, which an update may invalidate."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("_stage_patients", None)
        return copy

    @functools.cached_property
    def _stage_patients(self) -> tuple[Patient, ...]:
        states = []
        patient = self.patient
        for stage in self.stages:
            if stage.changes is not None:
                patient = stage.changes.apply(patient)
            states.append(patient)
        return tuple(states)

    def questions(self) -> tuple[tuple[int, QuestionBase], ...]:
        return tuple((i, q) for i, stage in enumerate(self.stages) for q in stage.questions)

    def question(self, question_id: str) -> tuple[int, QuestionBase]:
        for index, question in self.questions():
            if question.id == question_id:
                return index, question
        raise KeyError(question_id)
