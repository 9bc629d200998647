"""The what-if sandbox's sections: edit a patient (or start from a case's), and see how the rules grade every
option, with doses, missing prerequisites, monitoring and the flowchart position. Each section is a
function AppTest can run alone; the allowed values and their labels come from ``logic.vocabulary``.

The inputs sit in three short tabs beside the results (below them on a phone), so that what changed and
what it did are on one screen. What the results show is worked out once per patient (``sandbox_view``,
memoised on the patient) and drawn as a few Markdown blocks; the flowchart once per position; the
agents/actions filter reruns only its own part (a fragment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import pydantic
import streamlit as st

from dashboard import icons
from dashboard.figures import pathway_figure, pathway_key, static
from dashboard.player.memo import Memo
from dashboard.style import GRADE_BADGES
from dashboard.wording import and_list, count
from logic import KnowledgeBase, Library, Patient, Recommendation, recommend, validation_context
from logic.markdown import safe_markdown
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
    Grade,
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
# The patient's fields as the inputs name them (an error names the input to change, never a field id).
FIELD_LABELS = {
    "age": "Age",
    "sex": "Sex",
    "weight_kg": "Weight",
    "height_cm": "Height",
    "diagnosis": "Diagnosis",
    "manifestations": "Manifestations",
    "severity": "Severity",
    "current": "Current agents",
    "failed": "Failed agents",
    "labs": "Laboratory results",
    "infections": "Active infection",
    "cytopenias": "Cytopenias",
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
    st.session_state["sb_loaded"] = f"{safe_markdown(loaded.case.title)}, stage {stage + 1}"


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
    """The patient's widgets, in three short tabs; returns the patient as data (not yet validated)."""
    st.subheader("Patient", anchor=False)
    who, disease, safety = st.tabs(["Patient", "Disease and treatment", "Labs and safety"])
    with who:
        c1, c2 = st.columns(2)
        c1.number_input("Age (years)", min_value=0.0, max_value=120.0, step=1.0, format="%g", key="sb_age")
        c2.selectbox(
            "Sex", (UNSPECIFIED, *SEXES), format_func=lambda s: SEX_LABELS.get(s, "Not given"), key="sb_sex"
        )
        c1.number_input("Weight (kg)", min_value=1.0, max_value=400.0, step=0.5, format="%g", key="sb_weight")
        c2.number_input(
            "Height (cm)",
            min_value=31.0,
            max_value=250.0,
            step=1.0,
            format="%g",
            value=None,
            key="sb_height",
            help="Needed for mg/m² doses; leave empty if unknown.",
        )
        st.selectbox("Diagnosis", DIAGNOSES, format_func=DIAGNOSIS_LABELS.__getitem__, key="sb_diagnosis")
        st.segmented_control(
            "Severity", SEVERITIES, format_func=SEVERITY_LABELS.__getitem__, key="sb_severity"
        )
    agents = list(kb.agents)
    months: dict[str, float] = {}
    with disease:
        st.multiselect(
            "Manifestations",
            MANIFESTATIONS,
            format_func=MANIFESTATION_LABELS.__getitem__,
            key="sb_manifestations",
        )
        current = st.multiselect("Current agents", agents, format_func=kb.name, key="sb_current")
        for agent_id in current:
            key = f"sb_months_{agent_id}"
            if key not in st.session_state:
                st.session_state[key] = 0.0
            months[agent_id] = st.number_input(
                f"{kb.name(agent_id)}: months on it",
                min_value=0.0,
                max_value=600.0,
                step=1.0,
                format="%g",
                key=key,
            )
        failed = st.multiselect("Failed agents", agents, format_func=kb.name, key="sb_failed")
    with safety:
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


