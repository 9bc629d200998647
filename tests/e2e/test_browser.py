"""Real-browser tests: the app as a learner uses it, in Debian's chromium (see conftest.py).

The expected feedback comes from the logic (answer_key / recommend), never from copies of page text,
so a change in the knowledge base cannot make these tests pass for the wrong reason.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from logic import DISCLAIMER, answer_key, load_knowledge_base, load_library, stage_plans
from logic.questions import DoseQuestion, NextStepQuestion, PrerequisitesQuestion
from tests.context import KB
from tests.e2e.conftest import REPO, wait_for_app_run

pytestmark = pytest.mark.e2e

CASE_ID = "myositis-after-failed-immunosuppression"


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _stage_one() -> tuple[Any, Any]:
    library = load_library([REPO / "cases"], KB)
    assert CASE_ID in library.cases, f"S2 case missing from cases/: {[str(e) for e in library.errors]}"
    case = library.cases[CASE_ID].case
    return case, stage_plans(case, KB)[0]


def _feedback_fragments(case: Any, plan: Any) -> dict[str, list[str]]:
    """Per stage-1 question, the feedback texts the logic will show once the stage is submitted."""
    kb = load_knowledge_base()
    out: dict[str, list[str]] = {}
    for question in case.stages[0].questions:
        key = answer_key(question, plan, KB)
        if isinstance(question, NextStepQuestion):
            # The best option's own reasoning (answer_key().why is "Name: why" for each best option).
            out[question.id] = [key.graded[b].why for b in key.best]
        elif isinstance(question, PrerequisitesQuestion):
            missing = plan.recommendation.option(question.agent).prerequisites
            out[question.id] = [kb.actions[a].why for a in missing] or [key.why]
        elif key.why:
            out[question.id] = [key.why]
    return out


def _answer_stage_one(page: Any, case: Any, plan: Any) -> None:
    """Answer every stage-1 question with the logic's best answer, through the widgets, by visible labels."""
    kb = load_knowledge_base()
    form = page.get_by_test_id("stForm").first
    for question in case.stages[0].questions:
        key = answer_key(question, plan, KB)
        if isinstance(question, NextStepQuestion):
            for best in key.best[:1] if not question.multiple else key.best:
                role = "checkbox" if question.multiple else "radio"
                _choose(form, role, kb.name(best))
        elif isinstance(question, PrerequisitesQuestion):
            for action in key.best:
                _choose(form, "checkbox", kb.name(action))
        elif isinstance(question, DoseQuestion):
            assert key.dose is not None
            value = (key.dose.low + key.dose.high) / 2
            number = form.get_by_test_id("stNumberInput").locator("input")
            assert number.count() == 1, f"expected one number input for {question.id}, found {number.count()}"
            number.fill(f"{value:g}")
            number.press("Tab")


def _choose(scope: Any, role: str, name: str) -> None:
    """Tick a radio option / checkbox by its visible label (the option's display name)."""
    control = scope.get_by_role(role, name=name, exact=True)
    if control.count() == 0:  # the label may carry extra text (e.g. a class or a hint)
        control = scope.get_by_role(role, name=re.compile(re.escape(name)))
    assert control.count() >= 1, f"no {role} labelled {name!r}"
    # baseweb hides the <input>; clicking its label is what a learner does.
    control.first.locator("xpath=ancestor::label[1]").click()
    if role == "checkbox":
        assert control.first.is_checked(), f"{name!r} not ticked"


def _submit_stage(page: Any) -> None:
    form = page.get_by_test_id("stForm").first
    button = form.locator("[data-testid^='stBaseButton-'][data-testid$='FormSubmit']")
    if button.count() == 0:
        button = form.get_by_role("button", name=re.compile("submit", re.I))
    button.first.click()
    wait_for_app_run(page)


