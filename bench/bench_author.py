"""Author page benchmark: the server-side rerun after an edit of a 10-stage case (validate + lint + the
preview of the chosen stage, with its answer keys and pathway position), next to the floor page of
bench_pages.py measured in the same run.

Run from the repository root:  .venv/bin/python bench/bench_author.py [--runs 20]

Setup (untimed): a cases folder of its own, faculty signed in with a passcode, the Author page open with
the 10-stage case in the editor. Timed: one edit (the title changes on every run, so the check is never
served from its memo) and the rerun that follows, under streamlit.testing.v1.AppTest, as in
bench_pages.py. Also timed in-process: check_text (load + validate + lint) of the same text.
Target: page time after an edit < 100 ms.
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

from bench_pages import (  # noqa: E402
    APP,
    TIMEOUT_S,
    _check,
    _timed,
    floor_script,
    measure_all,
    run_floor,
    share_script_cache,
)

TARGET_MS = 100.0
PASSCODE = "bench passcode"
STAGES = 10


def ten_stage_case(case_id: str = "bench-ten-stages") -> str:
    """The adult scaffold grown to ten stages (every later stage like its second), lint-clean."""
    from logic.authoring import scaffold

    text = scaffold(case_id, "adult")
    head, _, later = text.partition('  - title: "Three months later"')
    stage = '  - title: "Three months later"' + later
    stages = [
        stage.replace('"Three months later"', f'"Visit {n}"')
        .replace("monitor-prednisone", f"monitor-{n}")
        .replace("id: reflect", f"id: reflect-{n}")
        for n in range(2, STAGES + 1)
    ]
    return head + "".join(stages)


def author_page(folder: Path, text: str) -> Any:
    from streamlit.testing.v1 import AppTest

    from dashboard import authoring

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("views/account.py").run()
    at.text_input(key="faculty_passcode").set_value(PASSCODE)
    next(b for b in at.button if b.label == "Sign in as faculty").click().run()
    at.switch_page("views/author.py").run()
    at.text_area(key=authoring.TEXT).set_value(text).run()
    _check(at)
    assert any("lint finds nothing" in s.value for s in at.success), "the bench case should be clean"
    return at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="myotutor-bench-author-"))
    os.environ["MYOTUTOR_CASES_DIR"] = str(folder)
    os.environ["MYOTUTOR_FACULTY_PASSCODE"] = PASSCODE
    os.environ.setdefault("MYOTUTOR_DATABASE_URL", f"sqlite:///{folder / 'bench.db'}")
    share_script_cache()

    from dashboard import authoring
    from logic import load_knowledge_base
    from logic.authoring import check_text

    kb = load_knowledge_base()
    text = ten_stage_case()
    checked = check_text(text, folder / "bench-ten-stages.yaml", kb)
    assert checked.ok and not checked.lint and len(checked.loaded.case.stages) == STAGES  # type: ignore[union-attr]

    check_ms = []
    for n in range(args.runs):
        edited = text.replace('title: "New case"', f'title: "Edit {n}"')
        start = time.perf_counter()
        check_text(edited, folder / "bench-ten-stages.yaml", kb)
        check_ms.append((time.perf_counter() - start) * 1e3)

    at = author_page(folder, text)
    floor = run_floor(floor_script(folder))

    def run_author(i: int) -> float:
        edited = text.replace('title: "New case"', f'title: "Edit {i} {time.perf_counter_ns()}"')
        area = at.text_area(key=authoring.TEXT)
        return _timed(lambda: area.set_value(edited).run(), at)

    results = measure_all(
        [("floor", "submit a form", floor), ("author", "edit a 10-stage case", run_author)], args.runs
    )
    for result in results:
        if result.error:
            print(f"{result.name}: n/a ({result.error})")
            return 1
    floor_ms = results[0].median or float("nan")
    author_ms = results[1].median or float("nan")
    print(
        f"10-stage case: {STAGES} stages, {sum(len(s.questions) for s in checked.loaded.case.stages)} questions"
    )  # type: ignore[union-attr]
    print(f"check_text (load + validate + lint), in-process: median {statistics.median(check_ms):.1f} ms")
    print(f"floor  (submit a form)          : median {floor_ms:.1f} ms")
    ok = author_ms < TARGET_MS
    print(
        f"author (edit, check, preview)   : median {author_ms:.1f} ms = {author_ms / floor_ms:.2f}x the floor "
        f"(target < {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
