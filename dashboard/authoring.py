"""The Author page's sections (faculty): start a case, edit its YAML, see its problems and a preview of it
as the learner sees it with the answer keys the logic derives, save it as a draft or publish it.

The checking is ``logic.authoring.check_text`` (what loading a file runs, then lint), memoised on the
text, so a rerun that does not change the text costs nothing. The preview reuses the player's stage
cells (``dashboard.player.page.stage_story``), the per-kind question views (``dashboard/questions``)
and the feedback layout (``render.feedback_markdown``); saving is ``logic.casefiles``.

The editor is a plain text area: it reruns the page when the author leaves it or presses Ctrl+Enter
(Streamlit's own debounce), which AppTest and a real browser both drive. A highlighted copy with line
numbers sits beside it; problems name their line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import icons
from dashboard.common import plain
from dashboard.context import cases_dir, get_library, invalidate_library
from dashboard.drafts import get_drafts
from dashboard.figures import pathway_figure, trend_figure
from dashboard.player import results as pr
from dashboard.player.memo import FIGURES, Memo
from dashboard.player.page import PlayerSession, stage_story
from dashboard.questions import view_of
from dashboard.questions.render import certainty_widget, feedback_markdown, page_style
from logic import KnowledgeBase, LoadedCase, StagePlan, score_question, stage_plans
from logic.authoring import Checked, check_text, check_upload, copy_case, scaffold
from logic.casefiles import CaseFileError, case_path, content_hash, publish, save_case
from logic.library import CaseError
from logic.markdown import safe_markdown
from logic.scoring import summarise
from logic.vocabulary import POPULATION_LABELS, STEP_KIND_LABELS

TEXT = "author_text"  # the editor's text
ORIGIN = "author_origin"  # (path, sha256 of its text when opened) the editor started from, or None
MESSAGE = "author_message"  # ("success" | "error", text) of the last save
START = "author_start"  # the start choice
NEW_ID = "author_new_id"
CONFIRM = "author_confirm"
STAGE = "author_stage"
_CHECKS = Memo(16)  # (text hash, kb) -> Checked
_PLANS = Memo(16)  # (text hash, kb) -> stage plans of the checked case


# ------------------------------------------------------------------------------------ starting


@dataclass(frozen=True)
class Start:
    kind: str  # "scaffold" | "case" | "draft"
    value: str  # population, or case id

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


def start_options() -> dict[str, str]:
    """What a case can start from: a scaffold per population, a copy of any case or draft."""
    options = {f"scaffold:{p}": f"New case: {label} scaffold" for p, label in POPULATION_LABELS.items()}
    for case_id, loaded in sorted(get_library().cases.items()):
        options[f"case:{case_id}"] = f"Published: {loaded.case.title} ({case_id})"
    for case_id, loaded in sorted(get_drafts().cases.items()):
        options[f"draft:{case_id}"] = f"Draft: {loaded.case.title} ({case_id})"
    return options


def _start() -> None:
    """Callback of "Open in the editor": put the chosen start into the editor."""
    kind, _, value = str(st.session_state.get(START, "scaffold:adult")).partition(":")
    new_id = str(st.session_state.get(NEW_ID, "")).strip()
    st.session_state.pop(MESSAGE, None)
    st.session_state.pop(CONFIRM, None)
    try:
        if kind == "scaffold":
            if not new_id:
                st.session_state[MESSAGE] = ("error", "Type the new case's id first.")
                return
            st.session_state[TEXT] = scaffold(new_id, "juvenile" if value == "juvenile" else "adult")
            st.session_state[ORIGIN] = None
            return
        library = get_drafts() if kind == "draft" else get_library()
        loaded = library.cases.get(value)
        if loaded is None:
            st.session_state[MESSAGE] = ("error", f"There is no {kind} {value!r} any more.")
            return
        text = loaded.source.text
        if new_id and new_id != value:
            st.session_state[TEXT] = copy_case(text, new_id)
            st.session_state[ORIGIN] = None
        else:
            st.session_state[TEXT] = text
            st.session_state[ORIGIN] = (str(loaded.path), content_hash(text))
    except ValueError as exc:
        st.session_state[MESSAGE] = ("error", str(exc))


def start_panel() -> None:
    """Choose a scaffold or a case to copy or edit, and open it in the editor."""
    options = start_options()
    with st.container(border=True):
        st.markdown("**Start from**")
        choice_col, id_col = st.columns([3, 2])
        choice_col.selectbox(
            "Scaffold or case",
            list(options),
            format_func=options.__getitem__,
            key=START,
            label_visibility="collapsed",
        )
        id_col.text_input(
            "New case id",
            key=NEW_ID,
            placeholder="new case id, e.g. dm-with-calcinosis",
            label_visibility="collapsed",
            help="Needed for a scaffold; for a case, a new id makes a copy and an empty one edits the case itself.",
        )
        st.button("Open in the editor", key="author_open", on_click=_start, icon=icons.AUTHOR)


def upload_panel(kb: KnowledgeBase) -> None:
    """Upload a YAML file to check and preview it (the loader's size limit applies)."""
    uploaded = st.file_uploader("Upload a case file (.yaml) to check and preview it", type=["yaml", "yml"])
    if uploaded is not None:
        show_upload(uploaded.name, uploaded.getvalue(), kb)


def _take_upload(text: str) -> None:
    st.session_state[TEXT] = text
    st.session_state[ORIGIN] = None
    st.session_state.pop(MESSAGE, None)


def show_upload(name: str, raw: bytes, kb: KnowledgeBase) -> Checked:
    """An uploaded file's check: its problems, or a button that opens it in the editor."""
    checked = check_upload(raw, name, kb)
    if checked.ok:
        st.success(f"{plain(name)} is a valid case.", icon=icons.DONE)
    problems_panel(checked)
    if checked.text and not _unreadable(checked):
        st.button(
            "Open the upload in the editor",
            key="author_take_upload",
            on_click=_take_upload,
            args=(checked.text,),
        )
    return checked


def _unreadable(checked: Checked) -> bool:
    """The upload is not text at all (not UTF-8, binary, too big): nothing to edit."""
    message = checked.errors[0].message if checked.errors else ""
    return any(word in message for word in ("not UTF-8", "binary", "KiB"))


# ------------------------------------------------------------------------------------ checking


def checked_text(text: str, kb: KnowledgeBase) -> Checked:
    """The editor's text, checked as the file it would be saved as (memoised on the text)."""
    digest = content_hash(text)

    def build() -> Checked:
        path = Path(f"{_id_hint(text) or 'new-case'}.yaml")
        return check_text(text, path, kb)

    return _CHECKS.get((digest, id(kb)), build)


def _id_hint(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("id:"):
            value = line[3:].split("#")[0].strip().strip("'\"")
            return value or None
    return None


# A fixed style (no case content): YAML is edited in a monospace font, lines unwrapped.
EDITOR_STYLE = (
    "<style>.st-key-author_text textarea {font-family: 'Source Code Pro', ui-monospace, monospace; "
    "font-size: 0.85rem; white-space: pre; overflow-wrap: normal; overflow-x: auto;}</style>"
)


def editor() -> str:
    """The YAML text area, and a highlighted copy with line numbers."""
    st.html(EDITOR_STYLE)
    edit_tab, read_tab = st.tabs([f"{icons.AUTHOR} Edit", f"{icons.NUMBERED} Highlighted, with line numbers"])
    with edit_tab:
        text: str = st.text_area(
            "Case YAML",
            key=TEXT,
            height=560,
            label_visibility="collapsed",
            placeholder="Start from a scaffold or a case above, or paste a case here.",
            help="Checked each time you leave the box or press Ctrl+Enter.",
        )
    with read_tab:
        st.code(text or " ", language="yaml", line_numbers=True)
    return text


def problems_panel(checked: Checked) -> None:
    """One line per problem: line and column, where in the case, what is wrong (errors, then lint)."""
    errors, lint = checked.errors, checked.lint
    if not errors and not lint:
        if checked.ok:
            st.success("The case loads and lint finds nothing.", icon=icons.DONE)
        return
    if errors:
        st.error(_problem_lines(errors, "error"), icon=icons.UNSAFE)
    if lint:
        st.warning(_problem_lines(lint, "lint"), icon=icons.LINT)


def _problem_lines(problems: list[CaseError], what: str) -> str:
    head = f"**{len(problems)} {what}{'s' if len(problems) != 1 else ''}**" + (
        " (the case does not load until each is fixed)"
        if what == "error"
        else " (the case loads; the logic disagrees)"
    )
    lines = [head, ""]
    for e in sorted(problems, key=lambda e: (e.line, e.column)):
        where = f" · {plain(e.where)}" if e.where else ""
        lines.append(f"- **line {e.line}**, column {e.column}{where}: {plain(e.message)}")
    return "\n".join(lines)


def same_id_warning(checked: Checked) -> str | None:
    """A case with this id exists in another file than the one being edited: saving would replace it."""
    if checked.loaded is None:
        return None
    case_id = checked.loaded.case.id
    origin = st.session_state.get(ORIGIN)
    existing = [
        p
        for p in (case_path(cases_dir(), case_id), case_path(cases_dir(), case_id, draft=True))
        if p.exists()
    ]
    others = [p for p in existing if origin is None or str(p) != origin[0]]
    if not others:
        return None
    names = " and ".join(f"{'drafts/' if p.parent.name == 'drafts' else ''}{p.name}" for p in others)
    return (
        f"case id {case_id!r} is already used by {names}: saving there replaces that case (a backup is kept)"
    )


# ------------------------------------------------------------------------------------ preview


def _plans(checked: Checked, kb: KnowledgeBase) -> tuple[StagePlan, ...]:
    assert checked.loaded is not None
    case = checked.loaded.case
    return _PLANS.get((checked.digest, id(kb)), lambda: stage_plans(case, kb))


def preview(checked: Checked, kb: KnowledgeBase) -> None:
    """The case as the learner sees it, one stage at a time, with the logic's answer key for each
    question and the patient's position on the pathway at that stage."""
    if checked.loaded is None:
        st.info("The preview appears once the case loads: fix the errors first.", icon=icons.PREVIEW)
        return
    loaded: LoadedCase = checked.loaded
    case = loaded.case
    plans = _plans(checked, kb)
    n = len(case.stages)
    st.subheader(safe_markdown(case.title), anchor=False)
    st.markdown(safe_markdown(case.summary))
    stage_index = st.selectbox(
        "Preview stage",
        range(n),
        format_func=lambda i: f"Stage {i + 1} of {n}: {case.stages[i].title}",
        key=STAGE,
    )
    stage_index = min(int(stage_index or 0), n - 1)
    version = (f"author:{checked.digest}", 0, 0)
    session = PlayerSession(
        loaded,
        kb,
        version,
        plans,
        {"answers": {}, "submitted": [], "attempt": 0},
        (),
        stage_index,
        summarise((), n),
        None,
    )
    stage = case.stages[stage_index]
    trend = None
    if stage.data is not None and stage.data.series:
        series = stage.data.series
        trend = FIGURES.get(("author-trend", checked.digest, stage_index), lambda: trend_figure(series))
    stage_story(session, stage_index, trend)
    _questions(session, stage_index)
    _answer_keys(session, stage_index)
    _position(session, stage_index)


def _widget_key(question_id: str, option: str | None) -> str:
    return f"author_preview:{question_id}:{option or ''}"


def _questions(session: PlayerSession, stage_index: int) -> None:
    """The stage's questions as the learner's form shows them (the preview form submits nothing)."""
    questions = session.case.stages[stage_index].questions
    with st.form(f"author_preview_form:{stage_index}", border=True):
        st.caption(
            f"{icons.QUESTIONS} Questions, as the learner sees them"
            if questions
            else f"{icons.CONTINUE} Continue"
        )
        for q in questions:
            st.markdown(safe_markdown(q.prompt))
            view_of(q).widget(q, _widget_key, session.ctx)
            if q.asks_certainty:
                certainty_widget(q, _widget_key)
        st.form_submit_button("Submit (disabled in the preview)", disabled=True)


def _answer_keys(session: PlayerSession, stage_index: int) -> None:
    """Each question's key from the logic, as the learner's feedback will show it for the best answer."""
    kb, plan = session.kb, session.plans[stage_index]
    style = page_style(kb)
    for q in session.case.stages[stage_index].questions:
        result = score_question(q, stage_index, plan, q.best_answer(q.answer_key(plan, kb)), kb)
        with st.container(border=True):
            best = f"**Best answer:** {style.text(result.best_text)}\n\n" if result.best_text else ""
            st.markdown(
                pr.cell_label(
                    f"{icons.KEY} Answer key of {q.id!r} (faculty only; the feedback for the best answer)"
                )
                + best
                + feedback_markdown(view_of(q), q, result, style)
            )


def _position(session: PlayerSession, stage_index: int) -> None:
    """Where the patient stands on their population's pathway at this stage."""
    kb, plan = session.kb, session.plans[stage_index]
    population = plan.patient.population
    position = plan.recommendation.position
    pathway = kb.pathways[population]
    step = pathway.step(position)
    st.markdown(
        f"**Position on the {POPULATION_LABELS[population].lower()} pathway at this stage:** "
        f"{step.title if step else STEP_KIND_LABELS.get(position, position)}"
    )
    figure = FIGURES.get(
        ("author-position", id(kb), population, position),
        lambda: pathway_figure(pathway, kb, current_step=position),
    )
    st.plotly_chart(figure, key=f"author_position:{stage_index}", config={"displayModeBar": False})


# ------------------------------------------------------------------------------------ saving


def _target(checked: Checked, draft: bool) -> Path:
    assert checked.case_id is not None
    return case_path(cases_dir(), checked.case_id, draft=draft)


def needs_confirm(checked: Checked, target: Path) -> bool:
    """Replacing a file needs the author's confirmation unless it is the file they opened, unchanged since."""
    if not target.exists():
        return False
    origin = st.session_state.get(ORIGIN)
    if origin is None or origin[0] != str(target):
        return True
    try:
        return bool(content_hash(target.read_text(encoding="utf-8")) != origin[1])
    except (OSError, UnicodeDecodeError):
        return True


def _save(draft: bool, kb: KnowledgeBase) -> None:
    """Callback of Save draft / Publish: checked again here, on the server; never an invalid case."""
    text = str(st.session_state.get(TEXT, ""))
    checked = checked_text(text, kb)
    if not checked.ok or checked.case_id is None:
        st.session_state[MESSAGE] = (
            "error",
            "Not saved: the case has errors (an invalid case is never saved).",
        )
        return
    target = _target(checked, draft)
    confirmed = bool(st.session_state.get(CONFIRM))
    if needs_confirm(checked, target) and not confirmed:
        st.session_state[MESSAGE] = ("error", f"Not saved: {target.name} exists; tick the box to replace it.")
        return
    try:
        if draft:
            saved = save_case(cases_dir(), checked.case_id, text, draft=True, replace=True)
        else:
            saved = publish(cases_dir(), checked.case_id, text, replace=True)
        written = saved.path.read_text(encoding="utf-8")
    except (CaseFileError, OSError) as exc:
        st.session_state[MESSAGE] = ("error", f"Not saved: {exc}")
        return
    invalidate_library()  # the library and the player show the change on their next run
    st.session_state[TEXT] = written
    st.session_state[ORIGIN] = (str(saved.path), content_hash(written))
    st.session_state[CONFIRM] = False
    where = "drafts/" + saved.path.name if draft else saved.path.name
    kept = " The previous version is kept as a backup." if saved.replaced else ""
    what = "Saved as a draft (faculty only)" if draft else "Published: learners see it in the library now"
    st.session_state[MESSAGE] = ("success", f"{what} — {where}.{kept}")


def save_panel(checked: Checked, kb: KnowledgeBase) -> None:
    """Save as a draft, publish, or download; refused (with the reason) while the case has errors."""
    message = st.session_state.get(MESSAGE)
    if message is not None:
        (st.success if message[0] == "success" else st.error)(plain(message[1]))
    if not checked.ok or checked.case_id is None:
        st.button("Save draft", disabled=True, key="author_save_draft_off", help="Fix the errors first.")
        st.caption("Saving is off while the case has errors: an invalid case is never saved.")
        return
    draft_target, published_target = _target(checked, True), _target(checked, False)
    warning = same_id_warning(checked)
    if warning:
        st.warning(plain(warning), icon=icons.WARNING)
    if needs_confirm(checked, draft_target) or needs_confirm(checked, published_target):
        st.checkbox("Replace the existing file (its previous version is kept as a backup)", key=CONFIRM)
    draft_col, publish_col, download_col = st.columns(3)
    draft_col.button(
        "Save draft",
        key="author_save_draft",
        on_click=_save,
        args=(True, kb),
        icon=icons.SAVE,
        help=f"drafts/{draft_target.name}: faculty only",
        use_container_width=True,
    )
    publish_col.button(
        "Publish",
        key="author_publish",
        on_click=_save,
        args=(False, kb),
        type="primary",
        icon=icons.PUBLISH,
        help=f"{published_target.name}: learners see it",
        use_container_width=True,
    )
    download_col.download_button(
        "Download",
        checked.text,
        file_name=f"{checked.case_id}.yaml",
        mime="application/yaml",
        on_click="ignore",
        icon="⬇️",
        key="author_download",
        use_container_width=True,
    )
