"""The cohort export buttons (CSV of answers, CSV of attempts, xAPI statements), shared by the Cohorts
and Analytics pages. The files are made when a button is clicked (Streamlit calls the function then,
outside the page's run), from the store and the scope given here: nothing is computed on page loads.
Only faculty pages call this, after auth.require_faculty()."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

import streamlit as st

from dashboard.cohort_export import answers_csv, attempts_csv, xapi_jsonl
from dashboard.store import Store
from dashboard.store_analytics import Scope
from logic import KnowledgeBase, LoadedCase

FALLBACK_BASE = "http://localhost"  # xAPI ids when no browser URL is known (a test run)


def file_stem(label: str) -> str:
    """myotutor-<label>-<date> in lower-case letters, digits and hyphens (label: a cohort's name)."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40].strip("-") or "export"
    return f"myotutor-{slug}-{datetime.now(UTC):%Y-%m-%d}"


def export_buttons(
    store: Store,
    scope: Scope,
    label: str,
    cases: Mapping[str, LoadedCase],
    kb: KnowledgeBase,
    base_url: str,
    key: str,
) -> None:
    stem = file_stem(label)
    base = base_url or FALLBACK_BASE
    answers, attempts, xapi = st.columns(3)
    answers.download_button(
        "Answers (CSV)",
        lambda: answers_csv(store.export_answers(scope), cases),
        file_name=f"{stem}-answers.csv",
        mime="text/csv",
        key=f"export_answers:{key}",
        on_click="ignore",
        help="One line per submitted answer: learner, case, stage, question, answer, grade, points, unsafe, certainty, time.",
    )
    attempts.download_button(
        "Attempts (CSV)",
        lambda: attempts_csv(store.export_attempts(scope), cases),
        file_name=f"{stem}-attempts.csv",
        mime="text/csv",
        key=f"export_attempts:{key}",
        on_click="ignore",
        help="One line per attempt: learner, case, completed / abandoned / in progress, total and scores by kind.",
    )
    xapi.download_button(
        "xAPI statements (JSON lines)",
        lambda: xapi_jsonl(store.export_answers(scope), base, cases, kb),
        file_name=f"{stem}-xapi.jsonl",
        mime="application/x-ndjson",
        key=f"export_xapi:{key}",
        on_click="ignore",
        help="One xAPI 1.0.3 statement per answer, for a learning record store.",
    )
