"""The case player page, through streamlit's AppTest: load, play S2 end to end, nothing given away."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard.player import answers as pa
from dashboard.player import progress as pp
from dashboard.player import results as pr
from logic import answer_key, load_knowledge_base, load_library, score_case, stage_plans
from logic.questions import Answer, DoseQuestion, NextStepQuestion, ReflectionQuestion
from tests.context import KB
from tests.dashboard.drive import fill_stage, with_certainties

from .conftest import REPO, S2, S2_FILE, app_text

# A learner who gets some things wrong: the score is neither 0 nor 100.
MIXED: dict[str, Answer] = {
    "next-agent": "rituximab",
    "before-ivig": ["check_iga", "tb_screening"],
    "ivig-dose": 150.0,
    "ivig-monitoring": ["headache", "thrombosis", "lipids"],
    "ivig-month-one": "continue_and_reassess",
    "after-ivig": {"answer": "upadacitinib", "certainty": 4},
    "pathway-order": {
        "answer": ["methotrexate", "prednisone", "abatacept", "ivig"],
        "certainty": 2,
    },
    "reflect": "Thrombosis matters.",
}


@pytest.fixture(scope="module")
def s2():  # type: ignore[no-untyped-def]
    return load_library([S2_FILE], KB).cases[S2].case


def open_player(app: Callable[[], AppTest], case_id: str = S2) -> AppTest:
    at = app()
    at.run()
    at.switch_page("views/player.py")
    at.query_params["case"] = case_id
    at.run()
    assert not at.exception, at.exception
    return at


def answer_stage(at: AppTest, case, stage_index: int, answers: Mapping[str, Answer]) -> None:  # type: ignore[no-untyped-def]
    """Set this stage's widgets as a learner would, then submit the stage's form."""
    fill_stage(at, case, stage_index, answers)
    submit = [
        b for b in at.button if b.label.startswith(f"Submit stage {stage_index + 1}") or b.label == "Continue"
    ]
    assert len(submit) == 1, [b.label for b in at.button]
    submit[0].click().run()
    assert not at.exception, at.exception


def shown_score(at: AppTest) -> float:
    metric = next(m for m in at.metric if m.label in ("Total score", "Score so far"))
    match = re.match(r"([\d.]+)/100", metric.value)
    assert match, metric.value
    return float(match.group(1))


def cli_total(tmp_path: Path, answers: Mapping[str, Answer]) -> float:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(dict(answers)))
    out = subprocess.run(
        [sys.executable, "-m", "logic", "score", str(S2_FILE), str(path), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout)["total"])


def test_player_page_loads(app: Callable[[], AppTest]) -> None:
    at = app()
    at.run()
    at.switch_page("views/player.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Case player"
    assert at.selectbox(key="player_case").value in load_library([REPO / "cases"], KB).cases
    assert at.progress, "a progress bar shows stage k of n"


@pytest.mark.parametrize("answers_name", ["mixed", "best"])
def test_player_plays_s2_end_to_end_and_matches_the_cli(
    app: Callable[[], AppTest], s2, tmp_path: Path, answers_name: str
) -> None:  # type: ignore[no-untyped-def]
    from logic import best_answers

    answers = MIXED if answers_name == "mixed" else {**best_answers(s2, KB), "reflect": "IVIG can clot."}
    answers = with_certainties(s2, answers)
    at = open_player(app)
    assert at.selectbox(key="player_case").value == S2
    n = len(s2.stages)
    for i in range(n):
        assert f"Stage {i + 1} of {n}" in at.progress[0].proto.text
        # Only stages up to this one are on the page.
        assert any(h.value.startswith(f"Stage {i + 1} of {n}") for h in at.subheader)
        assert not any(h.value.startswith(f"Stage {i + 2} of {n}") for h in at.subheader)
        answer_stage(at, s2, i, answers)
    expected = cli_total(tmp_path, answers)
    assert shown_score(at) == pytest.approx(expected)
    if answers_name == "best":
        assert expected == 100
    else:
        assert 0 < expected < 100
    assert any(s.value == "Case complete" for s in at.subheader)
    assert "Complete" in at.progress[0].proto.text
    # At the end: the score breakdown and the learner's path on the flowchart.
    charts = [c.proto.id for c in at.get("plotly_chart")]
    assert any("breakdown" in c for c in charts) and any("path" in c for c in charts), charts
    assert shown_score(at) == pytest.approx(expected)
    labels = {b.label for b in at.get("download_button")}
    assert labels == {"Download as a Jupyter notebook", "Download as Markdown"}
    # Earlier cells stay visible: every stage's narrative is still on the page.
    text = app_text(at)
    for stage in s2.stages:
        assert stage.narrative.strip().splitlines()[0] in text
    # Submitted answers are shown read-only (no live widget is left), the learner's choice marked.
    kb = load_knowledge_base()
    assert not at.radio and not at.checkbox and not at.number_input and not at.text_area
    assert f"**{kb.name(answers['next-agent'])}** *(your answer)*" in text
    assert f"**{answers['ivig-dose']:g} g/course**" in text


def test_running_score_after_each_stage(app: Callable[[], AppTest], s2, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    assert next(m for m in at.metric if m.label == "Score so far").value == "—"
    answer_stage(at, s2, 0, MIXED)
    first = {q.id: MIXED[q.id] for q in s2.stages[0].questions}
    plans = stage_plans(s2, KB)
    from logic.scoring import percent, score_question

    expected = percent([score_question(q, 0, plans[0], first[q.id], KB) for q in s2.stages[0].questions])
    assert shown_score(at) == pytest.approx(expected)


def feedback_strings(case, stage_index: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Texts of the answer key of a stage: the best option's reason, select-all and dose reasons."""
    plans = stage_plans(case, KB)
    out = []
    for q in case.stages[stage_index].questions:
        if isinstance(q, ReflectionQuestion):
            if q.discussion:
                out.append(q.discussion)
            continue
        key = answer_key(q, plans[stage_index], KB)
        if isinstance(q, NextStepQuestion):
            out += [key.graded[b].why for b in key.best]
        elif key.correct:  # select-all: each needed item's reason, on its own line
            out += [key.graded[o].why for o in key.correct if key.graded[o].why != key.graded[o].name]
        else:
            out.append(key.why)
    return [s for s in out if s]


