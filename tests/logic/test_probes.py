"""A fresh review: probe patients (none of them the issue's examples) run through `python -m logic
recommend --json`, each compared with what the sources say. Every probe records the expected grades,
doses and checks, and the source reasoning behind them, so a later change that breaks one is caught.

Sources, by plain label: [upa] reference answer on upadacitinib for DM on IVIG; [six] on refractory DM on
six agents; [after] on myositis after failed initial immunosuppression; [treat] on treating DM; [jdm] on
JDM after JAK inhibitor failure; [notes] faculty notes; [silent] the app's conservative choice.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from logic import cli

GRADE_ORDER = ("recommended", "acceptable", "not_recommended", "unsafe")

# Each probe: (id, patient, expectations, why). Expectations: grade {option: grade}, not {option: [grades]},
# position, population, dose {agent: (low, high)}, no_dose [agents], prerequisites {agent: [actions]}.
PROBES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "mild-skin-dm-at-diagnosis",
        {
            "age": 67,
            "sex": "male",
            "weight_kg": 58,
            "height_cm": 170,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin"],
            "severity": "mild",
        },
        {
            "position": "first_line",
            "grade": {
                "prednisone": "recommended",
                "methotrexate": "recommended",
                "hydroxychloroquine": "recommended",
                "ivig": "not_recommended",
                "cancer_screening": "recommended",
                "clinical_trial": "not_recommended",
            },
            "dose": {"prednisone": (29, 58), "methotrexate": (24.8, 33)},
        },
        "[treat] start prednisone with methotrexate; [notes] hydroxychloroquine for skin; [after] early IVIG is trial-only",
    ),
    (
        "on-prednisone-two-months-heavy-short",
        {
            "age": 33,
            "sex": "female",
            "weight_kg": 95,
            "height_cm": 158,
            "diagnosis": "dermatomyositis",
            "manifestations": ["muscle", "dysphagia"],
            "current": [{"agent": "prednisone", "months": 2}],
        },
        {
            "position": "steroid_sparing",
            "grade": {"methotrexate": "recommended", "ivig": "acceptable", "prednisone": "acceptable"},
            "dose": {"methotrexate": (30.6, 40), "ivig": (50.6, 101.2), "prednisone": (47.5, 60)},
        },
        "[treat] steroid-sparing agent; IVIG may be added; [upa] MTX max 40/week; [after] IVIG on ideal body weight",
    ),
    (
        "necrotising-myopathy-failed-azathioprine",
        {
            "age": 59,
            "sex": "female",
            "weight_kg": 72,
            "height_cm": 162,
            "diagnosis": "necrotizing_myopathy",
            "manifestations": ["muscle"],
            "current": [{"agent": "prednisone", "months": 8}],
            "failed": ["azathioprine"],
        },
        {
            "position": "refractory",
            "grade": {
                "ivig": "recommended",
                "check_iga": "recommended",
                "ivig_premedication": "recommended",
                "reconsider_diagnosis": "recommended",
                "cancer_screening": "acceptable",
                "azathioprine": "not_recommended",
            },
            "prerequisites": {"ivig": ["check_iga", "ivig_premedication"]},
        },
        "[after] IVIG next in DM, PM and NAM; IgA and premedication first; [treat] re-check the diagnosis",
    ),
    (
        "organ-involvement-with-infection",
        {
            "age": 44,
            "sex": "male",
            "weight_kg": 90,
            "height_cm": 185,
            "diagnosis": "dermatomyositis",
            "manifestations": ["muscle", "major_organ"],
            "infections": True,
            "current": [{"agent": "prednisone", "months": 4}, {"agent": "methotrexate", "months": 4}],
        },
        {
            "position": "severe",
            "grade": {
                "cyclophosphamide": "unsafe",
                "methylprednisolone": "unsafe",
                "rituximab": "unsafe",
                "azathioprine": "unsafe",
                "optimise_current_therapy": "recommended",
            },
        },
        "[six] intensify only without infections or cytopenias: treat the infection and reassess",
    ),
    (
        "dm-at-12-after-upadacitinib-skin-calcinosis",
        {
            "age": 12,
            "sex": "male",
            "weight_kg": 40,
            "height_cm": 150,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "calcinosis"],
            "failed": ["upadacitinib"],
            "current": [{"agent": "prednisone", "months": 10}, {"agent": "methotrexate", "months": 10}],
        },
        {
            "population": "juvenile",
            "position": "after_jak_failure",
            "grade": {
                "infliximab": "recommended",
                "adalimumab": "recommended",
                "rituximab": "acceptable",
                "ivig": "acceptable",
                "upadacitinib": "not_recommended",
                "tb_screening": "recommended",
                "cancer_screening": "not_recommended",
                "hydroxychloroquine": "acceptable",
            },
            "dose": {"rituximab": (483.8, 483.8), "infliximab": (120, 200)},
        },
        "[notes] under 18 with DM is JDM; [jdm] biologic by manifestation (TNF for skin), screen first",
    ),
    (
        "polymyositis-at-15",
        {
            "age": 15,
            "sex": "female",
            "weight_kg": 52,
            "height_cm": 163,
            "diagnosis": "polymyositis",
            "manifestations": ["muscle"],
        },
        {
            "population": "adult",
            "grade": {"prednisone": "recommended", "cancer_screening": "acceptable"},
            "no_dose": ["prednisone", "methotrexate", "rituximab", "ivig"],
        },
        "[notes] only DM under 18 is JDM; [silent] adult rules, but no adult dose for a child",
    ),
    (
        "frail-woman-failed-two-csdmards",
        {
            "age": 70,
            "sex": "female",
            "weight_kg": 48,
            "height_cm": 155,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "current": [{"agent": "prednisone", "months": 7}],
            "failed": ["methotrexate", "azathioprine"],
        },
        {
            "position": "refractory",
            "grade": {
                "ivig": "recommended",
                "rituximab": "acceptable",
                "mycophenolate_mofetil": "acceptable",
                "infliximab": "acceptable",
                "etanercept": "not_recommended",
            },
            "dose": {"ivig": (47.9, 95.8), "prednisone": (24, 48)},
        },
        "[after] IVIG next; [treat] MMF, rituximab, tacrolimus may be considered; [upa] anti-TNF, not etanercept",
    ),
    (
        "heavy-man-at-diagnosis",
        {
            "age": 38,
            "sex": "male",
            "weight_kg": 130,
            "height_cm": 175,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
        },
        {
            "dose": {"prednisone": (60, 60), "methotrexate": (37.6, 40)},
            "capped": ["prednisone", "methotrexate"],
        },
        "[treat] usually 40-60 mg prednisone; [upa] methotrexate maximum 40 mg/week",
    ),
    (
        "hepatitis-positive-after-ivig-failure",
        {
            "age": 50,
            "sex": "female",
            "weight_kg": 64,
            "height_cm": 166,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin"],
            "labs": {"iga": "normal", "tb": "negative", "hepatitis": "positive"},
            "current": [
                {"agent": "prednisone", "months": 12},
                {"agent": "mycophenolate_mofetil", "months": 9},
            ],
            "failed": ["methotrexate", "ivig"],
        },
        {
            "grade": {
                "rituximab": "unsafe",
                "infliximab": "unsafe",
                "cyclophosphamide": "not_recommended",
                "tacrolimus": "not_recommended",
                "scig": "not_recommended",
            }
        },
        "[jdm] screening exists to stop a biologic; [silent] no other immunosuppressant start with hepatitis",
    ),
    (
        "severe-ild-with-cytopenias",
        {
            "age": 61,
            "sex": "male",
            "weight_kg": 77,
            "height_cm": 172,
            "diagnosis": "dermatomyositis",
            "manifestations": ["muscle", "ild"],
            "severity": "severe",
            "cytopenias": True,
            "current": [{"agent": "prednisone", "months": 1}],
        },
        {
            "not": {
                a: ["recommended", "acceptable"]
                for a in (
                    "cyclophosphamide",
                    "mycophenolate_mofetil",
                    "tacrolimus",
                    "methotrexate",
                    "methylprednisolone",
                    "rituximab",
                )
            }
        },
        "[six] no added immunosuppression with cytopenias, however strong the indication",
    ),
    (
        "jdm-severe-at-presentation",
        {
            "age": 6,
            "sex": "female",
            "weight_kg": 20,
            "height_cm": 115,
            "diagnosis": "juvenile_dermatomyositis",
            "manifestations": ["skin", "muscle", "major_organ"],
            "severity": "severe",
        },
        {
            "position": "severe",
            "grade": {
                "prednisone": "recommended",
                "methotrexate": "recommended",
                "methylprednisolone": "acceptable",
                "ciclosporin": "not_recommended",
                "ivig": "not_recommended",
                "cyclophosphamide": "acceptable",
                "expert_centre_referral": "recommended",
                "clinical_trial": "not_recommended",
                "reconsider_diagnosis": "not_recommended",
            },
            "no_dose": ["prednisone", "methylprednisolone"],
        },
        "[jdm] the combination is for refractory disease; [upa] methylprednisolone may be considered",
    ),
    (
        "on-scig-after-methotrexate",
        {
            "age": 29,
            "sex": "female",
            "weight_kg": 60,
            "height_cm": 170,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "labs": {"iga": "normal"},
            "failed": ["methotrexate"],
            "current": [{"agent": "prednisone", "months": 6}, {"agent": "scig", "months": 5}],
        },
        {
            "grade": {
                "ivig": "not_recommended",
                "scig": "acceptable",
                "ivig_premedication": "not_recommended",
                "continue_and_reassess": "acceptable",
            }
        },
        "[after] SCIG is an alternative to IVIG: on one, the other is not a next step",
    ),
    (
        "failed-ivig-and-rituximab",
        {
            "age": 55,
            "sex": "male",
            "weight_kg": 85,
            "height_cm": 180,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "labs": {"iga": "normal"},
            "current": [{"agent": "prednisone", "months": 9}],
            "failed": ["methotrexate", "ivig", "rituximab"],
        },
        {
            "grade": {
                "cyclophosphamide": "recommended",
                "tacrolimus": "acceptable",
                "abatacept": "acceptable",
                "adalimumab": "acceptable",
                "rituximab": "not_recommended",
            },
            "dose": {"cyclophosphamide": (1030, 1545)},
        },
        "[after] cyclophosphamide the other alternative; tacrolimus may be considered; [six] abatacept may be",
    ),
    (
        "iga-deficient-and-cytopenic",
        {
            "age": 46,
            "sex": "female",
            "weight_kg": 70,
            "height_cm": 168,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "labs": {"iga": "deficient"},
            "cytopenias": True,
            "current": [{"agent": "prednisone", "months": 5}],
            "failed": ["methotrexate"],
        },
        {
            "grade": {
                "ivig": "unsafe",
                "scig": "unsafe",
                "rituximab": "unsafe",
                "mycophenolate_mofetil": "unsafe",
                "reconsider_diagnosis": "recommended",
                "check_iga": "not_recommended",
            }
        },
        "[after] IgA deficiency: no immunoglobulin; [six] cytopenias: no new immunosuppression",
    ),
    (
        "jdm-tb-positive-after-jak",
        {
            "age": 13,
            "sex": "male",
            "weight_kg": 45,
            "height_cm": 158,
            "diagnosis": "juvenile_dermatomyositis",
            "manifestations": ["skin"],
            "labs": {"tb": "positive", "hepatitis": "negative"},
            "failed": ["tofacitinib"],
            "current": [{"agent": "prednisone", "months": 9}, {"agent": "methotrexate", "months": 9}],
        },
        {
            "grade": {
                "infliximab": "unsafe",
                "adalimumab": "unsafe",
                "rituximab": "unsafe",
                "tocilizumab": "unsafe",
                "expert_centre_referral": "recommended",
                "methotrexate": "acceptable",
            }
        },
        "[jdm] positive TB screen stops every biologic; difficult JDM with an expert centre",
    ),
    (
        "severe-untreated-no-organ",
        {
            "age": 42,
            "sex": "male",
            "weight_kg": 82,
            "height_cm": 183,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "severity": "severe",
        },
        {
            "grade": {
                "prednisone": "recommended",
                "methotrexate": "recommended",
                "cyclophosphamide": "acceptable",
                "methylprednisolone": "acceptable",
                "ivig": "not_recommended",
                "rituximab": "not_recommended",
            }
        },
        "[treat] prednisone with methotrexate stays the start; [six] cyclophosphamide is an addition",
    ),
    (
        "polymyositis-failed-hydroxychloroquine",
        {
            "age": 64,
            "sex": "female",
            "weight_kg": 66,
            "height_cm": 160,
            "diagnosis": "polymyositis",
            "manifestations": ["muscle"],
            "current": [{"agent": "prednisone", "months": 4}],
            "failed": ["hydroxychloroquine"],
        },
        {"position": "steroid_sparing", "grade": {"methotrexate": "recommended", "ivig": "acceptable"}},
        "[after] hydroxychloroquine is not initial immunosuppression; [treat] add a steroid-sparing agent",
    ),
    (
        "dm-at-17-heavy",
        {
            "age": 17,
            "sex": "female",
            "weight_kg": 95,
            "height_cm": 178,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
        },
        {
            "population": "juvenile",
            "grade": {"prednisone": "recommended", "methotrexate": "recommended"},
            "dose": {"methotrexate": (32.5, 40)},
            "capped": ["methotrexate"],
            "no_dose": ["prednisone"],
        },
        "[notes] JDM; [upa]+[silent] the 40 mg/week ceiling kept in JDM; no JDM prednisone dose",
    ),
    (
        "responding-to-rituximab-after-ivig",
        {
            "age": 48,
            "sex": "male",
            "weight_kg": 88,
            "height_cm": 176,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "labs": {"iga": "normal", "tb": "negative", "hepatitis": "negative"},
            "current": [{"agent": "prednisone", "months": 6}, {"agent": "rituximab", "months": 6}],
            "failed": ["methotrexate", "ivig"],
        },
        {
            "grade": {
                "cyclophosphamide": "not_recommended",
                "rituximab": "acceptable",
                "optimise_current_therapy": "recommended",
                "continue_and_reassess": "acceptable",
            }
        },
        "[after] rituximab or cyclophosphamide, not both; [six] optimise current doses, rituximab takes time",
    ),
    (
        "jdm-infection-refractory",
        {
            "age": 10,
            "sex": "female",
            "weight_kg": 30,
            "height_cm": 135,
            "diagnosis": "juvenile_dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "infections": True,
            "current": [{"agent": "prednisone", "months": 12}],
            "failed": ["methotrexate"],
        },
        {
            "grade": {
                "rituximab": "unsafe",
                "infliximab": "unsafe",
                "ciclosporin": "unsafe",
                "expert_centre_referral": "recommended",
            }
        },
        "[six] no added immunosuppression during an infection, JDM included",
    ),
    (
        "no-sex-recorded",
        {
            "age": 36,
            "weight_kg": 75,
            "height_cm": 170,
            "diagnosis": "dermatomyositis",
            "manifestations": ["muscle"],
            "current": [{"agent": "prednisone", "months": 5}],
            "failed": ["methotrexate"],
        },
        {"grade": {"ivig": "recommended"}, "no_dose": ["ivig"]},
        "[after] IVIG on ideal body weight, which needs sex and height: no dose is guessed",
    ),
    (
        "on-cyclophosphamide-severe",
        {
            "age": 53,
            "sex": "male",
            "weight_kg": 74,
            "height_cm": 171,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "severity": "severe",
            "labs": {"iga": "normal", "tb": "negative", "hepatitis": "negative"},
            "current": [{"agent": "prednisone", "months": 6}, {"agent": "cyclophosphamide", "months": 3}],
            "failed": ["methotrexate", "ivig"],
        },
        {
            "grade": {
                "cyclophosphamide": "acceptable",
                "rituximab": "acceptable",
                "optimise_current_therapy": "recommended",
            }
        },
        "[after] one of rituximab or cyclophosphamide; [six] optimise before adding",
    ),
    (
        "two-months-into-ivig",
        {
            "age": 40,
            "sex": "female",
            "weight_kg": 62,
            "height_cm": 164,
            "diagnosis": "dermatomyositis",
            "manifestations": ["skin", "muscle"],
            "labs": {"iga": "normal"},
            "failed": ["methotrexate"],
            "current": [{"agent": "prednisone", "months": 3}, {"agent": "ivig", "months": 2}],
        },
        {"grade": {"continue_and_reassess": "recommended", "scig": "not_recommended", "ivig": "acceptable"}},
        "[after] judge response after 3 to 6 months",
    ),
    (
        "jdm-ild-after-baricitinib",
        {
            "age": 9,
            "sex": "male",
            "weight_kg": 28,
            "height_cm": 132,
            "diagnosis": "juvenile_dermatomyositis",
            "manifestations": ["muscle", "ild"],
            "labs": {"tb": "negative", "hepatitis": "negative"},
            "current": [{"agent": "prednisone", "months": 6}, {"agent": "methotrexate", "months": 6}],
            "failed": ["baricitinib"],
        },
        {
            "grade": {
                "rituximab": "recommended",
                "infliximab": "acceptable",
                "baricitinib": "not_recommended",
                "tofacitinib": "not_recommended",
            },
            "prerequisites": {"rituximab": []},
            "dose": {"rituximab": (378.75, 378.75)},
        },
        "[jdm] rituximab for muscle and ILD, 375 mg/m²; screening already done",
    ),
]


def _recommend(patient: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    path = tmp_path / "patient.yaml"
    path.write_text(yaml.safe_dump(patient))
    assert cli.main(["recommend", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "patient", "expect", "why"), PROBES, ids=[p[0] for p in PROBES])
def test_probe_matches_the_sources(
    name: str,
    patient: dict[str, Any],
    expect: dict[str, Any],
    why: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _recommend(patient, tmp_path, capsys)
    options = {o["id"]: o for o in data["options"]}
    problems = []
    for key in ("population", "position"):
        if key in expect and data[key] != expect[key]:
            problems.append(f"{key} {data[key]} != {expect[key]}")
    for option, grade in expect.get("grade", {}).items():
        if options[option]["grade"] != grade:
            problems.append(
                f"{option}: {options[option]['grade']} ({options[option]['rule']}), expected {grade}"
            )
    for option, refused in expect.get("not", {}).items():
        if options[option]["grade"] in refused:
            problems.append(f"{option}: {options[option]['grade']} must not be")
    for agent, (low, high) in expect.get("dose", {}).items():
        dose = options[agent]["dose"]
        if dose is None or abs(dose["low"] - low) > 0.051 or abs(dose["high"] - high) > 0.051:
            problems.append(f"{agent} dose {dose and (dose['low'], dose['high'])}, expected {(low, high)}")
    for agent in expect.get("capped", ()):
        if not (options[agent]["dose"] or {}).get("capped"):
            problems.append(f"{agent} dose not capped")
    for agent in expect.get("no_dose", ()):
        if options[agent]["dose"] is not None or not options[agent]["dose_note"]:
            problems.append(f"{agent} has a dose (or no reason for none)")
    for agent, actions in expect.get("prerequisites", {}).items():
        if options[agent]["prerequisites"] != actions:
            problems.append(f"{agent} prerequisites {options[agent]['prerequisites']} != {actions}")
    assert not problems, f"{name} ({why}):\n" + "\n".join(problems)


def test_probes_are_fresh_and_cover_safety_and_both_populations() -> None:
    names = [p[0] for p in PROBES]
    assert len(names) == len(set(names)) >= 20
    patients = [p[1] for p in PROBES]
    assert {"juvenile_dermatomyositis", "dermatomyositis", "polymyositis", "necrotizing_myopathy"} <= {
        p["diagnosis"] for p in patients
    }
    assert any(p.get("infections") for p in patients) and any(p.get("cytopenias") for p in patients)
    assert any(p.get("labs", {}).get("tb") == "positive" for p in patients)
    assert any(p.get("labs", {}).get("hepatitis") == "positive" for p in patients)


def test_a_probe_through_the_real_command(tmp_path: Path) -> None:
    """One probe end to end in a real process, as a reviewer would run it."""
    name, patient, expect, _ = next(p for p in PROBES if p[0] == "organ-involvement-with-infection")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(patient))
    result = subprocess.run(
        [sys.executable, "-m", "logic", "recommend", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    grades = {o["id"]: o["grade"] for o in json.loads(result.stdout)["options"]}
    assert {k: grades[k] for k in expect["grade"]} == expect["grade"]
    assert all(grade in GRADE_ORDER for grade in grades.values())
