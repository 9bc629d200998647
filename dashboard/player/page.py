"""The case player's sections, in the order the page shows them. Each is a function AppTest can run alone.

The case unfolds like a notebook being run, one stage (narrative, data, questions) at a time. A stage's
questions sit in one form; submitting it is final. Only then are that stage's answers scored (once) and
its feedback shown, followed by the next stage. A submitted stage folds into an expander (the latest one
open), so that a finished case is a page a learner can scroll.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from dashboard import auth, catalogue, icons, saving
from dashboard.export import Export
from dashboard.figures import (
    PathPoint,
    pathway_figure,
    pathway_key,
    score_breakdown_figure,
    static,
    trend_figure,
)
from dashboard.persistence import case_hash
from dashboard.player import answer_drafts
from dashboard.player import answers as pa_answers
from dashboard.player import progress as pp
from dashboard.player import results as pr
from dashboard.player.memo import FIGURES, PLANS, frozen
from dashboard.questions import ViewContext, view_of
from dashboard.questions.render import (
    certainty_widget,
    escape,
    feedback_markdown,
    notes_shown_before,
    page_style,
    submitted_markdown,
)
from dashboard.wording import and_list, number, points
from logic import Case, CaseScore, KnowledgeBase, Library, LoadedCase, StagePlan, stage_plans
from logic.markdown import safe_markdown
from logic.questions import QuestionBase, answer_certainty, answer_value
from logic.vocabulary import CATEGORY_LABELS, CONFIDENT_UNSAFE_WARNING, Category, Population

MISSING = "player_missing"  # session key: (case id, stage index, {question id: what is missing})
CONFIRM_RESTART = "player_confirm_restart"  # session key: the case id whose restart is being confirmed


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

    @property
    def numbers(self) -> dict[str, str]:
        """Each question's number, "stage.question"."""
        return FIGURES.get(("numbers", self.case.id, self.version), lambda: pr.question_numbers(self.case))


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
        st.page_link(pages["library"], label="Case library", icon=icons.LIBRARY)
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


def _restart(case_id: str, path: Path, stages: int) -> None:
    progress = pp.progress_for(_sessions(), case_id)
    answer_drafts.forget_case(case_id, progress["attempt"], stages)
    pp.restart(progress)
    st.session_state.pop(MISSING, None)
    st.session_state.pop(CONFIRM_RESTART, None)
    saving.after_restart(progress, case_id, path)


def _ask_restart(case_id: str) -> None:
    st.session_state[CONFIRM_RESTART] = case_id


def _keep() -> None:
    st.session_state.pop(CONFIRM_RESTART, None)


@st.dialog("Restart this case?", on_dismiss=_keep)
def confirm_restart(session: PlayerSession) -> None:
    """Restarting clears every answer given to the case: the learner says so twice."""
    given = len(session.submitted)
    st.markdown(
        f"You have submitted {given} of {len(session.case.stages)} stages. Restarting clears your answers "
        "and starts the case again at stage 1"
        + (
            " (your attempt so far stays in your records, marked abandoned)."
            if auth.page_user().signed_in
            else "."
        )
    )
    restart, keep = st.columns(2)
    restart.button(
        "Restart the case",
        type="primary",
        icon=icons.RESTART,
        on_click=_restart,
        args=(session.case.id, session.loaded.path, len(session.case.stages)),
        key="restart_confirmed",
    )
    keep.button("Keep my answers", on_click=_keep, key="restart_cancelled")


def header(session: PlayerSession) -> None:
    """The case, its objectives, and progress: stage k of n, the running score, restart (confirmed)."""
    case, n = session.case, len(session.case.stages)
    st.header(safe_markdown(case.title), anchor=False)
    # The summary and the case's line in one element (a submit rerun sends each element again).
    st.markdown(f"{safe_markdown(case.summary)}\n\n:gray[:small[{catalogue.case_line(case)}]]")
    if session.not_saved:
        st.warning(session.not_saved, icon=icons.NOT_SAVED)
    if case.objectives:
        with st.expander("Learning objectives"):
            st.markdown("\n".join(f"- {safe_markdown(o)}" for o in case.objectives))
    bar_col, score_col, restart_col = st.columns([4, 1.3, 1.3], vertical_alignment="center")
    current = session.current
    stage_text = f"Stage {current + 1} of {n}" if current is not None else f"Complete: all {n} stages"
    bar_col.progress(len(session.submitted) / n, text=stage_text)
    score_col.metric(
        "Score so far" if current is not None else "Total score",
        f"{number(session.score.total)}/100" if pr.has_scored(session.score) else "—",
    )
    restart_col.button(
        "Restart case",
        key=f"restart:{case.id}",
        on_click=_ask_restart,
        args=(case.id,),
        icon=icons.RESTART,
        disabled=not session.submitted,
        help="Start this case again from stage 1 (you are asked to confirm).",
    )
    if st.session_state.get(CONFIRM_RESTART) == case.id:
        confirm_restart(session)


