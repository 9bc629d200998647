"""What every question kind shares: the base model, the stage plan it is keyed on, the answer key, the
marking a kind returns, and the learner's answer (with its certainty, where the question asks for one).

A kind is one subclass of ``QuestionBase`` in its own module of this package; it implements
``answer_key``, ``mark``, ``lint`` and ``best_answer`` and says, in class variables, what it tests
(``category``) and how it reads in the README's table and the exports. ``logic/questions/__init__.py``
is the one registry of kinds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..dosing import Dose
from ..ids import ClaimId
from ..patient import Patient
from ..recommend import Recommendation
from ..vocabulary import Category

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase

# A learner's answer: a choice id, several ids (in order for an ordering question), a number, free text,
# or, for a question that asks how sure the learner is, {"answer": <one of those>, "certainty": 1-4}.
Answer = str | float | int | list[str] | tuple[str, ...] | dict[str, Any] | None

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # case and question ids
CERTAINTY_LEVELS: tuple[int, ...] = (1, 2, 3, 4)
CONFIDENT_FROM = 3  # certainty 3 or 4 is "confident"


class CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class StagePlan:
    """The patient as they stand at a stage, and recommend() for them: what a stage's keys derive from."""

    patient: Patient
    recommendation: Recommendation


@dataclass(frozen=True, slots=True)
class GradedChoice:
    """One option a question offers, as the answer key grades it, with the reason and its sources.

    ``grade`` is a Grade for next-step questions, "needed" / "not_needed" for select-all items, and
    "ordered" / "unplaced" for ordering options (whose ``rank`` is the pathway layer that teaches them).
    """

    id: str
    name: str
    grade: str
    why: str
    sources: tuple[str, ...] = ()
    rank: int | None = None
    rule: str | None = None  # next step: the rule of rules.yaml that graded the option


@dataclass(frozen=True, slots=True)
class Verdict:
    """One thing the learner chose (or should have), with its grade and reason."""

    id: str
    name: str
    grade: (
        str  # a Grade, or a kind's own word: "correct" / "missed" / "extra", "in_order" / "out_of_order"...
    )
    why: str


@dataclass(frozen=True)
class AnswerKey:
    """What the logic says the answer to one question is, with the reasoning to show afterwards."""

    kind: str
    best: tuple[str, ...]  # ids of the best choice(s), in order; empty for dose and reflection
    graded: Mapping[str, GradedChoice]  # every option offered, in the author's order, with its grade
    correct: frozenset[
        str
    ]  # the options that should be selected (next step: the best; select-all: the needed)
    dose: Dose | None
    recommendation: Recommendation
    why: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Marking:
    """A kind's verdict on one answer: credit in -1..1, whether it is unsafe, and what to show."""

    credit: float
    unsafe: bool
    verdicts: tuple[Verdict, ...]
    best_text: str
    why: str
    note_options: tuple[str, ...] = ()  # agents/actions whose faculty notes the feedback shows
    discussion: str | None = None
    scored: bool = True  # False: the answer cannot be marked (it counts for no points)


# A lint finding of one question: the path below the question (e.g. ["expect"]) and the message.
Finding = tuple[list[str | int], str]


def unique_ids(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{v!r} is listed twice")
        seen.add(v)
    return values


def as_list(answer: Answer) -> list[str]:
    """An answer as a list of choice ids (a single choice, several, or none)."""
    answer = answer_value(answer)
    if answer is None:
        return []
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, list | tuple):
        return [str(a) for a in answer]
    return [str(answer)]


def answer_value(answer: Answer) -> Answer:
    """The answer itself, without the certainty a question may have asked for alongside it."""
    if isinstance(answer, Mapping):
        value = answer.get("answer")
        return value if not isinstance(value, Mapping) else None
    return answer


def answer_certainty(answer: Answer) -> int | None:
    """How sure the learner said they were (1-4), or None if not asked or not given."""
    if isinstance(answer, Mapping):
        value = answer.get("certainty")
        if isinstance(value, int) and not isinstance(value, bool) and value in CERTAINTY_LEVELS:
            return value
    return None


def with_certainty(answer: Answer, certainty: int | None) -> Answer:
    """The stored form of an answer given with a certainty."""
    return {"answer": answer_value(answer), "certainty": certainty}


def names(ids: Sequence[str] | str) -> str:
    """Ids quoted for a lint message: 'a', 'b' (or "nothing")."""
    items = [ids] if isinstance(ids, str) else list(ids)
    return ", ".join(repr(i) for i in items) if items else "nothing"


class QuestionBase(CaseModel):
    """A question of a stage. Subclasses (one per kind) add ``kind: Literal[...]`` and their fields."""

    id: str = Field(description="Unique within the case; answers files are keyed by it.")
    kind: str
    prompt: str = Field(description="Markdown; rendered without raw HTML.")
    points: float = Field(default=1, gt=0, le=10)
    claims: tuple[ClaimId, ...] = Field(
        default=(),
        description="Ids of claims in the claim register that this question teaches; the feedback shows "
        "each claim with its source and strength.",
    )

    # What the kind tests (the score breakdown's category) and how it reads; set by every kind.
    category: ClassVar[Category]
    instruction: ClassVar[str]  # what the learner is asked to do, e.g. "Choose one"
    learner_does: ClassVar[str]  # the README's "the learner" column (Markdown)
    keyed_by: ClassVar[str]  # the README's "keyed by" column (Markdown)
    scored: ClassVar[bool] = True
    # The credit from which an answer counts as right (for certainty): full marks unless a kind says less.
    right_from: ClassVar[float] = 1.0
    # An answer must be given before the stage can be submitted (a select-all may be left empty).
    needs_answer: ClassVar[bool] = True

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"question id {value!r} must be lower-case letters, digits, '-' or '_'")
        return value

    @classmethod
    def kind_name(cls) -> str:
        """The value of ``kind:`` in a case file, from the kind's own Literal."""
        (name,) = get_args(cls.model_fields["kind"].annotation)
        return str(name)

    @property
    def asks_certainty(self) -> bool:
        """Whether the learner is also asked how sure they are (choice questions with ``certainty: true``)."""
        return False

    def offered(self) -> tuple[str, ...]:
        """The agents, actions or monitoring items the question shows the learner (none by default)."""
        return ()

    def load_problems(self, patient: Patient, kb: KnowledgeBase) -> list[Finding]:
        """Why the question cannot be asked of the patient at its stage: errors that refuse the case."""
        return []

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        raise NotImplementedError

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        """Mark the answer (without its certainty) against the key."""
        raise NotImplementedError

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        """Where the question and the logic disagree, or the question cannot be answered well."""
        return []

    def best_answer(self, key: AnswerKey) -> Answer:
        """The logic's own answer to this question: it scores full credit."""
        raise NotImplementedError


class ChoiceQuestion(QuestionBase):
    """A question answered by choosing among options; it may also ask how sure the learner is."""

    options: tuple[str, ...] = Field(min_length=2)
    certainty: bool = Field(
        default=False,
        description="Also ask how sure the learner is (1-4); the breakdown shows it, and flags confident "
        "unsafe answers.",
    )

    @field_validator("options")
    @classmethod
    def _unique_options(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique_ids(value)

    @property
    def asks_certainty(self) -> bool:
        return self.certainty

    def offered(self) -> tuple[str, ...]:
        return self.options
