"""Reference: the formulary as a searchable table, each agent's detail, the actions with why and sources,
and the evidence: the claim register, so a teacher can see where every graded answer comes from."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.common import source_links
from dashboard.evidence_table import (
    EVIDENCE_COLUMNS,
    STRENGTHS,
    claim_detail,
    evidence_rows,
    filter_evidence,
    summary,
)
from dashboard.formulary_table import COLUMNS, NO_DOSE, POPULATION_LABELS, filter_rows, formulary_rows
from logic import load_knowledge_base

kb = load_knowledge_base()


@st.cache_data(show_spinner=False)
def _rows() -> list[dict[str, str]]:
    return formulary_rows(load_knowledge_base())


@st.cache_data(show_spinner=False)
def _evidence() -> list[dict[str, str]]:
    return evidence_rows(load_knowledge_base())


def _sourced(items, label: str) -> None:  # type: ignore[no-untyped-def]
    st.markdown(f"**{label}**")
    if not items:
        st.markdown("- none")
    for item in items:
        links = source_links(item.sources)
        st.markdown(f"- {item.text}" + (f" — *{links}*" if links else ""))


st.title("Reference")
st.caption(
    "The formulary, exactly as the app's sources give it. Where the sources give no dose, none is shown."
)

tab_formulary, tab_agent, tab_actions, tab_evidence = st.tabs(
    ["Formulary", "Agent detail", "Actions", "Evidence"]
)

with tab_formulary:
    rows = _rows()
    query = st.text_input(
        "Search", key="ref_search", placeholder="e.g. TNF, IgA, lipids, JDM…", help="Every word must match."
    )
    shown = filter_rows(rows, query)
    st.caption(f"{len(shown)} of {len(rows)} agents")
    st.dataframe(
        pd.DataFrame(shown, columns=list(COLUMNS)),
        hide_index=True,
        key="ref_table",
        height=36 * (len(shown) + 1) + 3,
        column_config={
            "Adult regimen": st.column_config.TextColumn(width="large"),
            "JDM regimen": st.column_config.TextColumn(width="large"),
        },
    )

with tab_agent:
    agent_id = st.selectbox("Agent", list(kb.agents), format_func=kb.name, key="ref_agent")
    agent = kb.agents[agent_id]
    st.subheader(agent.name)
    facts = [f"Class: **{agent.class_}**"]
    facts.append(f"route: **{agent.route or 'not stated in the sources'}**")
    st.markdown(" · ".join(facts))
    if agent.preferred_for:
        st.markdown("**Preferred for:** " + ", ".join(m.replace("_", " ") for m in agent.preferred_for))
    st.markdown("**Regimens**")
    for population in ("adult", "juvenile"):
        regimens = agent.regimens_for(population)  # type: ignore[arg-type]
        who = POPULATION_LABELS[population]
        if not regimens:
            st.markdown(f"- *{who}*: {NO_DOSE}")
        for r in regimens:
            amount = "–".join(dict.fromkeys(f"{v:g}" for v in r.amount))
            weight = " of ideal body weight" if r.weight == "ideal" else ""
            ceiling_sources = f" ({source_links(r.ceiling.sources)})" if r.ceiling is not None else ""
            st.markdown(
                f"- *{who}*: **{amount} {r.unit}**{weight}, schedule: {r.schedule}; {r.ceiling_text}"
                f"{ceiling_sources} — *{source_links(r.sources)}*"
            )
    st.markdown(
        "**Prerequisites:** " + (", ".join(kb.name(p) for p in agent.prerequisites) or "none in the sources")
    )
    st.markdown(
        "**Monitoring:** " + (", ".join(kb.name(m) for m in agent.monitoring) or "none in the sources")
    )
    _sourced(agent.cautions, "Cautions")
    _sourced(agent.faculty_notes, "Faculty notes")

with tab_actions:
    for category in ("safety", "escalation", "supportive"):
        actions = [a for a in kb.actions.values() if a.category == category]
        if not actions:
            continue
        st.markdown(f"#### {category.capitalize()}")
        for action in actions:
            st.markdown(f"- **{action.name}**: {action.why} — *{source_links(action.sources)}*")
    st.markdown("#### Monitoring items")
    for item in kb.monitoring.values():
        st.markdown(f"- **{item.label}** — *{source_links(item.sources)}*")

with tab_evidence:
    st.markdown(
        "Every clinical claim the app grades with, from its sources: the claim in our words, where the source "
        "says it, how strongly (*recommend* is not *may consider*), what in the app implements it, and whether "
        "its executable check passes right now. *Sources silent* marks the app's own conservative choices."
    )
    evidence = _evidence()
    left, right = st.columns([3, 2])
    with left:
        evidence_query = st.text_input(
            "Search the evidence",
            key="evidence_search",
            placeholder="e.g. IVIG, ideal body weight, tuberculosis…",
            help="Every word must match.",
        )
    with right:
        strengths = st.multiselect("Strength", STRENGTHS, key="evidence_strength", placeholder="any strength")
    shown_evidence = filter_evidence(evidence, evidence_query, strengths)
    st.caption(f"Showing {len(shown_evidence)} of {len(evidence)} claims · {summary(evidence)}")
    st.dataframe(
        pd.DataFrame(shown_evidence, columns=list(EVIDENCE_COLUMNS)),
        hide_index=True,
        key="evidence_table",
        column_config={
            "Check": st.column_config.TextColumn(width="small"),
            "Strength": st.column_config.TextColumn(width=115),
            "Claim": st.column_config.TextColumn(width="large"),
            "Source": st.column_config.TextColumn(width="medium"),
            "Implemented by": st.column_config.TextColumn(width="large"),
        },
    )
    if shown_evidence:
        by_claim = {row["Claim"]: row for row in shown_evidence}
        chosen = st.selectbox("Read one claim in full", list(by_claim), key="evidence_claim")
        st.markdown(claim_detail(by_claim.get(chosen or "", shown_evidence[0])))
