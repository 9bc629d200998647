"""The knowledge base is passed explicitly: no stray loads, validation reads it from pydantic's context,
and a second, modified knowledge base changes doses, grades, keys and scores (the first one unchanged)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from logic import (
    KnowledgeBase,
    Patient,
    answer_key,
    best_answers,
    build_knowledge_base,
    load_case,
    recommend,
    score_case,
    stage_plans,
)
from logic.ids import MissingKnowledgeBase
from logic.knowledge import DATA_DIR
from tests.context import CONTEXT, KB

REPO = Path(__file__).resolve().parents[2]
S2 = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"
# The one composition point per entry that may load the packaged knowledge base.
COMPOSITION_POINTS = {
    "logic/cli.py": "main",
    "dashboard/context.py": "get_kb",
    "dashboard/demo_cohort.py": "main",  # python -m dashboard.demo_cohort
}


def _calls(path: Path, name: str) -> list[str]:
    """The functions (or "<module>") in which ``name(...)`` is called in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
            if isinstance(child, ast.Call):
                func = child.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    found.append(where)
            visit(child, inner)

    visit(tree, "<module>")
    return found


def test_no_stray_knowledge_base_loads_in_the_packages() -> None:
    stray = {}
    for package in ("logic", "dashboard"):
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            for name in ("load_knowledge_base", "build_knowledge_base"):
                where = _calls(path, name)
                allowed = {COMPOSITION_POINTS.get(rel)} if name == "load_knowledge_base" else set()
                if rel == "logic/knowledge.py":
                    allowed = {"load_knowledge_base"}  # the loader builds the packaged data
                bad = [w for w in where if w not in allowed]
                if bad:
                    stray[f"{rel}: {name}"] = bad
    assert stray == {}, "load the knowledge base once per entry and pass it on"
    for rel, function in COMPOSITION_POINTS.items():
        assert _calls(REPO / rel, "load_knowledge_base") == [function], rel


def test_validation_without_a_knowledge_base_says_how_to_give_one() -> None:
    with pytest.raises(MissingKnowledgeBase, match=r"context=\{'kb': kb\}"):
        Patient.model_validate(
            {"age": 50, "weight_kg": 70, "diagnosis": "dermatomyositis", "failed": ["methotrexate"]}
        )
    patient = Patient.model_validate(
        {"age": 50, "weight_kg": 70, "diagnosis": "dermatomyositis"}, context=CONTEXT
    )
    assert patient.population == "adult"
    with pytest.raises(ValidationError, match="unknown agent 'ritux'"):
        Patient.model_validate(
            {"age": 50, "weight_kg": 70, "diagnosis": "dermatomyositis", "failed": ["ritux"]}, context=CONTEXT
        )


def test_compiled_rules_and_dose_memo_belong_to_their_knowledge_base() -> None:
    assert KB.engine is KB.engine and KB.engine.kb is KB
    assert KB.doses is KB.doses and KB.doses.kb is KB
    copy = KB.model_copy()
    assert copy.engine is not KB.engine and copy.engine.kb is copy
    assert copy.doses is not KB.doses


@pytest.fixture(scope="module")
def modified(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The knowledge base with the adult IVIG course (its first regimen, which computes the dose) at half
    the amount, and the rule that recommends IVIG after failed initial immunosuppression grading it only
    acceptable."""
    data = tmp_path_factory.mktemp("kb") / "data"
    shutil.copytree(DATA_DIR, data)
    formulary = yaml.safe_load((data / "formulary.yaml").read_text())
    ivig = next(a for a in formulary["agents"] if a["id"] == "ivig")
    adult = next(r for r in ivig["regimens"] if r["population"] == "adult")
    adult["amount"] = [amount / 2 for amount in adult["amount"]]
    (data / "formulary.yaml").write_text(yaml.safe_dump(formulary, allow_unicode=True, sort_keys=False))
    rules = yaml.safe_load((data / "rules.yaml").read_text())
    rule = next(r for r in rules if r["id"] == "adult_refractory_ivig_next")
    assert rule["grade"] == "recommended"
    rule["grade"] = "acceptable"
    (data / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False))
    return build_knowledge_base(data)


def test_a_second_knowledge_base_changes_doses_grades_keys_and_scores(modified: KnowledgeBase) -> None:
    loaded, errors = load_case(S2, modified)
    assert loaded is not None, errors
    case = loaded.case
    plan = stage_plans(case, modified)[0]
    ivig = plan.recommendation.option("ivig")
    assert ivig.grade == "acceptable" and ivig.rule == "adult_refractory_ivig_next"
    packaged = stage_plans(case, KB)[0].recommendation.option("ivig").dose
    assert packaged is not None and ivig.dose is not None
    assert (ivig.dose.low, ivig.dose.high) == pytest.approx((packaged.low / 2, packaged.high / 2))

    _, next_agent = case.question("next-agent")
    _, dose_question = case.question("ivig-dose")
    assert answer_key(next_agent, stage_plans(case, KB)[0], KB).best == ("ivig",)
    # Nothing offered is recommended any more: the acceptable options are the best.
    assert set(answer_key(next_agent, plan, modified).best) == {"ivig", "rituximab"}
    dose_key = answer_key(dose_question, plan, modified)
    assert dose_key.dose is not None and dose_key.dose.high == pytest.approx(packaged.high / 2)

    full = packaged.high  # the packaged top of the range: twice the modified one
    on_first = score_case(case, {"next-agent": "rituximab", "ivig-dose": full}, KB)
    on_second = score_case(case, {"next-agent": "rituximab", "ivig-dose": full}, modified)
    assert on_first.result("next-agent").credit == 0.5 and on_second.result("next-agent").credit == 1
    assert on_first.result("ivig-dose").credit == 1
    assert on_second.result("ivig-dose").unsafe  # twice the modified course
    assert score_case(case, best_answers(case, modified), modified).total == 100

    # The packaged knowledge base is untouched by the other one's compiled rules and doses.
    first_plan = stage_plans(case, KB)[0].recommendation.option("ivig")
    assert first_plan.grade == "recommended" and first_plan.dose == packaged


def test_recommend_takes_its_doses_from_the_knowledge_base_it_is_given(modified: KnowledgeBase) -> None:
    patient = Patient.model_validate(
        {
            "age": 48,
            "sex": "female",
            "weight_kg": 68,
            "height_cm": 164,
            "diagnosis": "polymyositis",
            "failed": ["methotrexate"],
        },
        context=CONTEXT,
    )
    packaged = recommend(patient, KB).option("ivig").dose
    other = recommend(patient, modified).option("ivig").dose
    assert packaged is not None and other is not None
    assert other.high == pytest.approx(packaged.high / 2)
    assert recommend(patient, KB).option("ivig").dose == packaged  # memo per knowledge base, not shared
