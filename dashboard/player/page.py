"""The case player's sections, in the order the page shows them. Each is a function AppTest can run alone.

The case unfolds like a notebook being run, one stage (narrative, data, questions) at a time. A stage's
questions sit in one form; submitting it is final. Only then are that stage's answers scored (once) and
its feedback shown, followed by the next stage.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from dashboard import catalogue, saving
from dashboard.export import to_markdown, to_notebook_json
from dashboard.figures import pathway_figure, score_breakdown_figure, trend_figure
from dashboard.player import answers as pa_answers
from dashboard.player import progress as pp
from dashboard.player import results as pr
from dashboard.player.memo import FIGURES, PLANS
from dashboard.questions import ViewContext, view_of
from dashboard.questions.render import certainty_widget, feedback_markdown, page_style, submitted_markdown
from logic import Case, CaseScore, KnowledgeBase, Library, LoadedCase, StagePlan, stage_plans
from logic.markdown import safe_markdown
from logic.vocabulary import CATEGORY_LABELS, CONFIDENT_UNSAFE_WARNING, Category, Population

MISSING = "player_missing"  # session key: (case id, stage index, question ids still unanswered)


@dataclass(frozen=True)
class PlayerSession:
    """One learner's view of one case on this rerun: the case, its plans, their progress and score."""

    loaded: LoadedCase
    kb: KnowledgeBase
    version: tuple[str, int, int]  # the case file's fingerprint: every memo key holds it
    plans: tuple[StagePlan, ...]
    progress: dict[str, Any]
    submitted: tuple[int, ...]
    current: int | None
    score: CaseScore
    not_saved: str | None  # what to tell a signed-in learner whose progress is not being saved now

    @property
    def case(self) -> Case:
        return self.loaded.case

    @property
    def complete(self) -> bool:
        return self.current is None

    @property
    def ctx(self) -> ViewContext:
        return ViewContext(self.kb, self.case.population)


def _sessions() -> dict[str, Any]:
    store: dict[str, Any] = st.session_state.setdefault(pp.STORE, {})
    return store


# ---------------------------------------------------------------------------------------- choosing


def _choose_case() -> None:
    st.query_params["case"] = st.session_state["player_case"]


def choose_case(library: Library, pages: Mapping[str, Any]) -> LoadedCase | None:
    """The case selectbox; a ``?case=`` link chooses the case; without cases, a pointer to the library."""
    if not library.cases:
        st.info("No case could be loaded. See the case library for the files that failed.")
        st.page_link(pages["library"], label="Case library", icon="📚")
        return None
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
    return library.cases[case_id]


def open_case(loaded: LoadedCase, kb: KnowledgeBase) -> PlayerSession:
    """The learner's progress on this case (resumed from the store when they are signed in) and its score."""
    case = loaded.case
    version = (str(loaded.path), *loaded.source.version)  # the text as read (size, hash): no stat per rerun
    # The patient and recommend() at every stage: once per case file version, not per rerun.
    plans = PLANS.get((case.id, version, id(kb)), lambda: stage_plans(case, kb))
    progress = pp.progress_for(_sessions(), case.id)
    not_saved = saving.open_case(progress, case.id, loaded.path)  # what this learner saved earlier
    n = len(case.stages)
    submitted = pp.submitted_stages(progress, n)
    score = pr.score_progress(case, progress, plans, kb, version)
    current = pp.current_stage(n, submitted)
    return PlayerSession(loaded, kb, version, plans, progress, submitted, current, score, not_saved)


def save_unsaved(session: PlayerSession) -> None:
    """Write again what a failed save kept in the session (the case version being played, scored)."""
    saving.save_unsaved(session.progress, session.case, session.score)


# ---------------------------------------------------------------------------------------- header


def _restart(case_id: str, path: Path) -> None:
    progress = pp.progress_for(_sessions(), case_id)
    pp.restart(progress)
    st.session_state.pop(MISSING, None)
    saving.after_restart(progress, case_id, path)


def header(session: PlayerSession) -> None:
    """The case, its objectives, and progress: stage k of n, the running score, restart."""
    case, n = session.case, len(session.case.stages)
    st.header(safe_markdown(case.title), anchor=False)
    st.markdown(safe_markdown(case.summary))
    st.caption(catalogue.case_line(case))
    if session.not_saved:
        st.warning(session.not_saved, icon="💾")
    if case.objectives:
        with st.expander("Learning objectives"):
            st.markdown("\n".join(f"- {safe_markdown(o)}" for o in case.objectives))
    bar_col, score_col, restart_col = st.columns([4, 1.3, 1.3], vertical_alignment="center")
    current = session.current
    stage_text = f"Stage {current + 1} of {n}" if current is not None else f"Complete: {n} of {n} stages"
    bar_col.progress(len(session.submitted) / n, text=stage_text)
    score_col.metric(
        "Score so far" if current is not None else "Total score",
        f"{session.score.total:g}/100" if pr.has_scored(session.score) else "—",
    )
    restart_col.button(
        "Restart case",
        key=f"restart:{case.id}",
        on_click=_restart,
        args=(case.id, session.loaded.path),
        icon=":material/restart_alt:",
    )


