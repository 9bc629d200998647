"""Reference: the formulary as a searchable table, each agent's detail, the actions with why and sources,
and the evidence: the claim register, so a teacher can see where every graded answer comes from.

The sections are in dashboard/reference.py."""

from __future__ import annotations

import streamlit as st

from dashboard import reference
from dashboard.context import get_kb

kb = get_kb()
st.title("Reference")
st.caption(
    "The formulary, exactly as the app's sources give it. Where the sources give no dose, none is shown."
)
tab_formulary, tab_agent, tab_actions, tab_evidence = st.tabs(
    ["Formulary", "Agent detail", "Actions", "Evidence"]
)
with tab_formulary:
    reference.formulary(kb)
with tab_agent:
    reference.agent_detail(kb)
with tab_actions:
    reference.actions(kb)
with tab_evidence:
    reference.evidence(kb)
