"""Page benchmark: server-side rerun time of each dashboard page after a typical interaction.

Run from the repository root:  .venv/bin/python bench/bench_pages.py [--runs 20]

Each page runs under streamlit.testing.v1.AppTest (the script runs in-process, as on the server, with
no browser and no websocket). For every run a fresh AppTest opens the page and prepares the state
(untimed); only the rerun that follows the interaction is timed:

  library   : type a query in the search box              (text_input "lib_search")
  player    : submit stage 1 of the S2 case (best answers) (the stage's form submit button)
  pathways  : choose a step                                (selectbox "pw_step")
  sandbox   : change serum IgA                             (radio "sb_iga")
  reference : search the formulary                         (text_input "ref_search")

The FLOOR is a minimal script (written to a temporary file) rendering the same kinds of elements as the
case player -- Markdown narrative, a labs dataframe, a plotly trend figure, a form with a radio, checkboxes
and a number input, feedback Markdown after submit and then the next stage's form with the widgets of its
question kinds, as the player draws it -- from precomputed content with no logic; its timed interaction is
the same: submitting the form. Ratios are page / floor, both measured in this run.
The first run of each page warms caches and imports and is not counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.dashboard.drive fills the player's forms, as in the tests
APP = REPO / "dashboard" / "app.py"
S2 = "myositis-after-failed-immunosuppression"
TARGET_PLAYER_RATIO = 1.5
TARGET_PLAYER_MS = 50.0
TARGET_PAGE_RATIO = {"pathways": 2.0, "sandbox": 2.0}  # issue 11: within 2x the floor
PLAYER_FLOOR = "floor + the next stage's form"  # the player's floor: after a submit it draws the next form
TIMEOUT_S = 60


@dataclass
class Result:
    name: str
    interaction: str
    times_ms: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times_ms) if self.times_ms else None


# --------------------------------------------------------------------------- the pages


def _app() -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    _check(at)
    return at


def _check(at: Any) -> None:
    if at.exception:
        raise RuntimeError("page raised: " + "; ".join(str(e.value)[:200] for e in at.exception))


def _open(page: str, query: dict[str, str] | None = None) -> Any:
    at = _app()
    at.switch_page(f"views/{page}.py")
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    _check(at)
    return at


def _timed(action: Callable[[], Any], at: Any) -> float:
    start = time.perf_counter()
    action()
    elapsed = (time.perf_counter() - start) * 1e3
    _check(at)
    return elapsed


def run_library(i: int) -> float:
    at = _app()  # the library is the default page
    box = at.text_input(key="lib_search")
    return _timed(lambda: box.input(("immunosuppression", "ivig", "juvenile", "rituximab")[i % 4]).run(), at)


def run_player(i: int) -> float:
    from dashboard.player.progress import STORE
    from logic import best_answers, load_knowledge_base, load_library
    from tests.dashboard.drive import fill_stage

    kb = load_knowledge_base()
    case = load_library([REPO / "cases" / f"{S2}.yaml"], kb).cases[S2].case
    answers = {**best_answers(case, kb), "reflect": "A thought."}
    at = _open("player", {"case": S2})
    fill_stage(at, case, 0, answers)
    submit = [b for b in at.button if b.label.startswith("Submit stage 1")]
    if len(submit) != 1:
        raise RuntimeError(f"no single 'Submit stage 1' button: {[b.label for b in at.button]}")
    elapsed = _timed(lambda: submit[0].click().run(), at)
    if 0 not in at.session_state[STORE][case.id]["submitted"]:
        raise RuntimeError("stage 1 was not recorded as submitted")
    return elapsed


def run_pathways(i: int) -> float:
    at = _open("pathways")
    steps = ("refractory", "steroid_sparing", "severe", "first_line")
    return _timed(lambda: at.selectbox(key="pw_step").set_value(steps[i % len(steps)]).run(), at)


def run_sandbox(i: int) -> float:
    at = _open("sandbox")
    radio = at.radio(key="sb_iga")
    new = next(o for o in ("deficient", "normal", "unknown") if o != radio.value)
    return _timed(lambda: radio.set_value(new).run(), at)


def run_reference(i: int) -> float:
    at = _open("reference")
    return _timed(
        lambda: at.text_input(key="ref_search").input(("calcineurin", "ivig", "JAK")[i % 3]).run(), at
    )


# --------------------------------------------------------------------------- the floor


def floor_script(folder: Path, next_stage: bool = False) -> Path:
    """A minimal page with the case player's kinds of elements, from content computed here, not there;
    with ``next_stage``, after the submit also the next stage's form, as the player draws it (the floor of
    the player's own ratio)."""
    import plotly.graph_objects as go

    from dashboard.figures import trend_figure  # type: ignore[attr-defined]
    from logic import load_knowledge_base, load_library

    kb = load_knowledge_base()
    case = load_library([REPO / "cases" / f"{S2}.yaml"], kb).cases[S2].case
    stage = case.stages[0]
    try:
        figure = trend_figure(stage.data.series)  # the player's own figure, precomputed
    except Exception:  # any signature: a comparable two-point-trace figure
        s = stage.data.series[0]
        figure = go.Figure(
            go.Scatter(x=[p[0] for p in s.points], y=[p[1] for p in s.points], mode="lines+markers")
        )

    def describe(questions: Any) -> list[dict[str, Any]]:
        return [
            {
                "kind": q.kind,
                "prompt": q.prompt,
                "options": [kb.name(o) for o in getattr(q, "options", ())],
                "certainty": q.asks_certainty,
            }
            for q in questions
        ]

    content = {
        "title": case.title,
        "summary": case.summary,
        "narratives": [s.narrative for s in case.stages[:2]],
        "labs": [
            {k: "" if v is None else str(v) for k, v in row.model_dump().items()} for row in stage.data.labs
        ],
        "figure": figure.to_plotly_json(),
        "questions": describe(stage.questions),
        "next_questions": describe(case.stages[1].questions),  # drawn once stage 1 is submitted
        "feedback": "Intravenous immunoglobulin (IVIG) is the recommended next step. " * 3,
    }
    if not next_stage:
        content["next_questions"] = []
    name = "floor_next_stage" if next_stage else "floor"
    data = folder / f"{name}_content.json"
    data.write_text(json.dumps(content, default=str))
    script = folder / f"{name}_page.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json
            import pandas as pd
            import plotly.graph_objects as go
            import streamlit as st


            @st.cache_resource
            def precomputed():
                content = json.loads(open({str(data)!r}).read())
                return content, go.Figure(content["figure"])


            C, FIGURE = precomputed()
            st.title(C["title"])
            st.caption(C["summary"])
            st.progress(0.33, text="Stage 1 of 3")
            for n in C["narratives"][:1]:
                st.markdown(n)
            st.dataframe(pd.DataFrame(C["labs"]), hide_index=True)
            st.plotly_chart(FIGURE, key="trend", config={{"displayModeBar": False}})
            # A stage's form: each question's prompt and its kind's widgets, as the player draws them.
            def questions_form(name, questions, prefix, button):
                with st.form(name):
                    for i, q in enumerate(questions):
                        key = f"{{prefix}}{{i}}"
                        st.markdown(q["prompt"])
                        if q["kind"] == "next_step":
                            st.radio("Answer", q["options"], index=None, key=key)
                        elif q["kind"] in ("prerequisites", "monitoring"):
                            for j, o in enumerate(q["options"]):
                                st.checkbox(o, key=f"{{key}}:{{j}}")
                        elif q["kind"] == "dose":
                            st.number_input("Dose", value=None, key=key)
                        elif q["kind"] == "ordering":
                            for j, o in enumerate(q["options"]):
                                st.selectbox(o, range(1, len(q["options"]) + 1), index=None, key=f"{{key}}:{{j}}")
                        elif q["kind"] == "reflection":
                            st.text_area("Answer", key=key)
                        if q["certainty"]:
                            st.radio("How sure are you?", ["1", "2", "3", "4"], index=None, key=f"{{key}}:c")
                    return st.form_submit_button(button)


            submitted = questions_form("stage", C["questions"], "q", "Submit stage 1")
            if submitted or st.session_state.get("done"):
                st.session_state["done"] = True
                for q in C["questions"]:
                    st.success(C["feedback"])
                if C["next_questions"]:
                    st.markdown(C["narratives"][1])
                    questions_form("stage 2", C["next_questions"], "n", "Submit stage 2")
            st.divider()
            st.caption("For teaching only.")
            """
        )
    )
    return script


def run_floor(script: Path) -> Callable[[int], float]:
    from streamlit.testing.v1 import AppTest

    def run(i: int) -> float:
        at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S)
        at.run()
        _check(at)
        at.radio(key="q0").set_value(at.radio(key="q0").options[0])
        button = at.button[0]
        return _timed(lambda: button.click().run(), at)

    return run


def run_empty(script: Path) -> Callable[[int], float]:
    """AppTest's own cost: a one-line script rerun by a button."""
    from streamlit.testing.v1 import AppTest

    def run(i: int) -> float:
        at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S)
        at.run()
        return _timed(lambda: at.button[0].click().run(), at)

    return run


