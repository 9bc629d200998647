"""What-if sandbox: edit a patient and see, live, how the rules grade every option, with doses and sources."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pydantic
import streamlit as st

from dashboard.common import GRADE_COLOURS, GRADE_LABELS, get_library, source_links
from dashboard.figures import pathway_figure
from logic import Patient, load_knowledge_base, recommend
from logic.knowledge import GRADES, MANIFESTATIONS
from logic.markdown import safe_markdown

kb = load_knowledge_base()
AGENTS = list(kb.agents)
DIAGNOSES = {
    "dermatomyositis": "Dermatomyositis",
    "juvenile_dermatomyositis": "Juvenile dermatomyositis",
    "polymyositis": "Polymyositis",
    "necrotizing_myopathy": "Necrotizing myopathy",
}
LAB_VALUES = {"iga": ("unknown", "normal", "deficient"), "tb": ("unknown", "negative", "positive")}
LAB_VALUES["hepatitis"] = LAB_VALUES["tb"]
LAB_NAMES = {"iga": "Serum IgA", "tb": "Tuberculosis screen", "hepatitis": "Hepatitis B/C screen"}
SEX = ("unspecified", "female", "male")
FIELD_LABELS = {"age": "Age", "weight_kg": "Weight", "height_cm": "Height", "diagnosis": "Diagnosis"}
BADGE = {"recommended": "green", "acceptable": "orange", "not_recommended": "gray", "unsafe": "red"}
DEFAULT = Patient(
    age=50,
    sex="female",
    weight_kg=70,
    height_cm=168,
    diagnosis="dermatomyositis",
    manifestations=("skin", "muscle"),
    severity="moderate",
    current=({"agent": "prednisone", "months": 1},),  # type: ignore[arg-type]
)


def _load_patient(patient: Patient) -> None:
    """Put a patient into the widgets (session state, before the widgets are drawn)."""
    ss = st.session_state
    ss["sb_age"] = float(patient.age)
    ss["sb_sex"] = patient.sex or "unspecified"
    ss["sb_weight"] = float(patient.weight_kg)
    ss["sb_height"] = None if patient.height_cm is None else float(patient.height_cm)
    ss["sb_diagnosis"] = patient.diagnosis
    ss["sb_manifestations"] = list(patient.manifestations)
    ss["sb_severity"] = patient.severity
    ss["sb_current"] = list(patient.current_ids)
    for c in patient.current:
        ss[f"sb_months_{c.agent}"] = float(c.months)
    ss["sb_failed"] = list(patient.failed)
    ss["sb_iga"] = patient.labs.iga
    ss["sb_tb"] = patient.labs.tb
    ss["sb_hepatitis"] = patient.labs.hepatitis
    ss["sb_infections"] = patient.infections
    ss["sb_cytopenias"] = patient.cytopenias


def _load_case() -> None:
    library = get_library()
    loaded = library.cases.get(st.session_state.get("sb_case") or "")
    if loaded is None:
        return
    patients = loaded.case.patients()
    stage = int(st.session_state.get("sb_stage") or 0)
    _load_patient(patients[min(stage, len(patients) - 1)])
    st.session_state["sb_loaded"] = f"{safe_markdown(loaded.case.title)}, stage {stage + 1}"


@st.cache_data(show_spinner=False, max_entries=128)
def _figure(population: str, current: str, recommended: tuple[str, ...]) -> go.Figure:
    pathway = load_knowledge_base().pathways[population]  # type: ignore[index]
    return pathway_figure(pathway, current_step=current, recommended_steps=recommended)


if "sb_age" not in st.session_state:
    _load_patient(DEFAULT)

st.title("What-if sandbox")
st.caption(
    "Change the patient and watch how the rules grade each option. For teaching only: the grades come "
    "from the app's teaching rules and their sources, not from a clinical decision system."
)

library = get_library()
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
        st.button("Load this patient", on_click=_load_case, key="sb_load")
    if st.session_state.get("sb_loaded"):
        st.caption(f"Loaded: {st.session_state['sb_loaded']} (edit freely below).")

left, right = st.columns([1, 1.8], gap="large")
with left:
    st.subheader("Patient")
    c1, c2 = st.columns(2)
    c1.number_input("Age (years)", min_value=0.0, max_value=120.0, step=1.0, format="%.1f", key="sb_age")
    c2.selectbox("Sex", SEX, key="sb_sex")
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
    st.selectbox("Diagnosis", list(DIAGNOSES), format_func=DIAGNOSES.__getitem__, key="sb_diagnosis")
    st.multiselect(
        "Manifestations",
        list(MANIFESTATIONS),
        format_func=lambda m: m.replace("_", " "),
        key="sb_manifestations",
    )
    st.segmented_control("Severity", ["mild", "moderate", "severe"], key="sb_severity")
    current = st.multiselect("Current agents", AGENTS, format_func=kb.name, key="sb_current")
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
    failed = st.multiselect("Failed agents", AGENTS, format_func=kb.name, key="sb_failed")
    for lab in ("iga", "tb", "hepatitis"):
        st.radio(LAB_NAMES[lab], LAB_VALUES[lab], key=f"sb_{lab}", horizontal=True)
    st.checkbox("Active infection", key="sb_infections")
    st.checkbox("Cytopenias", key="sb_cytopenias")

ss = st.session_state
data = {
    "age": ss["sb_age"],
    "sex": None if ss["sb_sex"] == "unspecified" else ss["sb_sex"],
    "weight_kg": ss["sb_weight"],
    "height_cm": ss["sb_height"],
    "diagnosis": ss["sb_diagnosis"],
    "manifestations": list(ss["sb_manifestations"]),
    "severity": ss["sb_severity"] or "moderate",
    "current": [{"agent": a, "months": months.get(a, 0.0)} for a in current],
    "failed": list(failed),
    "labs": {"iga": ss["sb_iga"], "tb": ss["sb_tb"], "hepatitis": ss["sb_hepatitis"]},
    "infections": bool(ss["sb_infections"]),
    "cytopenias": bool(ss["sb_cytopenias"]),
}


def _valid_patient(data: dict) -> Patient | None:  # type: ignore[type-arg]
    """The patient, or None after explaining (never a crash) why the combination is invalid."""
    try:
        return Patient.model_validate(data)
    except pydantic.ValidationError as exc:
        st.error(
            "This combination is not a valid patient:\n\n"
            + "\n".join(
                f"- **{FIELD_LABELS.get(str(err['loc'][0]), '.'.join(map(str, err['loc']))) if err['loc'] else 'Patient'}**: "
                f"{err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            ),
            icon="⚠️",
        )
        return None


def _show_results(patient: Patient) -> None:
    rec = recommend(patient)
    pathway = kb.pathways[rec.population]
    position = pathway.step(rec.position)
    st.subheader("Graded options")
    pop = "JDM" if rec.population == "juvenile" else "Adult"
    st.markdown(f"**{pop} pathway**, position: **{position.title}** — {position.summary}")

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
                "Kind": o.kind,
                "Grade": GRADE_LABELS[o.grade],
                "Dose for this patient": dose,
                "Missing prerequisites": ", ".join(kb.name(p) for p in o.prerequisites),
                "Why": o.why,
                "Sources": "; ".join(kb.sources[s].label for s in o.sources if s in kb.sources),
            }
        )
    order = {label: i for i, label in enumerate(GRADE_LABELS.values())}
    table = pd.DataFrame(rows).sort_values("Grade", key=lambda s: s.map(order), kind="stable")
    by_label = {GRADE_LABELS[g]: GRADE_COLOURS[g] for g in GRADES}

    tab_lists, tab_table, tab_chart = st.tabs(["By grade", "Table", "Flowchart"])
    with tab_lists:
        kind_filter = st.segmented_control(
            "Show",
            ["agents", "actions"],
            selection_mode="multi",
            default=["agents", "actions"],
            key="sb_show",
        )
        for grade in GRADES:
            options = [o for o in rec.options if o.grade == grade and f"{o.kind}s" in (kind_filter or ())]
            st.markdown(f"##### :{BADGE[grade]}-badge[{GRADE_LABELS[grade]}] ({len(options)})")
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
                links = source_links(o.sources)
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
            _figure(rec.population, rec.position, pathway.steps_with(recommended_agents)),
            config={"displayModeBar": False},
            key="sb_chart",
        )
        st.caption("Thick outline: this patient's position. Stars: steps that teach a recommended agent.")

    missing = {p for o in rec.options if o.grade in ("recommended", "acceptable") for p in o.prerequisites}
    st.subheader("Missing prerequisites")
    if missing:
        for o in rec.options:
            if o.grade in ("recommended", "acceptable") and o.prerequisites:
                names = ", ".join(kb.name(p) for p in o.prerequisites)
                st.markdown(f"- Before **{o.name}**: {names}")
    else:
        st.markdown("None for the recommended and acceptable options.")
    st.subheader("Monitoring")
    if rec.monitoring:
        for m in rec.monitoring:
            reasons = ", ".join("response" if r == "response" else kb.name(r) for r in m.reasons)
            st.markdown(f"- **{m.label}** (for {reasons}) — *{source_links(m.sources)}*")
    else:
        st.markdown("No current treatment: nothing to monitor yet.")


with right:
    patient = _valid_patient(data)
    if patient is not None:
        _show_results(patient)