# ---------------------------------------------------------------------------------------- stages


def _trends(session: PlayerSession) -> dict[int, go.Figure]:
    """Every stage's trend figure, built when the case opens so that no submit rerun has to build one."""
    case = session.case
    return FIGURES.get(
        ("trends", case.id, session.version),
        lambda: {
            i: static(trend_figure(stage.data.series))
            for i, stage in enumerate(case.stages)
            if stage.data is not None and stage.data.series
        },
    )


def _labs(session: PlayerSession, stage: int) -> pa.Table:
    """A stage's labs as an Arrow table (cheaper to send on every rerun than a pandas frame). st.table
    renders its cells as Markdown (and wraps them, so the table fits a phone): case text is sanitised."""
    return FIGURES.get(
        ("labs", session.case.id, session.version, stage),
        lambda: pa.Table.from_pylist(
            [{k: escape(v) for k, v in row.items()} for row in pr.lab_rows(session.case, stage)]
        ),
    )


def stages(session: PlayerSession) -> None:
    """The notebook: each submitted stage folded (the latest open), then the current stage and its form."""
    case = session.case
    latest = max(session.submitted, default=None)
    for i in range(pp.visible_stage_count(len(case.stages), session.submitted)):
        if pp.feedback_ready(i, session.submitted):
            submitted_stage(session, i, open_=i == latest)
        else:
            current_stage(session, i)
            break


def _stage_title(case: Case, i: int) -> str:
    return f"Stage {i + 1} of {len(case.stages)}: {safe_markdown(case.stages[i].title)}"


def stage_cells(session: PlayerSession, i: int, trend: go.Figure | None) -> None:
    """A stage's narrative and data (its trend chart, when it has one)."""
    stage = session.case.stages[i]
    st.markdown(safe_markdown(stage.narrative))
    if stage.data is not None and (stage.data.labs or stage.data.series):
        with st.container(border=True):  # the data cell (its table and chart say what they hold)
            if stage.data.labs:
                st.table(_labs(session, i), hide_index=True)
            if stage.data.series and trend is not None:
                st.plotly_chart(trend, key=f"trend:{session.case.id}:{i}", config={"displayModeBar": False})


def stage_story(session: PlayerSession, i: int, trend: go.Figure | None) -> None:
    """A stage's heading, narrative and data cells (the stage being played, and the Author page's preview)."""
    st.subheader(_stage_title(session.case, i), anchor=False)
    stage_cells(session, i, trend)


def current_stage(session: PlayerSession, i: int) -> None:
    """The stage being played: its cells and its form."""
    st.divider()
    stage_story(session, i, _trends(session).get(i))
    stage_form(session, i)


def submitted_stage(session: PlayerSession, i: int, *, open_: bool) -> None:
    """A submitted stage folded into an expander titled with its score; each question with its feedback."""
    case = session.case
    value = session.score.stage_scores[i]
    scored = f"{number(value)}/100" if value is not None else "not scored"
    attempt = session.progress["attempt"]
    # The key holds whether it opens: the latest stage opens once, the earlier ones fold when it moves on.
    with st.expander(
        f"{_stage_title(case, i)} · {scored}",
        expanded=open_,
        icon=icons.DONE,
        key=f"stage:{case.id}:{attempt}:{i}:{'open' if open_ else 'folded'}",
    ):
        stage_cells(session, i, _trends(session).get(i))
        submitted_cells(session, i)


def _question_heading(session: PlayerSession, question: QuestionBase) -> str:
    view = view_of(question)
    worth = points(question.points) if question.scored else "not scored"
    return f"**Question {session.numbers[question.id]}** · {view.instruction(question)} · {worth}"


def _submit(case: Case, stage_index: int, kb: KnowledgeBase, version: tuple[str, int, int]) -> None:
    """Form callback (runs before the rerun): read the stage's widgets, record the answers if complete."""
    progress = pp.progress_for(_sessions(), case.id)
    key = pa_answers.keys_for(case.id, progress["attempt"])
    questions = case.stages[stage_index].questions
    answers, missing = pa_answers.collect_answers(questions, st.session_state, key)
    if missing:
        st.session_state[MISSING] = (case.id, stage_index, missing_reasons(questions, answers, missing))
        return
    st.session_state.pop(MISSING, None)
    if pp.submit_stage(progress, len(case.stages), stage_index, answers):
        answer_drafts.forget(case.id, progress["attempt"], stage_index)
        # Scored here once and memoised: the rerun that follows shows these same results, and the
        # store saves them.
        plans = PLANS.get((case.id, version, id(kb)), lambda: stage_plans(case, kb))
        saving.after_submit(progress, case, pr.score_progress(case, progress, plans, kb, version))


