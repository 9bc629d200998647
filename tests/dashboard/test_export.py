"""dashboard/export.py: the played case as a Jupyter notebook (nbformat v4) and as Markdown."""

from __future__ import annotations

import json

import nbformat
import pytest
from markdown_it import MarkdownIt

from dashboard import export
from dashboard import player_state as ps
from logic import DISCLAIMER, best_answers, load_library, score_case, stage_plans

from .conftest import S2, S2_FILE


@pytest.fixture(scope="module")
def played():  # type: ignore[no-untyped-def]
    case = load_library([S2_FILE]).cases[S2].case
    answers = {
        **best_answers(case),
        "next-agent": "rituximab",
        "reflect": "Watch for <script>thrombosis</script>.",
    }
    return case, answers, score_case(case, answers)


def test_notebook_is_valid_v4_with_narrative_answers_and_feedback(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, score = played
    nb = export.to_notebook(case, answers, score)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert all(cell.cell_type == "markdown" for cell in nb.cells)
    # A round trip through the file format keeps it valid.
    again = nbformat.reads(export.to_notebook_json(case, answers, score), as_version=4)
    nbformat.validate(again)
    assert json.loads(export.to_notebook_json(case, answers, score))["metadata"]["myotutor"]["case"] == S2
    text = "\n".join(cell.source for cell in nb.cells)
    assert DISCLAIMER in nb.cells[0].source
    for stage in case.stages:
        assert stage.narrative.strip().splitlines()[0] in text
    assert "**Your answer:** Rituximab" in text
    ivig = score.result("next-agent")
    assert ivig.why in text and "Intravenous immunoglobulin (IVIG)" in ivig.best_text
    assert f"**Best answer:** {ivig.best_text}" in text
    assert score.result("before-ivig").why in text
    assert "Later evidence (the ProDERM trial)" in text  # the reflection's discussion
    assert f"Total: {score.total:g} / 100" in text
    assert "CK" in text and "2850" in text  # the data cell


def test_markdown_has_the_same_content(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, score = played
    md = export.to_markdown(case, answers, score)
    assert md.startswith(f"# {case.title}")
    assert DISCLAIMER in md
    assert case.stages[0].narrative.strip().splitlines()[0] in md
    assert "**Your answer:** Rituximab" in md
    assert score.result("next-agent").why in md
    assert score.result("after-ivig").why in md
    nb = export.to_notebook(case, answers, score)
    assert md.strip() == "\n\n".join(cell.source for cell in nb.cells).strip()


def test_raw_html_is_neutralised(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, score = played
    md = export.to_markdown(case, answers, score)
    tokens = [t for block in MarkdownIt("commonmark").parse(md) for t in [block, *(block.children or [])]]
    assert not [t for t in tokens if t.type in ("html_inline", "html_block")]
    assert any("<script>thrombosis</script>" in t.content for t in tokens if t.type == "text")


def test_partial_export_holds_only_submitted_feedback(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, _ = played
    progress = {"answers": answers, "submitted": [0], "attempt": 0}
    score = ps.score_progress(case, progress, stage_plans(case))
    md = export.to_markdown(case, ps.submitted_answers(case, progress), score, stages=1)
    assert "Stage 1 of 3" in md and "Stage 2 of 3" not in md
    assert score.result("next-agent").why in md
    assert "continue_and_reassess" not in md and "Continue and reassess" not in md
