"""dashboard/export.py: the played case as a Jupyter notebook (nbformat v4) and as Markdown."""

from __future__ import annotations

import json

import nbformat
import pytest
from markdown_it import MarkdownIt

from dashboard import export
from dashboard.player import progress as pp
from dashboard.player import results as pr
from logic import DISCLAIMER, best_answers, load_library, score_case, stage_plans
from logic.questions import with_certainty
from tests.context import KB

from .conftest import S2, S2_FILE


@pytest.fixture(scope="module")
def played():  # type: ignore[no-untyped-def]
    case = load_library([S2_FILE], KB).cases[S2].case
    answers = {
        **best_answers(case, KB),
        "next-agent": "rituximab",
        "reflect": "Watch for <script>thrombosis</script>.",
    }
    return case, answers, score_case(case, answers, KB)


def test_notebook_is_valid_v4_with_narrative_answers_and_feedback(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, score = played
    nb = export.to_notebook(case, answers, score, KB)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert all(cell.cell_type == "markdown" for cell in nb.cells)
    # A round trip through the file format keeps it valid.
    again = nbformat.reads(export.to_notebook_json(case, answers, score, KB), as_version=4)
    nbformat.validate(again)
    assert json.loads(export.to_notebook_json(case, answers, score, KB))["metadata"]["myotutor"]["case"] == S2
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
    md = export.to_markdown(case, answers, score, KB)
    assert md.startswith(f"# {case.title}")
    assert DISCLAIMER in md
    assert case.stages[0].narrative.strip().splitlines()[0] in md
    assert "**Your answer:** Rituximab" in md
    assert score.result("next-agent").why in md
    assert score.result("after-ivig").why in md
    nb = export.to_notebook(case, answers, score, KB)
    assert md.strip() == "\n\n".join(cell.source for cell in nb.cells).strip()


def test_raw_html_is_neutralised(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, score = played
    md = export.to_markdown(case, answers, score, KB)
    tokens = [t for block in MarkdownIt("commonmark").parse(md) for t in [block, *(block.children or [])]]
    assert not [t for t in tokens if t.type in ("html_inline", "html_block")]
    assert any("<script>thrombosis</script>" in t.content for t in tokens if t.type == "text")


def test_partial_export_holds_only_submitted_feedback(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, _ = played
    progress = {"answers": answers, "submitted": [0], "attempt": 0}
    score = pr.score_progress(case, progress, stage_plans(case, KB), KB)
    md = export.to_markdown(case, pp.submitted_answers(case, progress), score, KB, stages=1)
    assert "Stage 1 of 3" in md and "Stage 2 of 3" not in md
    assert score.result("next-agent").why in md
    assert "continue_and_reassess" not in md and "Continue and reassess" not in md


def test_ordering_and_certainty_are_exported_through_the_feedback_the_page_uses(played) -> None:  # type: ignore[no-untyped-def]
    from dashboard.questions import view_of
    from dashboard.questions.render import export_style, feedback_markdown

    case, answers, _ = played
    answers = {
        **answers,
        "after-ivig": with_certainty("ivig", 4),
        "pathway-order": with_certainty(["methylprednisolone", "prednisone", "methotrexate", "abatacept"], 3),
    }
    score = score_case(case, answers, KB)
    md = export.to_markdown(case, answers, score, KB)
    _, order = case.question("pathway-order")
    result = score.result("pathway-order")
    assert feedback_markdown(view_of(order), order, result, export_style(KB)) in md  # the same function
    assert "(Put in order, 1 point(s))" in md
    assert "**Your answer:** Methylprednisolone (IV) → Prednisone → Methotrexate → Abatacept" in md
    assert "*Out of order* **Methylprednisolone (IV)**" in md and "Your position 1" in md
    assert "**Your certainty:** 3 · fairly sure — confident and wrong" in md
    assert "**Your certainty:** 4 · certain — confident and unsafe" not in md  # IVIG failed: not unsafe here
    assert "Select all that apply, 1 point(s)" in md  # a select-all question says so


def test_confident_and_unsafe_is_said_in_full() -> None:
    from logic import load_case
    from logic.vocabulary import CONFIDENT_UNSAFE_WARNING

    from .conftest import REPO

    loaded, _ = load_case(REPO / "cases" / "iga-deficient-before-ivig.yaml", KB)
    assert loaded is not None
    case = loaded.case
    answers = {**best_answers(case, KB), "iga-deficient": with_certainty("ivig", 4)}
    md = export.to_markdown(case, answers, score_case(case, answers, KB), KB)
    assert "**Your certainty:** 4 · certain — confident and unsafe" in md
    assert CONFIDENT_UNSAFE_WARNING in md
    assert "🚩 **Confident and unsafe:** `iga-deficient`" in md


def test_a_case_without_a_height_exports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from .test_player_page import case_without_height

    case = case_without_height(tmp_path)
    answers = best_answers(case, KB)
    md = export.to_markdown(case, answers, score_case(case, answers, KB), KB)
    assert "- **Patient:** 39 years, female, 64 kg; dermatomyositis, moderate" in md
    nb = export.to_notebook(case, answers, score_case(case, answers, KB), KB)
    nbformat.validate(nb)
