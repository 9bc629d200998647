"""Analytics benchmark: the faculty Analytics page for a cohort of 300 learners × 8 cases, and the plans
of its queries.

Run from the repository root:  .venv/bin/python bench/bench_analytics.py [--learners 300] [--cases 8] [--backend both]

For each backend (SQLite, and a PostgreSQL server started here as the tests start theirs):

1. Data, through the store's own API (dashboard/demo_cohort.py, as the player writes it): the cohort
   measured (300 simulated learners, each playing the library's first 8 cases, spread over 60 days),
   plus an earlier cohort (--others learners) so that the tables hold other cohorts' rows too and the
   cohort's rows have to be found through an index, as in a department's database.
2. Page time, with streamlit.testing.v1.AppTest (the script runs in-process, as on the server): a
   faculty member opens the Analytics page for the cohort (timed: the rerun that shows it), median of
   --runs after a warm-up; and switching the case shown below (the rerun after choosing another case).
   Next to a FLOOR page rendering the same elements (a selectbox, an expander, five metrics, Markdown,
   two dataframes, the same plotly figures, three download buttons) from content precomputed here.
   Target: the page in under 1 s.
3. The queries' plans: EXPLAIN ANALYZE on PostgreSQL (after ANALYZE), EXPLAIN QUERY PLAN on SQLite,
   for each query the page makes; "index: yes" when the plan reads answer_records / attempts through
   an index.

The SQLite file lives on /dev/shm when there is one (the data is written 20,000 commits at a time
through the store's API; a tmpfs saves the fsyncs, and the page reads from the page cache either way).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboard" / "app.py"
PASSCODE = "bench analytics passcode"
TARGET_S = 1.0
TIMEOUT_S = 120


# ------------------------------------------------------------------------------------------ data
def bench_cases(n: int) -> list[Any]:
    """The first n cases of the library, by id (the cases every learner plays)."""
    from logic import load_knowledge_base, load_library

    library = load_library([REPO / "cases"], load_knowledge_base())
    return [library.cases[c] for c in sorted(library.cases)[:n]]


def generate(url: str, learners: int, others: int, n_cases: int) -> tuple[int, dict[str, float]]:
    """The measured cohort (and an earlier one) through the store's API; returns its id and figures."""
    from dashboard.demo_cohort import make_demo_cohort
    from dashboard.store import Store
    from logic import load_knowledge_base

    kb = load_knowledge_base()
    cases = bench_cases(n_cases)
    store = Store(url)
    try:
        start = time.perf_counter()
        if others:
            make_demo_cohort(store, cases, kb, learners=others, name="Year 4, last year", variant=2, days=60)
        cohort = make_demo_cohort(
            store,
            cases,
            kb,
            learners=learners,
            name="Year 4",
            variant=1,
            days=60,
            progress=lambda i, n: print(f"\r  generating: {i}/{n} learners", end="", flush=True),
        )
        took = time.perf_counter() - start
        print()
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            from sqlalchemy import func, select

            from dashboard.schema import AnswerRecord, AttemptRow

            answers = conn.scalar(select(func.count()).select_from(AnswerRecord)) or 0
            mine = conn.scalar(select(func.count()).where(AnswerRecord.cohort_id == cohort.id)) or 0
            attempts = conn.scalar(select(func.count()).select_from(AttemptRow)) or 0
            # The planner's statistics, and the dead rows of the date spreading cleared, as autovacuum would.
            conn.exec_driver_sql("VACUUM ANALYZE" if store.engine.dialect.name == "postgresql" else "ANALYZE")
        return cohort.id, {
            "cases": len(cases),
            "answers": answers,
            "answers of the cohort": mine,
            "attempts": attempts,
            "generation s": took,
        }
    finally:
        store.close()


