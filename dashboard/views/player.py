"""Case player: a case unfolds like a notebook being run, one stage (narrative, data, questions) at a time.

The sections are in dashboard/player/page.py; the logic behind them in the rest of dashboard/player/.
"""

from __future__ import annotations

import streamlit as st

from dashboard.context import get_kb, get_library
from dashboard.player import page

st.title("Case player")
loaded = page.choose_case(get_library(), st.session_state["_pages"])
if loaded is not None:
    session = page.open_case(loaded, get_kb())
    page.header(session)
    page.stages(session)
    if session.complete:
        page.end_of_case(session)
