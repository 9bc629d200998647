"""Case player: a case unfolds like a notebook being run, one stage (narrative, data, questions) at a time.

The sections are in dashboard/player/page.py; the logic behind them in the rest of dashboard/player/.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, drafts, icons, versions
from dashboard.context import cases_dir, get_kb
from dashboard.player import page

st.title("Case player")
faculty = auth.page_user().is_faculty
loaded = page.choose_case(drafts.library_for(faculty), st.session_state["_pages"])
if loaded is not None:
    session = page.open_case(loaded, get_kb())
    # A learner mid-case finishes the version they started, even if the case changed since.
    played, notice = versions.version_to_play(loaded, session.progress, get_kb(), cases_dir())
    if played is not loaded:
        session = page.open_case(played, get_kb())
    if drafts.is_draft(loaded):
        st.info(
            "This is a **draft**: only faculty see it until it is published on the Author page.",
            icon=icons.DRAFT,
        )
    if notice:
        st.info(notice, icon=icons.NEW_VERSION)
    page.save_unsaved(session)  # a stage whose save failed earlier is written again now
    page.header(session)
    page.stages(session)
    if session.complete:
        page.end_of_case(session)