def test_player_feedback_appears_only_after_submitting_stage_one(open_app: Any, artifacts: Path) -> None:
    case, plan = _stage_one()
    fragments = _feedback_fragments(case, plan)
    assert fragments, "stage 1 of the S2 case has no keyed questions"

    page = open_app(f"/player?case={CASE_ID}")
    main = page.get_by_test_id("stMain")
    page.get_by_text(case.stages[0].title).first.wait_for(state="visible")
    page.screenshot(path=str(artifacts / "player-before-submit.png"), full_page=True)

    # Nothing of the answer key may be in the page (visible or hidden) before the stage is submitted.
    before = _normal(page.content())
    for qid, texts in fragments.items():
        for text in texts:
            assert _normal(text) not in before, f"{qid}: feedback on the page before submitting: {text!r}"

    _answer_stage_one(page, case, plan)
    page.screenshot(path=str(artifacts / "player-answered.png"), full_page=True)
    _submit_stage(page)
    page.screenshot(path=str(artifacts / "player-after-submit.png"), full_page=True)

    after = _normal(main.inner_text())
    missing = [(qid, t) for qid, texts in fragments.items() for t in texts if _normal(t) not in after]
    assert not missing, f"feedback not shown after submitting stage 1: {missing}"
    expect_visible(page.get_by_text(DISCLAIMER, exact=False).first)


def test_pathway_node_click_opens_step_detail(open_app: Any, artifacts: Path) -> None:
    kb = load_knowledge_base()
    pathway = kb.pathways["adult"]
    page = open_app("/pathways")
    main = page.get_by_test_id("stMain")
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(state="visible")

    # The flowchart's node trace: the scatter trace whose points carry the step ids as customdata.
    node_ids = page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const i = gd.data.findIndex(t => Array.isArray(t.customdata)
                && t.customdata.length > 0 && t.customdata.every(c => typeof c === 'string'));
            return i < 0 ? null : {index: i, ids: gd.data[i].customdata};
        }"""
    )
    assert node_ids is not None, "no flowchart node trace (customdata = step ids) in the plotly chart"
    assert set(node_ids["ids"]) <= {s.id for s in pathway.steps}
    target = "refractory" if "refractory" in node_ids["ids"] else node_ids["ids"][0]
    step = pathway.step(target)
    assert _normal(step.summary) not in _normal(main.inner_text()), "detail shown before any click"

    traces = chart.locator(".scatterlayer .trace")
    point = traces.nth(node_ids["index"]).locator(".point").nth(node_ids["ids"].index(target))
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None, f"node {target!r} is not rendered"
    # Plotly's drag layer sits over the markers, so click where the marker is, as a mouse would.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_app_run(page)

    page.get_by_text(step.summary, exact=False).first.wait_for(state="visible")
    text = _normal(main.inner_text())
    assert _normal(step.title) in text
    assert _normal(step.summary) in text
    page.screenshot(path=str(artifacts / "pathways-step-selected.png"), full_page=True)
    expect_visible(page.get_by_text(DISCLAIMER, exact=False).first)


def test_teaching_only_footer_on_every_page(open_app: Any, artifacts: Path) -> None:
    missing, errors, not_found = [], [], []
    # "/" is the case library (the default page); the others are their st.Page url paths.
    for path in ("/", "/player", "/pathways", "/sandbox", "/reference"):
        page = open_app(path)
        name = path.strip("/") or "library"
        page.screenshot(path=str(artifacts / f"page-{name}.png"), full_page=True)
        if page.get_by_test_id("stException").count():
            errors.append(path)
        if page.get_by_text("Page not found").count():
            not_found.append(path)
        # The footer under the page, not only the sidebar's copy of the disclaimer.
        footer = (
            page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").filter(has_text=DISCLAIMER)
        )
        if footer.count() == 0 or not footer.first.is_visible():
            missing.append(path)
    assert not errors, f"exception shown on {errors}"
    assert not not_found, f"'Page not found' on {not_found}"
    assert not missing, f"teaching-only footer ({DISCLAIMER!r}) missing on {missing}"


def expect_visible(locator: Any, timeout_ms: int = 5_000) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=timeout_ms)


def test_deep_link_as_a_fresh_servers_first_request_runs_the_app_shell(
    fresh_server: str, open_app: Any, artifacts: Path
) -> None:
    """A learner's first visit may well be a shared deep link: app.py (navigation, footer) must still run."""
    page = open_app(f"/player?case={CASE_ID}", base_url=fresh_server)
    page.screenshot(path=str(artifacts / "deep-link-first-request.png"), full_page=True)
    expect_visible(page.get_by_test_id("stCaptionContainer").filter(has_text=DISCLAIMER).first)