# ---------------------------------------------------------------------------------------- pages
def share_script_cache() -> None:
    """Compile each script once per process, as the server does (see bench_pages.py)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    for module in (app_test, local_script_runner):
        setattr(module, "ScriptCache", lambda: shared)  # noqa: B010 (a module attribute, patched)


def _check(at: Any) -> None:
    if at.exception:
        raise RuntimeError("page raised: " + "; ".join(str(e.value)[:300] for e in at.exception))


def faculty_on_analytics(cohort_id: int) -> Any:
    """An AppTest session signed in as faculty, on the Analytics page of the cohort (untimed)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("views/account.py").run()
    at.text_input(key="faculty_passcode").set_value(PASSCODE)
    next(b for b in at.button if b.label == "Sign in as faculty").click().run()
    _check(at)
    at.query_params["cohort"] = str(cohort_id)
    at.switch_page("views/analytics.py").run()
    _check(at)
    if not at.metric:
        raise RuntimeError("the analytics page shows no figures: " + str([i.value for i in at.info]))
    return at


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def page_times(cohort_id: int, runs: int, n_cases: int) -> dict[str, list[float]]:
    at = faculty_on_analytics(cohort_id)
    cases = [c.case.id for c in bench_cases(n_cases)]
    times: dict[str, list[float]] = {"open the cohort's analytics": [], "choose another case": []}
    from dashboard.analytics_figures import clear_flowcharts

    for i in range(-1, runs):  # -1: warm-up
        clear_flowcharts()  # the flowchart drawn afresh, as on a first view
        shown = timed(at.run)
        _check(at)
        box, case_id = at.selectbox(key="an_case"), cases[(i + 2) % len(cases)]
        switched = timed(lambda: box.set_value(case_id).run())  # noqa: B023 (called at once)
        _check(at)
        if i >= 0:
            times["open the cohort's analytics"].append(shown)
            times["choose another case"].append(switched)
    return times


def floor_script(folder: Path, cohort_id: int) -> Path:
    """A page with the Analytics page's elements, from content precomputed here: the same figures."""
    at = faculty_on_analytics(cohort_id)
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    tables = [d.value.to_dict(orient="records") for d in at.dataframe]
    metrics = [(m.label, m.value) for m in at.metric]
    texts = [m.value for m in at.markdown][:30]
    data = folder / "floor.json"
    data.write_text(
        json.dumps({"figures": figures, "tables": tables, "metrics": metrics, "texts": texts}, default=str)
    )
    script = folder / "floor_page.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json
            import plotly.graph_objects as go
            import streamlit as st


            @st.cache_resource
            def precomputed():
                content = json.loads(open({str(data)!r}).read())
                return content, [go.Figure(f) for f in content["figures"]]


            C, FIGURES = precomputed()
            st.title("Analytics")
            st.selectbox("Cohort", ["Year 4", "Last year"], key="cohort")
            with st.expander("Dates and attempts"):
                st.date_input("From", value=None, key="from")
            row = st.container(horizontal=True)
            for label, value in C["metrics"]:
                row.metric(label, value, border=True, width=170)
            for text in C["texts"][:2]:
                st.markdown(text)
            st.plotly_chart(FIGURES[0], key="f0")
            for n, table in enumerate(C["tables"]):
                st.dataframe(table, hide_index=True, key=f"t{{n}}")
            st.selectbox("Case", ["a", "b"], key="case")
            for n, figure in enumerate(FIGURES[1:], start=1):
                with st.container(border=True):
                    left, right = st.columns([3, 2])
                    left.plotly_chart(figure, key=f"f{{n}}")
                    right.markdown(C["texts"][n % len(C["texts"])])
            for label in ("Answers (CSV)", "Attempts (CSV)", "xAPI statements"):
                st.download_button(label, lambda: "x", file_name="x.csv", on_click="ignore", key=label)
            st.button("rerun")
            """
        )
    )
    return script


def floor_times(script: Path, runs: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S)
    at.run()
    _check(at)
    out = []
    for i in range(-1, runs):
        took = timed(at.run)
        _check(at)
        if i >= 0:
            out.append(took)
    return out


# ---------------------------------------------------------------------------------------- plans
def queries(cohort_id: int, case_id: str, questions: list[tuple[str, str]]) -> dict[str, Any]:
    from sqlalchemy import distinct, func, select

    from dashboard import store_analytics as sa
    from dashboard.schema import AttemptRow

    scope = sa.Scope(cohort_id)
    return {
        "case activity (attempts)": sa.case_activity_query(scope),
        "learners who played": select(func.count(distinct(AttemptRow.learner_id))).where(
            *sa.attempt_filter(scope)
        ),
        "question activity (answers)": sa.question_activity_query(scope),
        "answers of one case": sa.choices_query(scope, case_id),
        "answers counted by choice": sa.choice_count_query(scope, questions),
        "stage times (medians)": sa.stage_time_query(scope),
        "attempt times": sa.attempt_time_query(scope),
        "question activity, first attempts": sa.question_activity_query(
            sa.Scope(cohort_id, first_attempts=True)
        ),
        "export: answers (first batch)": sa.export_answers_query(scope).limit(sa.EXPORT_BATCH),
    }


def explain(
    url: str, cohort_id: int, case_id: str, questions: list[tuple[str, str]]
) -> list[tuple[str, bool, float | None, str]]:
    """(query, reads answer_records/attempts through an index, execution ms, plan) per query."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    out = []
    try:
        with engine.connect() as conn:
            postgres = engine.dialect.name == "postgresql"
            for name, query in queries(cohort_id, case_id, questions).items():
                compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
                sql = str(compiled)
                if postgres:
                    lines = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")]
                    took = next(
                        (float(x.split(":")[1].split()[0]) for x in lines if x.startswith("Execution Time")),
                        None,
                    )
                    indexed = any("Index" in x and ("answer_records" in x or "attempts" in x) for x in lines)
                    full_scans = [
                        x for x in lines if "Seq Scan on answer_records" in x or "Seq Scan on attempts" in x
                    ]
                    indexed = indexed and not full_scans
                else:
                    lines = [
                        " ".join(str(c) for c in r[1:])
                        for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
                    ]
                    start = time.perf_counter()
                    conn.exec_driver_sql(sql).fetchall()
                    took = (time.perf_counter() - start) * 1e3
                    indexed = any("USING" in x and "INDEX" in x for x in lines) and not any(
                        x.strip().startswith("SCAN answer_records") or x.strip().startswith("SCAN attempts")
                        for x in lines
                    )
                out.append((name, indexed, took, "\n".join(lines)))
    finally:
        engine.dispose()
    return out


