"""recommend() reproduces what the five reference answers recommend for their own scenarios, and the safety rules.

(Test names keep s0..s4 for the reference answers on: upadacitinib on IVIG, refractory DM on six agents,
myositis after failed immunosuppression, treating DM, JDM after JAK inhibitor failure.)"""

from collections.abc import Callable

import pytest

from logic import Patient, load_knowledge_base, recommend
from tests.context import CONTEXT, KB

MakePatient = Callable[..., Patient]


def grade(patient: Patient, option: str) -> str:
    return recommend(patient, KB).option(option).grade


def test_every_option_is_graded_once_with_a_reason(make_patient: MakePatient) -> None:
    rec = recommend(make_patient(), KB)
    kb = load_knowledge_base()
    assert [o.id for o in rec.options] == list(kb.agents) + list(kb.actions)
    for option in rec.options:
        assert option.grade in ("recommended", "acceptable", "not_recommended", "unsafe")
        assert option.why and option.rule
        assert all(s in kb.sources for s in option.sources)


def test_recommend_is_deterministic(make_patient: MakePatient) -> None:
    patient = make_patient(failed=["methotrexate"], current=[{"agent": "prednisone", "months": 4}])
    assert recommend(patient, KB).as_json() == recommend(patient, KB).as_json()


def test_s3_new_adult_dm_gets_prednisone_methotrexate_and_cancer_screening(make_patient: MakePatient) -> None:
    rec = recommend(make_patient(), KB)
    assert rec.position == "first_line"
    assert set(rec.with_grade("recommended")) >= {
        "prednisone",
        "methotrexate",
        "cancer_screening",
        "physiotherapy",
        "sun_protection",
    }
    assert rec.option("azathioprine").grade == "acceptable"  # "or azathioprine" (S3)
    for escalation in ("ivig", "rituximab", "cyclophosphamide", "upadacitinib"):
        assert rec.option(escalation).grade == "not_recommended", escalation
    assert rec.option("prednisone").dose is not None
    assert rec.option("prednisone").dose.text == (
        "0.5–1 mg/kg/day × 70 kg = 35–70 mg/day, capped at the usual upper dose the sources state (60 mg/day): "
        "35–60 mg/day"
    )


def test_s2_failed_initial_immunosuppression_gets_ivig_with_iga_and_premedication(
    make_patient: MakePatient,
) -> None:
    patient = make_patient(
        diagnosis="polymyositis",
        manifestations=["muscle"],
        current=[{"agent": "prednisone", "months": 5}],
        failed=["methotrexate"],
    )
    rec = recommend(patient, KB)
    assert rec.position == "refractory"
    ivig = rec.option("ivig")
    assert ivig.grade == "recommended"
    assert ivig.prerequisites == ("check_iga", "ivig_premedication")
    assert rec.option("check_iga").grade == "recommended"
    assert rec.option("ivig_premedication").grade == "recommended"
    assert rec.option("scig").grade == "acceptable"  # alternative to IVIG (S2)
    assert rec.option("methotrexate").rule == "failed_agent_not_repeated"


def test_s2_after_ivig_fails_rituximab_or_cyclophosphamide(make_patient: MakePatient) -> None:
    patient = make_patient(failed=["methotrexate", "ivig"], labs={"iga": "normal"})
    rec = recommend(patient, KB)
    assert rec.option("rituximab").grade == "recommended"
    assert rec.option("cyclophosphamide").grade == "recommended"  # equal alternatives
    assert rec.option("tacrolimus").grade == "acceptable"  # "may also be considered"
    assert rec.option("scig").grade == "not_recommended"  # an alternative to IVIG, not a step after it
    assert rec.option("ivig").grade == "not_recommended"
    assert rec.option("check_iga").grade == "not_recommended"  # already known


def test_known_iga_means_no_check_iga_prerequisite(make_patient: MakePatient) -> None:
    patient = make_patient(failed=["methotrexate"], labs={"iga": "normal"})
    assert recommend(patient, KB).option("ivig").prerequisites == ("ivig_premedication",)


def test_iga_deficiency_makes_immunoglobulin_unsafe(make_patient: MakePatient) -> None:
    patient = make_patient(failed=["methotrexate"], labs={"iga": "deficient"})
    rec = recommend(patient, KB)
    assert rec.option("ivig").grade == "unsafe"
    assert rec.option("scig").grade == "unsafe"
    assert "anaphylaxis" in rec.option("ivig").why
    assert rec.option("rituximab").grade in ("recommended", "acceptable")


