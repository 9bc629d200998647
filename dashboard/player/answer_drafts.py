"""Answers typed but not submitted survive a reload: the browser keeps a draft of the current stage's form.

Phones reload often (a call, a lock screen, a swipe), and a reload starts a new Streamlit session, so the
draft lives in the browser's local storage, under a key naming the case, the attempt and the stage. A
small component (``dashboard.browser``-style inline JavaScript, ours and fixed) sits above the stage's
form: every ~half second it reads the form's widgets from the page (by their ``st-key-`` classes) and
stores what changed; after a reload it hands the stored draft to Python once, and Python puts the values
into the widgets' session state before the form is drawn. Submitting the stage (or restarting the case)
deletes the draft. A draft holds only what the form shows (option positions, ticks, typed text); it never
leaves the learner's browser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from dashboard.browser import key_class
from dashboard.player.memo import Memo
from dashboard.questions import DraftField, ViewContext, WidgetKey, view_of
from dashboard.questions.render import certainty_draft_field
from logic import Case

PENDING_CLEAR = "drafts_clear"  # session key: storage keys the browser should delete at the next chance
RESTORED = "drafts_restored"  # session key: storage keys whose draft was put into the widgets this session
STORAGE_PREFIX = "myotutor:draft:"

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const registry = (window.__myotutorDrafts = window.__myotutorDrafts || { timers: {}, sent: {} });
  for (const old of data.clear || []) window.localStorage.removeItem(old);
  const storage = data.storage;
  if (!storage) return;
  if (!data.restored && !registry.sent[storage]) {
    registry.sent[storage] = true;
    const stored = window.localStorage.getItem(storage);
    if (stored) {
      try { setStateValue("draft", JSON.parse(stored)); } catch (e) { window.localStorage.removeItem(storage); }
    }
  }
  const read = (field) => {
    const box = document.querySelector(field.selector);
    if (!box) return undefined;
    if (field.control === "radio") {
      const inputs = Array.from(box.querySelectorAll("input[type=radio]"));
      const index = inputs.findIndex((input) => input.checked);
      return index < 0 ? undefined : index;
    }
    if (field.control === "checkbox") {
      const input = box.querySelector("input[type=checkbox]");
      return input && input.checked ? true : undefined;
    }
    if (field.control === "select") {
      const input = box.querySelector("input");
      const index = input ? field.labels.indexOf(input.value) : -1;
      return index < 0 ? undefined : index;
    }
    const input = box.querySelector(field.control === "text" ? "textarea" : "input");
    return input && input.value !== "" ? input.value : undefined;
  };
  let last = window.localStorage.getItem(storage);
  const snapshot = () => {
    const draft = {};
    for (const field of data.fields) {
      const value = read(field);
      if (value !== undefined) draft[field.key] = value;
    }
    const text = Object.keys(draft).length ? JSON.stringify(draft) : null;
    if (text === last) return;
    if (text === null) {
      // An empty form before the widgets are drawn says nothing: keep what was stored.
      if (!document.querySelector(data.fields.length ? data.fields[0].selector : "body")) return;
      window.localStorage.removeItem(storage);
    } else {
      window.localStorage.setItem(storage, text);
    }
    last = text;
  };
  if (registry.timers[storage]) clearInterval(registry.timers[storage]);
  registry.timers[storage] = setInterval(snapshot, 500);
  return () => {
    snapshot();
    clearInterval(registry.timers[storage]);
    delete registry.timers[storage];
  };
}
"""

_component = st.components.v2.component("myotutor_drafts", js=_JS)


def storage_key(case_id: str, attempt: int, stage_index: int) -> str:
    """Where the browser keeps the draft of one stage of one attempt at one case."""
    return f"{STORAGE_PREFIX}{case_id}:{attempt}:{stage_index}"


def fields(case: Case, stage_index: int, key: WidgetKey, ctx: ViewContext) -> list[DraftField]:
    """Every widget of a stage's form, through each kind's view (and the certainty radios)."""
    out: list[DraftField] = []
    for q in case.stages[stage_index].questions:
        out += view_of(q).draft_fields(q, key, ctx)
        if q.asks_certainty:
            out.append(certainty_draft_field(q, key))
    return out


_FIELDS = Memo(256)  # (storage key, case) -> a stage form's fields, and as the browser reads them


def _described(
    case: Case, stage_index: int, key: WidgetKey, ctx: ViewContext
) -> tuple[list[DraftField], list[dict[str, Any]]]:
    stage_fields = fields(case, stage_index, key, ctx)
    described = [
        {"key": f.key, "selector": key_class(f.key), "control": f.control, "labels": list(f.labels)}
        for f in stage_fields
    ]
    return stage_fields, described


def widget_values(draft: Mapping[str, Any], stage_fields: Sequence[DraftField]) -> dict[str, Any]:
    """The widget values a stored draft stands for (anything that no longer fits the form is dropped:
    the case file may have changed since)."""
    values: dict[str, Any] = {}
    for field in stage_fields:
        stored = draft.get(field.key)
        if stored is None:
            continue
        if field.control in ("radio", "select"):
            if isinstance(stored, int) and not isinstance(stored, bool) and 0 <= stored < len(field.values):
                values[field.key] = field.values[stored]
        elif field.control == "checkbox":
            if stored is True:
                values[field.key] = True
        elif field.control == "number":
            try:
                values[field.key] = float(str(stored))
            except ValueError:
                continue
        elif isinstance(stored, str):
            values[field.key] = stored
    return values


def restore(case: Case, attempt: int, stage_index: int, key: WidgetKey, ctx: ViewContext) -> None:
    """Mount the draft keeper above a stage's form; after a reload, put the stored draft into the form's
    widgets (once per session), before the form is drawn."""
    storage = storage_key(case.id, attempt, stage_index)
    stage_fields, described = _FIELDS.get(
        (storage, id(case)), lambda: _described(case, stage_index, key, ctx)
    )
    restored: set[str] = st.session_state.setdefault(RESTORED, set())
    clear = sorted(st.session_state.pop(PENDING_CLEAR, set()))
    result = _component(
        data={"storage": storage, "restored": storage in restored, "clear": clear, "fields": described},
        key=f"drafts:{storage}",
        default={"draft": None},
        on_draft_change=lambda: None,
        height=0,
    )
    draft = getattr(result, "draft", None)
    if storage in restored or not isinstance(draft, Mapping):
        return
    restored.add(storage)
    for widget, value in widget_values(draft, stage_fields).items():
        st.session_state[widget] = value


def forget(case_id: str, attempt: int, stage_index: int) -> None:
    """The stage was submitted: its draft goes (the browser deletes it when the page next draws)."""
    pending: set[str] = st.session_state.setdefault(PENDING_CLEAR, set())
    pending.add(storage_key(case_id, attempt, stage_index))


def forget_case(case_id: str, attempt: int, stages: int) -> None:
    """The case was restarted: every draft of the attempt goes."""
    for stage_index in range(stages):
        forget(case_id, attempt, stage_index)


def flush() -> None:
    """Delete the drafts still waiting to be deleted (after the last stage, no form mounts the keeper)."""
    clear = sorted(st.session_state.pop(PENDING_CLEAR, set()))
    if clear:
        _component(data={"storage": None, "clear": clear}, key=f"drafts:clear:{json.dumps(clear)}", height=0)
