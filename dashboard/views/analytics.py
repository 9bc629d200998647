"""Analytics (faculty): where a cohort goes wrong. The questions most often answered unsafely or wrongly
(each a link into the player), every case's completion and scores, and for one case: the group on the
flowchart stage by stage against the recommended step, and each question's chosen options coloured by
their grade. Filter by cohort, dates and first attempts; export what is shown as CSV or xAPI.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import analytics as an
from dashboard import auth
from dashboard.analytics_figures import cohort_flowchart, distribution_figure, trouble_figure
from dashboard.common import get_kb, get_library, get_store, plain
from dashboard.export_buttons import export_buttons
from dashboard.figures import pathway_key
from dashboard.links import app_url
from dashboard.persistence import case_hash
from dashboard.store import CohortInfo, Store
from dashboard.store_analytics import AnswerChoice, QuestionActivity, Scope, StageTimeCount
from logic import KnowledgeBase, LoadedCase
from logic.vocabulary import CALIBRATION_LABELS, CONFIDENT_UNSAFE_WARNING, OUTCOME_LABELS

EVERYONE = 0  # the cohort choice "all learners"
TOP = 10  # questions in the "where the group goes wrong" table
CHARTED = 6  # of which the chart shows the first
PAGES = st.session_state["_pages"]
CHART = {"displayModeBar": False}


def cohort_names(cohorts: list[CohortInfo]) -> dict[int, str]:
    ordered = sorted(cohorts, key=lambda c: c.archived_at is not None)  # open cohorts first, newest first
    names = {c.id: c.name + (" (archived)" if c.archived_at else "") for c in ordered}
    return names | {EVERYONE: "All learners (every cohort, and self-paced)"}


def choose_scope(names: dict[int, str]) -> Scope:
    """The cohort (also ?cohort=<id>, for links from the Cohorts page), dates and first attempts."""
    if "an_cohort" not in st.session_state or st.session_state["an_cohort"] not in names:
        wanted = st.query_params.get("cohort", "")
        chosen = int(wanted) if wanted.isdigit() and int(wanted) in names else next(iter(names))
        st.session_state["an_cohort"] = chosen
    cohort_id = st.selectbox("Cohort", list(names), format_func=names.__getitem__, key="an_cohort")
    st.query_params["cohort"] = str(cohort_id)
    since, until = st.session_state.get("an_from"), st.session_state.get("an_to")
    dates = (
        f"{since:%d %b %Y} – {until:%d %b %Y}"
        if since and until
        else f"from {since:%d %b %Y}"
        if since
        else f"until {until:%d %b %Y}"
        if until
        else "all dates"
    )
    attempts = "first attempts only" if st.session_state.get("an_first") else "every attempt"
    with st.expander(f"Dates and attempts: {dates} · {attempts}"):
        start, end = st.columns(2)
        since = start.date_input("From", value=None, key="an_from", format="DD/MM/YYYY")
        until = end.date_input("To", value=None, key="an_to", format="DD/MM/YYYY")
        only_first = st.toggle(
            "First attempts only",
            key="an_first",
            help="Each learner's first attempt at each case: what they knew before the feedback taught them.",
        )
    if since and until and until < since:
        st.warning("The end date is before the start date: showing the dates the other way round.")
        since, until = until, since
    return Scope.between(None if cohort_id == EVERYONE else cohort_id, since, until, only_first)


def headline(
    learners: int, members: int | None, cases: list[an.CaseSummary], questions: list[QuestionActivity]
) -> None:
    attempts = sum(c.activity.attempts for c in cases if c.activity)
    completed = sum(c.activity.completed for c in cases if c.activity)
    scored = [
        (c.activity.mean_total, c.activity.completed)
        for c in cases
        if c.activity and c.activity.mean_total is not None
    ]
    mean = sum(m * n for m, n in scored) / sum(n for _, n in scored) if scored else None
    answers = sum(q.scored for q in questions)
    unsafe = sum(q.unsafe for q in questions)
    certain = sum(q.with_certainty for q in questions)
    confident_wrong = sum(q.confident_wrong for q in questions)
    confident_unsafe = sum(q.confident_unsafe for q in questions)
    row = st.container(horizontal=True, gap="small")  # five across a laptop, two across a phone
    row.metric(
        "Learners who played", learners, f"of {members} members" if members is not None else None,
        delta_color="off", delta_arrow="off", border=True, width="content",
    )  # fmt: skip
    row.metric(
        "Attempts completed", f"{completed / attempts:.0%}" if attempts else "–",
        f"{completed} of {attempts}", delta_color="off", delta_arrow="off", border=True, width="content",
    )  # fmt: skip
    row.metric(
        "Mean score",
        f"{mean:.0f}" if mean is not None else "–",
        "of 100",
        delta_color="off",
        delta_arrow="off",
        border=True,
        width="content",
    )
    row.metric(
        f"{OUTCOME_LABELS['unsafe']} answers", f"{unsafe / answers:.0%}" if answers else "–",
        f"{unsafe} of {answers}", delta_color="off", delta_arrow="off", border=True, width="content",
    )  # fmt: skip
    if certain:
        row.metric(
            CALIBRATION_LABELS["confident_unsafe"], f"{confident_unsafe / certain:.0%}",
            f"{confident_unsafe} of {certain} answers", delta_color="off", delta_arrow="off", border=True,
            width="content", help=f"Of the answers given with a certainty, those given with certainty 3-4 and "
            f"unsafe: {CONFIDENT_UNSAFE_WARNING} Another {confident_wrong} were "
            f"{CALIBRATION_LABELS['confident_wrong'].lower()}.",
        )  # fmt: skip


def player_link(base: str, case_id: str) -> str:
    return f"{base}/player?case={case_id}" if base else f"player?case={case_id}"


def where_it_goes_wrong(
    store: Store,
    scope: Scope,
    troubles: list[an.Trouble],
    questions: list[QuestionActivity],
    library: dict[str, LoadedCase],
    kb: KnowledgeBase,
    base: str,
    overview: Callable[[], None],
) -> None:
    st.subheader("Where the group goes wrong", anchor=False)
    top = troubles[:TOP]
    if not top:
        st.info("No scored answers in this selection yet.")
        overview()
        return
    instead = most_chosen_instead(store, scope, top, questions, library, kb)
    st.markdown(an.trouble_sentence(top[0], instead.get((top[0].case_id, top[0].question_id)), plain))
    overview()
    st.plotly_chart(trouble_figure(top[:CHARTED]), config=CHART, key="an_trouble_chart")
    st.caption(
        "The questions most often answered unsafely, then most often not right. Open one in the "
        "player to go through it with the group."
    )
    rows = [
        {
            "Where": f"{t.case_title} · stage {t.stage_index + 1}",
            "Question": t.prompt,
            "Answers": t.answers,
            OUTCOME_LABELS["unsafe"]: 100 * t.unsafe_share,
            "Not right": 100 * t.wrong_share,
            "Most chosen instead of the best": an.instead_text(instead.get((t.case_id, t.question_id))),
            "Open": player_link(base, t.case_id),
        }
        for t in top
    ]
    st.dataframe(
        rows,
        hide_index=True,
        key="an_troubles",
        column_config={
            "Where": st.column_config.TextColumn(width="medium", pinned=True),
            "Question": st.column_config.TextColumn(width="medium"),
            OUTCOME_LABELS["unsafe"]: st.column_config.ProgressColumn(
                min_value=0, max_value=100, format="%.0f%%"
            ),
            "Not right": st.column_config.ProgressColumn(
                min_value=0,
                max_value=100,
                format="%.0f%%",
                help="Wrong or unsafe (not the kind's right answer)",
            ),
            "Open": st.column_config.LinkColumn(
                "Open", display_text="Open in player", help="Opens the case in the player, at stage 1."
            ),
        },
    )


def most_chosen_instead(
    store: Store,
    scope: Scope,
    top: list[an.Trouble],
    questions: list[QuestionActivity],
    library: dict[str, LoadedCase],
    kb: KnowledgeBase,
) -> dict[tuple[str, str], tuple[bool, an.Bar]]:
    """For each question of the table: the wrong option chosen most often, or the item most often missed."""
    pairs = [(t.case_id, t.question_id) for t in top]
    choices = store.answer_counts(scope, pairs)
    found: dict[tuple[str, str], tuple[bool, an.Bar]] = {}
    for case_id in dict.fromkeys(c for c, _ in pairs):
        loaded = library.get(case_id)
        if loaded is None:
            continue
        activities = [
            a for a in questions if (a.case_id, a.question_id) in set(pairs) and a.case_id == case_id
        ]
        mine = [c for c in choices if c.case_id == case_id]
        for report in an.case_reports(loaded.case, activities, mine, kb):
            if (bar := report.top_wrong) is not None and bar.count:
                found[(case_id, report.question_id)] = (report.distribution == "select", bar)
    return found


def cases_table(cases: list[an.CaseSummary]) -> None:
    certainty = any(c.with_certainty for c in cases)
    rows = []
    for c in cases:
        a = c.activity
        rows.append(
            {
                "Case": c.title,
                "Learners": a.learners if a else 0,
                "Completed": 100 * a.learners_completed / a.learners if a and a.learners else 0.0,
                "Mean score": a.mean_total if a else None,
                "Unsafe answers": c.unsafe,
                **(
                    {"Confident, unsafe or wrong": c.confident_unsafe + c.confident_wrong}
                    if certainty
                    else {}
                ),
                "Median time (min)": c.median_minutes,
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        key="an_cases",
        column_config={
            "Completed": st.column_config.ProgressColumn(
                "Completed (learners)", min_value=0, max_value=100, format="%.0f%%"
            ),
            "Mean score": st.column_config.NumberColumn(format="%.0f"),
            "Median time (min)": st.column_config.NumberColumn(format="%.0f"),
        },
    )


def on_the_flowchart(loaded: LoadedCase, choices: list[AnswerChoice], kb: KnowledgeBase, key: str) -> None:
    case = loaded.case
    flows = an.stage_flows(case, choices, kb)
    pathway = kb.pathways.get(case.population)
    if not flows or pathway is None:
        st.caption("This case has no next-step question, so there is nothing to show on the flowchart.")
        return
    worst = an.worst_flow(flows)
    by_stage = {f.stage_index: f for f in flows}
    stage = st.segmented_control(
        "Stage",
        list(by_stage),
        format_func=lambda i: (
            f"Stage {i + 1}" + (" ⚠" if worst and i == worst.stage_index and worst.off_share >= 0.3 else "")
        ),
        default=worst.stage_index if worst else flows[0].stage_index,
        key=f"an_stage:{key}",
        required=True,
    )
    flow = by_stage.get(stage if stage is not None else flows[0].stage_index, flows[0])
    st.markdown(an.flow_summary(flow, pathway, kb))
    figure = cohort_flowchart(
        kb,
        case.population,
        flow.position,
        flow.recommended,
        tuple(sorted(flow.counts.items())),
        flow.answered,
        flow.off_pathway,
    )
    st.plotly_chart(figure, config=CHART, key=f"an_flow:{key}")
    st.caption(pathway_key(pathway, ("current", "recommended", "overlay")))


def questions_of(reports: list[an.QuestionReport], key: str) -> None:
    stage = None
    for report in reports:
        if report.stage_index != stage:
            stage = report.stage_index
            st.markdown(f"**{plain(report.stage_title)}**")
        with st.container(border=True):
            st.markdown(plain(report.prompt))
            chart, facts = st.columns([3, 2])
            if report.bars:
                chart.plotly_chart(
                    distribution_figure(report), config=CHART, key=f"an_q:{key}:{report.question_id}"
                )
            elif report.distribution == "none":
                chart.caption("Free text, not scored: read the answers in the export.")
            facts.markdown("  \n".join(an.report_facts(report)))


def one_case(
    store: Store,
    scope: Scope,
    cases: list[an.CaseSummary],
    questions: list[QuestionActivity],
    times: list[StageTimeCount],
    library: dict[str, LoadedCase],
    kb: KnowledgeBase,
    default: str | None,
) -> None:
    st.subheader("Case by case", anchor=False)
    playable = [c for c in cases if c.case_id in library]
    if not playable:
        st.info("None of the cases played is in the library now.")
        return
    titles = {c.case_id: c.title for c in playable}
    ids = list(titles)
    default = default if default in titles else ids[0]
    if st.session_state.get("an_case") in (None, st.session_state.get("an_case_default")) or (
        st.session_state.get("an_case") not in titles
    ):  # not chosen by hand: follow the case of the question most often answered unsafely
        st.session_state["an_case"] = default
    st.session_state["an_case_default"] = default
    case_id = st.selectbox("Case", ids, format_func=titles.__getitem__, key="an_case")
    loaded = library[case_id]
    choices = store.answer_choices(scope, case_id)
    reports = an.case_reports(
        loaded.case,
        [q for q in questions if q.case_id == case_id],
        choices,
        kb,
        [t for t in times if t.case_id == case_id],
        case_hash(loaded.path),
        store.case_hashes(scope, case_id),
    )
    st.markdown("##### The group on the flowchart")
    st.caption(
        "How many learners chose each step, stage by stage: the darker the step, the more learners; "
        "★ marks the step of the best answer, the thick outline the patient's position. The stage "
        "where most of the group left the recommended step is shown first (⚠)."
    )
    on_the_flowchart(loaded, choices, kb, case_id)
    st.markdown("##### Question by question")
    st.caption(
        "Each option with how many chose it, coloured by its grade (★ the best answer); select-all questions show how many selected each item."
    )
    questions_of(reports, case_id)


def exports(
    store: Store, scope: Scope, label: str, library: dict[str, LoadedCase], kb: KnowledgeBase, base: str
) -> None:
    st.subheader("Export", anchor=False)
    st.caption(
        f"What this page shows ({plain(label)}, the dates and attempts chosen above): every answer, every "
        "attempt, or the answers as xAPI statements for a learning record store."
    )
    export_buttons(store, scope, label, library, kb, base, "analytics")


def page(store: Store) -> None:
    cohorts = store.cohorts(include_archived=True)
    names = cohort_names(cohorts)
    scope = choose_scope(names)
    library = dict(get_library().cases)
    kb = get_kb()
    base = app_url("analytics")
    activity = store.case_activity(scope)
    if not activity:
        st.info(
            "Nobody has played a case in this selection yet. Learners' attempts show here as they submit stages."
        )
        return
    questions = store.question_activity(scope)
    times = store.stage_time_counts(scope)
    cases = an.case_summaries(library, activity, questions, store.attempt_times(scope))
    members = next((c.members for c in cohorts if c.id == scope.cohort_id), None)
    troubles = an.troubles(questions, library)
    learners = store.active_learners(scope)
    where_it_goes_wrong(
        store,
        scope,
        troubles,
        questions,
        library,
        kb,
        base,
        lambda: headline(learners, members, cases, questions),
    )
    st.subheader("All cases", anchor=False)
    st.caption(
        "The lowest mean score first. Completed: the share of the learners who started a case that finished it."
    )
    cases_table(cases)
    one_case(store, scope, cases, questions, times, library, kb, troubles[0].case_id if troubles else None)
    exports(store, scope, names[scope.cohort_id or EVERYONE], library, kb, base)


# ---------------------------------------------------------------------------------------------- page
st.title("Analytics")
faculty = auth.require_faculty()
if faculty is not None:
    found = get_store()
    if found is None:
        st.warning(
            "The database is not answering right now, so the analytics cannot be shown. Try again in a minute."
        )
    else:
        try:
            page(found)
        except SQLAlchemyError:
            st.warning("The database stopped answering. Try again in a minute.")
