"""Colours, keyed by the vocabulary's literals (the labels themselves come from ``logic.vocabulary``)."""

from __future__ import annotations

from logic.vocabulary import GRADES, Grade

# Each grade's colour in text and tables (hex) and as a Streamlit badge colour, in the order of GRADES
# (recommended, acceptable, not recommended, unsafe): green, amber, grey, red.
GRADE_COLOURS: dict[Grade, str] = dict(zip(GRADES, ("#1a7f37", "#9a6700", "#6e7781", "#cf222e"), strict=True))
GRADE_BADGES: dict[Grade, str] = dict(zip(GRADES, ("green", "orange", "gray", "red"), strict=True))
NEUTRAL_COLOUR = "#57606a"
