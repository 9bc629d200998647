"""The what-if sandbox's sections: edit a patient (or start from a case's), and see how the rules grade every
option, with doses, missing prerequisites, monitoring and the flowchart position. Each section is a
function AppTest can run alone; the allowed values and their labels come from ``logic.vocabulary``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pydantic
import streamlit as st

from dashboard import icons
from dashboard.figures import pathway_figure
from dashboard.style import GRADE_BADGES, GRADE_COLOURS
from logic import KnowledgeBase, Library, Patient, Recommendation, recommend, validation_context
from logic.vocabulary import (
    DIAGNOSES,
    DIAGNOSIS_LABELS,
    GRADE_LABELS,
    GRADES,
    LAB_LABELS,
    LAB_NAMES,
    LAB_VALUE_LABELS,
    LAB_VALUES,
    MANIFESTATION_LABELS,
    MANIFESTATIONS,
    OPTION_KIND_LABELS,
    PATHWAY_LABELS,
    SEVERITIES,
    SEVERITY_LABELS,
    SEX_LABELS,
    SEXES,
    OptionKind,
    Population,
)

UNSPECIFIED = "unspecified"  # the sex selectbox's value for "not given"
OPTION_KINDS: tuple[OptionKind, ...] = ("agent", "action")
DEFAULT_PATIENT: dict[str, Any] = {
    "age": 50,
    "sex": "female",
    "weight_kg": 70,
    "height_cm": 168,
    "diagnosis": "dermatomyositis",
    "manifestations": ["skin", "muscle"],
    "severity": "moderate",
    "current": [{"agent": "prednisone", "months": 1}],
}


def put_patient(patient: Patient) -> None:
    """Put a patient into the widgets (session state, before the widgets are drawn)."""
    ss = st.session_state
    ss["sb_age"] = float(patient.age)
    ss["sb_sex"] = patient.sex or UNSPECIFIED
    ss["sb_weight"] = float(patient.weight_kg)
    ss["sb_height"] = None if patient.height_cm is None else float(patient.height_cm)
    ss["sb_diagnosis"] = patient.diagnosis
    ss["sb_manifestations"] = list(patient.manifestations)
    ss["sb_severity"] = patient.severity
    ss["sb_current"] = list(patient.current_ids)
    for c in patient.current:
        ss[f"sb_months_{c.agent}"] = float(c.months)
    ss["sb_failed"] = list(patient.failed)
    for lab in LAB_NAMES:
        ss[f"sb_{lab}"] = getattr(patient.labs, lab)
    ss["sb_infections"] = patient.infections
    ss["sb_cytopenias"] = patient.cytopenias


def start_with_default(kb: KnowledgeBase) -> None:
    """The default patient in the widgets, on a session's first visit."""
    if "sb_age" not in st.session_state:
        put_patient(Patient.model_validate(DEFAULT_PATIENT, context=validation_context(kb)))


def _load_case(library: Library, kb: KnowledgeBase) -> None:
    loaded = library.cases.get(st.session_state.get("sb_case") or "")
    if loaded is None:
        return
    patients = loaded.case.patients(kb)
    stage = int(st.session_state.get("sb_stage") or 0)
    put_patient(patients[min(stage, len(patients) - 1)])
    st.session_state["sb_loaded"] = f"{loaded.case.title}, stage {stage + 1}"


def start_from_case(library: Library, kb: KnowledgeBase) -> None:
    """An expander to load the patient of any case, at any stage."""
    with st.expander("Start from a case's patient", expanded=False):
        if not library.cases:
            st.info("No cases in the library.")
        else:
            case_id = st.selectbox(
                "Case", list(library.cases), format_func=lambda c: library.cases[c].case.title, key="sb_case"
            )
            stages = library.cases[case_id].case.stages
            if st.session_state.get("sb_stage", 0) >= len(stages):
                st.session_state["sb_stage"] = 0
            st.selectbox(
                "At stage",
                list(range(len(stages))),
                format_func=lambda i: f"{i + 1}. {stages[i].title}",
                key="sb_stage",
            )
            st.button("Load this patient", on_click=_load_case, args=(library, kb), key="sb_load")
        if st.session_state.get("sb_loaded"):
            st.caption(f"Loaded: {st.session_state['sb_loaded']} (edit freely below).")