# ---- A whole case in the browser, every question kind driven by its visible labels. ----------------


def _tick(form: Any, name: str, role: str) -> None:
    _choose(form, role, name)


def _fill_dose(form: Any, question: Any, answer: Any) -> None:
    number = form.get_by_test_id("stNumberInput").filter(has_text=KB.name(question.agent)).locator("input")
    number.fill(f"{answer:g}")
    number.press("Tab")


def _pick(page: Any, box: Any, option: str) -> None:
    """Choose an option of a Streamlit selectbox: click it open (the keyboard opens it if a first click
    only focused it, as happens right after a rerun), then click the option."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    field = box.locator("input")
    field.click()
    choice = page.get_by_role("option", name=option, exact=True)
    try:
        choice.wait_for(state="visible", timeout=1_000)
    except PlaywrightTimeout:
        field.press("ArrowDown")
    choice.click()


def _fill_ordering(page: Any, form: Any, question: Any, answer: Any) -> None:
    for position, option in enumerate(answer, start=1):
        box = form.get_by_test_id("stSelectbox").filter(has_text=KB.name(option)).first
        _pick(page, box, str(position))


DRIVERS: dict[str, Any] = {
    "next_step": lambda page, form, q, a: [
        _tick(form, KB.name(o), "checkbox" if q.multiple else "radio")
        for o in ([a] if isinstance(a, str) else a)
    ],
    "prerequisites": lambda page, form, q, a: [_tick(form, KB.name(o), "checkbox") for o in a],
    "monitoring": lambda page, form, q, a: [_tick(form, KB.name(o), "checkbox") for o in a],
    "dose": lambda page, form, q, a: _fill_dose(form, q, a),
    "ordering": _fill_ordering,
    "reflection": lambda page, form, q, a: form.get_by_test_id("stTextArea").locator("textarea").fill(str(a)),
}


def test_every_kind_has_a_browser_driver() -> None:
    from logic.questions import KINDS

    assert set(DRIVERS) == set(KINDS)


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_the_s2_case_plays_to_the_end_with_order_and_certainty(
    browser: Any, app_server: str, artifacts: Path, viewport: tuple[int, int]
) -> None:
    from logic import best_answers
    from logic.vocabulary import CERTAINTY_LABELS
    from tests.e2e.conftest import RUN_TIMEOUT_MS

    case = load_library([REPO / "cases"], KB).cases[CASE_ID].case
    answers = {**best_answers(case, KB), "reflect": "IVIG can clot."}
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{app_server}/player?case={CASE_ID}")
        wait_for_app_run(page)
        name = f"{viewport[0]}x{viewport[1]}"
        for stage in case.stages:
            form = page.get_by_test_id("stForm").first
            form.wait_for(state="visible")
            certainty_groups = form.get_by_test_id("stRadio").filter(has_text="How sure are you?")
            asked = 0
            for q in stage.questions:
                DRIVERS[q.kind](page, form, q, answers[q.id])
                if q.asks_certainty:
                    group = certainty_groups.nth(asked)
                    group.get_by_text(CERTAINTY_LABELS[3], exact=True).click()
                    asked += 1
            assert certainty_groups.count() == asked
            ordering = any(q.kind == "ordering" for q in stage.questions)
            if ordering:
                form.screenshot(path=str(artifacts / f"player-ordering-form-{name}.png"))
            _submit_stage(page)
            if ordering:  # its feedback, while its stage is the open one
                page.get_by_text("Your position 1").first.wait_for(state="visible")
                text = _normal(page.get_by_test_id("stMain").inner_text())
                assert "In order" in text
                assert "Your certainty: 3 · fairly sure — confident and right" in text
        main = page.get_by_test_id("stMain")
        page.get_by_text("Case complete").first.wait_for(state="visible")
        text = _normal(main.inner_text())
        assert "Total score 100/100" in text.replace("\n", " ") or "100/100" in text
        assert "Your certainty: 3 · fairly sure — confident and right" in text
        page.screenshot(path=str(artifacts / f"player-complete-{name}.png"), full_page=True)
    finally:
        context.close()