# ---------------------------------------------------------------------------------------- stages


def _trends(session: PlayerSession) -> dict[int, go.Figure]:
    """Every stage's trend figure, built when the case opens so that no submit rerun has to build one."""
    case = session.case
    return FIGURES.get(
        ("trends", case.id, session.version),
        lambda: {
            i: trend_figure(stage.data.series)
            for i, stage in enumerate(case.stages)
            if stage.data is not None and stage.data.series
        },
    )


def _labs(session: PlayerSession, stage: int) -> pa.Table:
    """A stage's labs as an Arrow table (cheaper to send on every rerun than a pandas frame)."""
    return FIGURES.get(
        ("labs", session.case.id, session.version, stage),
        lambda: pa.Table.from_pylist(pr.lab_rows(session.case, stage)),
    )


def stages(session: PlayerSession) -> None:
    """The notebook: each visible stage's cells, top to bottom; the current stage ends in its form."""
    n = len(session.case.stages)
    trends = _trends(session)
    for i in range(pp.visible_stage_count(n, session.submitted)):
        st.divider()
        stage_story(session, i, trends.get(i))
        if pp.feedback_ready(i, session.submitted):
            submitted_cells(session, i)
        else:
            stage_form(session, i)
            break


def stage_story(session: PlayerSession, i: int, trend: go.Figure | None) -> None:
    """A stage's heading, narrative and data cells (the player, and the Author page's preview)."""
    case, n = session.case, len(session.case.stages)
    stage = case.stages[i]
    st.subheader(f"Stage {i + 1} of {n}: {safe_markdown(stage.title)}", anchor=False)
    with st.container(border=True):
        st.markdown(pr.cell_label("📝 Narrative") + safe_markdown(stage.narrative))
    if stage.data is not None and (stage.data.labs or stage.data.series):
        with st.container(border=True):
            st.caption("📊 Data")
            if stage.data.labs:
                st.dataframe(_labs(session, i), hide_index=True)
            if stage.data.series and trend is not None:
                st.plotly_chart(trend, key=f"trend:{case.id}:{i}", config={"displayModeBar": False})


def _submit(case: Case, stage_index: int, kb: KnowledgeBase, version: tuple[str, int, int]) -> None:
    """Form callback (runs before the rerun): read the stage's widgets, record the answers if complete."""
    progress = pp.progress_for(_sessions(), case.id)
    key = pa_answers.keys_for(case.id, progress["attempt"])
    answers, missing = pa_answers.collect_answers(case.stages[stage_index].questions, st.session_state, key)
    if missing:
        st.session_state[MISSING] = (case.id, stage_index, tuple(missing))
        return
    st.session_state.pop(MISSING, None)
    if pp.submit_stage(progress, len(case.stages), stage_index, answers):
        # Scored here once and memoised: the rerun that follows shows these same results, and the
        # store saves them.
        plans = PLANS.get((case.id, version, id(kb)), lambda: stage_plans(case, kb))
        saving.after_submit(progress, case, pr.score_progress(case, progress, plans, kb, version))


def stage_form(session: PlayerSession, stage_index: int) -> None:
    """The current stage's questions in one form; submitting is final."""
    case = session.case
    stage = case.stages[stage_index]
    key = pa_answers.keys_for(case.id, session.progress["attempt"])
    saving.stage_shown(session.progress, stage_index)  # its time taken starts now (if not already)
    with st.form(f"stage:{case.id}:{session.progress['attempt']}:{stage_index}", border=True):
        st.caption("❓ Questions" if stage.questions else "▶️ Continue")
        for q in stage.questions:
            st.markdown(safe_markdown(q.prompt))
            view_of(q).widget(q, key, session.ctx)
            if q.asks_certainty:
                certainty_widget(q, key)
        missing = st.session_state.get(MISSING)
        if missing and missing[0] == case.id and missing[1] == stage_index:
            st.warning(
                "Answer every choice, order and dose question (and say how sure you are) before submitting."
            )
        st.form_submit_button(
            f"Submit stage {stage_index + 1}" if stage.questions else "Continue",
            type="primary",
            on_click=_submit,
            args=(case, stage_index, session.kb, session.version),
        )
    if stage.questions:
        st.caption("Submitting is final: feedback appears here, then the next stage.")


