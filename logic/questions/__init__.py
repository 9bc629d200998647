"""The one registry of question kinds.

A kind is one module of this package (its model, answer key, marking, lint and best answer) plus its
dashboard view in ``dashboard/questions/``. Everything that lists kinds derives from ``KINDS``: the case
model's discriminated ``Question`` union (and so the JSON schema), the loader's union tag names, the
categories and labels, and the README's table of kinds (``kinds_table()``, checked by a test).

Adding a kind: write ``logic/questions/<kind>.py`` and ``dashboard/questions/<kind>.py`` and list them
in the two registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from ..vocabulary import Category
from .base import (
    CERTAINTY_LEVELS,
    CONFIDENT_FROM,
    Answer,
    AnswerKey,
    ChoiceQuestion,
    Finding,
    GradedChoice,
    Marking,
    QuestionBase,
    StagePlan,
    Verdict,
    answer_certainty,
    answer_value,
    as_list,
    with_certainty,
)
from .dose import DoseQuestion
from .monitoring import MonitoringQuestion
from .next_step import NextStepQuestion
from .ordering import OrderingQuestion
from .prerequisites import PrerequisitesQuestion
from .reflection import ReflectionQuestion

# The kinds, in the order the README lists them.
KIND_MODELS: tuple[type[QuestionBase], ...] = (
    NextStepQuestion,
    PrerequisitesQuestion,
    MonitoringQuestion,
    DoseQuestion,
    OrderingQuestion,
    ReflectionQuestion,
)
KINDS: dict[str, type[QuestionBase]] = {model.kind_name(): model for model in KIND_MODELS}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)
CATEGORY: dict[str, Category] = {name: model.category for name, model in KINDS.items()}
KIND_LABELS: dict[str, str] = {name: model.instruction for name, model in KINDS.items()}

if TYPE_CHECKING:
    Question = QuestionBase
else:
    Question = Annotated[Union[KIND_MODELS], Field(discriminator="kind")]  # noqa: UP007


def kinds_table() -> str:
    """The README's table of question kinds, as Markdown."""
    rows = ["| kind | the learner | keyed by |", "|---|---|---|"]
    rows += [f"| `{name}` | {model.learner_does} | {model.keyed_by} |" for name, model in KINDS.items()]
    return "\n".join(rows)


__all__ = [
    "CATEGORY",
    "CERTAINTY_LEVELS",
    "CONFIDENT_FROM",
    "KINDS",
    "KIND_LABELS",
    "KIND_MODELS",
    "KIND_NAMES",
    "Answer",
    "AnswerKey",
    "ChoiceQuestion",
    "DoseQuestion",
    "Finding",
    "GradedChoice",
    "Marking",
    "MonitoringQuestion",
    "NextStepQuestion",
    "OrderingQuestion",
    "PrerequisitesQuestion",
    "Question",
    "QuestionBase",
    "ReflectionQuestion",
    "StagePlan",
    "Verdict",
    "answer_certainty",
    "answer_value",
    "as_list",
    "kinds_table",
    "with_certainty",
]
