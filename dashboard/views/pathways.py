"""Escalation pathway explorer: the adult and JDM pathways as clickable flowcharts, with a step detail panel.

The sections are in dashboard/pathways.py."""

from __future__ import annotations

import streamlit as st

from dashboard import pathways
from dashboard.context import get_kb
from logic.vocabulary import PATHWAY_LABELS, POPULATIONS, Population

kb = get_kb()
st.title("Escalation pathways")
st.caption(
    "How treatment escalates, step by step, as the sources describe it. Click a step in the flowchart "
    "(or choose it below) to see its agents, doses, prerequisites, monitoring and sources."
)
population: Population = st.radio(
    "Pathway", POPULATIONS, format_func=PATHWAY_LABELS.__getitem__, horizontal=True, key="pw_population"
)
step_id = pathways.flowchart(population, kb)
if step_id is None:
    st.info("Choose a step to see its details.")
else:
    pathways.step_detail(kb.pathways[population], step_id, kb)
    pathways.bring_detail_into_view()