def test_s0_upadacitinib_on_ivig_is_not_recommended_optimise_instead(make_patient: MakePatient) -> None:
    patient = make_patient(
        current=[{"agent": "ivig", "months": 6}, {"agent": "prednisone", "months": 9}],
        failed=["methotrexate"],
    )
    rec = recommend(patient, KB)
    assert rec.option("upadacitinib").grade == "not_recommended"
    assert rec.option("upadacitinib").rule == "jak_investigational"
    assert rec.option("optimise_current_therapy").grade == "recommended"
    assert rec.option("clinical_trial").grade == "acceptable"  # "may benefit"
    assert rec.option("ivig").grade == "acceptable"  # continue what she is on


def test_s1_six_agents_severe_ulcerative_gets_cyclophosphamide(make_patient: MakePatient) -> None:
    six = ["ivig", "rituximab", "tocilizumab", "prednisone", "hydroxychloroquine", "mycophenolate_mofetil"]
    patient = make_patient(
        severity="severe",
        manifestations=["skin", "muscle", "skin_ulceration"],
        current=[{"agent": a, "months": 6} for a in six],
    )
    rec = recommend(patient, KB)
    assert rec.position == "severe"
    assert rec.option("cyclophosphamide").grade == "recommended"
    assert rec.option("optimise_current_therapy").grade == "recommended"
    assert rec.option("abatacept").grade == "acceptable"
    assert rec.option("continue_and_reassess").grade == "acceptable"  # rituximab takes time
    infected = make_patient(**{**patient.model_dump(), "infections": True})
    assert grade(infected, "cyclophosphamide") == "unsafe"
    cytopenic = make_patient(**{**patient.model_dump(), "cytopenias": True})
    assert grade(cytopenic, "cyclophosphamide") == "unsafe"


S4_JDM = {
    "age": 10,
    "weight_kg": 32,
    "height_cm": 138,
    "diagnosis": "juvenile_dermatomyositis",
    "manifestations": ["skin", "muscle"],
    "current": [{"agent": "methotrexate", "months": 12}, {"agent": "prednisone", "months": 12}],
    "failed": ["tofacitinib"],
}


def test_s4_jdm_after_jak_failure_gets_biologics_screening_and_keeps_mtx() -> None:
    rec = recommend(Patient.model_validate(S4_JDM, context=CONTEXT), KB)
    assert rec.population == "juvenile"
    assert rec.position == "after_jak_failure"
    recommended = set(rec.with_grade("recommended"))
    assert {"rituximab", "infliximab", "adalimumab"} <= recommended  # chosen by manifestation
    assert rec.option("tocilizumab").grade == "acceptable"
    assert rec.option("abatacept").grade == "acceptable"
    assert rec.option("tofacitinib").grade == "not_recommended"
    assert rec.option("tofacitinib").rule == "failed_jak_not_repeated"
    assert rec.option("upadacitinib").grade == "not_recommended"
    assert rec.option("etanercept").grade == "not_recommended"
    assert {"tb_screening", "hepatitis_screening", "expert_centre_referral"} <= recommended
    assert rec.option("methotrexate").grade == "acceptable"  # "consider continuing methotrexate"
    assert rec.option("rituximab").prerequisites == ("tb_screening", "hepatitis_screening")
    assert rec.option("cancer_screening").grade == "not_recommended"  # not routine in JDM


def test_jdm_never_gets_the_adult_rituximab_dose() -> None:
    for age, weight, height in ((4, 16, 100), (10, 32, 138), (16, 60, 170)):
        rec = recommend(
            Patient.model_validate(
                {**S4_JDM, "age": age, "weight_kg": weight, "height_cm": height}, context=CONTEXT
            ),
            KB,
        )
        dose = rec.option("rituximab").dose
        assert dose is not None
        assert dose.regimen.basis == "m2" and dose.regimen.amount == (375, 375)
        assert "375 mg/m²" in dose.text
        assert dose.high != 1000 or height * weight == 3600 * (1000 / 375) ** 2


def test_jdm_without_height_has_no_rituximab_dose_and_says_why() -> None:
    patient = Patient.model_validate({**S4_JDM, "height_cm": None}, context=CONTEXT)
    option = recommend(patient, KB).option("rituximab")
    assert option.dose is None
    assert option.dose_note is not None and "height" in option.dose_note


def test_positive_tb_or_hepatitis_makes_biologics_unsafe() -> None:
    for lab in ("tb", "hepatitis"):
        rec = recommend(Patient.model_validate({**S4_JDM, "labs": {lab: "positive"}}, context=CONTEXT), KB)
        for agent in ("rituximab", "infliximab", "tocilizumab", "abatacept"):
            assert rec.option(agent).grade == "unsafe", (lab, agent)


def test_screening_done_is_not_asked_again() -> None:
    rec = recommend(
        Patient.model_validate(
            {**S4_JDM, "labs": {"tb": "negative", "hepatitis": "negative"}}, context=CONTEXT
        ),
        KB,
    )
    assert rec.option("rituximab").prerequisites == ()
    assert rec.option("tb_screening").grade == "not_recommended"


