"""Cohorts (faculty): create a cohort and hand out its join code or link; see who joined; export its
results (CSV, xAPI) or open its analytics; archive a cohort (kept, hidden) or delete it and everything
recorded in it (after an explicit confirmation).
Learners: give a learner a new resume code, or delete everything kept about them.
"""

from __future__ import annotations

from datetime import date

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth, icons
from dashboard.common import get_kb, get_library, get_store, plain
from dashboard.export_buttons import export_buttons
from dashboard.links import app_url
from dashboard.secrets_hash import format_code
from dashboard.store import CohortInfo, LearnerInfo, Store
from dashboard.store_analytics import Scope
from dashboard.wording import count

CREATED = "cohorts_created"  # the cohort just created, to show its code and link
ISSUED = "cohorts_issued"  # (learner name, resume code) just issued, shown once
CONFIRMING = "cohorts_confirming"  # ("cohort" | "learner", id): the delete dialog open, until dismissed


def join_link(cohort: CohortInfo) -> str:
    return f"{app_url('cohorts')}/account?join={cohort.join_code}"


def _dates(cohort: CohortInfo) -> str:
    if not cohort.starts_on and not cohort.ends_on:
        return "no dates"
    start = cohort.starts_on.strftime("%d %b %Y") if cohort.starts_on else "…"
    end = cohort.ends_on.strftime("%d %b %Y") if cohort.ends_on else "…"
    return f"{start} – {end}"


def _create(store: Store, created_by: str | None) -> None:
    try:
        cohort = store.create_cohort(
            st.session_state.get("new_cohort_name", ""),
            st.session_state.get("new_cohort_start"),
            st.session_state.get("new_cohort_end"),
            created_by,
        )
    except ValueError as exc:
        st.session_state[CREATED] = ("error", f"The cohort was not created: {exc}.")
        return
    st.session_state[CREATED] = ("ok", cohort.id)


def _confirm(what: str, item_id: int) -> None:
    st.session_state[CONFIRMING] = (what, item_id)


def _dismiss() -> None:
    st.session_state.pop(CONFIRMING, None)


@st.dialog("Delete this cohort?", on_dismiss=_dismiss)
def confirm_delete(store: Store, cohort: CohortInfo) -> None:
    st.markdown(
        f"Deleting **{plain(cohort.name)}** removes, for good, its {count(cohort.members, 'membership')}, every "
        "attempt played in it and every answer recorded in it. Learners keep their other attempts. "
        "To keep the results but hide the cohort, archive it instead."
    )
    typed = st.text_input(
        f"Type the cohort's name ({plain(cohort.name)}) to confirm", key=f"confirm_delete:{cohort.id}"
    )
    if st.button("Delete the cohort and its data", type="primary", disabled=typed.strip() != cohort.name):
        store.delete_cohort(cohort.id)
        st.session_state[CREATED] = ("deleted", cohort.name)
        _dismiss()
        st.rerun()
    st.button("Cancel", on_click=_dismiss, key="cancel_delete")


@st.dialog("Delete this learner's data?", on_dismiss=_dismiss)
def confirm_forget(store: Store, learner: LearnerInfo) -> None:
    st.markdown(
        f"This removes, for good, everything kept about **{plain(learner.name)}**: their attempts, answers, "
        "cohort memberships and sign-ins, and the learner record itself."
    )
    typed = st.text_input(
        f"Type the learner's name ({plain(learner.name)}) to confirm", key=f"confirm_forget:{learner.id}"
    )
    if st.button(
        "Delete everything about this learner", type="primary", disabled=typed.strip() != learner.name
    ):
        store.delete_learner(learner.id)
        st.session_state[CREATED] = ("forgotten", learner.name)
        _dismiss()
        st.rerun()
    st.button("Cancel", on_click=_dismiss, key="cancel_forget")


def _issue(store: Store, learner: LearnerInfo) -> None:
    try:
        st.session_state[ISSUED] = (learner.name, format_code(store.issue_resume_code(learner.id)))
    except ValueError as exc:
        st.session_state[ISSUED] = (learner.name, f"not issued: {exc}")


