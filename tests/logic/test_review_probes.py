"""An independent clinical review's probe patients (tests/logic/review_probes.yaml) and what must hold for them.

Each probe runs through recommend(); every probe must satisfy the safety invariants below (what the five
reference answers and the faculty notes make non-negotiable), and the probes that exposed a discrepancy
in the review carry a test of their own, named after the fault it pins down.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from logic import Patient, Recommendation, load_knowledge_base, recommend
from logic.cli import main as cli_main
from logic.library import load_case
from tests.context import CONTEXT

KB = load_knowledge_base()
PROBES: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("review_probes.yaml")).read_text(encoding="utf-8")
)
REPO = Path(__file__).resolve().parents[2]
POSITIVE = ("recommended", "acceptable")


def rec_for(name: str) -> Recommendation:
    return recommend(Patient.model_validate(PROBES[name], context=CONTEXT), KB)


def tags(agent_id: str) -> frozenset[str]:
    return frozenset(KB.agents[agent_id].tags)


def agents_with(tag: str) -> list[str]:
    return [a for a in KB.agents if tag in tags(a)]


# ---- The probe set ---------------------------------------------------------------------------------


def test_the_probe_set_is_wide() -> None:
    patients = [Patient.model_validate(p, context=CONTEXT) for p in PROBES.values()]
    positions = {recommend(p, KB).position for p in patients}
    assert len(patients) >= 60
    assert {p.diagnosis for p in patients} == {
        "dermatomyositis",
        "juvenile_dermatomyositis",
        "polymyositis",
        "necrotizing_myopathy",
    }
    assert positions == {"first_line", "steroid_sparing", "refractory", "severe", "after_jak_failure"}
    assert {17, 18} <= {int(p.age) for p in patients}
    assert any(p.height_cm is None for p in patients) and any(p.sex is None for p in patients)
    assert {p.labs.iga for p in patients} == {"normal", "deficient", "unknown"}
    assert (
        {p.labs.tb for p in patients}
        == {p.labs.hepatitis for p in patients}
        == {
            "negative",
            "positive",
            "unknown",
        }
    )
    assert any(p.infections for p in patients) and any(p.cytopenias for p in patients)
    manifestations = {m for p in patients for m in p.manifestations}
    assert manifestations >= {"ild", "rapidly_progressive_ild", "skin_ulceration", "major_organ", "dysphagia"}
    jak_failed_jdm = [
        p for p in patients if p.population == "juvenile" and "after_jak" in recommend(p, KB).position
    ]
    assert {m for p in jak_failed_jdm for m in p.manifestations} >= {
        "skin",
        "muscle",
        "ild",
        "calcinosis",
        "major_organ",
    }
    assert min(p.weight_kg for p in patients) <= 20 and max(p.weight_kg for p in patients) >= 150


# ---- Invariants every probe must satisfy -----------------------------------------------------------

_INTERNAL = re.compile(r"\bseeds?\b|\bS[0-4]\b|\.txt\b|content-notes|\.\./shared", re.IGNORECASE)
_HOLD_ON_SCREEN = (
    "methotrexate",
    "azathioprine",
    "mycophenolate_mofetil",
    "tacrolimus",
    "ciclosporin",
    "cyclophosphamide",
)


def violations(name: str) -> list[str]:
    patient = Patient.model_validate(PROBES[name], context=CONTEXT)
    rec = recommend(patient, KB)
    grades = rec.grades()
    current, failed = set(patient.current_ids), set(patient.failed)
    out: list[str] = []

    def bad(option: str, why: str) -> None:
        out.append(f"{option} is {grades[option]} ({rec.option(option).rule}): {why}")

    for agent_id in KB.agents:
        option = rec.option(agent_id)
        agent_tags = tags(agent_id)
        starting = agent_id not in current
        positive = option.grade in POSITIVE
        # Infection or cytopenias: no start (or restart) of an immunosuppressant is offered; a
        # non-glucocorticoid one is unsafe and flagged (reference answer on refractory DM).
        if (patient.infections or patient.cytopenias) and starting and "immunosuppressant" in agent_tags:
            if positive:
                bad(agent_id, "a start during an infection or with cytopenias")
            if "glucocorticoid" not in agent_tags and option.grade != "unsafe":
                bad(agent_id, "should be unsafe during an infection or with cytopenias")
        if patient.labs.iga == "deficient" and "immunoglobulin" in agent_tags and option.grade != "unsafe":
            bad(agent_id, "immunoglobulin with IgA deficiency")
        screen_positive = "positive" in (patient.labs.tb, patient.labs.hepatitis)
        if screen_positive and agent_tags & {"biologic", "jak_inhibitor"} and option.grade != "unsafe":
            bad(agent_id, "a biologic or JAK inhibitor with a positive TB or hepatitis screen")
        if screen_positive and starting and agent_id in _HOLD_ON_SCREEN and positive:
            bad(agent_id, "a start with a positive TB or hepatitis screen")
        if agent_tags & {"jak_inhibitor"} and positive:
            bad(agent_id, "JAK inhibitors are investigational or, after failure, not repeated")
        if agent_id == "etanercept" and positive:
            bad(agent_id, "infliximab or adalimumab are preferred over etanercept")
        if agent_id in failed and option.grade == "recommended":
            bad(agent_id, "a failed agent is never the recommended next step")
        if starting and "biologic" in agent_tags and current & set(agents_with("jak_inhibitor")) and positive:
            bad(agent_id, "a biologic on top of a current JAK inhibitor")
        if (
            starting
            and "tnf_inhibitor" in agent_tags
            and current & set(agents_with("tnf_inhibitor"))
            and positive
        ):
            bad(agent_id, "a second TNF inhibitor")
        if agent_id == "mycophenolate_mofetil" and starting and "cyclophosphamide" in current and positive:
            bad(agent_id, "cyclophosphamide usually replaces mycophenolate")
        # Prerequisites the sources require are listed while their result is unknown.
        if positive and agent_tags & {"biologic", "jak_inhibitor"}:
            for lab, action in (("tb", "tb_screening"), ("hepatitis", "hepatitis_screening")):
                if getattr(patient.labs, lab) == "unknown" and action not in option.prerequisites:
                    bad(agent_id, f"{action} missing from its prerequisites")
        iga_unknown = patient.labs.iga == "unknown"
        if (
            positive
            and "immunoglobulin" in agent_tags
            and iga_unknown
            and "check_iga" not in option.prerequisites
        ):
            bad(agent_id, "check_iga missing from its prerequisites")
        # Doses: never above a ceiling the sources state; never on more than the actual weight.
        dose = option.dose
        if dose is not None:
            if dose.ceiling is not None and dose.high > dose.ceiling.amount:
                bad(agent_id, f"dose {dose.high} above the ceiling {dose.ceiling.amount}")
            if dose.dosing_weight_kg is not None and dose.dosing_weight_kg > patient.weight_kg:
                bad(agent_id, "dosed on more than the actual weight")
        if patient.population == "adult" and patient.age < 18 and dose is not None:
            bad(agent_id, "an adult dose for a patient under 18")
    for option in rec.options:
        if _INTERNAL.search(option.why):
            out.append(f"{option.id}: why shows an internal word: {option.why}")
        if patient.population == "adult" and "next line is a biologic" in option.why:
            out.append(f"{option.id}: the biologic next line is a JDM statement, said for an adult")
        if (
            not patient.tried
            and option.grade in POSITIVE
            and re.search(r"despite|ha(s|ve) failed|after failed|no response|non-response", option.why, re.I)
        ):
            out.append(f"{option.id}: an untreated patient told '{option.why}'")
    if patient.population == "juvenile" and grades["cancer_screening"] in POSITIVE:
        out.append("cancer screening is not routine in JDM")
    adult_dm = patient.population == "adult" and patient.diagnosis == "dermatomyositis"
    if adult_dm and grades["cancer_screening"] != "recommended":
        out.append("cancer screening is part of adult DM care")
    expected_population = (
        "juvenile"
        if patient.diagnosis == "juvenile_dermatomyositis"
        or (patient.diagnosis == "dermatomyositis" and patient.age < 18)
        else "adult"
    )
    if rec.population != expected_population:
        out.append(f"population {rec.population}, expected {expected_population}")
    # What to monitor on each current agent includes its own and its class's items.
    monitored = {m.id for m in rec.monitoring}
    for agent_id in current:
        missing = set(KB.agents[agent_id].monitoring) - monitored
        if missing:
            out.append(f"monitoring on {agent_id} misses {sorted(missing)}")
    if "ivig" in current and not {"headache", "thrombosis", "aseptic_meningitis", "cbc", "lft"} <= monitored:
        out.append("IVIG: headache, thrombosis, aseptic meningitis, blood count and liver tests")
    if current & set(agents_with("biologic")) and not {"cbc", "lft", "lipids"} <= monitored:
        out.append("a biologic: blood count, liver tests and lipids")
    return out


@pytest.mark.parametrize("name", sorted(PROBES))
def test_probe_satisfies_the_safety_invariants(name: str) -> None:
    assert violations(name) == []


def test_the_invariants_can_fail() -> None:
    """The invariant check is not vacuous: a knowledge base that offers a restart during an infection fails it."""
    rules = tuple(
        r.model_copy(update={"when": r.when.model_copy(update={"target": "untried"})})
        if r.id in ("infection_no_new_immunosuppression", "infection_hold_corticosteroid_start")
        else r
        for r in KB.rules
    )
    loose = KB.model_copy(update={"rules": rules})
    patient = Patient.model_validate(PROBES["p86_jdm_failed_mtx_infection"], context=CONTEXT)
    assert recommend(patient, loose).option("methotrexate").grade == "acceptable"
    assert recommend(patient, KB).option("methotrexate").grade == "unsafe"


# ---- The discrepancies the review found, one test per fix ---------------------------------------------


def test_a_restart_is_a_start_during_an_infection_or_with_cytopenias() -> None:
    """SAFETY: restarting a failed, stopped methotrexate during an infection scored 0.5 (JDM backbone rule)."""
    infected = rec_for("p86_jdm_failed_mtx_infection").option("methotrexate")
    assert (infected.grade, infected.rule) == ("unsafe", "infection_no_new_immunosuppression")
    cytopenic = rec_for("p87_jdm_jak_failed_mtx_cytopenia_tb_pos").option("methotrexate")
    assert (cytopenic.grade, cytopenic.rule) == ("unsafe", "cytopenia_no_new_immunosuppression")


def test_cytopenias_outrank_a_positive_screens_hold() -> None:
    """SAFETY: with cytopenias and a positive TB screen, new immunosuppressants were only 'not recommended'."""
    rec = rec_for("p87_jdm_jak_failed_mtx_cytopenia_tb_pos")
    for agent in ("azathioprine", "mycophenolate_mofetil", "tacrolimus", "ciclosporin", "cyclophosphamide"):
        assert rec.option(agent).grade == "unsafe", agent


def test_no_biologic_is_added_to_a_current_jak_inhibitor() -> None:
    """SAFETY: on baricitinib for a month, adding infliximab was *recommended*; the source's biologic follows JAK failure."""
    jdm = rec_for("p49_jdm_on_jak_1mo")
    for biologic in ("infliximab", "adalimumab", "rituximab", "tocilizumab", "abatacept"):
        option = jdm.option(biologic)
        assert (option.grade, option.rule) == ("not_recommended", "biologic_not_added_to_jak"), biologic
    assert jdm.option("continue_and_reassess").grade == "recommended"
    adult = rec_for("p79_adult_on_upa_and_ivig")
    for biologic in ("infliximab", "adalimumab", "rituximab"):
        option = adult.option(biologic)
        assert (option.grade, option.rule) == ("not_recommended", "biologic_not_added_to_jak_adult"), biologic
        assert "silent" in option.why and "next line" not in option.why


