"""Rows of the reference page's Evidence view: the claim register with each claim's check result. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from logic.claims import STRENGTH_LABELS, register_rows, run_register
from logic.knowledge import KnowledgeBase

EVIDENCE_COLUMNS = ("Claim", "Source", "Where", "Strength", "Implemented by", "Check")


def evidence_rows(kb: KnowledgeBase) -> list[dict[str, str]]:
    """One row per claim of the register, in register order, its checks run now."""
    return register_rows(kb, run_register(kb))


def filter_evidence(
    rows: Sequence[dict[str, str]], query: str, strengths: Iterable[str] = ()
) -> list[dict[str, str]]:
    """Rows in which every word of the query appears (case-insensitive), of the chosen strengths (if any)."""
    words = query.lower().split()
    wanted = set(strengths)
    out = []
    for row in rows:
        if wanted and row["Strength"] not in wanted:
            continue
        haystack = " | ".join(row.values()).lower()
        if all(word in haystack for word in words):
            out.append(row)
    return out


def summary(rows: Sequence[dict[str, str]]) -> str:
    failing = sum(1 for r in rows if r["Check"].startswith("FAIL"))
    checks = sum(int(r["Check"].split("(")[1].rstrip(")")) for r in rows if r["Check"].startswith("pass"))
    if failing:
        return f"{len(rows)} claims: {failing} with a failing check"
    return f"{len(rows)} claims, {checks} checks: every check passes"


STRENGTHS = tuple(STRENGTH_LABELS.values())