# ------------------------------------------------------------------------------------------ main
@contextmanager
def backend(name: str) -> Iterator[str]:
    if name == "sqlite":
        root = "/dev/shm" if Path("/dev/shm").is_dir() else None
        with tempfile.TemporaryDirectory(prefix="myotutor-bench-analytics-", dir=root) as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    sys.path.insert(0, str(REPO))
    from tests.dashboard.postgres import postgres_server, server_bin

    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    with postgres_server(bin_dir) as url:
        yield url


def run_backend(name: str, args: argparse.Namespace) -> None:
    print(f"\n## {name}\n")
    with backend(name) as url:
        os.environ["MYOTUTOR_DATABASE_URL"] = url
        cohort_id, figures = generate(url, args.learners, args.others, args.cases)
        print(
            f"{args.learners} learners × {figures['cases']:.0f} cases (+ {args.others} learners of an earlier "
            f"cohort): {figures['answers of the cohort']:.0f} answer records of the cohort, "
            f"{figures['answers']:.0f} in all, {figures['attempts']:.0f} attempts; generated through the "
            f"store's API in {figures['generation s']:.0f} s\n"
        )
        times = page_times(cohort_id, args.runs, args.cases)
        with tempfile.TemporaryDirectory(prefix="myotutor-bench-floor-") as folder:
            floor = floor_times(floor_script(Path(folder), cohort_id), args.runs)
        floor_ms = statistics.median(floor) * 1e3
        print(f"AppTest reruns, median of {args.runs} (after a warm-up)\n")
        print("| page | median ms | p90 ms | ratio to floor | target | met? |")
        print("|---|---|---|---|---|---|")
        print(
            f"| floor (same elements, precomputed) | {floor_ms:.0f} | {sorted(floor)[int(0.9 * len(floor)) - 1] * 1e3:.0f} | 1.00× | | |"
        )
        for label, values in times.items():
            median = statistics.median(values)
            p90 = sorted(values)[max(0, int(round(0.9 * len(values))) - 1)]
            target = f"< {TARGET_S:g} s" if label.startswith("open") else ""
            met = ("yes" if median < TARGET_S else "NO") if target else ""
            print(
                f"| analytics: {label} | {median * 1e3:.0f} | {p90 * 1e3:.0f} | {median * 1e3 / floor_ms:.2f}× | {target} | {met} |"
            )
        first = bench_cases(args.cases)[0].case
        questions = [(first.id, q.id) for _, q in first.questions()][:3]  # as the first screen's table asks
        plans = explain(url, cohort_id, first.id, questions)
        kind = (
            "EXPLAIN (ANALYZE, BUFFERS)"
            if name == "postgres"
            else "EXPLAIN QUERY PLAN (and the query run once)"
        )
        print(f"\n### Query plans ({kind})\n")
        print("| query | index | ms |")
        print("|---|---|---|")
        for query, indexed, took, _ in plans:
            print(f"| {query} | {'yes' if indexed else 'NO'} | {'' if took is None else f'{took:.1f}'} |")
        for query, _, _, plan in plans:
            print(f"\n-- {query}\n{plan}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument(
        "--cases", type=int, default=8, help="cases each learner plays (the library's first, by id)"
    )
    parser.add_argument(
        "--others", type=int, default=100, help="learners of an earlier cohort in the same tables"
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--apptest-compile", action="store_true", help="keep AppTest's per-run compilation")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import logging

    logging.disable(logging.CRITICAL)
    os.environ["MYOTUTOR_FACULTY_PASSCODE"] = PASSCODE
    if not args.apptest_compile:
        share_script_cache()
    for name in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run_backend(name, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
