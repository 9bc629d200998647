"""Small pieces of behaviour that only the browser can do, as Streamlit components (v2: inline JavaScript
in the app's page, no iframe, no build step). The JavaScript here is ours and fixed; it never receives
case text, only CSS selectors and storage keys the app makes.

- ``scroll_into_view``: bring an element into view after a rerun (the step detail after a click).
"""

from __future__ import annotations

import re

import streamlit as st

_SCROLL_JS = """
export default function (component) {
  const { data } = component;
  const target = data && data.target;
  if (!target) return;
  const scroll = () => {
    const element = document.querySelector(target);
    if (!element) return;
    // Streamlit scrolls inside its main section, under a header bar: leave room for the bar.
    const main = element.closest("[data-testid='stMain']");
    if (!main) return element.scrollIntoView({ block: "start", behavior: "smooth" });
    const top = element.getBoundingClientRect().top - main.getBoundingClientRect().top;
    main.scrollTo({ top: main.scrollTop + top - 64, behavior: "smooth" });
  };
  requestAnimationFrame(() => setTimeout(scroll, 80));
}
"""

_scroll = st.components.v2.component("myotutor_scroll_into_view", js=_SCROLL_JS)


def scroll_into_view(selector: str, token: str) -> None:
    """Scroll the element matching ``selector`` into view once the page has drawn; ``token`` makes each
    request new (the same token again does nothing)."""
    _scroll(data={"target": selector, "token": token}, height=0)


def key_class(key: str) -> str:
    """The CSS selector of a keyed Streamlit element: Streamlit gives it the class ``st-key-<key>``, with
    every character other than a letter, digit, "_" or "-" made "-"."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())
