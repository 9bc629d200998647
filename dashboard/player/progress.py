"""A learner's progress through one case, as a plain dict kept in ``st.session_state[STORE][case_id]``::

    {"answers": {question_id: answer}, "submitted": [stage indices, in order], "attempt": int}

A stage's questions are answered together (one form per stage) and a submitted stage is final. Stage k
is shown only once stages 0..k-1 are submitted; nothing of a stage's answer key is computed for the page
before that stage is submitted (see ``feedback_ready``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from logic import Case
from logic.questions import Answer

STORE = "player_progress"  # st.session_state key: {case_id: progress dict}


def new_progress() -> dict[str, Any]:
    return {"answers": {}, "submitted": [], "attempt": 0}


def progress_for(store: MutableMapping[str, Any], case_id: str) -> dict[str, Any]:
    """The progress dict of one case in the store, created on first use."""
    progress = store.get(case_id)
    if not isinstance(progress, dict) or not {"answers", "submitted", "attempt"} <= progress.keys():
        progress = new_progress()
        store[case_id] = progress
    return progress


def submitted_stages(progress: Mapping[str, Any], n_stages: int) -> tuple[int, ...]:
    """Submitted stage indices still valid for a case of n_stages (a case file may change under us)."""
    return tuple(i for i in progress["submitted"] if 0 <= i < n_stages)


def current_stage(n_stages: int, submitted: Iterable[int]) -> int | None:
    """The first stage not yet submitted, or None when the case is complete."""
    done = set(submitted)
    for i in range(n_stages):
        if i not in done:
            return i
    return None


def visible_stage_count(n_stages: int, submitted: Iterable[int]) -> int:
    """How many stages are shown: every submitted one before the current one, and the current one."""
    current = current_stage(n_stages, submitted)
    return n_stages if current is None else current + 1


def is_complete(n_stages: int, submitted: Iterable[int]) -> bool:
    return current_stage(n_stages, submitted) is None


def feedback_ready(stage_index: int, submitted: Iterable[int]) -> bool:
    """Whether a stage's answer key may be computed for the page: only after the stage is submitted."""
    return stage_index in set(submitted)


def submit_stage(
    progress: dict[str, Any], n_stages: int, stage_index: int, answers: Mapping[str, Answer]
) -> bool:
    """Record a stage's answers. Only the current stage can be submitted, and only once (final)."""
    if stage_index != current_stage(n_stages, submitted_stages(progress, n_stages)):
        return False
    progress["answers"].update(answers)
    progress["submitted"] = [*submitted_stages(progress, n_stages), stage_index]
    return True


def restart(progress: dict[str, Any]) -> None:
    """Forget a case's answers; the attempt counter gives the new attempt fresh widgets."""
    attempt = int(progress.get("attempt", 0)) + 1
    progress.clear()
    progress.update(new_progress(), attempt=attempt)


def submitted_answers(case: Case, progress: Mapping[str, Any]) -> dict[str, Answer]:
    """The answers to the questions of submitted stages only."""
    done = set(submitted_stages(progress, len(case.stages)))
    answers: Mapping[str, Answer] = progress["answers"]
    return {q.id: answers.get(q.id) for i, q in case.questions() if i in done}