def test_new_jdm_gets_prednisone_and_methotrexate_but_no_cancer_screening() -> None:
    rec = recommend(
        Patient.model_validate(
            {
                "age": 7,
                "weight_kg": 24,
                "height_cm": 122,
                "diagnosis": "juvenile_dermatomyositis",
                "manifestations": ["skin", "muscle"],
            },
            context=CONTEXT,
        ),
        KB,
    )
    assert rec.position == "first_line"
    assert {"prednisone", "methotrexate"} <= set(rec.with_grade("recommended"))
    assert rec.option("cancer_screening").grade == "not_recommended"
    assert rec.option("methotrexate").dose is not None
    assert rec.option("prednisone").dose is None  # the sources give no JDM prednisone dose


def test_dm_under_18_is_jdm(make_patient: MakePatient) -> None:
    assert make_patient(age=17).population == "juvenile"
    assert make_patient(age=18).population == "adult"


def test_rapidly_progressive_ild_is_severe(make_patient: MakePatient) -> None:
    rec = recommend(make_patient(manifestations=["muscle", "rapidly_progressive_ild"]), KB)
    assert rec.position == "severe"
    assert rec.option("cyclophosphamide").grade == "recommended"
    assert rec.option("methylprednisolone").grade == "acceptable"  # "may be considered"


def test_too_early_to_call_failure(make_patient: MakePatient) -> None:
    rec = recommend(make_patient(current=[{"agent": "ivig", "months": 1}], failed=["methotrexate"]), KB)
    assert rec.option("continue_and_reassess").grade == "recommended"


@pytest.mark.parametrize(
    ("overrides", "position"),
    [
        ({}, "first_line"),
        ({"current": [{"agent": "prednisone", "months": 1}]}, "steroid_sparing"),
        ({"failed": ["prednisone"]}, "steroid_sparing"),
        ({"current": [{"agent": "methotrexate", "months": 1}]}, "steroid_sparing"),
        ({"failed": ["methotrexate"]}, "refractory"),
        ({"current": [{"agent": "ivig", "months": 2}]}, "refractory"),
        ({"severity": "severe"}, "severe"),
        ({"failed": ["tofacitinib"]}, "refractory"),  # adults: JAK inhibitors are investigational
        ({"age": 9, "failed": ["tofacitinib"]}, "after_jak_failure"),
    ],
)
def test_pathway_position(make_patient: MakePatient, overrides: dict[str, object], position: str) -> None:
    assert recommend(make_patient(**overrides), KB).position == position


def test_unknown_agent_is_refused_with_a_suggestion(make_patient: MakePatient) -> None:
    with pytest.raises(ValueError, match=r"unknown agent 'ritux' \(did you mean 'rituximab'\?\)"):
        make_patient(failed=["ritux"])
    with pytest.raises(ValueError, match="both current and failed"):
        make_patient(current=[{"agent": "ivig"}], failed=["ivig"])


def test_json_output_shape(make_patient: MakePatient) -> None:
    data = recommend(make_patient(), KB).as_json()
    assert data["population"] == "adult"
    option = data["options"][0]  # type: ignore[index]
    assert set(option) >= {"id", "kind", "grade", "why", "sources", "prerequisites", "dose"}


def test_reassessing_between_three_and_six_months_is_acceptable(make_patient: MakePatient) -> None:
    on = {"failed": ["methotrexate"]}
    assert (
        grade(make_patient(current=[{"agent": "ivig", "months": 4}], **on), "continue_and_reassess")
        == "acceptable"
    )
    assert grade(make_patient(current=[{"agent": "ivig", "months": 7}], **on), "continue_and_reassess") == (
        "not_recommended"
    )


def test_refractory_jdm_may_keep_failed_methotrexate_as_backbone() -> None:
    patient = Patient.model_validate(
        {
            "age": 8,
            "weight_kg": 26,
            "height_cm": 128,
            "diagnosis": "juvenile_dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "current": [{"agent": "prednisone", "months": 6}],
            "failed": ["methotrexate"],
        },
        context=CONTEXT,
    )
    rec = recommend(patient, KB)
    assert rec.position == "refractory"
    assert rec.option("methotrexate").grade == "acceptable"
    assert rec.option("methotrexate").rule == "jdm_methotrexate_backbone_after_failure"
    assert rec.option("rituximab").grade == "recommended"  # muscle
    adult = recommend(
        Patient.model_validate(
            {**patient.model_dump(), "age": 40, "diagnosis": "dermatomyositis"}, context=CONTEXT
        ),
        KB,
    )
    assert adult.option("methotrexate").grade == "not_recommended"
