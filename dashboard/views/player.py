"""Case player: a case unfolds like a notebook being run, one stage (narrative, data, questions) at a time.

A stage's questions sit in one form; submitting it is final. Only then are that stage's answer keys
computed and its feedback shown, followed by the next stage. The logic lives in dashboard/player_state.py.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from dashboard import catalogue, saving
from dashboard import player_state as ps
from dashboard.common import (
    GRADE_COLOURS,
    GRADE_LABELS,
    get_library,
    source_links,
)
from dashboard.export import to_markdown, to_notebook_json
from dashboard.figures import pathway_figure, score_breakdown_figure, trend_figure
from logic import Case, answer_key, load_knowledge_base, stage_plans
from logic.cases import (
    DoseQuestion,
    NextStepQuestion,
    QuestionBase,
    ReflectionQuestion,
)
from logic.keys import StagePlan
from logic.markdown import safe_markdown

PAGES = st.session_state["_pages"]  # app.py's st.Page objects
kb = load_knowledge_base()


def _plans(case_id: str, fingerprint: tuple[str, int, int], case: Case) -> tuple[StagePlan, ...]:
    """The patient and recommend() at every stage: once per case file version, not per rerun."""
    return ps.PLANS.get((case_id, fingerprint), lambda: stage_plans(case))


def _trends(case_id: str, fingerprint: tuple[str, int, int], case: Case) -> dict[int, go.Figure]:
    """Every stage's trend figure, built when the case opens so that no submit rerun has to build one."""
    return ps.FIGURES.get(
        ("trends", case_id, fingerprint),
        lambda: {
            i: trend_figure(stage.data.series)
            for i, stage in enumerate(case.stages)
            if stage.data is not None and stage.data.series
        },
    )


def _labs(case_id: str, fingerprint: tuple[str, int, int], stage: int, case: Case) -> pa.Table:
    """A stage's labs as an Arrow table (cheaper to send on every rerun than a pandas frame)."""
    return ps.FIGURES.get(
        ("labs", case_id, fingerprint, stage), lambda: pa.Table.from_pylist(ps.lab_rows(case.stages[stage]))
    )


def _pathway(population: str, current: str, learner: tuple[str, ...], best: tuple[str, ...]) -> go.Figure:
    return ps.FIGURES.get(
        ("pathway", population, current, learner, best),
        lambda: pathway_figure(
            kb.pathways[population],  # type: ignore[index]
            current_step=current,
            learner_steps=learner,
            recommended_steps=best,
        ),
    )


def _breakdown(
    rows: tuple[tuple[str, float | None], ...], categories: tuple[tuple[str, float], ...]
) -> go.Figure:
    return ps.FIGURES.get(
        ("breakdown", rows, categories), lambda: score_breakdown_figure(list(rows), dict(categories))
    )


def _store() -> dict[str, Any]:
    return st.session_state.setdefault(ps.STORE, {})  # type: ignore[no-any-return]


def _submit(case: Case, stage_index: int) -> None:
    """Form callback (runs before the rerun): read the stage's widgets, record the answers if complete."""
    progress = ps.progress_for(_store(), case.id)
    attempt = progress["attempt"]
    answers, missing = ps.collect_answers(
        case.stages[stage_index].questions,
        st.session_state,
        lambda qid, opt=None: ps.widget_key(case.id, attempt, qid, opt),
    )
    if missing:
        st.session_state["player_missing"] = (case.id, stage_index, tuple(missing))
        return
    st.session_state.pop("player_missing", None)
    if ps.submit_stage(progress, len(case.stages), stage_index, answers):
        saving.after_submit(progress, case)


def _restart(case_id: str) -> None:
    progress = ps.progress_for(_store(), case_id)
    ps.restart(progress)
    st.session_state.pop("player_missing", None)
    saving.after_restart(progress, case_id, get_library().cases[case_id].path)


def _choose_case() -> None:
    st.query_params["case"] = st.session_state["player_case"]


def _option_label(option: str) -> str:
    return kb.name(option)


