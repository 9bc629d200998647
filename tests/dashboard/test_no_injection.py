"""A case file cannot inject HTML or script into the page: its Markdown is rendered with HTML disabled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import S2_FILE, walk
from .test_player_page import open_player

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_case_markdown_is_never_rendered_as_html(
    app: Callable[[], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = S2_FILE.read_text()
    text = text.replace("Mrs K., 48, has biopsy-proven myositis.", f"Mrs K. {HOSTILE} has myositis.", 1)
    text = text.replace(
        'prompt: "Which treatment is the recommended next step?"', f'prompt: "Next? {HOSTILE}"', 1
    )
    assert text.count(HOSTILE) == 2
    (tmp_path / "hostile.yaml").write_text(text)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(tmp_path))
    at = open_player(app)
    markdown = [n.proto for n in walk(at._tree) if type(n).__name__ == "Markdown"]
    hostile = [m for m in markdown if "<script>" in m.body]
    assert len(hostile) >= 2, "the hostile narrative and prompt should be on the page, as text"
    assert not any(m.allow_html for m in markdown), "a Markdown element allows raw HTML"
    assert not at.get("html"), "no st.html element may carry case content"
