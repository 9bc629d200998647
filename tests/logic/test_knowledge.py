import re
import shutil
from pathlib import Path

import pytest
import yaml

from logic.knowledge import DATA_DIR, KnowledgeBaseError, build_knowledge_base, load_knowledge_base

AGENTS = [
    "prednisone",
    "methylprednisolone",
    "methotrexate",
    "azathioprine",
    "mycophenolate_mofetil",
    "hydroxychloroquine",
    "tacrolimus",
    "ciclosporin",
    "cyclophosphamide",
    "ivig",
    "scig",
    "rituximab",
    "tocilizumab",
    "abatacept",
    "infliximab",
    "adalimumab",
    "etanercept",
    "upadacitinib",
    "tofacitinib",
    "baricitinib",
]
ACTIONS = [
    "check_iga",
    "ivig_premedication",
    "tb_screening",
    "hepatitis_screening",
    "cancer_screening",
    "baseline_labs",
    "physiotherapy",
    "sun_protection",
    "expert_centre_referral",
    "clinical_trial",
    "reconsider_diagnosis",
    "optimise_current_therapy",
    "continue_and_reassess",
]


def test_formulary_has_exactly_the_stable_ids() -> None:
    kb = load_knowledge_base()
    assert sorted(kb.agents) == sorted(AGENTS)
    assert sorted(kb.actions) == sorted(ACTIONS)


def test_every_regimen_cites_a_source_and_has_a_unit() -> None:
    kb = load_knowledge_base()
    for agent in kb.agents.values():
        for regimen in agent.regimens:
            assert regimen.sources, agent.id
            assert all(s in kb.sources for s in regimen.sources)
            assert regimen.unit.startswith(regimen.mass_unit)


def test_doses_are_the_seeds_doses() -> None:
    kb = load_knowledge_base()
    mtx = kb.agents["methotrexate"].regimens_for("adult")[0]
    assert (mtx.amount, mtx.unit, mtx.max) == ((15, 20), "mg/m²/week", 40)
    assert kb.agents["methotrexate"].regimens_for("juvenile")[0].max == 40
    prednisone = kb.agents["prednisone"].regimens_for("adult")[0]
    assert prednisone.ceiling is not None and (prednisone.ceiling.amount, prednisone.ceiling.kind) == (
        60,
        "usual",
    )
    ivig = kb.agents["ivig"].regimens_for("adult")[0]
    assert (ivig.amount, ivig.weight) == ((1, 2), "ideal")  # on ideal body weight, as its source says
    assert ivig.ceiling_text == "no maximum in the sources"
    rtx_jdm = kb.agents["rituximab"].regimens_for("juvenile")[0]
    assert (rtx_jdm.amount, rtx_jdm.unit) == ((375, 375), "mg/m²/infusion")
    assert kb.agents["rituximab"].regimens_for("adult")[0].amount == (1000, 1000)
    assert kb.agents["ivig"].regimens_for("adult")[0].unit == "g/kg/course"
    assert kb.agents["cyclophosphamide"].regimens_for("adult")[0].amount == (500, 750)
    # No dose is invented where the sources give none.
    for agent_id in ("tacrolimus", "ciclosporin", "abatacept", "etanercept", "upadacitinib"):
        assert kb.agents[agent_id].regimens == ()


def test_faculty_notes_cover_every_dispute_in_the_content_notes() -> None:
    kb = load_knowledge_base()
    for agent_id in (
        "methotrexate",
        "methylprednisolone",
        "upadacitinib",
        "tocilizumab",
        "rituximab",
        "ivig",
    ):
        assert kb.agents[agent_id].faculty_notes, agent_id
        for note in kb.agents[agent_id].faculty_notes:
            assert "content_notes" in note.sources


def test_pathways_exist_for_both_populations_with_every_step_kind() -> None:
    kb = load_knowledge_base()
    kinds = {s.kind for p in kb.pathways.values() for s in p.steps}
    assert kinds == {
        "first_line",
        "steroid_sparing",
        "refractory",
        "severe",
        "after_jak_failure",
        "supportive",
    }
    assert kb.pathways["juvenile"].step("after_jak_failure").agents
    assert kb.pathways["adult"].steps_with(["cyclophosphamide"]) == ("refractory", "severe")


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit_pathways(data: Path, edit) -> None:  # type: ignore[no-untyped-def]
    pathways = yaml.safe_load((data / "pathways.yaml").read_text())
    edit(pathways)
    (data / "pathways.yaml").write_text(yaml.safe_dump(pathways, allow_unicode=True))


def test_loading_rejects_a_cycle(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _edit_pathways(
        data,
        lambda p: p[0]["transitions"].append(
            {"from": "severe", "to": "first_line", "condition": "x", "sources": []}
        ),
    )
    with pytest.raises(KnowledgeBaseError, match="cycle"):
        build_knowledge_base(data)


def test_loading_rejects_an_unreachable_step(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _edit_pathways(
        data, lambda p: p[0].update(transitions=[t for t in p[0]["transitions"] if t["to"] != "severe"])
    )
    with pytest.raises(KnowledgeBaseError, match="'severe' is unreachable"):
        build_knowledge_base(data)


def test_loading_rejects_unknown_ids(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _edit_pathways(data, lambda p: p[0]["steps"][0]["agents"].append("ritux"))
    with pytest.raises(KnowledgeBaseError, match="unknown option 'ritux'"):
        build_knowledge_base(data)
    data = _copy_data(tmp_path / "again")
    _edit_pathways(data, lambda p: p[0]["transitions"][0].update(to="nowhere"))
    with pytest.raises(KnowledgeBaseError, match="unknown step 'nowhere'"):
        build_knowledge_base(data)


def test_loading_rejects_a_step_option_no_rule_supports(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _edit_pathways(data, lambda p: p[0]["steps"][0]["agents"].append("etanercept"))
    with pytest.raises(KnowledgeBaseError, match="no rule grades 'etanercept' positively"):
        build_knowledge_base(data)


def test_loading_rejects_an_unknown_source(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    rules = yaml.safe_load((data / "rules.yaml").read_text())
    rules[0]["sources"] = ["S9"]  # an unknown source id
    (data / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    with pytest.raises(KnowledgeBaseError, match="unknown source 'S9'"):
        build_knowledge_base(data)


DOSE_IN_PROSE = re.compile(r"\d\s*(mg|g)\b|mg/|g/kg", re.IGNORECASE)


def test_doses_live_only_in_the_regimens() -> None:
    """A dose written into a rule's why or a step's summary would be a second copy that can drift."""
    kb = load_knowledge_base()
    texts = [(f"rule {r.id}", r.why) for r in kb.rules]
    texts += [(f"step {p.id}/{s.id}", s.summary) for p in kb.pathways.values() for s in p.steps]
    texts += [(f"action {a.id}", a.why) for a in kb.actions.values()]
    assert [where for where, text in texts if DOSE_IN_PROSE.search(text)] == []