def _question_widgets(case: Case, question: QuestionBase, key: Any) -> None:
    """The live answer widget(s) of one question, in the stage's form. Options in the author's order."""
    st.markdown(safe_markdown(question.prompt))
    if ps.uses_checkboxes(question):
        for option in question.options:  # type: ignore[attr-defined]
            st.checkbox(_option_label(option), key=key(question.id, option))
    elif isinstance(question, NextStepQuestion):
        st.radio(
            "Your answer",
            list(question.options),
            index=None,
            format_func=_option_label,
            label_visibility="collapsed",
            key=key(question.id),
        )
    elif isinstance(question, DoseQuestion):
        unit = ps.dose_unit(question, case.population, kb)
        st.number_input(
            f"Dose of {kb.name(question.agent)}" + (f" ({safe_markdown(unit)})" if unit else ""),
            min_value=0.0,
            value=None,
            step=0.5,
            format="%g",
            placeholder=f"dose in {unit}" if unit else "dose",
            key=key(question.id),
        )
    elif isinstance(question, ReflectionQuestion):
        st.text_area("Your reflection (not scored)", key=key(question.id))


# ---------------------------------------------------------------------------------------------- page

library = get_library()
st.title("Case player")
if not library.cases:
    st.info("No case could be loaded. See the case library for the files that failed.")
    st.page_link(PAGES["library"], label="Case library", icon="📚")
    st.stop()

case_ids = sorted(library.cases, key=lambda c: library.cases[c].case.title.lower())
linked = st.query_params.get("case")
if linked in library.cases and st.session_state.get("player_case") != linked:
    st.session_state["player_case"] = linked
elif st.session_state.get("player_case") not in library.cases:
    # The selectbox's state is dropped while another page shows: come back to the last case played.
    last = st.session_state.get("player_last_case")
    st.session_state["player_case"] = last if last in library.cases else case_ids[0]
if linked and linked not in library.cases:
    st.warning(f"{catalogue.unknown_case_text(linked)} Showing another one.")
case_id: str = st.selectbox(
    "Case",
    case_ids,
    format_func=lambda c: library.cases[c].case.title,
    key="player_case",
    on_change=_choose_case,
)
if linked != case_id:
    st.query_params["case"] = case_id
st.session_state["player_last_case"] = case_id

loaded = library.cases[case_id]
case = loaded.case
fingerprint = (str(loaded.path), *loaded.source.version)  # as read: no stat on a rerun
plans = _plans(case_id, fingerprint, case)
trends = _trends(case_id, fingerprint, case)
progress = ps.progress_for(_store(), case_id)
not_saved = saving.open_case(progress, case_id, loaded.path)  # what this learner saved earlier
attempt = progress["attempt"]
n = len(case.stages)
submitted = ps.submitted_stages(progress, n)
current = ps.current_stage(n, submitted)
score = ps.score_progress(case, progress, plans)

# Header: the case, and progress (stage k of n, running score).
st.header(safe_markdown(case.title), anchor=False)
st.markdown(safe_markdown(case.summary))
p = case.patient
st.caption(
    f"{catalogue.POPULATION_LABELS.get(case.population, case.population)} · "
    f"{catalogue.DIFFICULTY_LABELS.get(case.difficulty, case.difficulty)} · {n} stage(s) · "
    f"patient: {catalogue.patient_summary(case.patient)} · by {safe_markdown(case.author)}"
)
if not_saved:
    st.warning(not_saved, icon="💾")
if case.objectives:
    with st.expander("Learning objectives"):
        st.markdown("\n".join(f"- {safe_markdown(o)}" for o in case.objectives))
bar_col, score_col, restart_col = st.columns([4, 1.3, 1.3], vertical_alignment="center")
stage_text = f"Stage {current + 1} of {n}" if current is not None else f"Complete: {n} of {n} stages"
bar_col.progress(len(submitted) / n, text=stage_text)
score_col.metric(
    "Score so far" if current is not None else "Total score",
    f"{score.total:g}/100" if ps.has_scored(score) else "—",
)
restart_col.button(
    "Restart case",
    key=f"restart:{case_id}",
    on_click=_restart,
    args=(case_id,),
    icon=":material/restart_alt:",
)