def patient_inputs(kb: KnowledgeBase) -> dict[str, Any]:
    """The patient's widgets; returns the patient as data (not yet validated)."""
    st.subheader("Patient")
    c1, c2 = st.columns(2)
    c1.number_input("Age (years)", min_value=0.0, max_value=120.0, step=1.0, format="%.1f", key="sb_age")
    c2.selectbox(
        "Sex", (UNSPECIFIED, *SEXES), format_func=lambda s: SEX_LABELS.get(s, "Not given"), key="sb_sex"
    )
    c1.number_input("Weight (kg)", min_value=1.0, max_value=400.0, step=0.5, format="%.1f", key="sb_weight")
    c2.number_input(
        "Height (cm)",
        min_value=31.0,
        max_value=250.0,
        step=1.0,
        format="%.0f",
        value=None,
        key="sb_height",
        help="Needed for mg/m² doses; leave empty if unknown.",
    )
    st.selectbox("Diagnosis", DIAGNOSES, format_func=DIAGNOSIS_LABELS.__getitem__, key="sb_diagnosis")
    st.multiselect(
        "Manifestations",
        MANIFESTATIONS,
        format_func=MANIFESTATION_LABELS.__getitem__,
        key="sb_manifestations",
    )
    st.segmented_control("Severity", SEVERITIES, format_func=SEVERITY_LABELS.__getitem__, key="sb_severity")
    agents = list(kb.agents)
    current = st.multiselect("Current agents", agents, format_func=kb.name, key="sb_current")
    months: dict[str, float] = {}
    for agent_id in current:
        key = f"sb_months_{agent_id}"
        if key not in st.session_state:
            st.session_state[key] = 0.0
        months[agent_id] = st.number_input(
            f"{kb.name(agent_id)}: months on it",
            min_value=0.0,
            max_value=600.0,
            step=1.0,
            format="%.1f",
            key=key,
        )
    failed = st.multiselect("Failed agents", agents, format_func=kb.name, key="sb_failed")
    for lab in LAB_NAMES:
        st.radio(
            LAB_LABELS[lab],
            LAB_VALUES[lab],
            format_func=LAB_VALUE_LABELS.__getitem__,
            key=f"sb_{lab}",
            horizontal=True,
        )
    st.checkbox("Active infection", key="sb_infections")
    st.checkbox("Cytopenias", key="sb_cytopenias")

    ss = st.session_state
    return {
        "age": ss["sb_age"],
        "sex": None if ss["sb_sex"] == UNSPECIFIED else ss["sb_sex"],
        "weight_kg": ss["sb_weight"],
        "height_cm": ss["sb_height"],
        "diagnosis": ss["sb_diagnosis"],
        "manifestations": list(ss["sb_manifestations"]),
        "severity": ss["sb_severity"] or "moderate",
        "current": [{"agent": a, "months": months.get(a, 0.0)} for a in current],
        "failed": list(failed),
        "labs": {lab: ss[f"sb_{lab}"] for lab in LAB_NAMES},
        "infections": bool(ss["sb_infections"]),
        "cytopenias": bool(ss["sb_cytopenias"]),
    }


