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

from dashboard import player_state as ps
from logic import answer_key, load_knowledge_base, load_library, stage_plans
from logic.questions import DoseQuestion, NextStepQuestion, ReflectionQuestion
from logic.scoring import Answer
from tests.context import KB

from .conftest import REPO, S2, S2_FILE, app_text

# A learner who gets some things wrong: the score is neither 0 nor 100.
MIXED: dict[str, Answer] = {
    "next-agent": "rituximab",
    "before-ivig": ["check_iga", "tb_screening"],
    "ivig-dose": 150.0,
    "ivig-monitoring": ["headache", "thrombosis", "lipids"],
    "ivig-month-one": "continue_and_reassess",
    "after-ivig": "upadacitinib",
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
    progress = at.session_state[ps.STORE][case.id]
    key = lambda qid, opt=None: ps.widget_key(case.id, progress["attempt"], qid, opt)  # noqa: E731
    for q in case.stages[stage_index].questions:
        answer = answers[q.id]
        if ps.uses_checkboxes(q):
            for option in q.options:
                at.checkbox(key=key(q.id, option)).set_value(option in answer)
        elif isinstance(q, NextStepQuestion):
            at.radio(key=key(q.id)).set_value(answer)
        elif isinstance(q, DoseQuestion):
            at.number_input(key=key(q.id)).set_value(answer)
        elif isinstance(q, ReflectionQuestion):
            at.text_area(key=key(q.id)).input(answer)
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
    assert f"◉ **{kb.name(answers['next-agent'])}**" in text
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
    radio = at.radio(key=ps.widget_key(S2, 0, q.id))
    assert radio.options == [kb.name(o) for o in q.options]
    assert radio.value is None, "no option is preselected"
    assert "g/course" in at.number_input(key=ps.widget_key(S2, 0, "ivig-dose")).label


def test_submit_needs_an_answer_and_is_final(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    next(b for b in at.button if b.label == "Submit stage 1").click().run()
    assert not at.exception
    assert at.warning and "Answer every" in at.warning[0].value
    assert at.session_state[ps.STORE][S2]["submitted"] == []
    answer_stage(at, s2, 0, MIXED)
    progress = at.session_state[ps.STORE][S2]
    assert progress["submitted"] == [0]
    assert progress["answers"]["next-agent"] == "rituximab"
    # No live widget for stage 1 remains: its answers cannot be changed.
    assert not [r for r in at.radio if r.key == ps.widget_key(S2, 0, "next-agent")]


def test_restart_clears_the_case(app: Callable[[], AppTest], s2) -> None:  # type: ignore[no-untyped-def]
    at = open_player(app)
    answer_stage(at, s2, 0, MIXED)
    at.button(key=f"restart:{S2}").click().run()
    assert not at.exception, at.exception
    progress = at.session_state[ps.STORE][S2]
    assert progress["submitted"] == [] and progress["answers"] == {}
    radio = at.radio(key=ps.widget_key(S2, progress["attempt"], "next-agent"))
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
    monkeypatch.setattr(logic.keys, "recommend", lambda p: calls.append("recommend") or real_recommend(p))
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
    assert at.session_state[ps.STORE][S2]["submitted"] == [0]
    assert any(h.value.startswith("Stage 2 of") for h in at.subheader)