def test_no_second_tnf_inhibitor() -> None:
    """SAFETY: on etanercept, adding adalimumab or infliximab scored 0.5 ('anti-TNF may be considered')."""
    rec = rec_for("p61_adult_on_etanercept")
    for agent in ("infliximab", "adalimumab"):
        option = rec.option(agent)
        assert (option.grade, option.rule) == ("not_recommended", "tnf_inhibitor_not_added_to_tnf_inhibitor")
        assert "silent" in option.why
    assert rec.option("ivig").grade == "recommended"


def test_mycophenolate_is_not_added_to_cyclophosphamide() -> None:
    """FIDELITY: the faculty notes say cyclophosphamide usually replaces mycophenolate; adding it was acceptable."""
    for name in ("p57_adult_on_cyc_2mo_ild", "p80_adult_failed_ivig_on_cyc_4mo"):
        option = rec_for(name).option("mycophenolate_mofetil")
        assert (option.grade, option.rule) == (
            "not_recommended",
            "mycophenolate_not_added_to_cyclophosphamide",
        )
    # The other way round the answer key follows the reference answer (add cyclophosphamide), with the note.
    assert rec_for("p19_adult_severe_ild_multi").option("cyclophosphamide").grade == "recommended"


def test_an_adult_failed_jak_inhibitor_is_not_told_the_next_line_is_a_biologic() -> None:
    """FIDELITY: 'the next line is a biologic' is the JDM answer; in adults JAK inhibitors are investigational."""
    rec = rec_for("p18_adult_failed_tofa")
    assert rec.option("tofacitinib").rule == "failed_agent_not_repeated"
    assert rec.option("upadacitinib").rule == "jak_investigational"
    assert rec.option("ivig").grade == "recommended"
    jdm = rec_for("p40_jdm_jak_muscle")
    assert jdm.option("tofacitinib").rule == "failed_jak_not_repeated"
    assert jdm.option("baricitinib").rule == "jak_after_jak_failure"