def submitted_cells(session: PlayerSession, stage_index: int) -> None:
    """A submitted stage's questions, read-only with the given answers, each followed by its feedback."""
    style = page_style(session.kb)
    for q in session.case.stages[stage_index].questions:
        result = session.score.result(q.id)
        view = view_of(q)
        with st.container(border=True):  # the question, frozen with the given answer, then its feedback
            st.markdown(
                pr.cell_label("❓ Question · submitted (final)")
                + submitted_markdown(view, q, session.progress["answers"].get(q.id), session.ctx)
            )
            st.divider()
            if result.unsafe:
                st.error("Unsafe: this answer would put the patient at risk.", icon="⚠️")
            st.markdown(pr.cell_label("✅ Feedback") + feedback_markdown(view, q, result, style))


# ---------------------------------------------------------------------------------------- the end


def _pathway(
    population: Population, current: str, learner: tuple[str, ...], best: tuple[str, ...], kb: KnowledgeBase
) -> go.Figure:
    pathway = kb.pathways[population]
    return FIGURES.get(
        ("pathway", id(kb), population, current, learner, best),
        lambda: pathway_figure(
            pathway, kb, current_step=current, learner_steps=learner, recommended_steps=best
        ),
    )


def _breakdown(
    rows: tuple[tuple[str, float | None], ...], categories: tuple[tuple[Category, float], ...]
) -> go.Figure:
    return FIGURES.get(
        ("breakdown", rows, categories), lambda: score_breakdown_figure(list(rows), dict(categories))
    )


def end_of_case(session: PlayerSession) -> None:
    """Total, unsafe and confident-unsafe answers, the breakdown, the path on the flowchart, exports."""
    case, score, kb = session.case, session.score, session.kb
    st.divider()
    st.subheader("Case complete", anchor=False)
    total_col, unsafe_col = st.columns(2)
    total_col.metric("Total score", f"{score.total:g}/100")
    unsafe_col.metric("Unsafe answers", len(score.unsafe))
    if score.unsafe:
        at = sorted({case.question(q)[0] + 1 for q in score.unsafe})
        st.error(
            "Unsafe answers at stage " + ", ".join(map(str, at)) + ": see their feedback above.", icon="⚠️"
        )
    certainty = pr.certainty_summary(score)
    if certainty.confident_unsafe:
        where = ", ".join(f"stage {case.question(q)[0] + 1}" for q in certainty.confident_unsafe)
        st.error(f"**Confident and unsafe** ({where}). {CONFIDENT_UNSAFE_WARNING}", icon="🚩")
    if score.category_scores:
        for col, (category, value) in zip(
            st.columns(len(score.category_scores)), score.category_scores.items(), strict=True
        ):
            col.metric(CATEGORY_LABELS[category], f"{value:g}")
    # Built once per case end (about 25 ms), never on the stage submits before it.
    rows = tuple(pr.stage_score_rows(case, score))
    st.plotly_chart(
        _breakdown(rows, tuple(score.category_scores.items())),
        key=f"breakdown:{case.id}",
        config={"displayModeBar": False},
    )
    population = case.patient.population
    path = pr.path_on_chart(
        kb.pathways[population], session.plans, pr.learner_options(case, score), pr.best_options(case, score)
    )
    st.markdown(
        "**Your path and the recommended one.** The thick outline is where the patient ends up; "
        "circles mark the steps of your choices, stars those of the best answers."
    )
    st.plotly_chart(
        _pathway(population, path.current, path.learner, path.recommended, kb),
        key=f"path:{case.id}",
        config={"displayModeBar": False},
    )
    table = pr.answer_table(case, score, session.ctx)
    if table:
        # A static table: its cells wrap, so every column (the best answer, the certainty) stays in view.
        st.table(pd.DataFrame(table), hide_index=True)
    if certainty.rated:
        st.caption(certainty.sentence)
    answers = session.progress["answers"]
    exports = (
        ("Download as a Jupyter notebook", to_notebook_json, "ipynb", "application/x-ipynb+json", "📓", "nb"),
        ("Download as Markdown", to_markdown, "md", "text/markdown", "📄", "md"),
    )
    for col, (label, build, extension, mime, icon, key) in zip(st.columns(2), exports, strict=True):
        col.download_button(
            label,
            functools.partial(build, case, answers, score, kb),  # built only when the learner downloads
            file_name=f"{case.id}.{extension}",
            mime=mime,
            on_click="ignore",
            icon=icon,
            key=f"{key}:{case.id}",
        )
