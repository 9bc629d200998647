"""Library benchmark in a real browser: how long the case library takes to render, and a search to
answer, with a department's library (1,000 generated cases) next to the repository's own.

Run from the repository root:  .venv/bin/python bench/bench_library.py [--cases 1000] [--runs 5]
                               [--app-dir /path/to/another/checkout]   (to time another version)

For each library (the repository's cases/, then N cases made by bench_core.generate), a Streamlit
server is started on a free port with MYOTUTOR_CASES_DIR pointing at it and its own throwaway database,
and Debian's Chromium (through Playwright) is timed from the user's side:

  render : a fresh tab opens "/" until the script run has finished and its cards are drawn (the
           server's first load of the folder is warmed up first and reported apart, as "cold");
  search : typing a word in the search box and pressing Enter until the count of matches is updated
           and the run has finished (a word matching about a tenth of the cases).

A FLOOR is timed the same way in the same run: a minimal Streamlit script (written to a temporary
folder) drawing a title, a search box, a caption and twelve bordered cards with a subheader, text and
a button, from constants; what any Streamlit page costs on this machine in this browser.

Medians of --runs. Targets (issue 11): with 1,000 cases the page renders in under 2 s and a search
answers in under 0.5 s. Measured here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_core  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, streamlit_server_at  # noqa: E402

TARGET_RENDER_S = 2.0
TARGET_SEARCH_S = 0.5
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"


def _settled(page: Any, timeout_ms: int = 120_000) -> None:
    """The run is over and drawn: not running, no skeleton left."""
    page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0", timeout=timeout_ms
    )


def _cards(page: Any) -> int:
    return int(page.locator("[data-testid='stButton'] button", has_text="Open in the player").count())


def time_render(browser: Any, url: str) -> float:
    """A fresh tab on the library until its run has finished and the first card is drawn."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_selector(
            "[data-testid='stApp'][data-test-connection-state='CONNECTED']", state="attached"
        )
        page.locator("[data-testid='stButton'] button", has_text="Open in the player").first.wait_for(
            state="visible", timeout=120_000
        )
        _settled(page)
        elapsed = time.perf_counter() - start
        if _cards(page) == 0:
            raise RuntimeError("no case card on the library page")
        return elapsed
    finally:
        context.close()


def time_search(browser: Any, url: str, word: str) -> float:
    """Type a word in the search box and press Enter, until the count of matches has changed and the run is over."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(url + "/")
        page.locator("[data-testid='stButton'] button", has_text="Open in the player").first.wait_for(
            state="visible", timeout=120_000
        )
        _settled(page)
        caption = (
            page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").filter(has_text=" of ").first
        )
        before = caption.inner_text()
        box = page.get_by_label("Search")
        box.fill(word)
        start = time.perf_counter()
        box.press("Enter")
        page.wait_for_function(
            """([before]) => [...document.querySelectorAll("[data-testid='stCaptionContainer']")]
                .some(e => e.innerText.includes(' of ') && e.innerText !== before)""",
            arg=[before],
            timeout=120_000,
        )
        _settled(page)
        return time.perf_counter() - start
    finally:
        context.close()


FLOOR_APP = """
import streamlit as st

st.set_page_config(layout="wide")
st.title("Case library")
query = st.text_input("Search")
cards = [f"Case {i}" for i in range(12) if query.lower() in f"case {i}"]
st.caption(f"{len(cards)} of 12 cases")
columns = st.columns(2)
for n, title in enumerate(cards):
    with columns[n % 2].container(border=True):
        st.subheader(title, anchor=False)
        st.markdown("A summary of the case, two sentences long. " * 2)
        st.button("Open in the player", key=f"open{n}")
"""


def measure_floor(runs: int, browser_type: Any) -> dict[str, Any]:
    """The floor page, timed like the library."""
    with tempfile.TemporaryDirectory(prefix="myotutor-bench-floor-") as tmp:
        app = Path(tmp) / "dashboard"
        app.mkdir()
        (app / "app.py").write_text(FLOOR_APP)
        with streamlit_server_at(Path(tmp)) as url:
            browser = browser_type.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                cold = time_render(browser, url)
                renders = [time_render(browser, url) for _ in range(runs)]
                searches = [time_search(browser, url, "case 1") for _ in range(runs)]
            finally:
                browser.close()
    return {
        "label": "floor (a minimal page)",
        "cases": 12,
        "cold": cold,
        "render": statistics.median(renders),
        "search": statistics.median(searches),
        "renders": renders,
        "searches": searches,
    }


def measure(
    label: str, folder: Path, runs: int, word: str, app_dir: Path, browser_type: Any
) -> dict[str, Any]:
    with streamlit_server_at(app_dir, {"MYOTUTOR_CASES_DIR": str(folder)}) as url:
        browser = browser_type.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            cold = time_render(browser, url)  # the server reads and validates the folder once
            renders = [time_render(browser, url) for _ in range(runs)]
            searches = [time_search(browser, url, word) for _ in range(runs)]
        finally:
            browser.close()
    n = len(list(folder.glob("*.yaml")))
    return {
        "label": label,
        "cases": n,
        "cold": cold,
        "render": statistics.median(renders),
        "search": statistics.median(searches),
        "renders": renders,
        "searches": searches,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000, help="generated library size (default 1000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--app-dir", type=Path, default=REPO, help="the checkout whose app is timed")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory(prefix="myotutor-bench-library-") as tmp, sync_playwright() as p:
        folder = Path(tmp) / "cases"
        folder.mkdir()
        bench_core.generate(folder, args.cases)
        # "case 1" matches the ids and titles of about a tenth of the generated cases.
        results.append(measure_floor(args.runs, p.chromium))
        results.append(
            measure("repository cases/", REPO / "cases", args.runs, "ivig", args.app_dir, p.chromium)
        )
        results.append(
            measure(f"{args.cases} generated cases", folder, args.runs, "case 1", args.app_dir, p.chromium)
        )
    print(
        f"Python {sys.version.split()[0]}, Chromium at {CHROMIUM}, app from {args.app_dir}, medians of {args.runs}"
    )
    floor = results[0]
    print("| library | cases | first load (cold server) | render | vs floor | search | vs floor | targets |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        met = ""
        if r["cases"] >= 1000:
            ok = r["render"] < TARGET_RENDER_S and r["search"] < TARGET_SEARCH_S
            met = f"render < {TARGET_RENDER_S:g} s, search < {TARGET_SEARCH_S:g} s: {'yes' if ok else 'NO'}"
        print(
            f"| {r['label']} | {r['cases']} | {r['cold']:.2f} s | **{r['render']:.2f} s** | "
            f"{r['render'] / floor['render']:.2f}× | **{r['search']:.2f} s** | "
            f"{r['search'] / floor['search']:.2f}× | {met} |"
        )
    for r in results:
        runs = ", ".join(f"{t:.2f}" for t in r["renders"])
        searches = ", ".join(f"{t:.2f}" for t in r["searches"])
        print(f"runs (s) {r['label']}: render {runs}; search {searches}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