def test_rapidly_progressive_ild_counts_as_ild() -> None:
    """FIDELITY: with RP-ILD after JAK failure no biologic matched, so TNF inhibitors ranked with rituximab."""
    rec = rec_for("p78_jdm_jak_rpild")
    assert rec.option("rituximab").grade == "recommended"
    assert rec.option("rituximab").rule == "jdm_after_jak_biologic_for_manifestation"
    assert {rec.option(a).grade for a in ("infliximab", "adalimumab", "tocilizumab", "abatacept")} == {
        "acceptable"
    }


@pytest.mark.parametrize(
    ("name", "agent", "rule"),
    [
        ("p46_jdm_jak_infection", "methotrexate", "infection_current_immunosuppressant"),
        ("p47_jdm_jak_cytopenia", "methotrexate", "cytopenia_current_immunosuppressant"),
        ("p53_adult_on_mmf_cytopenia", "mycophenolate_mofetil", "cytopenia_current_immunosuppressant"),
        ("p69_jdm_on_mtx_pred_2mo_cytopenia", "methotrexate", "cytopenia_current_immunosuppressant"),
        ("p75_adult_on_rtx_infection", "rituximab", "infection_current_immunosuppressant"),
        (
            "p84_adult_severe_ild_infection_treated",
            "mycophenolate_mofetil",
            "infection_current_immunosuppressant",
        ),
    ],
)
def test_a_current_agent_during_an_infection_or_cytopenias_says_the_sources_are_silent(
    name: str, agent: str, rule: str
) -> None:
    """FIDELITY: the why said 'with the new agent' or 'before adding more' when nothing may be added."""
    option = rec_for(name).option(agent)
    assert (option.grade, option.rule) == ("acceptable", rule)
    assert "silent" in option.why and "add nothing new" in option.why
    assert "new agent" not in option.why and "before adding more" not in option.why


