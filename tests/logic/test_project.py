"""Project-level checks: the core stays pure, the committed schema and the docs match the code."""

import ast
import json
import subprocess
import sys
from pathlib import Path

from logic.cli import _parser, case_schema

REPO = Path(__file__).resolve().parents[2]


def test_logic_imports_neither_streamlit_nor_plotly() -> None:
    for path in (REPO / "logic").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"streamlit", "plotly"}, f"{path} imports {name}"
    code = "import sys, logic, logic.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_committed_case_schema_matches_the_models() -> None:
    committed = json.loads((REPO / "cases" / "case.schema.json").read_text())
    assert committed == case_schema(), "run: python -m logic schema > cases/case.schema.json"


def test_readme_documents_every_cli_command() -> None:
    readme = (REPO / "README.md").read_text()
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    for command in subparsers.choices:  # type: ignore[union-attr]
        assert f"python -m logic {command}" in readme, command
    assert "make run" in readme and "make test" in readme
