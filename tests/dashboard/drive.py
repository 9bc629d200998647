"""Driving the player's stage forms in AppTest as a learner would, for every question kind: each kind's
view says which widget values give an answer (``state_with_certainty``), and they are set by key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.player.answers import keys_for
from dashboard.player.progress import STORE
from dashboard.questions import view_of
from dashboard.questions.render import state_with_certainty
from logic import Case
from logic.questions import Answer, answer_certainty, with_certainty

WIDGET_TYPES = ("radio", "checkbox", "number_input", "text_area", "selectbox")


def set_widget(at: Any, key: str, value: Any) -> None:
    """Set the live widget with this key (of any answer widget type)."""
    for widget_type in WIDGET_TYPES:
        for widget in at.get(widget_type):
            if getattr(widget, "key", None) == key:
                widget.set_value(value)
                return
    raise KeyError(f"no answer widget with key {key!r}")


def fill_stage(at: Any, case: Case, stage_index: int, answers: Mapping[str, Answer]) -> None:
    """Set every widget of a stage's form to give these answers (not submitted)."""
    progress = at.session_state[STORE][case.id]
    key = keys_for(case.id, progress["attempt"])
    for q in case.stages[stage_index].questions:
        for widget_key, value in state_with_certainty(view_of(q), q, answers[q.id], key).items():
            set_widget(at, widget_key, value)


def with_certainties(case: Case, answers: Mapping[str, Answer], certainty: int = 3) -> dict[str, Answer]:
    """The answers, each with a certainty where its question asks for one and none is given."""
    out = dict(answers)
    for _, q in case.questions():
        if q.asks_certainty and answer_certainty(out.get(q.id)) is None:
            out[q.id] = with_certainty(out.get(q.id), certainty)
    return out
