"""The case player's and the library's logic, without Streamlit: unit-testable.

A learner's progress through one case is a plain dict (kept in ``st.session_state[STORE][case_id]``)::

    {"answers": {question_id: answer}, "submitted": [stage indices, in order], "attempt": int}

A stage's questions are answered together (one form per stage) and a submitted stage is final. Stage k
is shown only once stages 0..k-1 are submitted; nothing of a stage's answer key is computed for the page
before that stage is submitted (see ``feedback_ready``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from logic import Case, CaseScore, QuestionResult, load_knowledge_base
from logic.cases import (
    DoseQuestion,
    MonitoringQuestion,
    NextStepQuestion,
    PrerequisitesQuestion,
    QuestionBase,
    ReflectionQuestion,
    Stage,
)
from logic.keys import AnswerKey, StagePlan
from logic.knowledge import KnowledgeBase, Pathway
from logic.markdown import safe_markdown
from logic.scoring import Answer, as_list, score_question, summarise

T = TypeVar("T")

STORE = "player_progress"  # st.session_state key: {case_id: progress dict}
CATEGORY_LABELS = {
    "escalation": "Escalation",
    "safety": "Safety",
    "dosing": "Dosing",
    "monitoring": "Monitoring",
    "reflection": "Reflection",
}

# Select-all verdicts shown with the grade palette (common.GRADE_COLOURS keys) and their own labels.
SELECT_VERDICTS = {
    "correct": ("recommended", "Correct"),
    "missed": ("acceptable", "Missed"),
    "extra": ("not_recommended", "Not needed"),
}


# --------------------------------------------------------------------------------------------------
# Process-wide memo (like st.cache_resource, without re-hashing a decorated function on every rerun)


class Memo:
    """A small bounded, thread-safe memo: ``get(key, build)`` builds once per key, evicts the oldest."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()  # outside the lock: two sessions may build the same value once each, harmlessly
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PLANS = Memo(64)  # (case id, file fingerprint) -> stage_plans(case)
FIGURES = Memo(256)  # figures the player shows, keyed by what they are drawn from


# --------------------------------------------------------------------------------------------------
# Progress


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


# --------------------------------------------------------------------------------------------------
# Widgets -> scoring answers


def widget_key(case_id: str, attempt: int, question_id: str, option: str | None = None) -> str:
    """Session-state key of a live answer widget (one per checkbox for select-all questions)."""
    key = f"pq:{case_id}:{attempt}:{question_id}"
    return f"{key}:{option}" if option is not None else key


def uses_checkboxes(question: QuestionBase) -> bool:
    """Select-all questions (and multiple-choice next steps) are answered with one checkbox per option."""
    return isinstance(question, PrerequisitesQuestion | MonitoringQuestion) or (
        isinstance(question, NextStepQuestion) and question.multiple
    )


def answer_from_widgets(
    question: QuestionBase, value: Any, checked: Mapping[str, Any] | None = None
) -> Answer:
    """A scoring answer from widget values: the radio/number/text value, or the checkbox states by option.

    single choice -> option id or None; select all / multiple -> [ids in the author's order];
    dose -> float or None; reflection -> str.
    """
    if uses_checkboxes(question):
        checked = checked or {}
        return [o for o in question.options if checked.get(o)]  # type: ignore[attr-defined]
    if isinstance(question, NextStepQuestion):
        return value if value in question.options else None
    if isinstance(question, DoseQuestion):
        if value is None or isinstance(value, bool):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if isinstance(question, ReflectionQuestion):
        return "" if value is None else str(value)
    return value  # type: ignore[no-any-return]


def collect_answers(
    questions: Sequence[QuestionBase], state: Mapping[str, Any], key: Callable[..., str]
) -> tuple[dict[str, Answer], list[str]]:
    """Read a stage's answers from widget state; also the ids of questions that still need an answer.

    A single choice and a dose must be given; select-all may be empty (nothing may be needed);
    a reflection may be left blank.
    """
    answers: dict[str, Answer] = {}
    missing: list[str] = []
    for q in questions:
        if uses_checkboxes(q):
            checked = {o: state.get(key(q.id, o), False) for o in q.options}  # type: ignore[attr-defined]
            answers[q.id] = answer_from_widgets(q, None, checked)
        else:
            answers[q.id] = answer_from_widgets(q, state.get(key(q.id)))
        if answers[q.id] is None and isinstance(q, NextStepQuestion | DoseQuestion):
            missing.append(q.id)
    return answers, missing


def dose_unit(question: DoseQuestion, population: str, kb: KnowledgeBase | None = None) -> str:
    """The unit to answer a dose question in: the author's, else the formulary's for the population.

    Taken from the question or the formulary only (the same for every patient), never from the
    patient's computed dose.
    """
    if question.unit:
        return question.unit
    kb = kb or load_knowledge_base()
    agent = kb.agents.get(question.agent)
    if agent is None:
        return ""
    units = list(dict.fromkeys(r.dose_unit for r in agent.regimens_for(population) if r.dose_unit))  # type: ignore[arg-type]
    return " or ".join(units)


