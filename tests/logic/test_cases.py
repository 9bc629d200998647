"""Case models: the story's patient at each stage, computed once and never stale after a copy."""

from pathlib import Path

from logic import load_case
from tests.context import KB

S2 = Path(__file__).resolve().parents[2] / "cases" / "myositis-after-failed-immunosuppression.yaml"


def test_stage_patients_follow_the_story_and_are_computed_once() -> None:
    loaded, _ = load_case(S2, KB)
    assert loaded is not None
    case = loaded.case
    patients = case.patients(KB)
    assert patients is case.patients(KB)
    assert [p.labs.iga for p in patients] == ["unknown", "normal", "normal"]
    assert patients[2].failed == ("methotrexate", "ivig")
    assert patients[2].current[0].months == 11  # prednisone: 5 months, then 6 more


def test_a_copy_with_another_patient_recomputes_the_stages() -> None:
    loaded, _ = load_case(S2, KB)
    assert loaded is not None
    case = loaded.case
    case.patients(KB)
    older = case.model_copy(update={"patient": case.patient.model_copy(update={"age": 71})})
    assert [p.age for p in older.patients(KB)] == [71, 71, 71]
    assert case.patients(KB)[0].age == 48
