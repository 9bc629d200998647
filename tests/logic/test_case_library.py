"""The case library in cases/: every case loads, lints clean, replays to 100 with the logic's own
answers, scores low and flagged when answered unsafely, and keeps the facts of its reference answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logic import (
    Case,
    answer_key,
    best_answers,
    lint_case,
    load_case,
    load_knowledge_base,
    load_library,
    mosteller_bsa,
    score_case,
    stage_plans,
)
from logic.questions import (
    DoseQuestion,
    MonitoringQuestion,
    NextStepQuestion,
    PrerequisitesQuestion,
    ReflectionQuestion,
)
from tests.context import KB

CASES_DIR = Path(__file__).resolve().parents[2] / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))

# The five reference answers' scenarios, by case id (keys: internal short names of the answers).
SEED_CASES = {
    "S0": "upadacitinib-for-dm-on-ivig",
    "S1": "refractory-dm-on-six-agents",
    "S2": "myositis-after-failed-immunosuppression",
    "S3": "new-dermatomyositis",
    "S4": "jdm-after-jak-inhibitor-failure",
}
MORE_CASES = {
    "iga-deficient-before-ivig",
    "dm-with-interstitial-lung-disease",
    "new-juvenile-dermatomyositis",
}
# The myositis case predates the convention of writing `expect:` on every keyed question.
EXPECT_EXEMPT = {("myositis-after-failed-immunosuppression", "ivig-monitoring")}

_RANK = {"recommended": 0, "acceptable": 1, "not_recommended": 2, "unsafe": 3}


@pytest.fixture(scope="module")
def library() -> Any:
    return load_library([CASES_DIR], KB)


def _case(library: Any, case_id: str) -> Case:
    assert case_id in library, f"case {case_id!r} is missing from cases/"
    return library.cases[case_id].case


def _key(case: Case, question_id: str) -> Any:
    stage_index, question = case.question(question_id)
    return answer_key(question, stage_plans(case, KB)[stage_index], KB)


# ---- The library as a whole. ------------------------------------------------------------------


def test_library_has_at_least_twelve_cases_including_the_reference_cases(library: Any) -> None:
    assert len(library.cases) >= 12
    for seed, case_id in SEED_CASES.items():
        assert case_id in library, f"{seed} case {case_id!r} missing"
    assert set(library.cases) >= MORE_CASES


def test_library_loads_without_errors(library: Any) -> None:
    assert library.errors == [], "\n".join(str(e) for e in library.errors)
    assert len(library.cases) == len(CASE_FILES)


def test_case_ids_are_unique_and_match_file_stems() -> None:
    ids = []
    for path in CASE_FILES:
        loaded, errors = load_case(path, KB)
        assert loaded is not None, "\n".join(str(e) for e in errors)
        assert loaded.case.id == path.stem
        ids.append(loaded.case.id)
    assert len(ids) == len(set(ids))


# ---- Every case. ----------------------------------------------------------------------------------


@pytest.fixture(params=CASE_FILES, ids=[p.stem for p in CASE_FILES])
def case_file(request: pytest.FixtureRequest) -> Path:
    return request.param


def _load(path: Path) -> Any:
    loaded, errors = load_case(path, KB)
    assert loaded is not None, "\n".join(str(e) for e in errors)
    return loaded


def test_case_lints_clean(case_file: Path) -> None:
    problems = lint_case(_load(case_file), KB)
    assert problems == [], "\n".join(str(p) for p in problems)


def test_case_shape(case_file: Path) -> None:
    case = _load(case_file).case
    assert len(case.stages) >= 2
    assert case.population == case.patient.population
    for patient in case.patients(KB):
        assert patient.population == case.population, "the patient changes population mid-case"
    assert case.references
    sources = load_knowledge_base().sources
    assert all(ref in sources for ref in case.references)
    kinds = {q.kind for _, q in case.questions()}
    assert "next_step" in kinds
    assert len(kinds) >= 3, f"only {sorted(kinds)}"


def test_keyed_questions_say_what_the_author_expects(case_file: Path) -> None:
    case = _load(case_file).case
    for _, question in case.questions():
        if isinstance(question, ReflectionQuestion) or (case.id, question.id) in EXPECT_EXEMPT:
            continue
        assert question.expect is not None, f"{case.id}/{question.id} has no expect"


def test_next_step_questions_offer_distractors(case_file: Path) -> None:
    case = _load(case_file).case
    plans = stage_plans(case, KB)
    for stage_index, question in case.questions():
        if not isinstance(question, NextStepQuestion):
            continue
        key = answer_key(question, plans[stage_index], KB)
        bad = [o for o, g in key.graded.items() if g.grade in ("not_recommended", "unsafe")]
        assert bad, f"{case.id}/{question.id}: every option is acceptable or better"
        assert key.best, f"{case.id}/{question.id}: nothing offered is acceptable"


def test_best_answers_score_100_with_no_unsafe_flags(case_file: Path) -> None:
    case = _load(case_file).case
    score = score_case(case, best_answers(case, KB), KB)
    assert score.total == 100
    assert score.unsafe == ()
    assert all(s == 100 for s in score.stage_scores if s is not None)


def _unsafe_answers(case: Case) -> tuple[dict[str, Any], set[str]]:
    """The worst answers the answer keys allow, and the questions where an unsafe answer exists."""
    plans = stage_plans(case, KB)
    answers: dict[str, Any] = {}
    can_be_unsafe: set[str] = set()
    for stage_index, question in case.questions():
        key = answer_key(question, plans[stage_index], KB)
        if isinstance(question, NextStepQuestion):
            unsafe = [o for o, g in key.graded.items() if g.grade == "unsafe"]
            if unsafe:
                can_be_unsafe.add(question.id)
                picks = unsafe
            else:
                worst = max(_RANK[g.grade] for g in key.graded.values())
                picks = [o for o, g in key.graded.items() if _RANK[g.grade] == worst]
            answers[question.id] = picks if question.multiple else picks[0]
        elif isinstance(question, PrerequisitesQuestion):
            # Skip every check: the safety checks are missed.
            answers[question.id] = []
            if key.correct:
                can_be_unsafe.add(question.id)
        elif isinstance(question, MonitoringQuestion):
            answers[question.id] = [o for o in question.options if o not in key.correct]
        elif isinstance(question, DoseQuestion):
            assert key.dose is not None
            answers[question.id] = 3 * key.dose.high
            can_be_unsafe.add(question.id)
        else:
            answers[question.id] = ""
    return answers, can_be_unsafe


def test_unsafe_answers_score_low_and_are_flagged(case_file: Path) -> None:
    case = _load(case_file).case
    answers, can_be_unsafe = _unsafe_answers(case)
    assert can_be_unsafe, f"{case.id} has no question where an unsafe answer is possible"
    score = score_case(case, answers, KB)
    assert score.total < 50
    assert set(score.unsafe) == can_be_unsafe
    for question_id in can_be_unsafe:
        assert score.result(question_id).points <= 0


# ---- Facts of each reference answer. ------------------------------------------------------------------------


def test_s4_rituximab_is_dosed_per_m2_never_the_adult_gram(library: Any) -> None:
    case = _case(library, SEED_CASES["S4"])
    assert case.population == "juvenile"
    stage_index, question = case.question("rituximab-dose")
    patient = case.patients(KB)[stage_index]
    key = _key(case, "rituximab-dose")
    assert key.dose is not None
    expected = 375 * round(mosteller_bsa(patient.height_cm, patient.weight_kg), 2)
    assert key.dose.low == pytest.approx(expected)
    assert key.dose.high == pytest.approx(expected)
    assert key.dose.unit == "mg/infusion"
    assert key.dose.regimen.population == "juvenile"
    assert not key.dose.contains(1000, question.tolerance)
    adult_gram = score_case(case, {"rituximab-dose": 1000}, KB).result("rituximab-dose")
    assert adult_gram.unsafe and adult_gram.points < 0


def test_s4_biologic_by_manifestation_keeps_methotrexate_and_screens_first(library: Any) -> None:
    case = _case(library, SEED_CASES["S4"])
    key = _key(case, "next-biologic")
    assert key.best == ("rituximab",)
    assert key.graded["etanercept"].grade == "not_recommended"
    assert key.graded["tofacitinib"].grade == "not_recommended"
    alongside = _key(case, "alongside")
    assert set(alongside.best) == {"expert_centre_referral"}
    assert alongside.graded["methotrexate"].grade == "acceptable"  # "consider continuing" methotrexate
    assert _key(case, "before-rituximab").correct == {"tb_screening", "hepatitis_screening"}


def test_s2_ivig_prerequisites_are_iga_and_premedication(library: Any) -> None:
    case = _case(library, SEED_CASES["S2"])
    assert _key(case, "before-ivig").correct == {"check_iga", "ivig_premedication"}
    assert _key(case, "next-agent").best == ("ivig",)


def test_s0_upadacitinib_is_not_recommended(library: Any) -> None:
    case = _case(library, SEED_CASES["S0"])
    key = _key(case, "add-upadacitinib")
    assert key.graded["upadacitinib"].grade == "not_recommended"
    assert key.best == ("optimise_current_therapy",)
    assert _key(case, "after-ivig").graded["upadacitinib"].grade == "not_recommended"
    # Equal alternatives: rituximab is the next step's key, cyclophosphamide the other alternative's (a stage
    # offers each option once).
    assert _key(case, "after-ivig").best == ("rituximab",)
    assert set(_key(case, "plan-after-ivig").best) == {"cyclophosphamide"}
    assert {"rituximab", "cyclophosphamide"} <= set(
        stage_plans(case, KB)[case.question("after-ivig")[0]].recommendation.with_grade("recommended")
    )
    assert _key(case, "instead-of-jak").best == ("clinical_trial",)
    assert _key(case, "instead-of-jak").graded["clinical_trial"].grade == "acceptable"  # "may benefit"
    monitoring = _key(case, "response-monitoring").correct
    assert {"muscle_strength", "ck_aldolase", "cdasi", "function"} <= monitoring


def test_s1_cyclophosphamide_recommended_without_infection_unsafe_with_one(library: Any) -> None:
    case = _case(library, SEED_CASES["S1"])
    patients = case.patients(KB)
    first, _ = case.question("add-agent")
    assert not patients[first].infections and not patients[first].cytopenias
    assert set(patients[first].current_ids) == {
        "ivig",
        "rituximab",
        "tocilizumab",
        "prednisone",
        "hydroxychloroquine",
        "mycophenolate_mofetil",
    }
    assert _key(case, "add-agent").graded["cyclophosphamide"].grade == "recommended"
    infected, _ = case.question("during-infection")
    assert patients[infected].infections
    key = _key(case, "during-infection")
    assert key.graded["cyclophosphamide"].grade == "unsafe"
    assert key.best == ("optimise_current_therapy",)
    assert {"cbc", "lft", "lipids", "opportunistic_infections"} <= _key(case, "intensive-monitoring").correct


def test_s3_prednisone_dose_is_half_to_one_mg_per_kg(library: Any) -> None:
    case = _case(library, SEED_CASES["S3"])
    stage_index, _ = case.question("prednisone-dose")
    weight = case.patients(KB)[stage_index].weight_kg
    dose = _key(case, "prednisone-dose").dose
    assert dose is not None
    assert (dose.low, dose.unit) == (0.5 * weight, "mg/day")
    assert dose.high == min(1.0 * weight, 60)  # "usually 40 to 60 mg daily"
    assert set(_key(case, "start-treatment").best) == {"prednisone", "methotrexate"}
    assert set(_key(case, "supportive-care").best) == {"physiotherapy", "sun_protection", "cancer_screening"}
    assert set(_key(case, "no-response").best) == {"reconsider_diagnosis", "ivig"}


def test_iga_deficiency_makes_immunoglobulin_unsafe(library: Any) -> None:
    case = _case(library, "iga-deficient-before-ivig")
    key = _key(case, "iga-deficient")
    assert key.graded["ivig"].grade == "unsafe"
    assert key.graded["scig"].grade == "unsafe"
    assert "rituximab" in key.best


def test_rapidly_progressive_ild_is_the_severe_step(library: Any) -> None:
    case = _case(library, "dm-with-interstitial-lung-disease")
    key = _key(case, "severe-step")
    assert key.recommendation.position == "severe"
    assert key.best == ("cyclophosphamide",)
    assert key.graded["methylprednisolone"].grade == "acceptable"  # "may be considered"


def test_new_jdm_no_cancer_screening_and_mtx_per_m2(library: Any) -> None:
    case = _case(library, "new-juvenile-dermatomyositis")
    assert _key(case, "supportive-care").graded["cancer_screening"].grade == "not_recommended"
    stage_index, _ = case.question("methotrexate-dose")
    patient = case.patients(KB)[stage_index]
    bsa = round(mosteller_bsa(patient.height_cm, patient.weight_kg), 2)
    dose = _key(case, "methotrexate-dose").dose
    assert dose is not None
    assert (dose.low, dose.high) == (pytest.approx(15 * bsa), pytest.approx(20 * bsa))
    # The sources give no JDM prednisone dose: none may be shown.
    assert _key(case, "start-treatment").recommendation.option("prednisone").dose is None
    assert set(_key(case, "severe-combination").best) == {"methotrexate", "ciclosporin", "ivig"}


# ---- What the library teaches: every gap the clinical review found is taught and scored somewhere. ----

NEW_CASES = {
    "dose-ceilings-in-a-heavy-patient",
    "ivig-on-ideal-body-weight",
    "rituximab-maintenance-then-anti-tnf",
    "jdm-lung-disease-after-jak-failure",
}


def test_the_library_teaches_every_gap_the_review_found(library: Any) -> None:
    assert set(library.cases) >= NEW_CASES
    taught: dict[str, list[str]] = {}

    def mark(gap: str, where: str) -> None:
        taught.setdefault(gap, []).append(where)

    for case_id, loaded in library.cases.items():
        case = loaded.case
        plans = stage_plans(case, KB)
        for stage_index, question in case.questions():
            key = answer_key(question, plans[stage_index], KB)
            patient = plans[stage_index].patient
            where = f"{case_id}/{question.id}"
            if isinstance(question, DoseQuestion) and key.dose is not None:
                if key.dose.capped:
                    mark("dose ceiling", where)
                if question.agent == "ivig" and key.dose.weight_basis == "ideal":
                    mark("IVIG on ideal body weight", where)
                if key.dose.regimen.id == "rituximab-adult-maintenance":
                    mark("rituximab maintenance", where)
            if not isinstance(question, NextStepQuestion):
                continue
            rules = {o: g.rule for o, g in key.graded.items()}
            if any(
                r in ("tb_positive_no_biologic", "hepatitis_positive_no_biologic") for r in rules.values()
            ):
                mark("positive TB or hepatitis stops a biologic", where)
            if "cytopenia_no_new_immunosuppression" in rules.values():
                mark("cytopenias as a stop sign", where)
            if (
                {"tacrolimus", "cyclophosphamide"} & set(key.best)
                and patient.population == "adult"
                and ({"ivig", "scig"} & set(patient.failed))
            ):
                mark("tacrolimus or cyclophosphamide after IVIG failure", where)
            if (
                case.population == "adult"
                and {"infliximab", "adalimumab"} & set(key.best)
                and key.graded.get("etanercept") is not None
                and key.graded["etanercept"].grade == "not_recommended"
            ):
                mark("anti-TNF, not etanercept, in refractory adult DM", where)
            if (
                key.recommendation.position == "after_jak_failure"
                and {"ild", "calcinosis"} & set(patient.manifestations)
                and key.best
            ):
                mark("ILD- or calcinosis-dominant JDM after JAK failure", where)
    gaps = {
        "dose ceiling",
        "IVIG on ideal body weight",
        "positive TB or hepatitis stops a biologic",
        "cytopenias as a stop sign",
        "tacrolimus or cyclophosphamide after IVIG failure",
        "anti-TNF, not etanercept, in refractory adult DM",
        "ILD- or calcinosis-dominant JDM after JAK failure",
        "rituximab maintenance",
    }
    assert gaps <= set(taught), sorted(gaps - set(taught))


def test_ceiling_and_ideal_weight_doses_penalise_the_naive_arithmetic(library: Any) -> None:
    heavy = _case(library, "dose-ceilings-in-a-heavy-patient")
    naive = score_case(heavy, {"methotrexate-dose": 48, "prednisone-dose": 112}, KB)
    assert naive.result("methotrexate-dose").unsafe  # above the stated maximum
    prednisone = naive.result("prednisone-dose")  # 1 mg/kg, but above the usual 40 to 60 mg/day: half
    assert prednisone.points == 0.5 and not prednisone.unsafe
    assert "usual upper dose" in prednisone.verdicts[0].why
    ideal = _case(library, "ivig-on-ideal-body-weight")
    on_actual = score_case(ideal, {"ivig-dose": 250}, KB).result("ivig-dose")
    assert on_actual.unsafe and on_actual.points < 0
    assert score_case(ideal, {"ivig-dose": 105}, KB).result("ivig-dose").points == 1
