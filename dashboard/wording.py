"""How numbers and counts read in the app and its exports: "2 stages", "1 question", "0.5", never
"stage(s)" or "50.0". Pure: no streamlit."""

from __future__ import annotations

from collections.abc import Sequence


def number(value: float, places: int = 1) -> str:
    """A number as a person writes it: at most ``places`` decimals, no trailing zeros (50, 0.5, 33.3)."""
    rounded = round(float(value), places)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{places}f}".rstrip("0").rstrip(".")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 stage", "3 stages" ("1 point", "2.5 points" with a number for n)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def points(value: float) -> str:
    """Points as a learner reads them: "1 point", "0.5 points", "2 points"."""
    shown = number(value)
    return f"{shown} point" if shown == "1" else f"{shown} points"


def and_list(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