def format_answer(
    question: QuestionBase, answer: Answer, kb: KnowledgeBase | None = None, unit: str = ""
) -> str:
    """A submitted answer as a learner reads it (names, not ids)."""
    kb = kb or load_knowledge_base()
    if answer is None or answer == "" or answer == []:
        return "no answer" if not isinstance(question, PrerequisitesQuestion | MonitoringQuestion) else "none"
    if isinstance(question, DoseQuestion):
        return f"{float(answer):g} {unit}".strip()  # type: ignore[arg-type]
    if isinstance(question, ReflectionQuestion):
        return str(answer)
    if isinstance(answer, str):
        return kb.name(answer)
    return ", ".join(kb.name(a) for a in answer)  # type: ignore[union-attr]


def lab_rows(stage: Stage) -> list[dict[str, str]]:
    """A stage's lab results as table rows (values as written: 2850, not 2850.0)."""
    if stage.data is None:
        return []
    return [
        {
            "Test": lab.test,
            "Value": lab.value if isinstance(lab.value, str) else f"{lab.value:g}",
            "Unit": lab.unit or "",
            "Reference": lab.reference or "",
            "Flag": lab.flag or "",
        }
        for lab in stage.data.labs
    ]


def cell_label(text: str) -> str:
    """A notebook cell's small grey label, as a Markdown line to put before the cell's text."""
    return f":small[:gray[{text}]]\n\n"


def submitted_markdown(
    question: QuestionBase, answer: Answer, population: str, kb: KnowledgeBase | None = None
) -> str:
    """A submitted question, read-only, as Markdown: its prompt and the options with the learner's marked
    (the form's widgets, frozen). Options stay in the author's order."""
    kb = kb or load_knowledge_base()
    lines = [safe_markdown(question.prompt), ""]
    if uses_checkboxes(question):
        chosen = set(as_list(answer))
        marks = [("☑" if o in chosen else "☐", o) for o in question.options]  # type: ignore[attr-defined]
    elif isinstance(question, NextStepQuestion):
        marks = [("◉" if o == answer else "○", o) for o in question.options]
    else:
        marks = []
    if marks:  # one option a line (Markdown hard breaks), the chosen ones in bold
        lines.append(
            "  \n".join(f"{m} **{kb.name(o)}**" if m in "☑◉" else f"{m} {kb.name(o)}" for m, o in marks)
        )
    if isinstance(question, DoseQuestion):
        unit = dose_unit(question, population, kb)
        lines.append(
            f"Your dose of {kb.name(question.agent)}: **{format_answer(question, answer, kb, safe_markdown(unit))}**"
        )
    elif isinstance(question, ReflectionQuestion):
        text = str(answer or "").strip()
        lines.append("Your reflection: " + ("*(left blank)*" if not text else ""))
        if text:
            lines += ["", *(f"> {safe_markdown(line)}  " for line in text.splitlines())]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Scores and feedback (only ever called for submitted stages)


def score_progress(case: Case, progress: Mapping[str, Any], plans: Sequence[StagePlan]) -> CaseScore:
    """Score the submitted stages only: no answer key of an unsubmitted stage is even computed.

    ``total`` is the running score (0-100 over the questions answered so far); once every stage is
    submitted this is exactly ``score_case(case, answers)``.
    """
    done = set(submitted_stages(progress, len(case.stages)))
    answers: Mapping[str, Answer] = progress["answers"]
    results = tuple(
        score_question(q, i, plans[i], answers.get(q.id)) for i, q in case.questions() if i in done
    )
    return summarise(results, len(case.stages), done)


def has_scored(score: CaseScore) -> bool:
    """Whether any scored question has been answered yet (else there is no running score to show)."""
    return any(r.scored for r in score.results)


def stage_score_rows(case: Case, score: CaseScore) -> list[tuple[str, float | None]]:
    """(label, 0-100 or None) per stage, for score_breakdown_figure."""
    return [
        (f"{i + 1}. {_short(s.title, 22)}", v)
        for i, (s, v) in enumerate(zip(case.stages, score.stage_scores, strict=True))
    ]


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


@dataclass(frozen=True)
class FeedbackRow:
    """One line of a feedback cell: an option (or the learner's dose) with its grade and reason."""

    name: str
    grade: str  # a key of GRADE_COLOURS
    label: str  # what the learner reads: "Recommended", "Missed"...
    why: str
    chosen: bool