def patient_problems(data: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    """Why this is not a patient, one line each, naming the input to change (never a field id); empty
    for a valid patient. The plausibility checks are the patient model's own (age, weight, height,
    a JDM diagnosis only under 18)."""
    current = [c.get("agent") for c in data.get("current", [])]
    both = [a for a in current if a in set(data.get("failed", []))]
    if both:
        names = and_list([kb.name(a) for a in both])
        return [
            f"**Current agents** and **Failed agents**: {names} cannot be both; remove it from one of them."
        ]
    try:
        Patient.model_validate(data, context=validation_context(kb))
    except pydantic.ValidationError as exc:
        return [_problem(err) for err in exc.errors()]
    return []


def _problem(error: Any) -> str:
    loc = [str(p) for p in error["loc"]]
    field = FIELD_LABELS.get(loc[0], "The patient") if loc else "The patient"
    if loc and loc[0] == "labs" and len(loc) > 1 and loc[1] in LAB_LABELS:
        field = LAB_LABELS[loc[1]]
    return f"**{field}**: {str(error['msg']).removeprefix('Value error, ')}"


def valid_patient(data: dict[str, Any], kb: KnowledgeBase) -> Patient | None:
    """The patient, or None after explaining (never a crash) why the combination is not one."""
    problems = patient_problems(data, kb)
    if problems:
        st.error(
            "This is not a patient the app can grade. Change the inputs named below:\n\n"
            + "\n".join(f"- {p}" for p in problems),
            icon=icons.WARNING,
        )
        return None
    return Patient.model_validate(data, context=validation_context(kb))


# ---------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class OptionCard:
    kind: OptionKind
    grade: Grade
    name: str
    text: str  # Markdown: name, why, dose, missing prerequisites, sources


@dataclass(frozen=True)
class SandboxView:
    """What the results show for one patient, worked out once (memoised on the patient)."""

    population: Population
    position: str
    position_line: str
    cards: tuple[OptionCard, ...]
    recommended_steps: tuple[str, ...]
    missing: str
    monitoring: str


def option_card(option: Any, kb: KnowledgeBase) -> OptionCard:
    lines = [f"**{option.name}** — {option.why}"]
    if option.dose is not None:
        lines.append(f"Dose for this patient: **{option.dose.text}**")
    elif option.kind == "agent" and option.dose_note:
        lines.append(f"Dose: *{option.dose_note}*")
    if option.prerequisites:
        lines.append("Missing prerequisites: " + ", ".join(kb.name(p) for p in option.prerequisites))
    links = kb.citations(option.sources)
    if links:
        lines.append(f"*{links}*")
    return OptionCard(option.kind, option.grade, option.name, "  \n".join(lines))


def sandbox_view(rec: Recommendation, kb: KnowledgeBase) -> SandboxView:
    pathway = kb.pathways[rec.population]
    position = pathway.step(rec.position)
    line = (
        f"**{PATHWAY_LABELS[rec.population]} pathway**, where this patient is: **{position.title}** — "
        f"{position.summary}"
    )
    missing = [o for o in rec.options if o.grade in ("recommended", "acceptable") and o.prerequisites]
    missing_md = (
        "\n".join(
            f"- Before **{o.name}**: " + ", ".join(kb.name(p) for p in o.prerequisites) for o in missing
        )
        or "None for the recommended and acceptable options."
    )
    if rec.monitoring:
        monitoring_md = "\n".join(
            f"- **{m.label}** (for "
            + ", ".join("response" if r == "response" else kb.name(r) for r in m.reasons)
            + f") — *{kb.citations(m.sources)}*"
            for m in rec.monitoring
        )
    else:
        monitoring_md = "No current treatment: nothing to monitor yet."
    recommended_agents = [o.id for o in rec.options if o.kind == "agent" and o.grade == "recommended"]
    return SandboxView(
        population=rec.population,
        position=rec.position,
        position_line=line,
        cards=tuple(option_card(o, kb) for o in rec.options),
        recommended_steps=pathway.steps_with(recommended_agents),
        missing=missing_md,
        monitoring=monitoring_md,
    )


_VIEWS = Memo(256)  # (kb, the patient as JSON) -> SandboxView
_FIGURES = Memo(64)  # (kb, population, position, recommended steps) -> the flowchart


def view_for(patient: Patient, kb: KnowledgeBase) -> SandboxView:
    """The results for a patient: recommend() and everything drawn from it, once per patient."""
    return _VIEWS.get((id(kb), patient.model_dump_json()), lambda: sandbox_view(recommend(patient, kb), kb))


def _figure(
    population: Population, current: str, recommended: tuple[str, ...], kb: KnowledgeBase
) -> go.Figure:
    return _FIGURES.get(
        (id(kb), population, current, recommended),
        lambda: static(
            pathway_figure(kb.pathways[population], kb, current_step=current, recommended_steps=recommended)
        ),
    )


def grade_sections(cards: Sequence[OptionCard], kinds: Sequence[str]) -> list[tuple[Grade, int, str]]:
    """Per grade (best first): how many options, and the options as Markdown."""
    out = []
    for grade in GRADES:
        shown = [c for c in cards if c.grade == grade and c.kind in kinds]
        out.append((grade, len(shown), "\n\n".join(c.text for c in shown)))
    return out


@st.fragment
def grade_lists(view: SandboxView) -> None:
    """The options by grade (the not-recommended ones folded); the agents/actions filter reruns only this."""
    kinds = st.segmented_control(
        "Show",
        OPTION_KINDS,
        format_func=lambda k: OPTION_KIND_LABELS[k] + "s",
        selection_mode="multi",
        default=list(OPTION_KINDS),
        key="sb_show",
    )
    for grade, n, text in grade_sections(view.cards, kinds or ()):
        if grade == "not_recommended" and n:
            with st.expander(f"{GRADE_LABELS[grade]}: {count(n, 'option')}"):
                st.markdown(text)
            continue
        heading = f"##### :{GRADE_BADGES[grade]}-badge[{GRADE_LABELS[grade]}] {count(n, 'option')}"
        st.markdown(heading + (f"\n\n{text}" if text else ""))


def results(patient: Patient, kb: KnowledgeBase) -> None:
    """recommend() for the patient: where they are on the pathway, the graded options (by grade, or on the
    flowchart), missing prerequisites and monitoring."""
    view = view_for(patient, kb)
    st.subheader("Graded options", anchor=False)
    st.markdown(view.position_line)
    by_grade, chart = st.tabs(["By grade", "On the flowchart"])
    with by_grade:
        grade_lists(view)
    with chart:
        st.plotly_chart(
            _figure(view.population, view.position, view.recommended_steps, kb),
            config={"displayModeBar": False},
            key="sb_chart",
        )
        st.caption(
            pathway_key(kb.pathways[view.population], ("current", "recommended"))
            + " (stars: steps that teach a recommended agent)"
        )
    st.subheader("Missing prerequisites", anchor=False)
    st.markdown(view.missing)
    st.subheader("Monitoring", anchor=False)
    st.markdown(view.monitoring)
