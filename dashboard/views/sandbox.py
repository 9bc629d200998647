"""What-if sandbox: edit a patient and see, live, how the rules grade every option, with doses and sources.

The sections are in dashboard/sandbox.py."""

from __future__ import annotations

import streamlit as st

from dashboard import sandbox
from dashboard.context import get_kb, get_library

kb = get_kb()
sandbox.start_with_default(kb)
st.title("What-if sandbox")
st.caption(
    "Change the patient and watch how the rules grade each option. For teaching only: the grades come "
    "from the app's teaching rules and their sources, not from a clinical decision system."
)
sandbox.start_from_case(get_library(), kb)
left, right = st.columns([1, 1.6], gap="large")  # side by side; on a phone the results follow
with left:
    data = sandbox.patient_inputs(kb)
with right:
    patient = sandbox.valid_patient(data, kb)
    if patient is not None:
        sandbox.results(patient, kb)
