"""The two looks of a live session, as fixed style sheets (no request value ever goes in them):

- the projector: no sidebar, no toolbar, body text at 26 px (readable from the back of a room on a
  1920×1080 screen), headings and counts larger still;
- the phone: no sidebar, every button, choice and input at least 48 px tall (tap targets of 44 px or
  more), text at 18 px.
"""

from __future__ import annotations

import streamlit as st

_BARE = """
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stSidebarCollapseButton"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"], [data-testid="stToolbar"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; }
"""

PROJECTOR_CSS = (
    _BARE
    + """
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2.5rem; padding-right: 2.5rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stMarkdownContainer"] td, [data-testid="stMarkdownContainer"] th { font-size: 26px; line-height: 1.45; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 22px; }
[data-testid="stMarkdownContainer"] h1 { font-size: 46px; }
[data-testid="stMarkdownContainer"] h2 { font-size: 38px; }
[data-testid="stMarkdownContainer"] h3 { font-size: 32px; }
[data-testid="stMetricValue"] { font-size: 64px; }
[data-testid="stMetricLabel"] p { font-size: 24px; }
[data-testid="stButton"] button p, [data-testid="stPopover"] button p { font-size: 20px; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 24px; }
.st-key-live-join-code p { font-size: 72px; font-weight: 700; letter-spacing: 0.12em; line-height: 1.1; }
.st-key-live-count p, .st-key-live-joined p { font-size: 34px; }
"""
)

PHONE_CSS = (
    _BARE
    + """
[data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 18px; }
button, [data-testid="stBaseButton-secondaryFormSubmit"], [data-testid="stBaseButton-primaryFormSubmit"] {
  min-height: 48px; }
[data-testid="stRadio"] label, [data-testid="stCheckbox"] label { min-height: 48px; align-items: center; }
[data-testid="stRadio"] label p, [data-testid="stCheckbox"] label p { font-size: 18px; }
input, textarea, [data-baseweb="select"] > div { min-height: 48px; font-size: 18px !important; }
"""
)


def projector() -> None:
    st.html(f"<style>{PROJECTOR_CSS}</style>")


def phone() -> None:
    st.html(f"<style>{PHONE_CSS}</style>")
