"""Select-all marking, shared by the kinds whose learner ticks every item that applies (prerequisites,
monitoring): credit (hits - extras) / items to select, never below 0."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..recommend import Recommendation
from .base import Answer, AnswerKey, Finding, GradedChoice, Marking, Verdict, as_list, names

NOT_NEEDED = "Not needed for this patient now."


def selection_key(
    kind: str,
    options: Sequence[str],
    correct: frozenset[str],
    item: Callable[[str], tuple[str, str, tuple[str, ...]]],
    recommendation: Recommendation,
    why: str,
    sources: tuple[str, ...],
) -> AnswerKey:
    """The key of a select-all question: each option "needed" (with its reason and sources) or not.

    ``item(option)`` gives the option's name, its reason and its sources."""
    graded: dict[str, GradedChoice] = {}
    for o in options:
        name, reason, item_sources = item(o)
        needed = o in correct
        graded[o] = GradedChoice(
            o,
            name,
            "needed" if needed else "not_needed",
            reason if needed else NOT_NEEDED,
            item_sources if needed else (),
        )
    best = tuple(o for o in options if o in correct)
    return AnswerKey(kind, best, graded, correct, None, recommendation, why, sources)


def expect_findings(expect: Sequence[str] | None, correct: frozenset[str]) -> list[Finding]:
    """Where the author's ``expect`` and the items the logic says are needed disagree."""
    if expect is None or set(expect) == set(correct):
        return []
    return [(["expect"], f"expect says {names(sorted(expect))} but the logic says {names(sorted(correct))}")]


def mark_selection(
    options: tuple[str, ...],
    key: AnswerKey,
    answer: Answer,
    *,
    missing_is_unsafe: bool,
    note_options: tuple[str, ...] = (),
) -> Marking:
    """Each item hit ("correct"), missed ("missed") or picked needlessly ("extra"), with its reason."""
    selected = [c for c in dict.fromkeys(as_list(answer)) if c in options]
    hits = [c for c in selected if c in key.correct]
    extras = [c for c in selected if c not in key.correct]
    missed = [c for c in options if c in key.correct and c not in selected]
    if key.correct:
        credit = max(0.0, (len(hits) - len(extras)) / len(key.correct))
    else:
        credit = 0.0 if extras else 1.0
    name = {o: key.graded[o].name for o in options}
    verdicts = (
        *(Verdict(c, name[c], "correct", key.graded[c].why) for c in hits),
        *(Verdict(c, name[c], "missed", key.graded[c].why) for c in missed),
        *(Verdict(c, name[c], "extra", NOT_NEEDED) for c in extras),
    )
    return Marking(
        credit=credit,
        unsafe=missing_is_unsafe and bool(missed),
        verdicts=verdicts,
        best_text=", ".join(name[b] for b in key.best) or "none",
        why=key.why,
        note_options=note_options,
    )
