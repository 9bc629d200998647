"""The escalation pathways page's sections: the flowchart (click a step, or choose it) and a step's detail
panel with its agents, doses, prerequisites, monitoring and sources. Each is a function AppTest can run
alone."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import streamlit as st

from dashboard.browser import key_class, scroll_into_view
from dashboard.figures import (
    Highlight,
    pathway_figure,
    pathway_key,
    selected_node,
    static,
    transition_key,
)
from dashboard.player.memo import Memo
from logic import KnowledgeBase
from logic.knowledge import Pathway, SourcedText
from logic.vocabulary import ACTION_CATEGORY_LABELS, NO_DOSE, STEP_KIND_LABELS, Population

DETAIL_KEY = "pw_detail"  # the step detail panel's key (and CSS class st-key-pw_detail)
SCROLL = "pw_scroll"  # a counter: each new choice of a step scrolls the detail panel into view once


_FIGURES = Memo(64)  # (kb, population, selected step) -> the flowchart, built once, drawn on every rerun


def _figure(population: Population, selected: str | None, kb: KnowledgeBase) -> go.Figure:
    return _FIGURES.get(
        (id(kb), population, selected),
        lambda: static(pathway_figure(kb.pathways[population], kb, selected_step=selected)),
    )


def _sourced(items: Sequence[SourcedText], label: str, kb: KnowledgeBase) -> None:
    if items:
        st.markdown(f"**{label}**")
        for item in items:
            links = kb.citations(item.sources)
            st.markdown(f"- {item.text}" + (f" — *{links}*" if links else ""))


def _chosen() -> None:
    """The selectbox chose a step: bring its detail into view on the rerun."""
    st.session_state[SCROLL] = st.session_state.get(SCROLL, 0) + 1


def flowchart(population: Population, kb: KnowledgeBase) -> str | None:
    """The pathway's flowchart, the key to its letters, and the step selectbox; returns the chosen step id.

    A click anywhere on a box (a plotly point selection) chooses the step, once per new click; the
    selectbox is the keyboard-accessible fallback and the single source of truth (session key "pw_step")."""
    pathway = kb.pathways[population]
    step_ids = [s.id for s in pathway.steps]
    chart_key = f"pw_chart_{population}"
    clicked = selected_node(st.session_state.get(chart_key))
    if clicked in step_ids and clicked != st.session_state.get("pw_last_click"):
        st.session_state["pw_step"] = clicked
        _chosen()
    st.session_state["pw_last_click"] = clicked
    if st.session_state.get("pw_step") not in step_ids:
        st.session_state["pw_step"] = None

    selected = st.session_state.get("pw_step")
    chart, key = st.columns([3, 2], gap="medium")  # side by side on a screen, the key below on a phone
    chart.plotly_chart(
        _figure(population, selected, kb),
        on_select="rerun",
        selection_mode="points",
        key=chart_key,
        config={"displayModeBar": False},
    )
    with key:
        st.markdown("**How the steps connect** (the letters on the arrows)")
        st.markdown("\n".join(f"- {line}" for line in transition_key(pathway)))
        marks: tuple[Highlight, ...] = ("selected",) if selected else ()
        st.caption(pathway_key(pathway, marks))
    step_id: str | None = st.selectbox(
        "Step details",
        step_ids,
        format_func=lambda s: pathway.step(s).title,
        index=None,
        placeholder="Choose a step (or click one in the flowchart)",
        key="pw_step",
        on_change=_chosen,
    )
    return step_id


def bring_detail_into_view() -> None:
    """After a step was chosen (a click or the selectbox), scroll its detail panel into view, once."""
    count = st.session_state.get(SCROLL, 0)
    if count and st.session_state.get("pw_scrolled") != count:
        st.session_state["pw_scrolled"] = count
        scroll_into_view(key_class(DETAIL_KEY), str(count))


def step_detail(pathway: Pathway, step_id: str, kb: KnowledgeBase) -> None:
    """A step: summary, sources, where it is reached from and leads to, its agents (with doses) and actions."""
    step = pathway.step(step_id)
    with st.container(border=True, key=DETAIL_KEY):
        st.subheader(step.title)
        st.caption(f"Step kind: {STEP_KIND_LABELS[step.kind]} · {pathway.title}")
        st.markdown(step.summary)
        links = kb.citations(step.sources)
        if links:
            st.caption(f"Sources: {links}")

        incoming = [t for t in pathway.transitions if t.to == step.id]
        outgoing = [t for t in pathway.transitions if t.from_ == step.id]
        if incoming or outgoing:
            cols = st.columns(2)
            with cols[0]:
                st.markdown("**Reached from**")
                for t in incoming:
                    st.markdown(
                        f"- {pathway.step(t.from_).title}: *{t.condition}* ({kb.citations(t.sources)})"
                    )
                if not incoming:
                    st.markdown("- (entry step)")
            with cols[1]:
                st.markdown("**Leads to**")
                for t in outgoing:
                    st.markdown(f"- {pathway.step(t.to).title}: *{t.condition}* ({kb.citations(t.sources)})")
                if not outgoing:
                    st.markdown("- (no further step)")

        if step.agents:
            st.markdown("#### Agents")
        for agent_id in step.agents:
            agent = kb.agents[agent_id]
            with st.expander(f"{agent.name} ({agent.class_})", expanded=len(step.agents) <= 3):
                regimens = agent.regimens_for(pathway.population)
                if not regimens:
                    st.markdown(f"**Dose:** *{NO_DOSE}* for this population.")
                for regimen in regimens:
                    st.markdown(f"- **{regimen.label}** — *{kb.citations(regimen.sources)}*")
                if agent.prerequisites:
                    st.markdown("**Prerequisites:** " + ", ".join(kb.name(a) for a in agent.prerequisites))
                if agent.monitoring:
                    st.markdown("**Monitoring:** " + ", ".join(kb.name(m) for m in agent.monitoring))
                _sourced(agent.cautions, "Cautions", kb)
                _sourced(agent.faculty_notes, "Faculty notes", kb)

        if step.actions:
            st.markdown("#### Actions")
            for action_id in step.actions:
                action = kb.actions[action_id]
                st.markdown(
                    f"- **{action.name}** ({ACTION_CATEGORY_LABELS[action.category].lower()}): {action.why} "
                    f"— *{kb.citations(action.sources)}*"
                )
