"""Fixtures for the dashboard page tests (streamlit.testing.v1.AppTest)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from dashboard.store import Store
from tests.dashboard.postgres import postgres_server, server_bin

REPO = Path(__file__).resolve().parents[2]
APP = (
    REPO / "dashboard" / "app.py"
)  # AppTest resolves relative paths against the calling file: use the full path
S2 = "myositis-after-failed-immunosuppression"
S2_FILE = REPO / "cases" / f"{S2}.yaml"


def walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def app_text(at: AppTest) -> str:
    """Every string the app sent: each element's protobuf (labels, bodies, options, help, figure JSON,
    link targets...), plus the cells of every dataframe."""
    parts = []
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        for attr in ("label", "body", "value", "options", "help", "placeholder"):
            try:
                value = getattr(node, attr, None)
            except Exception:  # some elements compute attributes lazily from state they lack
                continue
            if isinstance(value, str | list | tuple | int | float):
                parts.append(str(value))
        if getattr(node, "type", None) in ("arrow_data_frame", "dataframe", "table"):
            with contextlib.suppress(Exception):  # an undecodable dataframe still has its proto above
                parts.append(node.value.to_string())
    return "\n".join(parts)


@pytest.fixture
def app() -> Callable[[], AppTest]:
    def make() -> AppTest:
        return AppTest.from_file(str(APP), default_timeout=30)

    return make


@pytest.fixture(autouse=True)
def _private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages under test save progress to a throwaway SQLite file, never the developer's myotutor.db."""
    monkeypatch.setenv("MYOTUTOR_DATABASE_URL", f"sqlite:///{tmp_path / 'progress.db'}")


# The store's backends: every store test runs on SQLite and on a real PostgreSQL server.
@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bin_dir = server_bin()
    if bin_dir is None:
        reason = "PostgreSQL server not installed: apt-get install postgresql"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must run the postgres backend)")
        pytest.skip(reason)
    with postgres_server(bin_dir) as url:
        yield url


def wipe(url: str) -> None:
    """Empty a PostgreSQL test database (shared by the session): every table, alembic's included."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend (emptied again afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    found = str(request.getfixturevalue("postgres_url"))
    wipe(found)
    try:
        yield found
    finally:
        wipe(found)


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = Store(url)
    try:
        yield s
    finally:
        s.close()


def learner(store: Store, name: str) -> int:
    """A new named learner (as the sign-in page makes one), for tests that need someone to play."""
    learner_id, _code = store.new_named_learner(name)
    return learner_id


def sign_up(at: AppTest, name: str) -> str:
    """Sign in as a new named learner through the account page; returns the resume code shown once.
    Leaves the session on the account page."""
    at.switch_page("views/account.py").run()
    at.text_input(key="start_name").set_value(name)
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    if at.error:  # refused (a taken name): the caller checks the message
        return ""
    assert at.session_state["_auth_token"], "not signed in"
    [code] = [c.value for c in at.code]
    return str(code)


def sign_in(at: AppTest, name: str, code: str) -> None:
    """Continue as an existing named learner (name and resume code) through the account page."""
    at.switch_page("views/account.py").run()
    at.text_input(key="resume_name").set_value(name)
    at.text_input(key="resume_code").set_value(code)
    next(b for b in at.button if b.label == "Continue").click().run()
    assert not at.exception, at.exception


def sign_in_faculty(at: AppTest, passcode: str) -> None:
    at.switch_page("views/account.py").run()
    at.text_input(key="faculty_passcode").set_value(passcode)
    next(b for b in at.button if b.label == "Sign in as faculty").click().run()
    assert not at.exception, at.exception