def feedback_rows(
    question: QuestionBase,
    result: QuestionResult,
    key: AnswerKey | None,
    grade_labels: Mapping[str, str],
) -> list[FeedbackRow]:
    """The graded lines of a submitted question.

    next_step: every option offered, in the author's order, with its grade (the learner's marked);
    select all: each item hit, missed or picked needlessly; dose: the learner's dose; reflection: none.
    """
    kb = load_knowledge_base()
    if isinstance(question, NextStepQuestion) and key is not None:
        chosen = set(as_list(result.answer))
        return [
            FeedbackRow(
                kb.name(o),
                key.graded[o].grade,
                grade_labels.get(key.graded[o].grade, key.graded[o].grade),
                key.graded[o].why,
                o in chosen,
            )
            for o in question.options
        ]
    if isinstance(question, PrerequisitesQuestion | MonitoringQuestion):
        rows = []
        for v in result.verdicts:
            grade, label = SELECT_VERDICTS.get(v.grade, ("not_recommended", v.grade))
            if v.grade == "missed" and isinstance(question, PrerequisitesQuestion):
                grade = "unsafe"  # skipping a safety check before a start is flagged
            rows.append(FeedbackRow(v.name, grade, label, v.why, v.grade != "missed"))
        return rows
    return [
        FeedbackRow(v.name, v.grade, grade_labels.get(v.grade, v.grade), v.why, True) for v in result.verdicts
    ]


def grade_span(grade: str, label: str, colours: Mapping[str, str]) -> str:
    """Streamlit Markdown for a grade label in its colour (no HTML)."""
    return f':color[**{label}**]{{foreground="{colours.get(grade, "#57606a")}"}}'


def feedback_markdown(
    question: QuestionBase,
    result: QuestionResult,
    key: AnswerKey | None,
    colours: Mapping[str, str],
    labels: Mapping[str, str],
    links: Callable[[Sequence[str]], str],
) -> str:
    """The feedback cell of a submitted question, as one Markdown text: points, each graded choice in its
    colour, the best answer, why, sources and faculty notes (a reflection: its discussion)."""
    if isinstance(question, ReflectionQuestion):
        discussion = safe_markdown(result.discussion) if result.discussion else None
        return "**Discussion**\n\n" + (discussion or "*No discussion was written for this question.*")
    lines = [f"**Feedback** · {points_text(result)}", ""]
    for row in feedback_rows(question, result, key, labels):
        mine = " ← *your answer*" if row.chosen and isinstance(question, NextStepQuestion) else ""
        why = f" — {row.why}" if row.why and row.why != row.name else ""
        lines.append(f"- {grade_span(row.grade, row.label, colours)} **{row.name}**{mine}{why}")
    return "\n".join(lines + explanation_lines(result, links))


def explanation_lines(
    result: QuestionResult, links: Callable[[Sequence[str]], str], text: Callable[[str], str] = str
) -> list[str]:
    """Markdown lines after the graded choices: best answer, why, sources, faculty notes.

    ``text`` escapes the clinical strings where the output must not be read as Markdown (exports)."""
    lines = ["", f"**Best answer:** {text(result.best_text)}"]
    if result.why and result.why != result.best_text:
        lines += ["", f"**Why:** {text(result.why)}"]
    sources = links(result.sources)
    if sources:
        lines += ["", f"**Sources:** {sources}"]
    if result.faculty_notes:
        lines += ["", "**Faculty notes**", ""]
        for note in result.faculty_notes:
            note_links = links(note.sources)
            lines.append(f"- {text(note.text)}" + (f" — *{note_links}*" if note_links else ""))
    return lines


def points_text(result: QuestionResult) -> str:
    if not result.scored:
        return "not scored"
    return f"{result.points:g} / {result.max_points:g} points"


# --------------------------------------------------------------------------------------------------
# The path on the flowchart


def learner_options(case: Case, answers: Mapping[str, Answer]) -> tuple[str, ...]:
    """The agents and actions the learner chose in next-step questions, in case order."""
    out: list[str] = []
    for _, q in case.questions():
        if isinstance(q, NextStepQuestion):
            out += [a for a in as_list(answers.get(q.id)) if a in q.options]
    return tuple(dict.fromkeys(out))


def best_options(case: Case, score: CaseScore) -> tuple[str, ...]:
    """The best choices of the case's next-step questions (only meaningful once the case is complete)."""
    out: list[str] = []
    for r in score.results:
        if r.kind == "next_step":
            out += list(r.best)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class PathOnChart:
    current: str
    learner: tuple[str, ...]
    recommended: tuple[str, ...]


def path_on_chart(
    pathway: Pathway, plans: Sequence[StagePlan], learner: Iterable[str], best: Iterable[str]
) -> PathOnChart:
    """current_step = the patient's final position; the steps teaching the learner's and the best choices."""
    return PathOnChart(
        current=plans[-1].recommendation.position,
        learner=pathway.steps_with(learner),
        recommended=pathway.steps_with(best),
    )


# --------------------------------------------------------------------------------------------------
# Library
