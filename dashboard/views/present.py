"""Present a live session (faculty): start one from any case, or resume one; then the projector view
(no sidebar, large type) with the presenter's controls."""

import streamlit as st

from dashboard import auth
from dashboard.live import presenter, style
from dashboard.live.context import UNAVAILABLE, store_or_none

if (faculty := auth.require_faculty()) is not None:
    style.projector()
    store = store_or_none()
    if store is None:
        st.warning(UNAVAILABLE)
    elif (state := presenter.chosen_session(store)) is None:
        presenter.start_or_resume(store, faculty.email or faculty.name)
    else:
        presenter.projector(store, state)
