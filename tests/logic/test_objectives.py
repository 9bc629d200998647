"""Learning objectives name what will be learned, not what to choose: no objective names an option that
is a key of the case (an option the logic says the learner must choose, in any question)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logic import answer_key, lint_case, load_case, load_library, stage_plans
from logic.lint import names_of
from tests.context import KB

CASES_DIR = Path(__file__).resolve().parents[2] / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
MYOSITIS = CASES_DIR / "myositis-after-failed-immunosuppression.yaml"


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_no_objective_names_a_key_of_its_case(path: Path) -> None:
    """Independent of the lint: the logic's keys, every name a learner knows them by, every objective."""
    library = load_library([path], KB)
    (loaded,) = library.cases.values()
    case = loaded.case
    plans = stage_plans(case, KB)
    keys = {o for i, q in case.questions() for o in answer_key(q, plans[i], KB).correct}
    assert keys, "a case with no keyed choice cannot test its objectives"
    for objective in case.objectives:
        named = [
            (o, n)
            for o in keys
            for n in names_of(o, KB)
            if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", objective, re.IGNORECASE)
        ]
        assert not named, f"{path.name}: {objective!r} names the answer(s) {named}"


def test_an_objective_naming_an_answer_is_a_lint_finding_at_its_line(tmp_path: Path) -> None:
    text = MYOSITIS.read_text()
    first = '  - "Choose the next step after failed initial immunosuppression."'
    assert first in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace(first, '  - "Name IVIG as the next step after failed initial immunosuppression."')
    )
    loaded, errors = load_case(bad, KB)
    assert loaded is not None and not errors
    findings = [e for e in lint_case(loaded, KB) if e.where.startswith("objectives")]
    assert len(findings) == 1, [str(e) for e in findings]
    (finding,) = findings
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row == first)
    assert finding.line == line and finding.where == "objectives[0]"
    assert "'IVIG', the answer to question 'next-agent'" in finding.message


def test_names_of_an_option_cover_how_learners_call_it() -> None:
    assert set(names_of("ivig", KB)) == {
        "Intravenous immunoglobulin (IVIG)",
        "Intravenous immunoglobulin",
        "IVIG",
    }
    assert "Cyclophosphamide" in names_of("cyclophosphamide", KB)
    assert "mycophenolate" in names_of("mycophenolate_mofetil", KB)


def test_naming_a_distractor_is_fine(tmp_path: Path) -> None:
    """Etanercept is offered in the myositis case but is no key: an objective may name it."""
    text = MYOSITIS.read_text().replace(
        "Know the alternatives when that treatment fails.",
        "Know why etanercept is not the TNF inhibitor of choice.",
    )
    assert "etanercept is not" in text
    path = tmp_path / "distractor.yaml"
    path.write_text(text)
    loaded, errors = load_case(path, KB)
    assert loaded is not None and not errors
    assert not [str(e) for e in lint_case(loaded, KB) if e.where.startswith("objectives")]