def missing_reasons(
    questions: tuple[QuestionBase, ...] | list[QuestionBase], answers: Mapping[str, Any], missing: list[str]
) -> dict[str, str]:
    """What each question still needs, in words: its instruction ("choose one"), or how sure the learner is."""
    reasons = {}
    for q in questions:
        if q.id not in missing:
            continue
        answer = answers.get(q.id)
        needs: list[str] = []
        if q.needs_answer and answer_value(answer) is None:
            needs.append(view_of(q).instruction(q).lower())
        if q.asks_certainty and answer_certainty(answer) is None:
            needs.append("say how sure you are")
        reasons[q.id] = and_list(needs)
    return reasons


def missing_message(numbers: Mapping[str, str], reasons: Mapping[str, str]) -> str:
    """ "Before submitting, answer question 1.2 (put in order) and question 1.3 (say how sure you are)."""
    parts = [f"question {numbers[qid]} ({reason})" for qid, reason in reasons.items()]
    return f"Before submitting, answer {and_list(parts)}."


def stage_form(session: PlayerSession, stage_index: int) -> None:
    """The current stage's questions in one form, numbered; submitting is final. What is typed survives a
    reload (a draft in the browser) until the stage is submitted."""
    case = session.case
    stage = case.stages[stage_index]
    attempt = session.progress["attempt"]
    key = pa_answers.keys_for(case.id, attempt)
    saving.stage_shown(session.progress, stage_index)  # its time taken starts now (if not already)
    form_key = f"stage:{case.id}:{attempt}:{stage_index}"
    answer_drafts.restore(case, attempt, stage_index, key, session.ctx)
    with st.form(form_key, border=True):
        for q in stage.questions:
            st.markdown(_question_heading(session, q) + "\n\n" + safe_markdown(q.prompt))
            view_of(q).widget(q, key, session.ctx)
            if q.asks_certainty:
                certainty_widget(q, key)
        missing = st.session_state.get(MISSING)
        if missing and missing[0] == case.id and missing[1] == stage_index:
            st.warning(missing_message(session.numbers, missing[2]), icon=icons.WARNING)
        st.form_submit_button(
            f"Submit stage {stage_index + 1}" if stage.questions else "Continue",
            type="primary",
            on_click=_submit,
            args=(case, stage_index, session.kb, session.version),
        )
    if stage.questions:
        st.caption("Submitting is final: the feedback appears here, then the next stage.")


def submitted_cells(session: PlayerSession, stage_index: int) -> None:
    """A submitted stage's questions, each with its feedback: one line per option (grade, option, why); the
    answer itself shown apart only where the feedback lines do not show it. A faculty note is shown once
    per case, with the first question it concerns. One Markdown block for the stage (a rule between
    questions): a submit rerun sends a few elements, not several per question."""
    style = page_style(session.kb)
    shown_before = notes_shown_before(session.score.results)
    blocks = []
    for q in session.case.stages[stage_index].questions:
        result = session.score.result(q.id)
        view = view_of(q)
        if view.rows_show_answer and result.scored:
            question = _question_heading(session, q) + "\n\n" + safe_markdown(q.prompt)
        else:
            question = (
                _question_heading(session, q)
                + "\n\n"
                + submitted_markdown(view, q, session.progress["answers"].get(q.id), session.ctx)
            )
        feedback = feedback_markdown(view, q, result, style, skip_notes=shown_before.get(q.id, frozenset()))
        blocks.append(question + "\n\n" + feedback)
    if blocks:
        with st.container(border=True):
            st.markdown("\n\n---\n\n".join(blocks))


# ---------------------------------------------------------------------------------------- the end


def _pathway(
    population: Population, current: str, path: tuple[PathPoint, ...], kb: KnowledgeBase
) -> go.Figure:
    pathway = kb.pathways[population]
    return FIGURES.get(
        ("pathway", id(kb), population, current, path),
        lambda: static(pathway_figure(pathway, kb, current_step=current, path=path)),
    )


def _breakdown(
    rows: tuple[tuple[str, float | None], ...], categories: tuple[tuple[Category, float], ...]
) -> go.Figure:
    return FIGURES.get(
        ("breakdown", rows, categories), lambda: static(score_breakdown_figure(list(rows), dict(categories)))
    )


