"""The claim register: every claim of the sources, each with executable checks; the register and the
knowledge base must agree at load time; `python -m logic claims` reports pass/fail and exits 1 on failure."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from logic import cli
from logic.claims import (
    EXPECTATIONS,
    CheckResult,
    ClaimResult,
    implementer_label,
    register_rows,
    run_check,
    run_claim,
    run_register,
)
from logic.knowledge import (
    DATA_DIR,
    STRENGTHS,
    Claim,
    ClaimCheck,
    KnowledgeBaseError,
    build_knowledge_base,
    load_knowledge_base,
)

KB = load_knowledge_base()
REFERENCE_ANSWERS = [s.id for s in KB.sources.values() if s.kind == "reference_answer"]


def test_register_covers_the_five_answers_and_the_faculty_notes() -> None:
    by_source = Counter(c.source for c in KB.claims)
    assert len(REFERENCE_ANSWERS) == 5
    for source in (*REFERENCE_ANSWERS, "content_notes"):
        assert by_source[source] >= 10, (source, by_source[source])
    from_sources = sum(by_source[s] for s in (*REFERENCE_ANSWERS, "content_notes"))
    assert 90 <= from_sources <= 140
    # The app's own choices where the sources are silent are listed too, and only with that strength.
    assert by_source["conservative_choice"] >= 10
    assert all((c.strength == "silent") == (c.source == "conservative_choice") for c in KB.claims)


def test_every_claim_has_a_location_strength_implementer_and_a_patient_check() -> None:
    for claim in KB.claims:
        assert claim.where.section and claim.where.sentence >= 1, claim.id
        assert claim.strength in STRENGTHS
        assert claim.implemented_by, claim.id
        assert any(check.patient is not None for check in claim.checks), claim.id
        for check in claim.checks:
            assert set(check.expect) <= set(EXPECTATIONS), (claim.id, set(check.expect) - set(EXPECTATIONS))


@pytest.mark.parametrize("claim", KB.claims, ids=[c.id for c in KB.claims])
def test_claim_checks_pass(claim: Claim) -> None:
    result = run_claim(claim, KB)
    assert result.passed, "\n".join(result.failures)


def test_claim_text_is_our_own_words_without_internal_codes() -> None:
    for claim in KB.claims:
        for word in ("seed", "S0", "S1", "S2", "S3", "S4", ".txt", "shared/"):
            assert word not in claim.claim, (claim.id, word)
            assert word not in claim.where.section, (claim.id, word)


# ---- Checks can fail: each expectation reports what it found. ----------------------------------------


def _check(patient: Any, **expect: Any) -> CheckResult:
    claim = KB.claims[0]
    return run_check(claim, 1, ClaimCheck(patient=patient, expect=expect), KB)


@pytest.mark.parametrize(
    ("expect", "fragment"),
    [
        ({"grade": {"prednisone": "unsafe"}}, "prednisone is recommended, expected unsafe"),
        ({"not_grade": {"prednisone": ["recommended"]}}, "which it must not be"),
        ({"rule": {"prednisone": "nope"}}, "expected nope"),
        ({"ranks_above": [["upadacitinib", "prednisone"]]}, "should be graded above"),
        ({"why_says": {"prednisone": "zebra"}}, "does not say 'zebra'"),
        ({"why_lacks": {"prednisone": "prednisone"}}, "why says 'prednisone'"),
        ({"population": "juvenile"}, "population is adult"),
        ({"position": "severe"}, "pathway position is first_line"),
        ({"prerequisites": {"ivig": []}}, "missing prerequisites of ivig"),
        ({"monitoring": {"agents": ["ivig"], "includes": ["lipids"]}}, "lacks lipids"),
        ({"dose": {"agent": "prednisone", "high": 70}}, "dose high is 60"),
        ({"dose": {"agent": "prednisone", "capped": False}}, "dose capped is True"),
        ({"no_dose": {"prednisone": "x"}}, "has a dose"),
        ({"dose_credit": {"agent": "prednisone", "value": 70, "credit": 1}}, "earns"),
        ({"faculty_note": {"option": "prednisone", "cites": "proderm2022"}}, "no faculty note"),
        ({"caution": {"option": "ivig", "says": "zebra"}}, "no caution"),
        ({"no_such_expectation": {}}, "unknown expectation"),
    ],
)
def test_each_expectation_reports_a_failure(expect: dict[str, Any], fragment: str) -> None:
    result = _check("new_adult_dm", **expect)
    assert not result.passed
    assert any(fragment in f for f in result.failures), result.failures


def test_an_invalid_check_patient_is_a_failure_not_a_crash() -> None:
    result = _check({"age": 40, "weight_kg": -1, "diagnosis": "dermatomyositis"}, population="adult")
    assert not result.passed and "invalid patient" in result.failures[0]


# ---- Load-time consistency. --------------------------------------------------------------------------


def _data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def _rule(rules: list[dict[str, Any]], rule_id: str) -> dict[str, Any]:
    return next(r for r in rules if r["id"] == rule_id)


def test_a_citation_must_point_at_a_source_that_says_the_thing(tmp_path: Path) -> None:
    data = _data(tmp_path)
    # Cite the JDM answer for etanercept, which that answer does not say.
    _edit(
        data / "rules.yaml",
        lambda rules: _rule(rules, "etanercept_not_preferred")["sources"].append("answer_jdm_after_jak"),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"rule:etanercept_not_preferred cites 'answer_jdm_after_jak'"
    ):
        build_knowledge_base(data)


def test_a_regimen_citation_needs_a_claim_too(tmp_path: Path) -> None:
    data = _data(tmp_path)

    def edit(formulary: dict[str, Any]) -> None:
        azathioprine = next(a for a in formulary["agents"] if a["id"] == "azathioprine")
        azathioprine["regimens"][0]["sources"].append("answer_refractory_six_agents")

    _edit(data / "formulary.yaml", edit)
    with pytest.raises(
        KnowledgeBaseError, match=r"regimen:azathioprine-adult cites 'answer_refractory_six_agents'"
    ):
        build_knowledge_base(data)


def test_every_claim_is_implemented_by_something_that_exists(tmp_path: Path) -> None:
    data = _data(tmp_path)
    _edit(
        data / "claims.yaml",
        lambda register: register["claims"][0].update(implemented_by=["rule:no_such_rule"]),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"implemented_by 'rule:no_such_rule' is not in the knowledge base"
    ):
        build_knowledge_base(data)
    data = _data(tmp_path / "again")
    _edit(data / "claims.yaml", lambda register: register["claims"][0].update(implemented_by=[]))
    with pytest.raises(Exception, match="implemented_by"):
        build_knowledge_base(data)


def test_an_unsourced_fact_is_refused(tmp_path: Path) -> None:
    data = _data(tmp_path)

    def edit(formulary: dict[str, Any]) -> None:
        abatacept = next(a for a in formulary["agents"] if a["id"] == "abatacept")
        abatacept["preferred_for"] = ["calcinosis"]  # no source says this
        abatacept["monitoring"] = ["headache"]

    _edit(data / "formulary.yaml", edit)
    with pytest.raises(KnowledgeBaseError) as info:
        build_knowledge_base(data)
    assert "preferred:abatacept/calcinosis implements no claim" in str(info.value)
    assert "agent-monitoring:abatacept/headache implements no claim" in str(info.value)


def test_recommended_needs_a_recommendation_not_a_may_consider(tmp_path: Path) -> None:
    data = _data(tmp_path)
    _edit(
        data / "rules.yaml",
        lambda rules: _rule(rules, "adult_severe_methylprednisolone").update(grade="recommended"),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"rule adult_severe_methylprednisolone: graded recommended.*consider"
    ):
        build_knowledge_base(data)


def test_only_the_conservative_choice_source_is_silent(tmp_path: Path) -> None:
    data = _data(tmp_path)
    _edit(data / "claims.yaml", lambda register: register["claims"][0].update(strength="silent"))
    with pytest.raises(KnowledgeBaseError, match="strength 'silent'"):
        build_knowledge_base(data)


# ---- The register as a teacher reads it, and the command. -------------------------------------------


def test_implementers_read_as_plain_words() -> None:
    assert implementer_label("ceiling:methotrexate-adult", KB) == "Methotrexate adult dose ceiling"
    assert implementer_label("rule:adult_refractory_ivig_next", KB).startswith("grading rule (recommended")
    assert implementer_label("prerequisite:ivig/check_iga", KB) == (
        "Intravenous immunoglobulin (IVIG) before starting: Check serum IgA"
    )
    assert "ideal body weight" in implementer_label("code:ideal_body_weight", KB)
    rows = register_rows(KB, run_register(KB))
    assert len(rows) == len(KB.claims)
    assert not any("rule:" in r["Implemented by"] or "_" in r["Implemented by"] for r in rows)


def test_cli_claims_table_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["claims"]) == 0
    out, err = capsys.readouterr()
    assert f"{len(KB.claims)} claims" in err and "all pass" in err
    assert out.count("\npass ") + out.startswith("pass ") == len(KB.claims)
    assert "Reference answer: refractory DM on six agents" in out


def test_cli_claims_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["claims", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["claims"] == len(KB.claims) and data["failed"] == []
    assert data["checks"] == sum(len(c.checks) for c in KB.claims)
    first = data["register"][0]
    assert set(first) >= {
        "id",
        "source",
        "where",
        "claim",
        "strength",
        "implemented_by",
        "passed",
        "failures",
    }


def test_cli_claims_exits_1_on_a_failing_claim(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = KB.claims[0]
    failing = ClaimResult(
        claim, (CheckResult(claim.id, 1, ("upadacitinib is recommended, expected not_recommended",)),)
    )

    def run(kb: Any) -> tuple[ClaimResult, ...]:
        return (failing, *run_register(kb)[1:])

    monkeypatch.setattr(cli, "run_register", run)
    assert cli.main(["claims", "--failed"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"FAIL  {claim.id}") and "expected not_recommended" in out
    assert "1 claim(s) FAIL" in err
    assert cli.main(["claims", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failed"] == [claim.id]


def test_readme_states_the_register_size() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    checks = sum(len(c.checks) for c in KB.claims)
    assert f"{len(KB.claims)} claims in all with {checks} executable" in readme
    sourced = sum(1 for c in KB.claims if c.source in (*REFERENCE_ANSWERS, "content_notes"))
    silent = sum(1 for c in KB.claims if c.source == "conservative_choice")
    assert (
        f"{sourced} from the five answers and the notes, plus {silent} stated conservative choices" in readme
    )