def test_no_feedback_before_submit_and_feedback_after(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    n = len(s2.stages)
    for i in range(n):
        secrets = feedback_strings(s2, i)
        assert secrets
        text = app_text(at)
        for secret in secrets:
            assert secret not in text, f"stage {i + 1} feedback shown before submitting: {secret!r}"
        # Later stages' keys are not there either.
        for later in range(i + 1, n):
            for secret in feedback_strings(s2, later):
                assert secret not in text
        answer_stage(at, s2, i, MIXED)
        text = app_text(at)
        for secret in secrets:
            assert secret in text, f"stage {i + 1} feedback missing after submitting: {secret!r}"


def test_options_in_author_order_with_names(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    kb = load_knowledge_base()
    q = s2.stages[0].questions[0]
    radio = at.radio(key=pa.widget_key(S2, 0, q.id))
    assert radio.options == [kb.name(o) for o in q.options]
    assert radio.value is None, "no option is preselected"
    assert "g/course" in at.number_input(key=pa.widget_key(S2, 0, "ivig-dose")).label


def test_submit_needs_an_answer_and_is_final(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    next(b for b in at.button if b.label == "Submit stage 1").click().run()
    assert not at.exception
    # The page says which questions still need what.
    assert at.warning and at.warning[0].value == (
        "Before submitting, answer question 1.1 (choose one) and question 1.3 (enter a dose)."
    )
    assert at.session_state[pp.STORE][S2]["submitted"] == []
    answer_stage(at, s2, 0, MIXED)
    progress = at.session_state[pp.STORE][S2]
    assert progress["submitted"] == [0]
    assert progress["answers"]["next-agent"] == "rituximab"
    # No live widget for stage 1 remains: its answers cannot be changed.
    assert not [r for r in at.radio if r.key == pa.widget_key(S2, 0, "next-agent")]


def test_restart_clears_the_case(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    answer_stage(at, s2, 0, MIXED)
    at.button(key=f"restart:{S2}").click().run()
    assert not at.exception, at.exception
    # A dialog asks first: keeping the answers changes nothing.
    assert at.button(key="restart_confirmed") and at.button(key="restart_cancelled")
    at.button(key="restart_cancelled").click().run()
    assert at.session_state[pp.STORE][S2]["submitted"] == [0]
    assert not [b for b in at.button if b.key == "restart_confirmed"]
    at.button(key=f"restart:{S2}").click().run()
    at.button(key="restart_confirmed").click().run()
    assert not at.exception, at.exception
    progress = at.session_state[pp.STORE][S2]
    assert progress["submitted"] == [] and progress["answers"] == {}
    radio = at.radio(key=pa.widget_key(S2, progress["attempt"], "next-agent"))
    assert radio.value is None and not radio.disabled
    assert not any(h.value.startswith("Stage 2") for h in at.subheader)


def test_deep_link_on_the_player_url(app: Callable[[], AppTest]) -> None:
    library = load_library([REPO / "cases"], KB)
    other = next(c for c in sorted(library.cases) if c != S2) if len(library.cases) > 1 else S2
    at = open_player(app, other)
    assert at.selectbox(key="player_case").value == other
    assert at.header[0].value == library.cases[other].case.title
    assert at.query_params["case"] in (other, [other])


def test_submit_reruns_neither_recommend_nor_build_figures(
    app: Callable[[], AppTest], s2, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import dashboard.figures
    import logic.keys

    at = open_player(app)  # opening the case plans every stage (cached) and draws its trends
    calls: list[str] = []
    real_recommend = logic.keys.recommend
    monkeypatch.setattr(
        logic.keys, "recommend", lambda p, kb: calls.append("recommend") or real_recommend(p, kb)
    )
    for name in ("trend_figure", "pathway_figure", "score_breakdown_figure"):
        real = getattr(dashboard.figures, name)
        monkeypatch.setattr(
            dashboard.figures, name, lambda *a, _n=name, _r=real, **k: calls.append(_n) or _r(*a, **k)
        )
    for i in range(len(s2.stages) - 1):
        answer_stage(at, s2, i, MIXED)
    assert calls == []
    answer_stage(at, s2, len(s2.stages) - 1, MIXED)  # the end draws its two charts, and recomputes nothing
    assert not at.exception, at.exception
    assert set(calls) <= {
        "pathway_figure",
        "score_breakdown_figure",
    }  # (memoised if an earlier test drew them)


@pytest.mark.parametrize("case_id", sorted(load_library([REPO / "cases"], KB).cases))
def test_every_library_case_plays_through(app: Callable[[], AppTest], case_id: str) -> None:
    from logic import best_answers, score_case

    case = load_library([REPO / "cases"], KB).cases[case_id].case
    answers = best_answers(case, KB)
    for _, q in case.questions():
        if isinstance(q, DoseQuestion) and answers[q.id] is None:
            answers[q.id] = 1.0  # a dose the logic cannot key: any entry is accepted
        if isinstance(q, ReflectionQuestion):
            answers[q.id] = "My reflection."
    answers = with_certainties(case, answers)
    at = open_player(app, case_id)
    for i in range(len(case.stages)):
        answer_stage(at, case, i, answers)
    assert any(s.value == "Case complete" for s in at.subheader)
    assert shown_score(at) == pytest.approx(score_case(case, answers, KB).total)
    assert not at.exception, at.exception


def test_choosing_another_case_keeps_each_case_progress(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    library = load_library([REPO / "cases"], KB)
    other = next(c for c in sorted(library.cases) if c != S2)
    at = open_player(app)
    answer_stage(at, s2, 0, MIXED)
    at.selectbox(key="player_case").select(other).run()
    assert not at.exception, at.exception
    assert at.header[0].value == library.cases[other].case.title
    assert at.query_params["case"] in (other, [other])
    at.selectbox(key="player_case").select(S2).run()
    assert at.header[0].value == s2.title
    assert at.session_state[pp.STORE][S2]["submitted"] == [0]
    assert any(h.value.startswith("Stage 2 of") for h in at.subheader)


NO_HEIGHT = "iga-deficient-before-ivig"  # its doses need no height, and it asks for a certainty


def case_without_height(folder: Path):  # type: ignore[no-untyped-def]
    """A library case without the patient's height: still a valid case (it asks for no mg/m² dose)."""
    source = REPO / "cases" / f"{NO_HEIGHT}.yaml"
    text = source.read_text()
    assert "  height_cm: 168\n" in text
    (folder / source.name).write_text(text.replace("  height_cm: 168\n", ""))
    library = load_library([folder], KB)
    loaded = library.cases.get(NO_HEIGHT)
    assert loaded is not None and not library.errors, library.errors
    assert loaded.case.patient.height_cm is None
    return loaded.case


def test_a_case_without_a_height_plays_and_exports(
    app: Callable[[], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logic import best_answers, score_case

    case = case_without_height(tmp_path)
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(tmp_path))
    at = open_player(app, NO_HEIGHT)
    assert not at.exception, at.exception
    line = next(m.value for m in at.markdown if "patient:" in m.value)  # the case's line, under its summary
    assert "patient: 39 years, female, 64 kg · by" in line and "None" not in line
    answers = best_answers(case, KB)
    answers = {
        q.id: ("No height needed." if q.kind == "reflection" else answers[q.id]) for _, q in case.questions()
    }
    answers = with_certainties(case, answers)
    for i in range(len(case.stages)):
        answer_stage(at, case, i, answers)
    assert any(s.value == "Case complete" for s in at.subheader)
    assert shown_score(at) == pytest.approx(score_case(case, answers, KB).total) == 100
    assert {b.label for b in at.get("download_button")} == {
        "Download as a Jupyter notebook",
        "Download as Markdown",
    }


def test_a_page_section_runs_alone(tmp_path: Path) -> None:
    """The player's header, run by itself (AppTest.from_function) for a case without a height."""
    case_without_height(tmp_path)

    def header_alone(folder: str) -> None:
        from pathlib import Path

        from dashboard.player import page
        from logic import load_knowledge_base, load_library

        kb = load_knowledge_base()
        loaded = next(iter(load_library([Path(folder)], kb).cases.values()))
        page.header(page.open_case(loaded, kb))

    at = AppTest.from_function(header_alone, args=(str(tmp_path),), default_timeout=30).run()
    assert not at.exception, at.exception
    assert at.header[0].value == "IgA deficiency before IVIG"
    assert any("39 years, female, 64 kg" in m.value for m in at.markdown)
    assert at.metric[0].value == "—"


def test_an_ordering_question_is_a_position_per_option(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    answer_stage(at, s2, 0, MIXED)
    _, q = s2.question("pathway-order")
    boxes = [at.selectbox(key=pa.widget_key(S2, 0, q.id, o)) for o in q.options]
    assert [b.label for b in boxes] == [KB.name(o) for o in q.options], (
        "each option once, in the author's order"
    )
    assert all(b.options == ["1", "2", "3", "4"] and b.value is None for b in boxes)
    certainty = at.radio(key=pa.widget_key(S2, 0, q.id, "~certainty"))
    assert certainty.label == "How sure are you?" and certainty.value is None
    # Two options in one place: the stage cannot be submitted, and the page says what is missing.
    fill_stage(at, s2, 1, MIXED)
    boxes[0].set_value(1)
    boxes[1].set_value(1)
    next(b for b in at.button if b.label == "Submit stage 2").click().run()
    assert at.session_state[pp.STORE][S2]["submitted"] == [0]
    assert at.warning and "question 2.3 (put in order)" in at.warning[0].value
    answer_stage(at, s2, 1, MIXED)
    text = app_text(at)
    assert "**Methotrexate** — Your position 1." in text and "Out of order" in text
    assert "**Your certainty:** 2 · unsure" in text


def test_the_end_of_case_flags_confident_and_unsafe(app: Callable[[], AppTest]) -> None:
    from logic import best_answers
    from logic.vocabulary import CONFIDENT_UNSAFE_WARNING

    case = load_library([REPO / "cases"], KB).cases["iga-deficient-before-ivig"].case
    answers = {**best_answers(case, KB), "iga-deficient": {"answer": "ivig", "certainty": 4}}
    answers = {
        q.id: ("My reflection." if q.kind == "reflection" else answers[q.id]) for _, q in case.questions()
    }
    at = open_player(app, case.id)
    for i in range(len(case.stages)):
        answer_stage(at, case, i, answers)
    flags = [e.value for e in at.error if "Confident and unsafe" in e.value]
    assert flags and CONFIDENT_UNSAFE_WARNING in flags[0]
    table = next(t.value for t in at.table if "Best answer" in t.value.columns)
    number = pr.question_numbers(case)["iga-deficient"]
    [row] = table[table["Question"] == number].to_dict("records")
    assert row["Your answer"] == f"{KB.name('ivig')} (how sure: 4 · certain; confident and unsafe)"
    assert any(f"question {number}" in e for e in flags)
    assert any("confident and unsafe on 1" in c.value for c in at.caption)


@pytest.mark.parametrize("case_id", sorted(load_library([REPO / "cases"], KB).cases))
def test_no_option_appears_twice_in_one_form(app: Callable[[], AppTest], case_id: str) -> None:
    from logic import best_answers

    case = load_library([REPO / "cases"], KB).cases[case_id].case
    answers = with_certainties(case, best_answers(case, KB))
    answers = {k: ("" if v == "reflection" else v) for k, v in answers.items()}
    at = open_player(app, case_id)
    for i in range(len(case.stages)):
        shown = [c.label for c in at.checkbox]
        shown += [o for r in at.radio if not r.key.endswith("~certainty") for o in r.options]
        shown += [s.label for s in at.selectbox if s.key != "player_case"]
        assert len(shown) == len(set(shown)), f"stage {i + 1}: {sorted(shown)}"
        answer_stage(at, case, i, answers)


def test_a_finished_case_folds_its_stages_and_shows_each_faculty_note_once(
    app: Callable[[], AppTest], s2
) -> None:  # type: ignore[no-untyped-def]
    from logic import best_answers

    answers = with_certainties(s2, {**best_answers(s2, KB), "reflect": "IVIG can clot."})
    at = open_player(app)
    for i in range(len(s2.stages)):
        answer_stage(at, s2, i, answers)
        folded = [e for e in at.expander if e.label.startswith("Stage ")]
        assert [e.label.split(":")[0] for e in folded] == [f"Stage {k + 1} of 3" for k in range(i + 1)]
        # The stage just submitted is open, the earlier ones folded.
        assert [e.proto.expanded for e in folded] == [k == i for k in range(i + 1)]
    assert all(e.label.endswith("· 100/100") for e in at.expander if e.label.startswith("Stage "))
    text = app_text(at)
    score = score_case(s2, answers, KB)
    notes = {n.text for r in score.results for n in r.faculty_notes}
    assert notes
    markdown = "\n".join(m.value for m in at.markdown)
    for note in notes:
        assert markdown.count(f"**Faculty note:** {note}") == 1, note
    # Questions are numbered; nothing says "(s)" or shows a raw id.
    for number in ("Question 1.1", "Question 2.3", "Question 3.2"):
        assert number in text
    assert "(s)" not in text
    for _, q in s2.questions():
        assert f"`{q.id}`" not in text