# --------------------------------------------------------------------------- main


def share_script_cache() -> None:
    """Compile each script once per process, as the server does (its Runtime holds one ScriptCache).

    AppTest builds a new ScriptCache on every run, so each timed rerun would otherwise re-read, AST-rewrite
    ("magic") and compile app.py and the page: tens of ms for a long page that the server pays only once.
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared  # type: ignore[assignment,misc]
    local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment,misc]


def measure_all(pages: list[tuple[str, str, Callable[[int], float]]], runs: int) -> list[Result]:
    """Round-robin: run i of every page, then run i+1 of every page, so machine noise hits all alike."""
    results = [Result(name, interaction) for name, interaction, _ in pages]
    for i in range(-1, runs):  # -1: warm-up (imports, st.cache_* entries, the knowledge base), not counted
        for result, (_, _, fn) in zip(results, pages, strict=True):
            if result.error is not None:
                continue
            try:
                elapsed = fn(i)
            except Exception as exc:  # a page still under construction: report, never crash
                last = traceback.extract_tb(exc.__traceback__)[-1]
                where = f"{Path(last.filename).name}:{last.lineno}"
                result.error = f"{type(exc).__name__}: {str(exc)[:160]} (at {where})"
                result.times_ms.clear()
                continue
            if i >= 0:
                result.times_ms.append(elapsed)
    return results


def profile_player(runs: int = 5, top: int = 30) -> str:
    """cProfile the timed part (the submit rerun) of the player, summed over a few runs."""
    return profile_page(run_player, runs, top)


def profile_page(run: Callable[[int], float], runs: int = 5, top: int = 30) -> str:
    """cProfile the timed part (the rerun after the interaction) of a page, summed over a few runs.

    The script runs in AppTest's script thread, which cProfile on this thread cannot see: the profiler is
    enabled inside ScriptRunner._run_script, only while a timed interaction is under way.
    """
    import cProfile
    import io
    import pstats

    from streamlit.runtime.scriptrunner import script_runner as sr

    prof = cProfile.Profile()
    state = {"on": False}
    original_run = sr.ScriptRunner._run_script
    original_timed = globals()["_timed"]

    def run_script(self: Any, rerun_data: Any) -> None:
        if not state["on"]:
            return original_run(self, rerun_data)
        prof.enable()
        try:
            return original_run(self, rerun_data)
        finally:
            prof.disable()

    def timed(action: Callable[[], Any], at: Any) -> float:
        state["on"] = True
        try:
            return original_timed(action, at)
        finally:
            state["on"] = False

    sr.ScriptRunner._run_script = run_script  # type: ignore[method-assign]
    globals()["_timed"] = timed
    try:
        for i in range(runs):
            run(i)
    finally:
        sr.ScriptRunner._run_script = original_run  # type: ignore[method-assign]
        globals()["_timed"] = original_timed
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(r"(dashboard|logic)[/\\]", top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--apptest-compile",
        action="store_true",
        help="keep AppTest's per-run script compilation (default: one shared ScriptCache, as on the server)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the player's submit rerun")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import logging

    # Quiet: "missing ScriptRunContext" when the bench reads session_state; page errors surface through
    # AppTest's at.exception and are reported in the table.
    logging.disable(logging.CRITICAL)
    if not args.apptest_compile:
        share_script_cache()

    with tempfile.TemporaryDirectory(prefix="myotutor-bench-pages-") as tmp:
        folder = Path(tmp)
        empty = folder / "empty_page.py"
        empty.write_text("import streamlit as st\nst.button('rerun')\nst.write('ok')\n")
        floor = floor_script(folder)
        player_floor = floor_script(folder, next_stage=True)
        t0 = time.perf_counter()
        pages = [
            ("floor (minimal page)", "submit the form", run_floor(floor)),
            (PLAYER_FLOOR, "submit the form", run_floor(player_floor)),
            ("library", "type in the search box", run_library),
            ("player", "submit stage 1 of S2", run_player),
            ("pathways", "choose a step", run_pathways),
            ("sandbox", "change IgA", run_sandbox),
            ("reference", "search the formulary", run_reference),
            ("(AppTest overhead: 1-line script)", "click a button", run_empty(empty)),
        ]
        results = measure_all(pages, args.runs)
        wall = time.perf_counter() - t0

    floor_ms = results[0].median
    player_floor_ms = next(r.median for r in results if r.name == PLAYER_FLOOR)
    compile_note = (
        "scripts recompiled every run (AppTest default)"
        if args.apptest_compile
        else ("scripts compiled once per process, as on the server")
    )
    print(
        f"AppTest reruns, median of {args.runs} (after 1 warm-up) per page; {compile_note}; {wall:.0f}s in all\n"
    )
    print("| page | interaction | median ms | p90 ms | ratio to floor | target | met? |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if r.median is None:
            print(f"| {r.name} | {r.interaction} | n/a | n/a | n/a | | {r.error} |")
            continue
        p90 = sorted(r.times_ms)[max(0, int(round(0.9 * len(r.times_ms))) - 1)]
        ratio = r.median / floor_ms if floor_ms else float("nan")
        target, met = "", ""
        if r.name == "player":  # against the floor that also draws the next stage's form, as the player does
            ratio = r.median / player_floor_ms if player_floor_ms else float("nan")
            target = (
                f"<= {TARGET_PLAYER_RATIO:g}x its floor (with the next form) and < {TARGET_PLAYER_MS:g} ms"
            )
            met = "yes" if ratio <= TARGET_PLAYER_RATIO and r.median < TARGET_PLAYER_MS else "NO"
            target += f"; {r.median / floor_ms:.2f}x the minimal page" if floor_ms else ""
        elif r.name in TARGET_PAGE_RATIO:
            target = f"<= {TARGET_PAGE_RATIO[r.name]:g}x floor"
            met = "yes" if ratio <= TARGET_PAGE_RATIO[r.name] else "NO"
        ratio_text = "1.00x" if r is results[0] else f"{ratio:.2f}x"
        print(
            f"| {r.name} | {r.interaction} | {r.median:.1f} | {p90:.1f} | {ratio_text} | {target} | {met} |"
        )
        if r.name == "player" and met == "NO":
            args.profile = True
    if args.profile:
        print("\n### profile: case player, submit stage 1 (5 runs; script thread only)\n")
        try:
            print(profile_player())
        except Exception as exc:
            print(f"profile failed: {type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
