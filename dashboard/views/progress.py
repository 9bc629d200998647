"""Progress: a learner's cases and scores, and how a group scored on a case (refreshed live)."""

from __future__ import annotations

import streamlit as st

from dashboard.common import current_learner, get_library, get_store
from dashboard.figures import score_histogram_figure
from dashboard.store import Store

library = get_library()
store = get_store()
st.title("Progress")
titles = {case_id: loaded.case.title for case_id, loaded in library.cases.items()}

if store is None:
    st.warning("The progress store is unavailable: answers are kept in this browser session only.")
else:
    learner = current_learner()
    st.subheader("Your cases", anchor=False)
    if learner is None:
        st.info("Enter your name in the sidebar: your answers are then saved as you go, and show here.")
    else:
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
            st.info("No case played yet under this name.")
        else:
            st.dataframe(
                rows,
                hide_index=True,
                column_config={
                    "Best": st.column_config.ProgressColumn(
                        "Best", min_value=0, max_value=100, format="%.0f"
                    ),
                    "Last": st.column_config.NumberColumn("Last", format="%.0f"),
                    "Last played": st.column_config.DatetimeColumn("Last played", format="D MMM YYYY, HH:mm"),
                },
                key="progress_table",
            )

    st.subheader("Group results", anchor=False)
    st.caption("Completed attempts of everyone who saved progress on this server; refreshes every 5 seconds.")
    case_id = st.selectbox(
        "Case", sorted(titles, key=str.lower), format_func=titles.__getitem__, index=None, key="progress_case"
    )

    @st.fragment(run_every=5)
    def group_histogram(store: Store, case_id: str) -> None:
        totals = store.class_summary(case_id)
        st.metric("Completed attempts", len(totals))
        if totals:
            st.plotly_chart(
                score_histogram_figure(totals), config={"displayModeBar": False}, key=f"hist:{case_id}"
            )

    if case_id is not None:
        group_histogram(store, case_id)
