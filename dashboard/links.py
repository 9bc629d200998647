"""The app's own URLs as the browser sees them (for join links, links into the player, xAPI ids)."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st


def app_url(page_key: str) -> str:
    """The app's base URL, from the URL of the page being shown (page_key: its key in app.py's PAGES),
    without a trailing slash; "" when there is no browser behind this run."""
    url = st.context.url or ""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    page = st.session_state["_pages"][page_key].url_path
    if page and path.endswith("/" + page):
        path = path[: -len(page) - 1]
    return f"{parts.scheme}://{parts.netloc}{path}" if parts.netloc else ""
