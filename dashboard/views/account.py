"""Sign in, sign out, and the cohorts a learner belongs to (join by link or code).

The way in depends on the server (see dashboard/auth.py): the department's provider when one is
configured, else a display name with a personal resume code for learners and a passcode for faculty.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth, icons
from dashboard.common import get_store, plain

MESSAGE = "account_message"  # (kind, text) left by a callback for this run
NEW_CODE = "account_new_code"  # a learner's resume code, shown until they say they have it


def _say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def _start() -> None:
    code, problem = auth.start_learner(st.session_state.get("start_name", ""))
    if problem:
        _say("error", problem)
    else:
        st.session_state[NEW_CODE] = code
        st.session_state.pop("start_name", None)


def _resume() -> None:
    problem = auth.resume_learner(
        st.session_state.get("resume_name", ""), st.session_state.get("resume_code", "")
    )
    st.session_state.pop("resume_code", None)  # never kept, whatever happened
    if problem:
        _say("error", problem)


def _faculty() -> None:
    problem = auth.sign_in_faculty(st.session_state.get("faculty_passcode", ""))
    st.session_state.pop("faculty_passcode", None)
    if problem:
        _say("error", problem)


def _sign_out() -> None:
    st.session_state.pop(NEW_CODE, None)
    auth.sign_out()


def _join(code: str) -> None:
    user, store = auth.current_user(), get_store()
    if user.learner_id is None or store is None:
        _say("error", "Joining a cohort needs you signed in, and the database answering.")
        return
    try:
        cohort = store.join_cohort(user.learner_id, code)
    except ValueError as exc:
        _say("error", f"Could not join: {exc}.")
        return
    except SQLAlchemyError:
        _say("error", auth.UNAVAILABLE)
        return
    st.session_state[auth.COHORT_KEY] = cohort.id  # answers now count in the cohort just joined
    st.session_state.pop("join_code", None)
    if "join" in st.query_params:
        del st.query_params["join"]
    _say("success", f"You joined {plain(cohort.name)}. Your attempts now count in it (see the sidebar).")


def _leave(cohort_id: int) -> None:
    user, store = auth.current_user(), get_store()
    if user.learner_id is not None and store is not None:
        try:
            store.leave_cohort(user.learner_id, cohort_id)
        except SQLAlchemyError:
            _say("error", auth.UNAVAILABLE)


# ---------------------------------------------------------------------------------------------- page
user = auth.page_user()
st.title("Your account" if user.signed_in else "Sign in")
if (message := st.session_state.pop(MESSAGE, None)) is not None:
    getattr(st, message[0])(message[1])

if (code := st.session_state.get(NEW_CODE)) and user.learner_id is not None:
    with st.container(border=True):
        st.subheader("Your resume code", anchor=False)
        st.markdown(
            "Write it down now: it is shown **only this once**. With your name, it opens your saved "
            "progress from another browser or device. Keep it to yourself (do not show it on a projector)."
        )
        st.code(code, language=None)
        st.button("I have written it down", on_click=lambda: st.session_state.pop(NEW_CODE, None))

join_link = str(st.query_params.get("join") or "")

if auth.oidc_configured():
    if not user.signed_in:
        st.markdown("Sign in to save your progress and to join your cohort.")
        st.button(
            f"Sign in with {auth.provider_label()}", type="primary", on_click=st.login, icon=icons.SIGN_IN
        )
    else:
        st.markdown(
            f"Signed in as **{plain(user.name)}** ({plain(user.email)}), {'faculty' if user.is_faculty else 'learner'}."
        )
        st.button("Sign out", on_click=_sign_out)
elif user.signed_in:
    kind = "faculty" if user.is_faculty else "learner"
    st.markdown(
        f"Signed in as **{plain(user.name)}** ({kind}). This browser stays signed in until you sign out."
    )
    st.button("Sign out", on_click=_sign_out)
else:
    st.markdown("Without signing in you can play every case, but your answers stay in this browser tab only.")
    new_tab, resume_tab, faculty_tab = st.tabs(["I am new", "I have a resume code", "Faculty"])
    with new_tab, st.form("start", border=False):
        st.text_input(
            "Your name", key="start_name", max_chars=80, help="Shown to your teachers in cohort results."
        )
        st.form_submit_button("Start", type="primary", on_click=_start)
    with resume_tab, st.form("resume", border=False):
        st.text_input("Your name", key="resume_name", max_chars=80)
        st.text_input("Your resume code", key="resume_code", type="password", placeholder="XXXXX-XXXXX")
        st.form_submit_button("Continue", type="primary", on_click=_resume)
    with faculty_tab:
        if auth.passcode_hash() is None:
            st.info(auth.HOW_TO_SET_PASSCODE)
        else:
            with st.form("faculty", border=False):
                st.text_input("Faculty passcode", key="faculty_passcode", type="password")
                st.form_submit_button("Sign in as faculty", type="primary", on_click=_faculty)

# Cohorts: a learner's memberships, and joining by link (?join=CODE) or by typing the code.
if user.learner_id is not None:
    st.subheader("Your cohorts", anchor=False)
    store = get_store()
    if join_link:
        found = store.cohort_by_code(join_link) if store is not None else None
        if found is not None and found.active():
            with st.container(border=True):
                st.markdown(f"You were invited to join **{plain(found.name)}**.")
                st.button(f"Join {plain(found.name)}", type="primary", on_click=_join, args=(join_link,))
        else:
            st.warning(
                "This join link is not valid (the cohort may be closed). Ask your teacher for a new one."
            )
    for cohort in auth.my_cohorts(user):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(f"**{plain(cohort.name)}**")
        right.button("Leave", key=f"leave:{cohort.id}", on_click=_leave, args=(cohort.id,))
    with st.form("join", border=False):
        st.text_input("Join a cohort with its code", key="join_code", max_chars=16, placeholder="e.g. K7QM2P")
        st.form_submit_button("Join", on_click=lambda: _join(st.session_state.get("join_code", "")))
elif join_link:
    st.info("You were invited to join a cohort: sign in first (above), then join it here.")
