"""Escalation pathway explorer: the adult and JDM pathways as clickable flowcharts, with a step detail panel."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.common import source_links
from dashboard.figures import KIND_LABELS, NO_DOSE, pathway_figure, selected_node
from logic import load_knowledge_base

POPULATIONS = {"adult": "Adult DM / myositis", "juvenile": "Juvenile DM (JDM)"}


@st.cache_data(show_spinner=False, max_entries=64)
def _figure(population: str, selected: str | None) -> go.Figure:
    return pathway_figure(load_knowledge_base().pathways[population], selected_step=selected)  # type: ignore[index]


def _sourced(items, label: str) -> None:  # type: ignore[no-untyped-def]
    if items:
        st.markdown(f"**{label}**")
        for item in items:
            links = source_links(item.sources)
            st.markdown(f"- {item.text}" + (f" — *{links}*" if links else ""))


kb = load_knowledge_base()
st.title("Escalation pathways")
st.caption(
    "How treatment escalates, step by step, as the sources describe it. Click a step in the flowchart "
    "(or choose it below) to see its agents, doses, prerequisites, monitoring and sources."
)

population = st.radio(
    "Pathway", list(POPULATIONS), format_func=POPULATIONS.__getitem__, horizontal=True, key="pw_population"
)
pathway = kb.pathways[population]  # type: ignore[index]
step_ids = [s.id for s in pathway.steps]
chart_key = f"pw_chart_{population}"

# A click in the chart (a plotly point selection) chooses the step, once per new click; the selectbox
# below is the keyboard-accessible fallback and the single source of truth (session key "pw_step").
clicked = selected_node(st.session_state.get(chart_key))
if clicked in step_ids and clicked != st.session_state.get("pw_last_click"):
    st.session_state["pw_step"] = clicked
st.session_state["pw_last_click"] = clicked
if st.session_state.get("pw_step") not in step_ids:
    st.session_state["pw_step"] = None

selected = st.session_state.get("pw_step")
st.plotly_chart(
    _figure(population, selected),
    on_select="rerun",
    selection_mode="points",
    key=chart_key,
    config={"displayModeBar": False},
)
step_id = st.selectbox(
    "Step details",
    step_ids,
    format_func=lambda s: pathway.step(s).title,
    index=None,
    placeholder="Choose a step (or click one in the flowchart)",
    key="pw_step",
)

if step_id is None:
    st.info("Choose a step to see its details.")
else:
    step = pathway.step(step_id)
    with st.container(border=True, key="pw_detail"):
        st.subheader(step.title)
        st.caption(f"Step kind: {KIND_LABELS.get(step.kind, step.kind)} · {pathway.title}")
        st.markdown(step.summary)
        links = source_links(step.sources)
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
                        f"- {pathway.step(t.from_).title}: *{t.condition}* ({source_links(t.sources)})"
                    )
                if not incoming:
                    st.markdown("- (entry step)")
            with cols[1]:
                st.markdown("**Leads to**")
                for t in outgoing:
                    st.markdown(f"- {pathway.step(t.to).title}: *{t.condition}* ({source_links(t.sources)})")
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
                    st.markdown(f"- **{regimen.label}** — *{source_links(regimen.sources)}*")
                if agent.prerequisites:
                    st.markdown("**Prerequisites:** " + ", ".join(kb.name(a) for a in agent.prerequisites))
                if agent.monitoring:
                    st.markdown("**Monitoring:** " + ", ".join(kb.name(m) for m in agent.monitoring))
                _sourced(agent.cautions, "Cautions")
                _sourced(agent.faculty_notes, "Faculty notes")

        if step.actions:
            st.markdown("#### Actions")
            for action_id in step.actions:
                action = kb.actions[action_id]
                st.markdown(
                    f"- **{action.name}** ({action.category}): {action.why} — *{source_links(action.sources)}*"
                )