@pytest.mark.parametrize(
    ("name", "screen"),
    [("p65_adult_hep_pos_new", "hepatitis"), ("p70_adult_severe_no_organ_untreated_tb_pos", "Tuberculosis")],
)
def test_a_corticosteroid_start_with_a_positive_screen_says_so(name: str, screen: str) -> None:
    """FIDELITY: prednisone stayed recommended with a positive screen, and its why never mentioned the screen."""
    rec = rec_for(name)
    option = rec.option("prednisone")
    assert option.grade == "recommended"
    assert screen in option.why and "silent" in option.why
    assert rec.option("methotrexate").grade == "not_recommended"


def test_ivig_is_not_added_alongside_a_steroid_sparing_agent_still_being_judged() -> None:
    """FIDELITY: one month into methotrexate, IVIG was acceptable because 'corticosteroids alone do not work'."""
    rec = rec_for("p07_adult_pred_mtx_1mo")
    for agent in ("ivig", "scig"):
        assert (rec.option(agent).grade, rec.option(agent).rule) == (
            "not_recommended",
            "adult_ivig_not_alongside_steroid_sparing",
        )
    assert rec.option("continue_and_reassess").grade == "recommended"
    # On corticosteroids alone, IVIG may still be added (reference answer on treating DM).
    assert rec_for("p06_adult_on_pred_2mo").option("ivig").grade == "acceptable"


@pytest.mark.parametrize(
    ("name", "agent", "manifestation"),
    [
        ("p36_jdm_failed_mtx_muscle", "ivig", "IVIG for skin, muscle"),
        ("p35_jdm_failed_mtx_skin", "mycophenolate_mofetil", "mycophenolate for skin"),
        ("p81_jdm_failed_mtx_ild", "mycophenolate_mofetil", "ILD"),
    ],
)
def test_refractory_jdm_why_covers_the_manifestation_it_is_recommended_for(
    name: str, agent: str, manifestation: str
) -> None:
    """FIDELITY: IVIG was recommended for muscle and mycophenolate for skin, while the why named neither."""
    option = rec_for(name).option(agent)
    assert (option.grade, option.rule) == ("recommended", "jdm_refractory_for_manifestation")
    assert manifestation in option.why


