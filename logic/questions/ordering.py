"""ordering: put agents and actions in the order the escalation pathway takes them.

Keyed by the pathway of the patient's population: each option ranks by the layer of the earliest step
that teaches it (first line before steroid-sparing before refractory...). Options at the same layer may
come in either order. Two kinds of step are not points in the sequence: supportive care runs throughout,
and severe, organ-threatening disease can arise at any point (the pathways reach it from several steps),
so an option taught only there, or at no step, cannot be placed: lint reports it, and it counts in no pair.

Scoring is Kendall-style partial credit: the share of the pairs the pathway orders that the learner put
in the same relative order. Each option is explained: where the pathway teaches it, and how many of its
pairs the learner got right.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ..ids import OptionId
from ..vocabulary import POPULATION_LABELS, Category
from .base import (
    Answer,
    AnswerKey,
    ChoiceQuestion,
    Finding,
    GradedChoice,
    Marking,
    StagePlan,
    Verdict,
    as_list,
    names,
)

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase


# Steps that are not points in the escalation sequence: supportive care runs throughout, and severe,
# organ-threatening disease can arise at any point, so ordering "before" or "after" them teaches nothing true.
UNSEQUENCED_STEPS = frozenset({"supportive", "severe"})


class OrderingQuestion(ChoiceQuestion):
    """Put `options` (agents/actions) in the order the escalation pathway takes them."""

    kind: Literal["ordering"]
    options: tuple[OptionId, ...] = Field(min_length=3, max_length=8)
    expect: tuple[OptionId, ...] | None = None

    category: ClassVar[Category] = "escalation"
    instruction: ClassVar[str] = "Put in order"
    learner_does: ClassVar[str] = "puts `options` (agent/action ids) in the order the pathway takes them"
    keyed_by: ClassVar[str] = (
        "the step of the population's pathway that first teaches each option (same step: either order)"
    )

    def answer_key(self, plan: StagePlan, kb: KnowledgeBase) -> AnswerKey:
        population = plan.patient.population
        pathway = kb.pathways[population]
        layers = pathway.layers()
        graded: dict[str, GradedChoice] = {}
        for o in self.options:
            name = kb.name(o)
            teaching = [
                s
                for s in pathway.steps
                if s.kind not in UNSEQUENCED_STEPS and (o in s.agents or o in s.actions)
            ]
            step = min(teaching, key=lambda s: layers[s.id], default=None)
            if step is None:
                why = (
                    f"The {POPULATION_LABELS[population]} pathway does not place {name} in its sequence: "
                    "it is taught only for severe disease (which can arise at any point), throughout, or not at all."
                )
                graded[o] = GradedChoice(o, name, "unplaced", why)
                continue
            why = f"Taught at the {step.title} step (step {layers[step.id] + 1} of the pathway)."
            graded[o] = GradedChoice(o, name, "ordered", why, step.sources, rank=layers[step.id])
        best = tuple(sorted(self.options, key=lambda o: _sort_rank(graded[o])))
        tiers: list[list[str]] = []
        for o in best:
            if graded[o].rank is None:
                continue  # not in the sequence: named after it, never as its last step
            if tiers and graded[tiers[-1][0]].rank == graded[o].rank:
                tiers[-1].append(o)
            else:
                tiers.append([o])
        why = (
            "The pathway's order: "
            + " → ".join(" / ".join(graded[o].name for o in tier) for tier in tiers)
            + "."
        )
        unplaced = [graded[o].name for o in best if graded[o].rank is None]
        if unplaced:
            why += f" Not in its sequence: {', '.join(unplaced)}."
        sources = tuple(dict.fromkeys(s for o in best for s in graded[o].sources))
        return AnswerKey("ordering", best, graded, frozenset(), None, plan.recommendation, why, sources)

    def mark(self, key: AnswerKey, answer: Answer, kb: KnowledgeBase) -> Marking:
        order = [o for o in dict.fromkeys(as_list(answer)) if o in key.graded]
        position = {o: i for i, o in enumerate(order)}
        pairs = ordered_pairs(key)
        right = {o: 0 for o in self.options}
        total = {o: 0 for o in self.options}
        concordant = 0
        for first, second in pairs:  # the pathway puts `first` before `second`
            total[first] += 1
            total[second] += 1
            if first in position and second in position and position[first] < position[second]:
                concordant += 1
                right[first] += 1
                right[second] += 1
        credit = concordant / len(pairs) if pairs else 1.0  # an unkeyable question (lint flags it)
        verdicts = []
        for o in [*order, *(o for o in self.options if o not in position)]:
            choice = key.graded[o]
            if o not in position:
                grade, placed = "missed", "Not placed"
            else:
                grade = "in_order" if right[o] == total[o] else "out_of_order"
                placed = f"Your position {position[o] + 1}"
            if choice.rank is None:
                grade = "unplaced"
            pairs_text = f"; in the right order against {right[o]} of {total[o]}" if total[o] else ""
            verdicts.append(Verdict(o, choice.name, grade, f"{placed}. {choice.why[:-1]}{pairs_text}."))
        return Marking(
            credit=credit,
            unsafe=False,
            verdicts=tuple(verdicts),
            best_text=" → ".join(key.graded[o].name for o in key.best),
            why=key.why,
        )

    def lint(self, key: AnswerKey, plan: StagePlan, kb: KnowledgeBase) -> list[Finding]:
        findings: list[Finding] = []
        pathway = POPULATION_LABELS[plan.patient.population]
        for index, o in enumerate(self.options):
            if key.graded[o].rank is None:
                findings.append(
                    (
                        ["options", index],
                        f"{o!r} is taught at no step of the {pathway} pathway's sequence (only for severe "
                        "disease, throughout, or nowhere): it cannot be ordered",
                    )
                )
        if not ordered_pairs(key):
            findings.append(
                (["options"], "the pathway puts all these options at the same step: nothing to order")
            )
        if self.expect is not None:
            if sorted(self.expect) != sorted(self.options):
                findings.append((["expect"], "expect must list every option once, in order"))
            else:
                at = {o: i for i, o in enumerate(self.expect)}
                wrong = [(a, b) for a, b in ordered_pairs(key) if at[a] > at[b]]
                if wrong:
                    a, b = wrong[0]
                    findings.append(
                        (
                            ["expect"],
                            f"expect puts {names(b)} before {names(a)} but the pathway's order is "
                            f"{names(key.best)}",
                        )
                    )
        return findings

    def best_answer(self, key: AnswerKey) -> Answer:
        return list(key.best)


def ordered_pairs(key: AnswerKey) -> list[tuple[str, str]]:
    """The pairs of options the pathway orders, (earlier, later); same-step and unplaced pairs are free."""
    pairs = []
    for a, b in combinations(key.graded, 2):
        ra, rb = key.graded[a].rank, key.graded[b].rank
        if ra is None or rb is None or ra == rb:
            continue
        pairs.append((a, b) if ra < rb else (b, a))
    return pairs


def _sort_rank(choice: GradedChoice) -> float:
    return float("inf") if choice.rank is None else choice.rank
