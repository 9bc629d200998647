"""Nothing a URL or a case carries is rendered as active content, on any page or in any export.

A case whose every text field carries images, script/data/http links and raw HTML is played through;
every string the app sends to be rendered as Markdown (bodies, headings, alerts, captions, widget and
expander labels, help) is parsed and must hold no image, no link but https or relative ones, no
HTML, and nothing GitHub's autolinking turns into another link; figures hold no HTML link or image.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from dashboard.export import to_markdown, to_notebook_json
from logic import best_answers, load_library, score_case
from tests.context import KB
from tests.dashboard.drive import with_certainties
from tests.logic.test_markdown import active_content

from .conftest import S2_FILE, walk
from .test_player_page import answer_stage, open_player

PAYLOAD = (
    "![px](https://evil.example/p.png) [x](javascript:alert(1)) [y](data:text/html,hi) "
    "http://evil.example/h <img src=https://evil.example/i.png>"
)
MARKDOWN_FIELDS = {"body", "label", "help", "caption"}


def hostile_case(folder: Path) -> str:
    data: dict[str, Any] = yaml.safe_load(S2_FILE.read_text())
    data["id"] = "hostile"
    for key in ("title", "summary", "author"):
        data[key] = f"{data[key]} {PAYLOAD}"
    data["objectives"] = [f"{o} {PAYLOAD}" for o in data["objectives"]]
    data["tags"] = [*data["tags"], PAYLOAD]
    for stage in data["stages"]:
        stage["title"] += " " + PAYLOAD
        stage["narrative"] += "\n" + PAYLOAD + "\n"
        for question in stage.get("questions", []):
            question["prompt"] += " " + PAYLOAD
            if question["kind"] == "dose":
                question["unit"] = "g/course " + PAYLOAD
            if question["kind"] == "reflection":
                question["discussion"] = f"{question.get('discussion', '')} {PAYLOAD}"
        for lab in (stage.get("data") or {}).get("labs", []):
            lab["test"] = f"{lab['test']} {PAYLOAD}"
            lab["reference"] = PAYLOAD
        for series in (stage.get("data") or {}).get("series", []):
            series["name"] += " <a href='https://evil.example'>x</a> <img src=https://evil.example/s.png>"
            series["unit"] = "U/L <b>x</b>"
    (folder / "hostile.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return "hostile"


def markdown_strings(at: AppTest) -> Iterator[tuple[str, str]]:
    """(field, text) of every string the frontend renders as Markdown."""

    def strings(message: Message) -> Iterator[tuple[str, str]]:
        for field, value in message.ListFields():
            repeated = not isinstance(value, str | bytes | Message) and hasattr(value, "__iter__")
            values = value if repeated else [value]
            for item in values:
                if isinstance(item, Message):
                    yield from strings(item)
                elif isinstance(item, str) and field.name in MARKDOWN_FIELDS:
                    yield field.name, item

    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            yield from strings(proto)


def figure_specs(at: AppTest) -> list[str]:
    return [n.proto.spec for n in walk(at._tree) if type(n).__name__ == "PlotlyChart"]


def assert_inert(at: AppTest) -> int:
    """No active content anywhere on the page; returns how many strings carried the payload's text."""
    carrying = 0
    for field, text in markdown_strings(at):
        assert active_content(text) == [], (field, text)
        carrying += "evil.example" in text or "alert(1)" in text
    for spec in figure_specs(at):
        assert "<a " not in spec and "<img" not in spec and "<b>" not in spec, spec[:2000]
    return carrying


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MYOTUTOR_CASES_DIR", str(tmp_path))
    return hostile_case(tmp_path)


def test_the_payload_is_active_content_unsanitised() -> None:
    assert len(active_content(PAYLOAD)) == 5


def test_library_renders_a_hostile_case_inert(app: Callable[[], AppTest], hostile: str) -> None:
    at = app()
    at.run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][0].startswith("Myositis after failed")
    assert assert_inert(at) >= 3  # title, summary, author, tags at least: shown as text, not dropped


def test_player_renders_a_hostile_case_inert_through_to_the_end(
    app: Callable[[], AppTest], hostile: str, tmp_path: Path
) -> None:
    at = open_player(app, hostile)
    assert assert_inert(at) >= 4
    case = load_library([tmp_path], KB).cases[hostile].case
    answers = best_answers(case, KB)
    answers["reflect"] = "[mine](javascript:alert(1)) ![me](https://evil.example/me.png)"
    answers = with_certainties(case, answers)
    for i in range(len(case.stages)):
        answer_stage(at, case, i, answers)
        assert assert_inert(at) >= 4
    assert any("Case complete" in h.value for h in at.subheader)


def test_sandbox_shows_a_hostile_case_title_inert(app: Callable[[], AppTest], hostile: str) -> None:
    at = app()
    at.run()
    at.switch_page("views/sandbox.py").run()
    at.selectbox(key="sb_case").set_value(hostile).run()
    at.button(key="sb_load").click().run()
    assert not at.exception, at.exception
    assert assert_inert(at) >= 1


@pytest.mark.parametrize("page", ["views/library.py", "views/player.py"])
@pytest.mark.parametrize(
    "value",
    [
        "[Your session expired: sign in again](https://evil.example/login)",
        "![x](https://evil.example/track.png)",
        "no-such-case **bold** http://evil.example www.evil.example",
    ],
)
def test_a_case_link_from_the_url_is_never_rendered_as_markdown(
    app: Callable[[], AppTest], page: str, value: str
) -> None:
    at = app()
    at.run()
    if page != "views/library.py":
        at.switch_page(page)
    at.query_params["case"] = value
    at.run()
    assert not at.exception, at.exception
    assert at.warning, "an unknown case link is reported"
    for field, text in markdown_strings(at):
        assert active_content(text) == [], (field, text)
        assert "](https://evil" not in text and "**bold**" not in text, (field, text)


def test_exports_carry_no_active_content(tmp_path: Path) -> None:
    hostile_case(tmp_path)
    case = load_library([tmp_path], KB).cases["hostile"].case
    answers = best_answers(case, KB)
    answers["reflect"] = "[mine](javascript:alert(1)) <img src=https://evil.example/me.png>"
    score = score_case(case, answers, KB)
    markdown = to_markdown(case, answers, score, KB)
    assert active_content(markdown) == [], [a for a in active_content(markdown)]
    assert "g/course" in markdown
    cells = json.loads(to_notebook_json(case, answers, score, KB))["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        assert active_content(source) == [], source


def test_the_analytics_chart_shows_case_text_inert() -> None:
    """The faculty chart of troubled questions names the case and the question: as text, not plotly markup."""
    from dashboard.analytics import Trouble
    from dashboard.analytics_figures import trouble_figure

    hostile = Trouble(
        case_id="hostile",
        case_title="Case <a href='https://evil.example'>click</a>",
        stage_index=0,
        stage_title="Stage <b>x</b>",
        question_id="q",
        prompt="Which <img src=https://evil.example/p.png> next?",
        answers=10,
        unsafe=2,
        wrong=5,
        mean_score=50.0,
        confident_wrong=0,
        with_certainty=0,
    )
    spec = trouble_figure([hostile]).to_json()
    assert "<a " not in spec and "<img" not in spec
    assert "&lt;a href" in spec  # shown, as text
