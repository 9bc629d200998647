"""The what-if sandbox page (AppTest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.style import GRADE_BADGES
from logic import load_library
from logic.vocabulary import GRADE_LABELS
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "dashboard" / "app.py")
CASE = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("views/sandbox.py").run()
    assert not at.exception
    return at


def _card(at: AppTest, option: str) -> tuple[str, str]:
    """(grade label, the option's card text) as the page shows it, by grade section."""
    for expander in at.expander:
        if expander.label.startswith(GRADE_LABELS["not_recommended"]):
            for m in expander.markdown:
                for card in m.value.split("\n\n"):
                    if card.startswith(f"**{option}** — "):
                        return GRADE_LABELS["not_recommended"], card
    for m in at.markdown:
        first, _, rest = m.value.partition("\n\n")
        for grade, label in GRADE_LABELS.items():
            if first.startswith(f"##### :{GRADE_BADGES[grade]}-badge[{label}]"):
                for card in rest.split("\n\n"):
                    if card.startswith(f"**{option}** — "):
                        return label, card
    raise AssertionError(f"{option!r} is on no grade list")


def _grade(at: AppTest, option: str) -> str:
    return _card(at, option)[0]


IVIG = "Intravenous immunoglobulin (IVIG)"


def test_page_loads_with_a_default_patient():
    at = _page()
    assert [t.value for t in at.title] == ["What-if sandbox"]
    assert not at.error
    graded = {name: _grade(at, name) for name in (KB.name(o) for o in (*KB.agents, *KB.actions))}
    assert len(graded) >= 20
    assert set(graded.values()) <= set(GRADE_LABELS.values())
    assert any(e.type == "plotly_chart" for e in at.main)
    # The inputs are in three tabs beside the results; numbers show as typed (50, not 50.0).
    assert [t.label for t in at.tabs][:3] == ["Patient", "Disease and treatment", "Labs and safety"]
    assert at.number_input(key="sb_age").proto.format == "%g"


def test_iga_deficiency_makes_ivig_unsafe_for_a_refractory_adult():
    at = _page()
    at.selectbox(key="sb_diagnosis").set_value("polymyositis")
    at.multiselect(key="sb_manifestations").set_value(["muscle"])
    at.multiselect(key="sb_current").set_value(["prednisone"])
    at.multiselect(key="sb_failed").set_value(["methotrexate"]).run()
    assert not at.exception and not at.error
    assert any("Refractory" in m.value for m in at.markdown)
    assert _grade(at, IVIG) == "Recommended"
    at.radio(key="sb_iga").set_value("deficient").run()
    assert not at.exception
    assert _grade(at, IVIG) == "Unsafe"


def test_invalid_combination_shows_a_message_not_a_crash():
    at = _page()
    at.multiselect(key="sb_current").set_value(["prednisone", "methotrexate"])
    at.multiselect(key="sb_failed").set_value(["methotrexate"]).run()
    assert not at.exception
    assert at.error and (
        "**Current agents** and **Failed agents**: Methotrexate cannot be both" in at.error[0].value
    )
    assert "methotrexate" not in at.error[0].value  # the name, never the id
    assert not [m for m in at.markdown if "Graded options" in m.value]


def test_months_inputs_follow_current_agents():
    at = _page()
    at.multiselect(key="sb_current").set_value(["prednisone", "methotrexate"]).run()
    at.number_input(key="sb_months_methotrexate").set_value(4).run()
    assert not at.exception and not at.error


@pytest.fixture
def one_case_dir(tmp_path, monkeypatch):
    if not CASE.exists():
        pytest.skip("the sample case file is gone")
    shutil.copy(CASE, tmp_path / CASE.name)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(tmp_path))
    return tmp_path


def test_start_from_a_case_loads_its_patient(one_case_dir):
    case = next(iter(load_library([one_case_dir], KB).cases.values())).case
    at = _page()
    assert at.selectbox(key="sb_case").value == case.id
    stage = len(case.stages) - 1
    at.selectbox(key="sb_stage").set_value(stage).run()
    at.button(key="sb_load").click().run()
    assert not at.exception and not at.error and not at.warning
    patient = case.patients(KB)[stage]
    ss = at.session_state
    assert ss["sb_diagnosis"] == patient.diagnosis
    assert ss["sb_age"] == patient.age and ss["sb_weight"] == patient.weight_kg
    assert list(ss["sb_current"]) == list(patient.current_ids)
    assert list(ss["sb_failed"]) == list(patient.failed)
    assert ss["sb_iga"] == patient.labs.iga
    for c in patient.current:
        assert at.number_input(key=f"sb_months_{c.agent}").value == c.months
    assert at.multiselect(key="sb_failed").value == list(patient.failed)


def test_unknown_height_gives_a_dose_note_not_a_dose():
    at = _page()
    at.number_input(key="sb_height").set_value(None)
    at.multiselect(key="sb_current").set_value(["prednisone", "methotrexate"]).run()
    assert not at.exception and not at.error and not at.warning
    _, card = _card(at, "Methotrexate")
    assert "Dose:" in card and "height" in card


def test_an_impossible_patient_is_refused_saying_which_field_and_why():
    at = _page()
    at.number_input(key="sb_age").set_value(2.0).run()  # the default patient weighs 70 kg
    assert not at.exception
    [error] = at.error
    assert "**Weight**: 70 kg is not a plausible weight at 2 years (plausible: 4.4-35 kg" in error.value
    assert not [s for s in at.subheader if s.value == "Graded options"], "no grades for an impossible patient"
    at.number_input(key="sb_weight").set_value(12.0).run()
    [error] = at.error  # and the default 168 cm
    assert "**Height**: 168 cm is not a plausible height at 2 years" in error.value
    at.number_input(key="sb_height").set_value(85.0).run()
    assert not at.error
    assert [s for s in at.subheader if s.value == "Graded options"]
    at.number_input(key="sb_age").set_value(30.0).run()
    at.number_input(key="sb_weight").set_value(60.0).run()
    at.selectbox(key="sb_diagnosis").set_value("juvenile_dermatomyositis").run()
    [error] = at.error
    assert "**Diagnosis**: juvenile dermatomyositis is diagnosed before 18" in error.value
