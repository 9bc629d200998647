"""The Makefile: `make run` installs only what running needs, `make test` adds the test tools; PORT is honoured."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def test_make_run_installs_the_runtime_only_and_starts_on_port() -> None:
    commands = _dry_run("run", "PORT=8765")
    installs = [line for line in commands.splitlines() if "pip install" in line and "-e" in line]
    assert installs, commands
    assert all("[test]" not in line for line in installs), installs
    assert "streamlit run dashboard/app.py --server.port 8765" in commands


def test_make_test_installs_the_test_extra() -> None:
    commands = _dry_run(".venv/.installed")
    assert any('-e ".[test]"' in line for line in commands.splitlines()), commands
