"""python -m logic: validate, recommend, score, schema; --help on every command."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from logic import best_answers, load_case, score_case
from logic.cli import main
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
S2 = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logic", *args], cwd=REPO, capture_output=True, text=True)


@pytest.mark.parametrize("command", [[], ["validate"], ["recommend"], ["score"], ["schema"]])
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: python -m logic" in capsys.readouterr().out


def test_validate_the_shipped_cases_passes() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problem(s)" in result.stderr


def test_validate_reports_file_line_col_and_exits_1(tmp_path: Path) -> None:
    shutil.copy(S2, tmp_path / "good.yaml")
    (tmp_path / "bad.yaml").write_text(S2.read_text().replace("[ivig, rituximab,", "[ivig, ritux,", 1))
    result = run("validate", str(tmp_path))
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{tmp_path / 'bad.yaml'}:")
    assert line.endswith(
        "stages[0].questions[0].options[1]: unknown agent 'ritux' (did you mean 'rituximab'?)"
    )


def test_validate_reports_lint_disagreements(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(S2.read_text().replace("expect: ivig\n", "expect: rituximab\n", 1))
    result = run("validate", str(tmp_path))
    assert result.returncode == 1
    assert (
        "lint: stages[0].questions[0].expect: expect says 'rituximab' but the logic's best is 'ivig'"
        in result.stdout
    )
    assert run("validate", "--no-lint", str(tmp_path)).returncode == 0


def test_validate_missing_path_fails() -> None:
    result = run("validate", "no/such/folder")
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr


def test_recommend_json(tmp_path: Path) -> None:
    patient = tmp_path / "patient.yaml"
    patient.write_text(
        "age: 10\nweight_kg: 32\nheight_cm: 138\ndiagnosis: juvenile_dermatomyositis\n"
        "manifestations: [skin, muscle]\ncurrent: [{agent: methotrexate, months: 12}]\nfailed: [tofacitinib]\n"
    )
    result = run("recommend", str(patient), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["population"] == "juvenile"
    options = {o["id"]: o for o in data["options"]}
    assert options["rituximab"]["grade"] == "recommended"
    assert options["rituximab"]["kind"] == "agent"
    assert options["rituximab"]["prerequisites"] == ["tb_screening", "hepatitis_screening"]
    assert options["rituximab"]["dose"]["unit"] == "mg/infusion"
    assert options["tb_screening"]["kind"] == "action"
    assert set(options["ivig"]) >= {"id", "kind", "grade", "why", "sources", "prerequisites", "dose"}


def test_recommend_table_and_bad_patient(tmp_path: Path) -> None:
    assert (
        "population: adult" in run("recommend", str(REPO / "cases" / S2.name)).stdout
    )  # reads a case's patient
    bad = tmp_path / "bad.yaml"
    bad.write_text("age: 40\nweight_kg: 70\ndiagnosis: dermatomyositis\nfailed: [ritux]\n")
    result = run("recommend", str(bad))
    assert result.returncode == 1
    assert f"{bad}:4:10: failed[0]: unknown agent 'ritux' (did you mean 'rituximab'?)" in result.stderr


def test_score_json_matches_the_scoring_function(tmp_path: Path) -> None:
    loaded, _ = load_case(S2, KB)
    assert loaded is not None
    answers = best_answers(loaded.case, KB)
    answers["next-agent"] = "rituximab"
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers))
    result = run("score", str(S2), str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == score_case(loaded.case, answers, KB).total < 100
    assert data["questions"][0]["best"] == ["ivig"]


def test_score_rejects_unknown_question_ids(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("next-agent: ivig\nnext-agnet: ivig\n")
    result = run("score", str(S2), str(path))
    assert result.returncode == 1
    assert f"{path}:2:13: unknown question id 'next-agnet'" in result.stderr


def test_schema_is_json_schema_of_a_case() -> None:
    result = run("schema", "--stdout")
    schema = json.loads(result.stdout)
    assert schema["title"] == "myotutor case file"
    assert set(schema["required"]) >= {"id", "title", "patient", "stages"}
