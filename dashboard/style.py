"""Colours, keyed by the vocabulary's literals (the labels themselves come from ``logic.vocabulary``)."""

from __future__ import annotations

from logic.vocabulary import Grade

# Grades in text and tables (hex), and as Streamlit badge colours.
GRADE_COLOURS: dict[Grade, str] = {
    "recommended": "#1a7f37",
    "acceptable": "#9a6700",
    "not_recommended": "#6e7781",
    "unsafe": "#cf222e",
}
GRADE_BADGES: dict[Grade, str] = {
    "recommended": "green",
    "acceptable": "orange",
    "not_recommended": "gray",
    "unsafe": "red",
}
NEUTRAL_COLOUR = "#57606a"