# The notebook: each visible stage's cells, top to bottom.
live = lambda qid, opt=None: ps.widget_key(case_id, attempt, qid, opt)  # noqa: E731
for i in range(ps.visible_stage_count(n, submitted)):
    stage = case.stages[i]
    done = ps.feedback_ready(i, submitted)
    st.divider()
    st.subheader(f"Stage {i + 1} of {n}: {safe_markdown(stage.title)}", anchor=False)
    with st.container(border=True):
        st.markdown(ps.cell_label("📝 Narrative") + safe_markdown(stage.narrative))
    if stage.data is not None and (stage.data.labs or stage.data.series):
        with st.container(border=True):
            st.caption("📊 Data")
            if stage.data.labs:
                st.dataframe(_labs(case_id, fingerprint, i, case), hide_index=True)
            if stage.data.series:
                st.plotly_chart(
                    trends[i],
                    key=f"trend:{case_id}:{i}",
                    config={"displayModeBar": False},
                )
    if not done:
        saving.stage_shown(progress, i)
        with st.form(f"stage:{case_id}:{attempt}:{i}", border=True):
            st.caption("❓ Questions" if stage.questions else "▶️ Continue")
            for q in stage.questions:
                _question_widgets(case, q, live)
            missing = st.session_state.get("player_missing")
            if missing and missing[0] == case_id and missing[1] == i:
                st.warning("Answer every choice and dose question before submitting.")
            st.form_submit_button(
                f"Submit stage {i + 1}" if stage.questions else "Continue",
                type="primary",
                on_click=_submit,
                args=(case, i),
            )
        if stage.questions:
            st.caption("Submitting is final: feedback appears here, then the next stage.")
        break
    for q in stage.questions:
        result = score.result(q.id)
        with st.container(border=True):  # the question, frozen with the given answer, then its feedback
            st.markdown(
                ps.cell_label("❓ Question · submitted (final)")
                + ps.submitted_markdown(q, progress["answers"].get(q.id), case.population, kb)
            )
            st.divider()
            if result.unsafe:
                st.error("Unsafe: this answer would put the patient at risk.", icon="⚠️")
            key = answer_key(q, plans[i]) if isinstance(q, NextStepQuestion) else None
            st.markdown(
                ps.cell_label("✅ Feedback")
                + ps.feedback_markdown(q, result, key, GRADE_COLOURS, GRADE_LABELS, source_links)
            )

# The end: total, breakdown, path on the flowchart, exports.
if current is None:
    st.divider()
    st.subheader("Case complete", anchor=False)
    total_col, unsafe_col = st.columns(2)
    total_col.metric("Total score", f"{score.total:g}/100")
    unsafe_col.metric("Unsafe answers", len(score.unsafe))
    if score.unsafe:
        stages = sorted({case.question(q)[0] + 1 for q in score.unsafe})
        st.error(
            "Unsafe answers at stage " + ", ".join(map(str, stages)) + ": see their feedback above.", icon="⚠️"
        )
    if score.category_scores:
        for col, (category, value) in zip(
            st.columns(len(score.category_scores)), score.category_scores.items(), strict=True
        ):
            col.metric(ps.CATEGORY_LABELS.get(category, category), f"{value:g}")
    answers = progress["answers"]
    # Built once per case end (about 25 ms), never on the stage submits before it.
    rows = tuple(ps.stage_score_rows(case, score))
    st.plotly_chart(
        _breakdown(rows, tuple(score.category_scores.items())),
        key=f"breakdown:{case_id}",
        config={"displayModeBar": False},
    )
    population = case.patient.population
    pathway = kb.pathways[population]
    path = ps.path_on_chart(pathway, plans, ps.learner_options(case, answers), ps.best_options(case, score))
    st.markdown(
        "**Your path and the recommended one.** The thick outline is where the patient ends up; "
        "circles mark the steps of your choices, stars those of the best answers."
    )
    st.plotly_chart(
        _pathway(population, path.current, path.learner, path.recommended),
        key=f"path:{case_id}",
        config={"displayModeBar": False},
    )
    table = [
        {
            "Stage": case.question(r.question_id)[0] + 1,
            "Question": case.question(r.question_id)[1].prompt,
            "Your choice": ps.format_answer(case.question(r.question_id)[1], r.answer, kb),
            "Best": r.best_text,
        }
        for r in score.results
        if r.kind == "next_step"
    ]
    if table:
        st.dataframe(pd.DataFrame(table), hide_index=True)
    nb_col, md_col = st.columns(2)
    nb_col.download_button(
        "Download as a Jupyter notebook",
        lambda: to_notebook_json(case, answers, score),
        file_name=f"{case_id}.ipynb",
        mime="application/x-ipynb+json",
        on_click="ignore",
        icon="📓",
        key=f"nb:{case_id}",
    )
    md_col.download_button(
        "Download as Markdown",
        lambda: to_markdown(case, answers, score),
        file_name=f"{case_id}.md",
        mime="text/markdown",
        on_click="ignore",
        icon="📄",
        key=f"md:{case_id}",
    )
