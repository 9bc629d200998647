"""Rows of the reference formulary table, from the knowledge base. Pure: no streamlit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from logic.knowledge import Agent, KnowledgeBase
from logic.vocabulary import NO_DOSE, POPULATION_LABELS, Population

__all__ = [
    "COLUMNS",
    "agent_sources",
    "filter_rows",
    "formulary_rows",
    "maximum_text",
    "regimen_text",
]

COLUMNS = (
    "Agent",
    "Class",
    "Adult regimen",
    "JDM regimen",
    "Maximum",
    "Prerequisites",
    "Monitoring",
    "Sources",
)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def agent_sources(agent: Agent) -> list[str]:
    """Every source cited for an agent: regimens, then cautions and faculty notes, without repeats."""
    return _unique(
        [s for r in agent.regimens for s in r.sources]
        + [s for t in (*agent.cautions, *agent.faculty_notes) for s in t.sources]
    )


def regimen_text(agent: Agent, population: Population) -> str:
    regimens = agent.regimens_for(population)
    if not regimens:
        return NO_DOSE
    return "; ".join(r.label for r in regimens)


def maximum_text(agent: Agent) -> str:
    """Each regimen's ceiling as the sources state it, or that they state none."""
    caps = [f"{POPULATION_LABELS[r.population]}: {r.ceiling_text}" for r in agent.regimens]
    return "; ".join(_unique(caps))


def formulary_rows(kb: KnowledgeBase) -> list[dict[str, str]]:
    """One row per agent, in formulary order, with the columns of COLUMNS (all strings)."""
    rows = []
    for agent in kb.agents.values():
        rows.append(
            {
                "Agent": agent.name,
                "Class": agent.class_,
                "Adult regimen": regimen_text(agent, "adult"),
                "JDM regimen": regimen_text(agent, "juvenile"),
                "Maximum": maximum_text(agent),
                "Prerequisites": ", ".join(kb.name(p) for p in agent.prerequisites),
                "Monitoring": ", ".join(kb.name(m) for m in agent.monitoring),
                "Sources": "; ".join(kb.sources[s].label for s in agent_sources(agent) if s in kb.sources),
            }
        )
    return rows


def filter_rows(rows: Sequence[dict[str, str]], query: str) -> list[dict[str, str]]:
    """Rows in which every word of the query appears (case-insensitive) in some column."""
    words = query.lower().split()
    if not words:
        return list(rows)
    out = []
    for row in rows:
        haystack = " | ".join(row.values()).lower()
        if all(word in haystack for word in words):
            out.append(row)
    return out