def cohort_panel(store: Store, cohort: CohortInfo) -> None:
    """One cohort: its code and link, members, and what faculty can do with it."""
    state = (
        "archived" if cohort.archived_at else ("open" if cohort.active() else "closed (outside its dates)")
    )
    with st.expander(
        f"**{plain(cohort.name)}** · {count(cohort.members, 'member')} · {_dates(cohort)} · {state}"
    ):
        code_col, link_col = st.columns([1, 3])
        code_col.markdown("Join code")
        code_col.code(cohort.join_code, language=None)
        link_col.markdown("Join link (learners open it, sign in, and press Join)")
        link_col.code(join_link(cohort), language=None)
        members = store.members(cohort.id)
        if members:
            st.dataframe(
                [
                    {
                        "Learner": m.name,
                        "Signs in with": m.kind,
                        "E-mail": m.email or "",
                        "Joined": m.joined_at,
                    }
                    for m in members
                ],
                hide_index=True,
                column_config={"Joined": st.column_config.DatetimeColumn("Joined", format="D MMM YYYY")},
                key=f"members:{cohort.id}",
            )
        else:
            st.caption("Nobody has joined yet.")
        st.markdown("**Results**")
        export_buttons(
            store,
            Scope(cohort.id),
            cohort.name,
            get_library().cases,
            get_kb(),
            app_url("cohorts"),
            str(cohort.id),
        )
        st.page_link(
            st.session_state["_pages"]["analytics"],
            label="Analytics: where this cohort goes wrong",
            icon=icons.ANALYTICS,
            query_params={"cohort": str(cohort.id)},
        )
        archive, delete = st.columns(2)
        archive.button(
            "Bring back" if cohort.archived_at else "Archive (keep, hide)",
            key=f"archive:{cohort.id}",
            on_click=store.archive_cohort,
            args=(cohort.id, cohort.archived_at is None),
        )
        delete.button("Delete…", key=f"delete:{cohort.id}", on_click=_confirm, args=("cohort", cohort.id))
        if st.session_state.get(CONFIRMING) == ("cohort", cohort.id):
            confirm_delete(store, cohort)


def learners_panel(store: Store) -> None:
    st.subheader("Learners", anchor=False)
    st.caption(
        "Find a learner to give them a new resume code (a forgotten code, or a learner from before sign-in "
        "existed), or to delete everything kept about them."
    )
    text = st.text_input("Name or e-mail contains", key="learner_search")
    if not text.strip():
        return
    found = store.find_learners(text)
    if not found:
        st.info("No learner matches.")
    for learner in found:
        left, code, forget = st.columns([3, 1.2, 1.2], vertical_alignment="center")
        left.markdown(f"**{plain(learner.name)}** · {plain(learner.email or learner.kind)}")
        if learner.kind != "oidc":
            code.button("New resume code", key=f"issue:{learner.id}", on_click=_issue, args=(store, learner))
        forget.button(
            "Delete data…", key=f"forget:{learner.id}", on_click=_confirm, args=("learner", learner.id)
        )
        if st.session_state.get(CONFIRMING) == ("learner", learner.id):
            confirm_forget(store, learner)


# ---------------------------------------------------------------------------------------------- page
st.title("Cohorts")
faculty = auth.require_faculty()
store = get_store() if faculty is not None else None
if faculty is not None and store is None:
    st.warning("The database is not answering right now, so cohorts cannot be shown. Try again in a minute.")
elif faculty is not None and store is not None:
    try:
        if (note := st.session_state.pop(CREATED, None)) is not None:
            if note[0] == "ok":
                made = store.cohort(note[1])
                st.success(
                    f"Cohort **{plain(made.name)}** created. Learners join with code **{made.join_code}**."
                )
                st.code(join_link(made), language=None)
            elif note[0] == "error":
                st.error(note[1])
            elif note[0] == "deleted":
                st.success(f"Cohort {plain(note[1])} and everything recorded in it were deleted.")
            else:
                st.success(f"Everything kept about {plain(note[1])} was deleted.")
        with st.form("new_cohort", clear_on_submit=True):
            st.subheader("New cohort", anchor=False)
            st.text_input(
                "Name", key="new_cohort_name", max_chars=120, placeholder="e.g. Rheumatology year 4, 2026"
            )
            start_col, end_col = st.columns(2)
            start_col.date_input(
                "Starts (optional)", value=None, key="new_cohort_start", min_value=date(2020, 1, 1)
            )
            end_col.date_input(
                "Ends (optional)", value=None, key="new_cohort_end", min_value=date(2020, 1, 1)
            )
            st.form_submit_button(
                "Create cohort", type="primary", on_click=_create, args=(store, faculty.email)
            )
        show_archived = st.toggle("Show archived cohorts", key="show_archived")
        cohorts = store.cohorts(include_archived=show_archived)
        st.subheader(f"Cohorts ({len(cohorts)})" if cohorts else "No cohort yet", anchor=False)
        for cohort in cohorts:
            cohort_panel(store, cohort)
        if (issued := st.session_state.pop(ISSUED, None)) is not None:
            st.success(f"Resume code for {plain(issued[0])} (shown once; give it to them privately):")
            st.code(issued[1], language=None)
        learners_panel(store)
    except SQLAlchemyError:
        st.warning("The database stopped answering. Try again in a minute.")
