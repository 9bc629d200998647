"""Rows of the reference page's Evidence view: the claim register with each claim's check result. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dashboard.wording import count
from logic.claims import STRENGTH_LABELS, register_rows, run_register
from logic.knowledge import KnowledgeBase

# Check and strength first: a teacher scans those, then reads the claim and where it comes from.
EVIDENCE_COLUMNS = ("Check", "Strength", "Claim", "Source", "Where", "Implemented by")


def evidence_rows(kb: KnowledgeBase) -> list[dict[str, str]]:
    """One row per claim of the register, in register order, its checks run now (columns as EVIDENCE_COLUMNS)."""
    return [
        {column: row[column] for column in EVIDENCE_COLUMNS} for row in register_rows(kb, run_register(kb))
    ]


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
        return f"{count(failing, 'claim')} with a failing check"
    return f"{checks} checks, every one passes"


def claim_detail(row: dict[str, str]) -> str:
    """One claim in full, as Markdown (the table cuts long text; a phone shows few columns)."""
    implementers = "\n".join(f"  - {part}" for part in row["Implemented by"].split("; "))
    return (
        f"**{row['Claim']}**\n\n"
        f"- Source: {row['Source']}, {row['Where'].lower()}\n"
        f"- Strength: *{row['Strength']}*\n"
        f"- Check: {row['Check']}\n"
        f"- Implemented by:\n{implementers}"
    )


STRENGTHS = tuple(STRENGTH_LABELS.values())
