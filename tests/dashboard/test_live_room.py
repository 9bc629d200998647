"""The room's answers as the projector shows them (pure): a bar per option for choice questions, per
distinct answer for a dose or an order, each graded by the logic; the histogram's colours only at the
reveal; a join link and its QR code."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from dashboard.live.figures import OPEN_COLOUR, room_histogram
from dashboard.live.room import QR_LOOK, CaseGrader, join_qr, join_url, qr_svg, reveal_rows, room_bars
from dashboard.store_live import Vote
from dashboard.style import GRADE_COLOURS
from logic import load_library, stage_plans
from tests.context import KB

LIBRARY = load_library([Path(__file__).parents[2] / "cases"], KB)


def grader_of(case_id: str) -> CaseGrader:
    case = LIBRARY.cases[case_id].case
    return CaseGrader(case, KB, stage_plans(case, KB))


def votes(question_id: str, *rounds: list[Any]) -> list[Vote]:
    return [
        Vote(seat, seat, None, question_id, r, answer, 0)
        for r, answers in enumerate(rounds, start=1)
        for seat, answer in enumerate(answers)
    ]


def question_of(grader: CaseGrader, kind: str) -> Any:
    return next(q for _, q in grader.case.questions() if q.kind == kind)


def test_a_dose_question_gets_a_bar_per_dose_graded_by_scoring_it() -> None:
    grader = next(
        g for g in map(grader_of, LIBRARY.cases) if any(q.kind == "dose" for _, q in g.case.questions())
    )
    question = question_of(grader, "dose")
    stage = grader.stage_of(question.id)
    assert stage is not None
    dose = question.answer_key(grader.plans[stage], KB).dose
    right, far = (dose.low + dose.high) / 2, dose.high * 3
    bars = room_bars(question, votes(question.id, [right, right, far]), grader)
    assert [b.counts for b in bars] == [(2,), (1,)]
    assert bars[0].grade == "recommended" and bars[1].grade == "unsafe"
    assert grader.problem(question.id, right) is None and grader.problem(question.id, "a lot") is not None


def test_an_ordering_question_gets_a_bar_per_order() -> None:
    grader = grader_of("myositis-after-failed-immunosuppression")
    question = question_of(grader, "ordering")
    best = list(
        question.best_answer(question.answer_key(grader.plans[grader.stage_of(question.id) or 0], KB))
    )
    worst = best[::-1]
    bars = room_bars(question, votes(question.id, [best, worst, worst], [best, best, worst]), grader)
    by_key = {b.key: b for b in bars}
    assert by_key[" > ".join(best)].counts == (1, 2) and by_key[" > ".join(best)].grade == "recommended"
    assert by_key[" > ".join(worst)].counts == (2, 1) and by_key[" > ".join(worst)].grade != "recommended"
    assert " → " in by_key[" > ".join(best)].label
    # An order is named by how much of the pathway's order it keeps, not "recommended".
    assert by_key[" > ".join(best)].legend == "The pathway's order"
    assert by_key[" > ".join(worst)].legend == "Mostly out of order"
    shown = json.loads(room_histogram(bars, graded=True).to_json())
    legends = {t["name"] for t in shown["data"] if t.get("showlegend")}
    assert {"The pathway's order", "Mostly out of order"} <= legends and "Recommended" not in legends


def test_the_revealed_order_speaks_to_the_room_not_to_one_learner() -> None:
    grader = grader_of("myositis-after-failed-immunosuppression")
    question = question_of(grader, "ordering")
    rows = reveal_rows(question, grader)
    assert [r.name for r in rows] == [
        "Prednisone",
        "Methotrexate",
        "Intravenous immunoglobulin (IVIG)",
        "Abatacept",
    ]
    assert [r.label for r in rows] == ["Step 1", "Step 1", "Step 2", "Step 3"]  # first-line options tie
    assert all("Your position" not in r.why and not r.chosen for r in rows)
    assert rows[3].why == "Taught at the Refractory step (step 3 of the pathway)."
    next_step = grader.case.stages[0].questions[0]  # other kinds reveal the best answer's own feedback
    assert any(r.label == "Recommended" and "IVIG" in r.name for r in reveal_rows(next_step, grader))


def test_the_histogram_shows_grades_only_at_the_reveal() -> None:
    grader = grader_of("myositis-after-failed-immunosuppression")
    question = grader.case.stages[0].questions[0]
    bars = room_bars(question, votes(question.id, ["ivig", "rituximab"]), grader)
    closed = json.loads(room_histogram(bars, graded=False).to_json())
    assert set(closed["data"][0]["marker"]["color"]) == {OPEN_COLOUR}
    shown = json.loads(room_histogram(bars, graded=True).to_json())
    assert GRADE_COLOURS["recommended"] in shown["data"][0]["marker"]["color"]
    revote = json.loads(
        room_histogram(
            room_bars(question, votes(question.id, ["ivig", "rituximab"], ["ivig", "ivig"]), grader),
            graded=True,
        ).to_json()
    )
    assert "1 → 2" in revote["data"][1]["text"]


def test_the_join_link_and_its_qr_code() -> None:
    url = join_url("https://teach.example.org/myotutor/", "K7M2QD")
    assert url == "https://teach.example.org/myotutor/live?code=K7M2QD"
    svg = qr_svg(url)
    assert svg.startswith("<svg") and "K7M2QD" not in svg  # the data is in the modules, not as text


def scanned(png: bytes) -> list[str]:
    """What a real QR decoder (zxing-cpp, as in phone scanner apps) reads in an image: each QR code's text."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    return [f.text for f in found if f.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize(
    "base_url",
    [
        "https://teach.example.org/myotutor/",
        "http://192.168.1.20:8501",  # a laptop on the room's Wi-Fi
        "https://myositis-teaching.department-of-rheumatology.example.ac.uk/apps/myotutor",
    ],
)
def test_the_join_qr_code_scans_to_the_exact_join_link(base_url: str) -> None:
    """Issue 9, "join by scanning": the QR code the present page draws (join_qr, drawn with QR_LOOK as
    qr_svg draws it, here through segno's PNG writer) decodes to the join link, character for character."""
    url = join_url(base_url, "K7M2QD")
    png = io.BytesIO()
    join_qr(url).save(png, kind="png", **QR_LOOK)
    assert scanned(png.getvalue()) == [url]
    small = io.BytesIO()  # the projector seen from the back of the room: 3 px modules
    join_qr(url).save(small, kind="png", **{**QR_LOOK, "scale": 3})
    assert scanned(small.getvalue()) == [url]
    other = io.BytesIO()  # and the decoder tells codes apart: another session's code is another link
    join_qr(join_url(base_url, "ABCDEF")).save(other, kind="png", **QR_LOOK)
    assert scanned(other.getvalue()) == [join_url(base_url, "ABCDEF")] != [url]
