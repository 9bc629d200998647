"""The reference page's sections: the formulary as a searchable table, one agent's detail, the actions
and monitoring items, each with its sources. Each is a function AppTest can run alone."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard.evidence_table import (
    EVIDENCE_COLUMNS,
    STRENGTHS,
    claim_detail,
    evidence_rows,
    filter_evidence,
    summary,
)
from dashboard.formulary_table import COLUMNS, filter_rows, formulary_rows
from dashboard.wording import count
from logic import KnowledgeBase
from logic.knowledge import SourcedText
from logic.vocabulary import (
    ACTION_CATEGORY_LABELS,
    MANIFESTATION_LABELS,
    NO_DOSE,
    POPULATION_LABELS,
    POPULATIONS,
)


@st.cache_data(show_spinner=False)
def _rows(_kb: KnowledgeBase) -> list[dict[str, str]]:
    return formulary_rows(_kb)  # (one knowledge base per process: not part of the cache key)


@st.cache_data(show_spinner=False)
def _evidence(_kb: KnowledgeBase) -> list[dict[str, str]]:
    return evidence_rows(_kb)


def _sourced(items: Sequence[SourcedText], label: str, kb: KnowledgeBase) -> None:
    st.markdown(f"**{label}**")
    if not items:
        st.markdown("- none")
    for item in items:
        links = kb.citations(item.sources)
        st.markdown(f"- {item.text}" + (f" — *{links}*" if links else ""))


def agent_card(row: dict[str, str]) -> str:
    """One agent of the formulary as a card (Markdown): it wraps on any screen, where a wide table would
    make a phone scroll sideways."""
    lines = [f"**{row['Agent']}** · {row['Class']}"]
    for column in COLUMNS[2:-1]:
        if row[column]:
            lines.append(f"- {column}: {row[column]}")
    if row["Sources"]:
        lines.append(f"\n*{row['Sources']}*")
    return "\n".join(lines)


def formulary(kb: KnowledgeBase) -> None:
    """Every agent as a card, filtered by the search words."""
    rows = _rows(kb)
    query = st.text_input(
        "Search", key="ref_search", placeholder="e.g. TNF, IgA, lipids, JDM…", help="Every word must match."
    )
    shown = filter_rows(rows, query)
    st.caption(f"{len(shown)} of {count(len(rows), 'agent')}")
    columns = st.columns(2)  # two cards a row on a screen, one on a phone
    for n, row in enumerate(shown):
        with columns[n % 2].container(border=True):
            st.markdown(agent_card(row))


def agent_detail(kb: KnowledgeBase) -> None:
    """One agent: class, route, regimens per population, prerequisites, monitoring, cautions, notes."""
    agent_id = st.selectbox("Agent", list(kb.agents), format_func=kb.name, key="ref_agent")
    agent = kb.agents[agent_id]
    st.subheader(agent.name)
    st.markdown(f"Class: **{agent.class_}** · route: **{agent.route or 'not stated in the sources'}**")
    if agent.preferred_for:
        st.markdown(
            "**Preferred for:** " + ", ".join(MANIFESTATION_LABELS[m].lower() for m in agent.preferred_for)
        )
    st.markdown("**Regimens**")
    for population in POPULATIONS:
        regimens = agent.regimens_for(population)
        who = POPULATION_LABELS[population]
        if not regimens:
            st.markdown(f"- *{who}*: {NO_DOSE}")
        for r in regimens:
            amount = "–".join(dict.fromkeys(f"{v:g}" for v in r.amount))
            weight = " of ideal body weight" if r.weight == "ideal" else ""
            ceiling_sources = f" ({kb.citations(r.ceiling.sources)})" if r.ceiling is not None else ""
            st.markdown(
                f"- *{who}*: **{amount} {r.unit}**{weight}, schedule: {r.schedule}; {r.ceiling_text}"
                f"{ceiling_sources} — *{kb.citations(r.sources)}*"
            )
    st.markdown(
        "**Prerequisites:** " + (", ".join(kb.name(p) for p in agent.prerequisites) or "none in the sources")
    )
    st.markdown(
        "**Monitoring:** " + (", ".join(kb.name(m) for m in agent.monitoring) or "none in the sources")
    )
    _sourced(agent.cautions, "Cautions", kb)
    _sourced(agent.faculty_notes, "Faculty notes", kb)


def actions(kb: KnowledgeBase) -> None:
    """The actions by category, then the monitoring items, each with why and sources."""
    for category, label in ACTION_CATEGORY_LABELS.items():
        listed = [a for a in kb.actions.values() if a.category == category]
        if not listed:
            continue
        st.markdown(f"#### {label}")
        for action in listed:
            st.markdown(f"- **{action.name}**: {action.why} — *{kb.citations(action.sources)}*")
    st.markdown("#### Monitoring items")
    for item in kb.monitoring.values():
        st.markdown(f"- **{item.label}** — *{kb.citations(item.sources)}*")


def evidence(kb: KnowledgeBase) -> None:
    """The claim register: each claim in our words, where its source says it, how strongly, what implements
    it, and whether its executable check passes now; searchable, one claim read in full below."""
    st.markdown(
        "Every clinical claim the app grades with, from its sources: the claim in our words, where the source "
        "says it, how strongly (*recommend* is not *may consider*), what in the app implements it, and whether "
        "its executable check passes right now. *Sources silent* marks the app's own conservative choices."
    )
    rows = _evidence(kb)
    left, right = st.columns([3, 2])
    with left:
        query = st.text_input(
            "Search the evidence",
            key="evidence_search",
            placeholder="e.g. IVIG, ideal body weight, tuberculosis…",
            help="Every word must match.",
        )
    with right:
        strengths = st.multiselect("Strength", STRENGTHS, key="evidence_strength", placeholder="any strength")
    shown = filter_evidence(rows, query, strengths)
    st.caption(f"Showing {len(shown)} of {count(len(rows), 'claim')} · {summary(rows)}")
    st.dataframe(
        pd.DataFrame(shown, columns=list(EVIDENCE_COLUMNS)),
        hide_index=True,
        key="evidence_table",
        # Three columns fit a phone; the source, where and what implements a claim are read in full below.
        column_order=("Check", "Strength", "Claim"),
        column_config={
            "Check": st.column_config.TextColumn(width="small"),
            "Strength": st.column_config.TextColumn(width="small"),
            "Claim": st.column_config.TextColumn(width="large"),
        },
    )
    if shown:
        by_claim = {row["Claim"]: row for row in shown}
        chosen = st.selectbox("Read one claim in full", list(by_claim), key="evidence_claim")
        st.markdown(claim_detail(by_claim.get(chosen or "", shown[0])))
