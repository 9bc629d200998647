"""The shared layout of a question's cells, for every kind: the read-only submitted answer, the feedback,
and the certainty a choice question may ask for. The page and both exports write feedback through
``feedback_markdown`` (one function per kind's rows, one layout); a ``Style`` says whether grades are
coloured (page) or the text is escaped (exports).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard.questions.base import DraftField, KindView, ViewContext, WidgetKey, WidgetState
from dashboard.style import GRADE_COLOURS, NEUTRAL_COLOUR
from dashboard.wording import number, points
from logic import KnowledgeBase, QuestionResult
from logic.claims import cited_claims
from logic.markdown import safe_markdown
from logic.questions import (
    CERTAINTY_LEVELS,
    Answer,
    QuestionBase,
    answer_certainty,
    answer_value,
    with_certainty,
)
from logic.vocabulary import CALIBRATION_LABELS, CERTAINTY_LABELS, CONFIDENT_UNSAFE_WARNING, Grade

_LESS_THAN = re.compile(r"\\<(?=[\s\d=])")  # an escaped "<" before a space, digit or "=": no tag
CERTAINTY = "~certainty"  # the certainty widget's "option" in a widget key (ids never start with "~")
CERTAINTY_PROMPT = "How sure are you?"
UNSAFE_FLAG = "Unsafe: this answer would put the patient at risk"


@dataclass(frozen=True)
class Style:
    """How feedback Markdown is written: on the page or in an export."""

    grade: Callable[[Grade, str], str]  # (colour grade, label) -> Markdown for the label
    text: Callable[[str], str]  # clinical and learner text, escaped where the output needs it
    links: Callable[[Sequence[str]], str]  # source ids -> Markdown citations
    flag_unsafe: bool  # write the unsafe flag into the feedback's first line
    # claim ids the author cites -> (claim, source label, strength label)
    claims: Callable[[Sequence[str]], list[tuple[str, str, str]]] = lambda _ids: []


def grade_span(grade: Grade, label: str, colours: Mapping[Grade, str] = GRADE_COLOURS) -> str:
    """Streamlit Markdown for a grade label in its colour (no HTML)."""
    return f':color[**{label}**]{{foreground="{colours.get(grade, NEUTRAL_COLOUR)}"}}'


def escape(text: str) -> str:
    """Case, learner or clinical text as Markdown with every active element made text (no images, only
    https and relative links, no raw HTML): the app's one sanitiser, logic.markdown.safe_markdown. A "<"
    that cannot open a tag or an autolink ("< 200", "<= 5") is left as typed, not backslash-escaped."""
    return _LESS_THAN.sub("<", safe_markdown(str(text)))


def page_style(kb: KnowledgeBase) -> Style:
    return Style(
        grade=grade_span,
        text=escape,
        links=kb.citations,
        flag_unsafe=True,
        claims=functools.partial(cited_claims, kb),
    )


def export_style(kb: KnowledgeBase) -> Style:
    return Style(
        grade=lambda _grade, label: f"*{label}*",
        text=escape,
        links=kb.citations,
        flag_unsafe=True,
        claims=functools.partial(cited_claims, kb),
    )


def points_text(result: QuestionResult) -> str:
    """ "1 of 1 point", "0.3 of 1 point", "not scored" (points rounded to one decimal)."""
    if not result.scored:
        return "not scored"
    return f"{number(result.points)} of {points(result.max_points)}"


def feedback_markdown(
    view: KindView[Any],
    question: QuestionBase,
    result: QuestionResult,
    style: Style,
    *,
    skip_notes: Collection[str] = (),
) -> str:
    """The feedback of a submitted question as one Markdown text: points (and the unsafe flag), one line per
    option (grade, option, why), the best answer where the lines do not show it, the learner's certainty,
    the sources the reasons cite, and faculty notes (a reflection: its discussion).

    ``skip_notes``: the texts of faculty notes already shown earlier in the case (each is shown once)."""
    if not result.scored:
        return "**Discussion**\n\n" + (
            style.text(result.discussion)
            if result.discussion
            else "*No discussion was written for this question.*"
        )
    flag = f" · {style.grade('unsafe', UNSAFE_FLAG)}" if style.flag_unsafe and result.unsafe else ""
    lines = [f"**Feedback** · {points_text(result)}{flag}", ""]
    for row in view.feedback_rows(question, result):
        mine = " *(your answer)*" if row.chosen and view.marks_choice else ""
        why = f" — {style.text(row.why)}" if row.why and row.why != row.name else ""
        lines.append(f"- {style.grade(row.colour, row.label)} · **{style.text(row.name)}**{mine}{why}")
    best = view.key_line(question, result)
    if best:
        lines += ["", f"**Best answer:** {style.text(best)}"]
    lines += certainty_lines(result)
    sources = style.links(result.sources)
    if sources:
        lines += ["", f"*Sources: {sources}*"]
    claims = style.claims(result.claims)
    if claims:
        lines += ["", "**Claims this question teaches**", ""]
        lines += [f"- {style.text(claim)} — *{source}* ({strength})" for claim, source, strength in claims]
    notes = [note for note in result.faculty_notes if note.text not in skip_notes]
    for note in notes:
        note_links = style.links(note.sources)
        lines += [
            "",
            f"**Faculty note:** {style.text(note.text)}" + (f" — *{note_links}*" if note_links else ""),
        ]
    return "\n".join(lines)


def explanation_lines(result: QuestionResult, style: Style) -> list[str]:
    """The explanation of a question on its own, without the option lines (a projector revealing the
    answer, a learner who gave none): best answer, why, sources, claims taught, faculty notes."""
    lines = ["", f"**Best answer:** {style.text(result.best_text)}"]
    if result.why and result.why != result.best_text:
        lines += ["", f"**Why:** {style.text(result.why)}"]
    sources = style.links(result.sources)
    if sources:
        lines += ["", f"**Sources:** {sources}"]
    claims = style.claims(result.claims)
    if claims:
        lines += ["", "**Claims this question teaches**", ""]
        lines += [f"- {style.text(claim)} — *{source}* ({strength})" for claim, source, strength in claims]
    if result.faculty_notes:
        lines += ["", "**Faculty notes**", ""]
        for note in result.faculty_notes:
            note_links = style.links(note.sources)
            lines.append(f"- {style.text(note.text)}" + (f" — *{note_links}*" if note_links else ""))
    return lines


def notes_shown_before(results: Iterable[QuestionResult]) -> dict[str, frozenset[str]]:
    """Per question (in case order), the faculty notes already shown with an earlier question: a note is
    shown once per case, with the first question it concerns."""
    seen: set[str] = set()
    before: dict[str, frozenset[str]] = {}
    for result in results:
        before[result.question_id] = frozenset(seen)
        seen.update(note.text for note in result.faculty_notes)
    return before


def certainty_lines(result: QuestionResult) -> list[str]:
    """How sure the learner was, and what that makes the answer (confident and unsafe said in full)."""
    if result.certainty is None or result.calibration is None:
        return []
    lines = [
        "",
        f"**Your certainty:** {CERTAINTY_LABELS[result.certainty]} — {CALIBRATION_LABELS[result.calibration].lower()}",
    ]
    if result.calibration == "confident_unsafe":
        lines += ["", f"**{CONFIDENT_UNSAFE_WARNING}**"]
    return lines


def submitted_markdown(view: KindView[Any], question: QuestionBase, answer: Answer, ctx: ViewContext) -> str:
    """A submitted question, read-only: its prompt, the answer as the form showed it, and the certainty."""
    lines = [escape(question.prompt), "", *view.submitted_lines(question, answer_value(answer), ctx)]
    certainty = answer_certainty(answer)
    if question.asks_certainty:
        shown = CERTAINTY_LABELS[certainty] if certainty is not None else "not given"
        lines += ["", f"{CERTAINTY_PROMPT} **{shown}**"]
    return "\n".join(lines)


def certainty_widget(question: QuestionBase, key: WidgetKey) -> None:
    """The "how sure are you" radio of a choice question that asks for it (nothing preselected)."""
    st.radio(
        CERTAINTY_PROMPT,
        CERTAINTY_LEVELS,
        index=None,
        format_func=CERTAINTY_LABELS.__getitem__,
        horizontal=True,
        key=key(question.id, CERTAINTY),
        help="1 = guessing, 4 = certain. Being sure of an unsafe answer is the worst result.",
    )


def certainty_draft_field(question: QuestionBase, key: WidgetKey) -> DraftField:
    """The certainty radio, for a stage's draft."""
    labels = tuple(CERTAINTY_LABELS[level] for level in CERTAINTY_LEVELS)
    return DraftField(key(question.id, CERTAINTY), "radio", labels, CERTAINTY_LEVELS)


def read_with_certainty(
    view: KindView[Any], question: QuestionBase, state: WidgetState, key: WidgetKey
) -> Answer:
    """The answer from widget state, with its certainty when the question asks for one."""
    answer = view.read_answer(question, state, key)
    if not question.asks_certainty:
        return answer
    certainty = state.get(key(question.id, CERTAINTY))
    return with_certainty(answer, certainty if certainty in CERTAINTY_LEVELS else None)


def state_with_certainty(
    view: KindView[Any], question: QuestionBase, answer: Answer, key: WidgetKey
) -> dict[str, Any]:
    """The widget values for an answer (and its certainty): the inverse of ``read_with_certainty``."""
    state = view.widget_state(question, answer_value(answer), key)
    if question.asks_certainty:
        state[key(question.id, CERTAINTY)] = answer_certainty(answer)
    return state


def is_missing(question: QuestionBase, answer: Answer) -> bool:
    """Whether the stage cannot be submitted yet for this question's answer."""
    if question.needs_answer and answer_value(answer) is None:
        return True
    return question.asks_certainty and answer_certainty(answer) is None
