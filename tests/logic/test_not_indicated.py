"""The reason an option no rule grades is not indicated: about this patient, from the pathway data only.

A wrong option says why it is wrong for *this* patient: where the pathway teaches it against the step the
patient is at (and what takes a patient to that step), and what is recommended for them instead. It quotes
only the pathway (steps, transitions) and cites their sources; it never makes a clinical claim of its own.
"""

from __future__ import annotations

from typing import Any

from logic import Patient, recommend
from logic.recommend import DEFAULT_RULE
from tests.context import CONTEXT, KB
from tests.logic.conftest import ADULT_NEW_DM

NEW_DM: dict[str, Any] = ADULT_NEW_DM  # tests/logic/conftest.py: a new adult DM, no treatment yet
AFTER_FAILED_MTX: dict[str, Any] = {
    **NEW_DM,
    "current": [{"agent": "prednisone", "months": 5}],
    "failed": ["methotrexate"],
}


def _patient(data: dict[str, Any]) -> Patient:
    return Patient.model_validate(data, context=CONTEXT)


def test_an_option_kept_for_later_steps_names_them_what_leads_there_and_where_the_patient_is() -> None:
    rec = recommend(_patient(NEW_DM), KB)
    assert rec.position == "first_line"
    option = rec.option("cyclophosphamide")
    assert option.rule == DEFAULT_RULE and option.grade == "not_recommended"
    pathway = KB.pathways["adult"]
    assert "later steps" in option.why
    for step in ("refractory", "severe"):
        assert pathway.step(step).title in option.why
    # What takes a first-line patient to the severe step, straight from the pathway's transition.
    assert "severe at presentation" in option.why
    assert "this patient is at the First line step" in option.why
    recommended = [o.name for o in rec.options if o.grade == "recommended"]
    assert recommended and f"Recommended for this patient now: {', '.join(recommended)}." in option.why
    cited = {s for st in pathway.steps for s in st.sources} | {
        s for t in pathway.transitions for s in t.sources
    }
    assert option.sources and set(option.sources) <= cited


def test_an_option_of_the_patients_own_step_says_so() -> None:
    rec = recommend(_patient(AFTER_FAILED_MTX), KB)
    assert rec.position == "refractory"
    option = rec.option("cyclophosphamide")
    assert option.rule == DEFAULT_RULE
    assert "lists it at the Refractory step, where this patient is" in option.why
    assert "Intravenous immunoglobulin (IVIG)" in option.why.split("Recommended for this patient now:")[1]
    assert set(option.sources) == set(KB.pathways["adult"].step("refractory").sources)


def test_an_option_on_no_step_of_the_pathway_says_that() -> None:
    rec = recommend(_patient(AFTER_FAILED_MTX), KB)
    option = rec.option("tocilizumab")
    assert option.rule == DEFAULT_RULE
    assert "pathway does not include it at any step; this patient is at the Refractory step" in option.why


def test_no_default_reason_is_the_old_generic_sentence() -> None:
    for data in (NEW_DM, AFTER_FAILED_MTX):
        for option in recommend(_patient(data), KB).options:
            assert "Not indicated at this step" not in option.why
            if option.rule == DEFAULT_RULE:
                assert option.why.startswith("Not indicated for this patient now")
