"""Project-level checks: the core stays pure, the committed schema and the docs match the code."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from logic.cli import _parser

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


def test_readme_documents_every_cli_command() -> None:
    readme = (REPO / "README.md").read_text()
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    for command in subparsers.choices:  # type: ignore[union-attr]
        assert f"python -m logic {command}" in readme, command
    assert "make run" in readme and "make test" in readme


# What a learner can see never uses the project's internal words: no "seed", no S0-S4 codes, no file
# names of the source documents, nothing pointing outside the repository.
INTERNAL = re.compile(
    r"\bseeds?\b|\bS[0-4]\b|\.\./shared|shared/|content-notes\.md|\b\d{3}_[0-9a-f]{16}\.txt\b", re.I
)


def _learner_facing_files() -> list[Path]:
    return [
        *sorted((REPO / "logic" / "data").glob("*.yaml")),
        *sorted((REPO / "cases").glob("*.yaml")),
        REPO / "cases" / "case.schema.json",
        REPO / "README.md",
    ]


def test_no_internal_words_in_data_cases_or_readme() -> None:
    found = []
    for path in _learner_facing_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INTERNAL.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert found == [], "\n".join(found)


def test_sources_are_shown_by_plain_labels() -> None:
    from logic import load_knowledge_base

    kb = load_knowledge_base()
    for source in kb.sources.values():
        shown = f"{source.label} {source.citation}"
        assert source.id not in shown, source.id
        assert not INTERNAL.search(shown), source.id
    labels = [s.label for s in kb.sources.values()]
    assert len(labels) == len(set(labels))
    assert kb.sources["answer_refractory_six_agents"].label == "Reference answer: refractory DM on six agents"
    assert kb.sources["devine1974"].label.startswith("Devine 1974")