def valid_patient(data: dict[str, Any], kb: KnowledgeBase) -> Patient | None:
    """The patient, or None after explaining (never a crash) why the combination is invalid."""
    try:
        return Patient.model_validate(data, context=validation_context(kb))
    except pydantic.ValidationError as exc:
        st.error(
            "This combination is not a valid patient:\n\n"
            + "\n".join(
                f"- **{'.'.join(str(p) for p in err['loc']) or 'patient'}**: {err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            ),
            icon=icons.WARNING,
        )
        return None


@st.cache_data(show_spinner=False, max_entries=128)
def _figure(
    population: Population, current: str, recommended: tuple[str, ...], _kb: KnowledgeBase
) -> go.Figure:
    return pathway_figure(_kb.pathways[population], _kb, current_step=current, recommended_steps=recommended)


def option_rows(rec: Recommendation, kb: KnowledgeBase) -> list[dict[str, str]]:
    """One table row per graded option: its grade, dose for the patient, missing prerequisites, why, sources."""
    rows = []
    for o in rec.options:
        if o.dose is not None:
            dose = o.dose.text
        elif o.kind == "agent":
            dose = o.dose_note or "—"
        else:
            dose = ""
        rows.append(
            {
                "Option": o.name,
                "Kind": OPTION_KIND_LABELS[o.kind],
                "Grade": GRADE_LABELS[o.grade],
                "Dose for this patient": dose,
                "Missing prerequisites": ", ".join(kb.name(p) for p in o.prerequisites),
                "Why": o.why,
                "Sources": "; ".join(kb.sources[s].label for s in o.sources if s in kb.sources),
            }
        )
    return rows


def results(patient: Patient, kb: KnowledgeBase) -> None:
    """recommend() for the patient: graded options (by grade, as a table, on the flowchart), missing
    prerequisites and monitoring."""
    rec = recommend(patient, kb)
    pathway = kb.pathways[rec.population]
    position = pathway.step(rec.position)
    st.subheader("Graded options")
    st.markdown(
        f"**{PATHWAY_LABELS[rec.population]} pathway**, position: **{position.title}** — {position.summary}"
    )

    order = {label: i for i, label in enumerate(GRADE_LABELS.values())}
    table = pd.DataFrame(option_rows(rec, kb)).sort_values("Grade", key=lambda s: s.map(order), kind="stable")
    by_label = {GRADE_LABELS[g]: GRADE_COLOURS[g] for g in GRADES}

    tab_lists, tab_table, tab_chart = st.tabs(["By grade", "Table", "Flowchart"])
    with tab_lists:
        kind_filter = st.segmented_control(
            "Show",
            OPTION_KINDS,
            format_func=lambda k: OPTION_KIND_LABELS[k] + "s",
            selection_mode="multi",
            default=list(OPTION_KINDS),
            key="sb_show",
        )
        for grade in GRADES:
            options = [o for o in rec.options if o.grade == grade and o.kind in (kind_filter or ())]
            st.markdown(f"##### :{GRADE_BADGES[grade]}-badge[{GRADE_LABELS[grade]}] ({len(options)})")
            if grade == "not_recommended" and options:
                st.caption(", ".join(o.name for o in options))
                continue
            for o in options:
                lines = [f"**{o.name}** — {o.why}"]
                if o.dose is not None:
                    lines.append(f"Dose for this patient: **{o.dose.text}**")
                elif o.kind == "agent" and o.dose_note:
                    lines.append(f"Dose: *{o.dose_note}*")
                if o.prerequisites:
                    lines.append("Missing prerequisites: " + ", ".join(kb.name(p) for p in o.prerequisites))
                links = kb.citations(o.sources)
                if links:
                    lines.append(f"*{links}*")
                st.markdown("\n\n".join(lines))
    with tab_table:
        st.dataframe(
            table.style.map(
                lambda v: f"color: {by_label.get(v, 'inherit')}; font-weight: 600", subset=["Grade"]
            ),
            hide_index=True,
            key="sb_table",
        )
    with tab_chart:
        recommended_agents = [o.id for o in rec.options if o.kind == "agent" and o.grade == "recommended"]
        st.plotly_chart(
            _figure(rec.population, rec.position, pathway.steps_with(recommended_agents), kb),
            config={"displayModeBar": False},
            key="sb_chart",
        )
        st.caption("Thick outline: this patient's position. Stars: steps that teach a recommended agent.")

    st.subheader("Missing prerequisites")
    missing = [o for o in rec.options if o.grade in ("recommended", "acceptable") and o.prerequisites]
    for o in missing:
        st.markdown(f"- Before **{o.name}**: " + ", ".join(kb.name(p) for p in o.prerequisites))
    if not missing:
        st.markdown("None for the recommended and acceptable options.")
    st.subheader("Monitoring")
    if rec.monitoring:
        for m in rec.monitoring:
            reasons = ", ".join("response" if r == "response" else kb.name(r) for r in m.reasons)
            st.markdown(f"- **{m.label}** (for {reasons}) — *{kb.citations(m.sources)}*")
    else:
        st.markdown("No current treatment: nothing to monitor yet.")