def export_name(case_id: str, learner: str | None, day: date, extension: str) -> str:
    """The download's file name: case, learner (when signed in) and date, e.g.
    ``myositis-after-failed-immunosuppression_ada-lovelace_2026-11-23.ipynb``."""
    parts = [case_id]
    if learner:
        slug = re.sub(r"[\W_]+", "-", learner.casefold()).strip("-")  # letters of any script, digits
        if slug:
            parts.append(slug[:40])
    parts.append(day.isoformat())
    return "_".join(parts) + f".{extension}"


def end_of_case(session: PlayerSession) -> None:
    """Total, unsafe and confident-unsafe answers, the scores by kind, the path on the flowchart, the
    answers beside the best ones, and the exports."""
    case, score, kb = session.case, session.score, session.kb
    numbers = session.numbers
    st.divider()
    st.subheader("Case complete", anchor=False)
    metrics = [("Total score", f"{number(score.total)}/100")] + [
        (CATEGORY_LABELS[category], number(value)) for category, value in score.category_scores.items()
    ]
    with st.container(horizontal=True, gap="large"):  # a row on a screen, wrapped in rows on a phone
        for label, value in metrics:
            st.metric(label, value, width="content")
    if score.unsafe:
        at = and_list([numbers[q] for q in score.unsafe])
        st.error(f"Unsafe answers: question {at}. See their feedback above.", icon=icons.UNSAFE)
    else:
        st.success("No unsafe answer.", icon=icons.DONE)
    certainty = pr.certainty_summary(score)
    if certainty.confident_unsafe:
        where = and_list([numbers[q] for q in certainty.confident_unsafe])
        st.error(
            f"**Confident and unsafe** (question {where}). {CONFIDENT_UNSAFE_WARNING}",
            icon=icons.CONFIDENT_UNSAFE,
        )
    with st.expander("Scores by stage and by kind of question (chart)"):
        # Built once per case end (about 25 ms), never on the stage submits before it.
        rows = tuple(pr.stage_score_rows(case, score))
        st.plotly_chart(
            _breakdown(rows, tuple(score.category_scores.items())),
            key=f"breakdown:{case.id}",
            config={"displayModeBar": False},
        )
    path = FIGURES.get(
        ("path", case.id, session.version, tuple(frozen(r.answer) for r in score.results)),
        lambda: pr.path_on_chart(case, score, session.plans, session.ctx),
    )
    population = case.patient.population
    pathway = kb.pathways[population]
    st.markdown("#### Your path and the recommended one")
    chart, words = st.columns([3, 2], gap="medium")
    chart.plotly_chart(
        _pathway(population, path.current, path.points, kb),
        key=f"path:{case.id}",
        config={"displayModeBar": False},
    )
    with words:
        st.markdown(
            "Each next-step question, in order, at the step where the patient then was: your choice "
            "(purple, on the box's top edge) above the recommended one (green, on its bottom edge); one "
            "marker, green ringed in purple, where they agree. The thick outline is where the patient ends up."
        )
        st.markdown(
            "\n".join(
                f"- **{p.number}** ({pathway.step(p.step).title}): {_path_words(p)}" for p in path.points
            )
        )
        st.caption(pathway_key(pathway, ("current", "path")))
    table = pr.answer_table(case, score, session.ctx)
    if table:
        st.markdown("#### Your answers and the best ones")
        # A static table: its cells wrap, so every column (the best answer, the certainty) stays in view.
        st.table(table, hide_index=True)
    if certainty.rated:
        st.caption(certainty.sentence)
    exports(session)
    answer_drafts.flush()


def _path_words(point: PathPoint) -> str:
    if point.same:
        return f"you chose **{point.chosen}**, the recommended choice."
    return f"you chose **{point.chosen or 'nothing'}**; recommended: **{point.best}**."


def exports(session: PlayerSession) -> None:
    """The case as a notebook (with its charts) or as Markdown, named by case, learner and date."""
    case, score, kb = session.case, session.score, session.kb
    answers = session.progress["answers"]
    learner = auth.page_user().name if auth.page_user().signed_in else None
    today = date.today()
    version = case_hash(session.loaded.path)  # the case file's sha256: which version was played
    export = Export(case, answers, score, kb, learner=learner, day=today, version=version)
    files = (
        (
            "Download as a Jupyter notebook",
            export.notebook_json,
            "ipynb",
            "application/x-ipynb+json",
            icons.NOTEBOOK,
            "nb",
        ),
        ("Download as Markdown", export.markdown, "md", "text/markdown", icons.MARKDOWN, "md"),
    )
    for col, (label, build, extension, mime, icon, key) in zip(st.columns(2), files, strict=True):
        col.download_button(
            label,
            build,  # built only when the learner downloads
            file_name=export_name(case.id, learner, today, extension),
            mime=mime,
            on_click="ignore",
            icon=icon,
            key=f"{key}:{case.id}",
        )
