"""myotutor: the Streamlit app. `streamlit run dashboard/app.py` (or `make run`)."""

from pathlib import Path
from typing import Literal

import streamlit as st

from dashboard import auth, icons
from dashboard.common import footer
from logic import DISCLAIMER

# The tab's icon ships with the app: a Material icon would be fetched from Google's font servers.
FAVICON = str(Path(__file__).parent / "static" / "favicon.svg")
st.set_page_config(page_title="myotutor", page_icon=FAVICON, layout="wide")

user = auth.resolve_for_run()  # checked with the store once per run; pages read auth.page_user()
faculty_only: Literal["visible", "hidden"] = (
    "visible" if user.is_faculty else "hidden"
)  # listed for faculty; refused to others by the page
PAGES = {
    "library": st.Page(
        "views/library.py", title="Case library", icon=icons.LIBRARY, default=True
    ),  # served at /
    "player": st.Page("views/player.py", title="Case player", icon=icons.PLAYER, url_path="player"),
    "pathways": st.Page(
        "views/pathways.py", title="Escalation pathways", icon=icons.PATHWAYS, url_path="pathways"
    ),
    "sandbox": st.Page("views/sandbox.py", title="What-if sandbox", icon=icons.SANDBOX, url_path="sandbox"),
    "reference": st.Page("views/reference.py", title="Reference", icon=icons.REFERENCE, url_path="reference"),
    "progress": st.Page("views/progress.py", title="Progress", icon=icons.PROGRESS, url_path="progress"),
    "account": st.Page(
        "views/account.py",
        title="Your account" if user.signed_in else "Sign in",
        icon=icons.ACCOUNT,
        url_path="account",
    ),
    "live": st.Page("views/live.py", title="Join a live session", icon=icons.LIVE_JOIN, url_path="live"),
    # Faculty pages: each calls auth.require_faculty() first.
    "cohorts": st.Page(
        "views/cohorts.py", title="Cohorts", icon=icons.COHORTS, url_path="cohorts", visibility=faculty_only
    ),
    "analytics": st.Page(
        "views/analytics.py",
        title="Analytics",
        icon=icons.ANALYTICS,
        url_path="analytics",
        visibility=faculty_only,
    ),
    "author": st.Page(
        "views/author.py", title="Author", icon=icons.AUTHOR, url_path="author", visibility=faculty_only
    ),
    "present": st.Page(
        "views/present.py",
        title="Present a live session",
        icon=icons.LIVE,
        url_path="present",
        visibility=faculty_only,
    ),
}
# Pages for a projector or a phone: no sidebar (their own style sheets hide it), nothing in it drawn.
BARE = {"live", "present"}
st.session_state["_pages"] = PAGES  # pages link to each other through this (st.switch_page / st.page_link)

page = st.navigation(list(PAGES.values()))
st.set_page_config(page_title=f"{page.title} · myotutor")  # the browser tab names the page
if page.url_path in {PAGES[name].url_path for name in BARE}:
    st.set_page_config(initial_sidebar_state="collapsed")
else:
    auth.sidebar(user)
    # The disclaimer is drawn before the page runs too, so a page that calls st.stop() still shows it.
    st.sidebar.caption(f"{icons.WARNING} {DISCLAIMER}")
try:
    page.run()
finally:
    auth.end_of_run()
auth.sync_cookie()
footer()