def test_whys_say_nothing_the_sources_do_not() -> None:
    """FIDELITY: 'unless it was stopped for intolerance' was in no source; ILD was attributed to the answer."""
    restart = rec_for("p35_jdm_failed_mtx_skin").option("methotrexate")
    assert restart.rule == "jdm_methotrexate_backbone_after_failure"
    assert "intolerance" not in restart.why and "may be considered" in restart.why
    organ = rec_for("p21_adult_rpild_untreated").option("cyclophosphamide")
    assert organ.rule == "adult_severe_cyclophosphamide_organ"
    assert "faculty notes add ILD" in organ.why


def test_the_cytopenia_case_says_the_sources_are_silent_on_the_current_methotrexate() -> None:
    """FIDELITY (case text): 'continue and reassess' with new cytopenias on methotrexate, without a word on it."""
    loaded, errors = load_case(REPO / "cases" / "dose-ceilings-in-a-heavy-patient.yaml", KB)
    assert loaded is not None, errors
    stage = loaded.case.stages[1]
    questions = {q.id: q for q in stage.questions}
    assert "add a second immunosuppressant" in questions["add-now"].prompt
    discussion = getattr(questions["stop-sign"], "discussion", None) or ""
    assert "silent on what to do with the methotrexate" in discussion


# ---- Doses, dosing weight and population at the edges -------------------------------------------------


def test_ceilings_and_dosing_weights_at_the_edges() -> None:
    heavy = rec_for("p02_adult_dm_new_heavy_male")
    assert (heavy.option("methotrexate").dose.high, heavy.option("methotrexate").dose.capped) == (40, True)  # type: ignore[union-attr]
    assert heavy.option("prednisone").dose.high == 60  # type: ignore[union-attr]
    jdm_heavy = rec_for("p34_jdm_heavy_16").option("methotrexate").dose
    assert jdm_heavy is not None and jdm_heavy.high == 40 and jdm_heavy.capped
    light = rec_for("p71_jdm_age5_light_rtx_bsa").option("rituximab").dose
    assert light is not None and light.low == pytest.approx(247.5)
    obese = rec_for("p08_adult_failed_mtx_iga_unknown").option("ivig").dose
    assert obese is not None and obese.weight_basis == "ideal" and obese.high == pytest.approx(135.4)
    tall_light = rec_for("p63_adult_tall_light_failed_mtx").option("ivig").dose
    assert tall_light is not None and tall_light.weight_basis == "actual" and tall_light.high == 124
    assert "height" in (rec_for("p04_adult_dm_no_height").option("ivig").dose_note or "")
    assert "sex" in (rec_for("p05_adult_dm_no_sex").option("ivig").dose_note or "")
    assert "152.4" in (rec_for("p62_adult_short_failed_mtx").option("ivig").dose_note or "")
    assert "height" in (rec_for("p33_jdm_new_no_height").option("methotrexate").dose_note or "")
    # No maximum in the sources: shown as such, never invented.
    cyclophosphamide = rec_for("p64_adult_180kg_failed_ivig").option("cyclophosphamide").dose
    assert cyclophosphamide is not None and cyclophosphamide.ceiling is None
    assert cyclophosphamide.ceiling_text == "no maximum in the sources"


def test_population_at_17_and_18() -> None:
    assert rec_for("p30_dm_age17_new").population == "juvenile"
    assert rec_for("p31_dm_age18_new").population == "adult"
    assert rec_for("p52_dm17_heavy_severe_ild").population == "juvenile"
    under_18_pm = rec_for("p28_polymyositis_age16")
    assert under_18_pm.population == "adult"
    assert all(o.dose is None for o in under_18_pm.options)


@pytest.mark.parametrize(
    "name",
    [
        "p08_adult_failed_mtx_iga_unknown",
        "p49_jdm_on_jak_1mo",
        "p61_adult_on_etanercept",
        "p86_jdm_failed_mtx_infection",
    ],
)
def test_the_command_line_gives_the_same_grades(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(yaml.safe_dump(PROBES[name]), encoding="utf-8")
    assert cli_main(["recommend", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {o["id"]: o["grade"] for o in printed["options"]} == rec_for(name).grades()


def test_adult_ciclosporin_says_what_the_source_says() -> None:
    """FIDELITY: the treating-DM answer's systematic review (ciclosporin among agents with better outcomes) was
    unregistered, and ciclosporin in adults was only 'not indicated at this step'."""
    option = rec_for("p59_adult_failed_rtx_ivig").option("ciclosporin")
    assert (option.grade, option.rule) == ("not_recommended", "adult_ciclosporin_not_on_pathway")
    assert "trials are needed" in option.why
