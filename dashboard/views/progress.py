"""Progress: a learner's cases and scores, and how their cohort scored on a case (refreshed live).

Group results are a cohort's: a learner sees the cohort they are recording answers for, faculty any
cohort. Nobody sees another cohort's results by URL or by choice.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth
from dashboard.common import get_library, get_store
from dashboard.figures import score_histogram_figure
from dashboard.store import Store

library = get_library()
store = get_store()
user = auth.page_user()
st.title("Progress")
titles = {case_id: loaded.case.title for case_id, loaded in library.cases.items()}


def your_cases(store: Store, learner: int) -> None:
    rows = [
        {
            "Case": titles.get(row.case_id, f"{row.case_id} (no longer in the library)"),
            "Attempts": row.attempts,
            "Completed": row.completed,
            "Best": row.best_total,
            "Last": row.last_total,
            "Last played": row.last_played,
        }
        for row in store.progress(learner)
    ]
    if not rows:
        st.info("No case played yet.")
        return
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "Best": st.column_config.ProgressColumn("Best", min_value=0, max_value=100, format="%.0f"),
            "Last": st.column_config.NumberColumn("Last", format="%.0f"),
            "Last played": st.column_config.DatetimeColumn("Last played", format="D MMM YYYY, HH:mm"),
        },
        key="progress_table",
    )


def visible_cohorts(store: Store) -> dict[int, str]:
    """The cohorts whose results this user may see: any for faculty, the active one for a learner."""
    if user.is_faculty:
        return {c.id: c.name for c in store.cohorts(include_archived=True)}
    active = auth.active_cohort_id(user)
    return {c.id: c.name for c in auth.my_cohorts(user) if c.id == active}


if store is None:
    st.warning(
        "The progress store is not answering right now: answers are kept in this browser session only."
    )
else:
    try:
        if not user.is_faculty:
            st.subheader("Your cases", anchor=False)
            if user.learner_id is None:
                st.info("Sign in (see the sidebar): your answers are then saved as you go, and show here.")
            else:
                your_cases(store, user.learner_id)

        st.subheader("Group results", anchor=False)
        cohorts = visible_cohorts(store)
        if not cohorts:
            st.info("Group results are shown for a cohort: join your cohort on the account page to see them.")
        else:
            cohort_id = st.selectbox(
                "Cohort", list(cohorts), format_func=cohorts.__getitem__, key="progress_cohort"
            )
            st.caption("Completed attempts of the cohort; refreshes every 5 seconds.")
            case_id = st.selectbox(
                "Case",
                sorted(titles, key=str.lower),
                format_func=titles.__getitem__,
                index=None,
                key="progress_case",
            )

            @st.fragment(run_every=5)
            def group_histogram(case_id: str, cohort_id: int) -> None:
                totals = store.class_summary(case_id, cohort_id)  # type: ignore[union-attr]
                st.metric("Completed attempts", len(totals))
                if totals:
                    st.plotly_chart(
                        score_histogram_figure(totals),
                        config={"displayModeBar": False},
                        key=f"hist:{case_id}",
                    )

            if case_id is not None and cohort_id in cohorts:
                group_histogram(case_id, cohort_id)
    except SQLAlchemyError:
        st.warning("The progress store stopped answering: try again in a minute.")
