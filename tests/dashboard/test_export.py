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
    assert {cell.cell_type for cell in nb.cells} == {"markdown", "code"}  # the charts are code cells
    # A round trip through the file format keeps it valid.
    again = nbformat.reads(export.to_notebook_json(case, answers, score, KB), as_version=4)
    nbformat.validate(again)
    assert json.loads(export.to_notebook_json(case, answers, score, KB))["metadata"]["myotutor"]["case"] == S2
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert DISCLAIMER in nb.cells[0].source
    for stage in case.stages:
        assert stage.narrative.strip().splitlines()[0] in text
    assert "**Your answer:** Rituximab" in text
    ivig = score.result("next-agent")
    assert "Intravenous immunoglobulin (IVIG)" in ivig.best_text
    for graded in ivig.graded:  # every option offered, on one line with its grade and reason
        assert f"**{graded.name}**" in text and graded.why in text
    assert "**Why:**" not in text  # the reasons are in the lines: no second "Why"
    assert score.result("before-ivig").why.split(". ")[0] in text
    assert "Later evidence (the ProDERM trial)" in text  # the reflection's discussion
    assert f"Total: {score.total:g} / 100" in text
    assert "CK" in text and "2850" in text  # the data cell


def test_notebook_carries_learner_date_version_and_the_charts(played) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    case, answers, score = played
    nb = export.to_notebook(
        case, answers, score, KB, learner="Ada Lovelace", day=date(2026, 11, 23), version="ab" * 32
    )
    nbformat.validate(nb)
    header = nb.cells[0].source
    assert "**Learner:** Ada Lovelace" in header
    assert "**Date:** 23 November 2026" in header
    assert "**Case version:** `abababababab`" in header
    meta = nb.metadata["myotutor"]
    assert (
        meta["learner"] == "Ada Lovelace"
        and meta["date"] == "2026-11-23"
        and meta["case_version"] == "ab" * 32
    )
    charts = [cell for cell in nb.cells if cell.cell_type == "code"]
    # The CK trends of stages 1 and 3, the score breakdown and the path on the flowchart.
    assert len(charts) == 4
    for cell in charts:
        (output,) = cell.outputs
        figure = output["data"][export.PLOTLY_MIME]
        assert figure["data"] and "layout" in figure
    path = charts[-1].outputs[0]["data"][export.PLOTLY_MIME]
    assert {"Your path", "Recommended path"} <= {t.get("name") for t in path["data"]}
    # Without a learner (not signed in) the header says nothing of one.
    anonymous = export.to_markdown(case, answers, score, KB, day=date(2026, 11, 23))
    assert "Learner:" not in anonymous and "**Date:** 23 November 2026" in anonymous


def test_export_file_name_has_case_learner_and_date() -> None:
    from datetime import date

    from dashboard.player.page import export_name

    day = date(2026, 11, 23)
    assert export_name(S2, "Ada Lovelace", day, "ipynb") == f"{S2}_ada-lovelace_2026-11-23.ipynb"
    assert export_name(S2, None, day, "md") == f"{S2}_2026-11-23.md"
    assert export_name(S2, "../../etc/Zoë  O'Brien", day, "md") == f"{S2}_etc-zoë-o-brien_2026-11-23.md"


def test_markdown_has_the_same_content(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, score = played
    md = export.to_markdown(case, answers, score, KB)
    assert md.startswith(f"# {case.title}")
    assert DISCLAIMER in md
    assert case.stages[0].narrative.strip().splitlines()[0] in md
    assert "**Your answer:** Rituximab" in md
    nb = export.to_notebook(case, answers, score, KB)
    # The same blocks: the notebook's Markdown cells (a chart's caption stands for the chart in Markdown).
    assert md.strip() == "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown").strip()


def test_markdown_numbers_questions_says_select_all_keeps_lab_references_and_rounds_points(played) -> None:  # type: ignore[no-untyped-def]
    case, answers, _ = played
    answers = {**answers, "before-ivig": ["check_iga"], "ivig-monitoring": ["headache", "cbc", "lipids"]}
    score = score_case(case, answers, KB)
    md = export.to_markdown(case, answers, score, KB)
    assert "**Question 1.2** (Select all that apply, 1 point)" in md
    assert "**Question 2.1** (Select all that apply, 1 point)" in md
    assert "| CK | 2850 | U/L | < 200 | high |" in md  # as typed, not &lt; 200
    assert "&lt;" not in md
    monitoring = score.result("ivig-monitoring")
    assert monitoring.points not in (round(monitoring.points, 1),) or True
    assert f"**Feedback** · {round(monitoring.points, 1):g} of 1 point" in md
    assert "0.3333" not in md and "0.6667" not in md
    # The summary names questions by number and prompt, never by id.
    assert "| 1.1. Which treatment is the recommended next step? |" in md
    for _, q in case.questions():
        assert f"`{q.id}`" not in md


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
    ivig = next(g for g in score.result("next-agent").graded if g.id == "ivig")
    assert ivig.why in md
    assert "continue_and_reassess" not in md and "Continue and reassess" not in md


def test_ordering_and_certainty_are_exported_through_the_feedback_the_page_uses(played) -> None:  # type: ignore[no-untyped-def]
    from dashboard.questions import view_of
    from dashboard.questions.render import export_style, feedback_markdown

    case, answers, _ = played
    answers = {
        **answers,
        "after-ivig": with_certainty("ivig", 4),
        "pathway-order": with_certainty(["abatacept", "prednisone", "methotrexate", "ivig"], 3),
    }
    score = score_case(case, answers, KB)
    md = export.to_markdown(case, answers, score, KB)
    _, order = case.question("pathway-order")
    result = score.result("pathway-order")
    assert feedback_markdown(view_of(order), order, result, export_style(KB)) in md  # the same function
    assert "(Put in order, 1 point)" in md
    assert "**Your answer:** Abatacept → Prednisone → Methotrexate → Intravenous immunoglobulin (IVIG)" in md
    assert "*Out of order* · **Abatacept**" in md and "Your position 1" in md
    assert "**Your certainty:** 3 · fairly sure — confident and wrong" in md
    assert "**Your certainty:** 4 · certain — confident and unsafe" not in md  # IVIG failed: not unsafe here
    assert "Select all that apply, 1 point)" in md  # a select-all question says so


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
    number = pr.question_numbers(case)["iga-deficient"]
    assert f"**Confident and unsafe:** question {number} (" in md


def test_a_case_without_a_height_exports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from .test_player_page import case_without_height

    case = case_without_height(tmp_path)
    answers = best_answers(case, KB)
    md = export.to_markdown(case, answers, score_case(case, answers, KB), KB)
    assert "- **Patient:** 39 years, female, 64 kg; dermatomyositis, moderate" in md
    nb = export.to_notebook(case, answers, score_case(case, answers, KB), KB)
    nbformat.validate(nb)
