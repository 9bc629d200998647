"""myotutor: the Streamlit app. `streamlit run dashboard/app.py` (or `make run`)."""

import streamlit as st

from dashboard.common import LEARNER_KEY, footer
from logic import DISCLAIMER

st.set_page_config(page_title="myotutor", page_icon="🩺", layout="wide")

PAGES = {
    "library": st.Page("views/library.py", title="Case library", icon="📚", default=True),  # served at /
    "player": st.Page("views/player.py", title="Case player", icon="📓", url_path="player"),
    "pathways": st.Page("views/pathways.py", title="Escalation pathways", icon="🧭", url_path="pathways"),
    "sandbox": st.Page("views/sandbox.py", title="What-if sandbox", icon="🧪", url_path="sandbox"),
    "reference": st.Page("views/reference.py", title="Reference", icon="💊", url_path="reference"),
    "progress": st.Page("views/progress.py", title="Progress", icon="📈", url_path="progress"),
}
st.session_state["_pages"] = PAGES  # pages link to each other through this (st.switch_page / st.page_link)

page = st.navigation(list(PAGES.values()))
st.sidebar.text_input(
    "Your name",
    key=LEARNER_KEY,
    placeholder="to save your progress",
    help="With a name, your answers are saved as you go: resume a case later and see your progress.",
)
# The disclaimer is drawn before the page runs too, so a page that calls st.stop() still shows it.
st.sidebar.caption(f"⚠️ {DISCLAIMER}")
page.run()
footer()
