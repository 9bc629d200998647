"""Select-all marking, shared by the kinds whose learner ticks every item that applies (prerequisites,
monitoring): credit (hits - extras) / items to select, never below 0."""

from __future__ import annotations

from collections.abc import Callable

from .base import Answer, AnswerKey, Marking, Verdict, as_list

NOT_NEEDED = "Not needed for this patient now."


def mark_selection(
    options: tuple[str, ...],
    key: AnswerKey,
    answer: Answer,
    reason: Callable[[str], str],
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
        *(Verdict(c, name[c], "correct", reason(c)) for c in hits),
        *(Verdict(c, name[c], "missed", reason(c)) for c in missed),
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
