"""The store fails soft (issue 7): a hung PostgreSQL or a locked SQLite costs a learner a few seconds,
then play goes on with a plain message on the player, which goes away when the database is back; a
database down at start is tried again; the learner never sees SQL, exception names or paths."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import persistence
from dashboard.common import get_store
from logic import best_answers, load_library
from tests.context import KB

from .conftest import S2, S2_FILE, sign_up, wipe
from .drive import with_certainties
from .hangs import HangingRelay, hanging_relay
from .test_auth_pages import OIDC_SECRETS
from .test_player_page import answer_stage
from .test_progress_page import to_player

FIRST_FAILURE_S = 10.0  # the bound on one interaction while the database hangs (timeouts are 3-4 s)
LEAKS = (
    "Error",
    "error:",
    "psycopg",
    "sqlite",
    "SELECT",
    "INSERT",
    "UPDATE ",
    "/tmp",
    "127.0.0.1",
    "Traceback",
)


def case():  # type: ignore[no-untyped-def]
    return load_library([S2_FILE], KB).cases[S2].case


def not_saved(at: AppTest) -> bool:
    return persistence.NOT_SAVED in [w.value for w in at.warning]


def assert_no_leaks(at: AppTest) -> None:
    text = "\n".join(
        [w.value for w in at.warning] + [t.value for t in at.toast] + [e.value for e in at.error]
    )
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} shown to a learner: {text}"


def timed(call: Callable[[], object]) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


def past_backoff() -> None:
    """Sleep until the store's back-off after its failures has passed."""
    from dashboard.common import _store
    from dashboard.store_base import database_url

    store = _store(database_url())
    remaining = store.health.down_until - time.monotonic()
    if remaining > 0:
        time.sleep(remaining + 0.1)


@pytest.fixture
def relay(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingRelay]:
    wipe(postgres_url)
    with hanging_relay(postgres_url) as found:
        monkeypatch.setenv("MYOTUTOR_DATABASE_URL", found.url(postgres_url))
        yield found
    wipe(postgres_url)


@pytest.mark.postgres
def test_a_hung_postgres_costs_seconds_then_play_goes_on_and_saving_resumes(
    app: Callable[[], AppTest], relay: HangingRelay
) -> None:
    the_case = case()
    answers = with_certainties(the_case, best_answers(the_case, KB))
    at = app()
    at.run()
    sign_up(at, "Ada")
    to_player(at)
    answer_stage(at, the_case, 0, answers)
    assert not not_saved(at)

    relay.mode = "hang"  # the server stops answering, mid-session
    took = timed(lambda: answer_stage(at, the_case, 1, answers))
    assert took < FIRST_FAILURE_S, f"a submit waited {took:.1f} s on a hung database"
    assert not_saved(at) and any(h.value.startswith("Stage 3 of") for h in at.subheader)  # play goes on
    assert_no_leaks(at)
    took = timed(at.run)  # while backing off: no wait at all
    assert took < 3, f"{took:.1f} s"
    assert not_saved(at)

    relay.mode = "forward"  # the database is back
    past_backoff()
    at.run()
    assert not not_saved(at), "the message stays after the database came back"
    answer_stage(at, the_case, 2, answers)
    store = get_store()
    assert store is not None
    attempt = store.attempt(at.session_state["player_progress"][S2][persistence.DB_ATTEMPT])
    assert attempt.stages_submitted == 3 and attempt.total == 100  # the stage played while it hung is saved
    assert {r.stage_index for r in store.answers(attempt.id)} == {0, 1, 2}


@pytest.mark.postgres
def test_a_database_down_at_start_is_tried_again(app: Callable[[], AppTest], relay: HangingRelay) -> None:
    relay.mode = "hang"  # down before the first page: a signed-in (OIDC) learner opens the player
    at = app()
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": "ada@example.org", "name": "Ada"}
    took = timed(lambda: (at.run(), to_player(at)))
    assert took < 2 * FIRST_FAILURE_S, f"{took:.1f} s"
    assert not_saved(at) and "Submit stage 1" in [b.label for b in at.button]
    assert_no_leaks(at)

    relay.mode = "forward"
    past_backoff()
    at.run()
    assert not not_saved(at), "a database down at start was given up on"
    answer_stage(at, case(), 0, with_certainties(case(), best_answers(case(), KB)))
    store = get_store()
    assert store is not None and store.find_learners("ada@example.org")[0].kind == "oidc"


def test_a_locked_sqlite_costs_seconds_then_play_goes_on(
    app: Callable[[], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.db"
    monkeypatch.setenv("MYOTUTOR_DATABASE_URL", f"sqlite:///{path}")
    the_case = case()
    answers = with_certainties(the_case, best_answers(the_case, KB))
    at = app()
    at.run()
    sign_up(at, "Ada")
    to_player(at)
    answer_stage(at, the_case, 0, answers)

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock and does not let go
    try:
        took = timed(lambda: answer_stage(at, the_case, 1, answers))
        assert took < FIRST_FAILURE_S, f"a submit waited {took:.1f} s on a locked database"
        assert not_saved(at) and any(h.value.startswith("Stage 3 of") for h in at.subheader)
        assert_no_leaks(at)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    past_backoff()
    at.run()
    assert not not_saved(at)
    store = get_store()
    assert store is not None
    attempt_id = at.session_state["player_progress"][S2][persistence.DB_ATTEMPT]
    # the stage submitted while the database was locked is written with the next step, not lost
    assert store.attempt(attempt_id).stages_submitted == 2
    answer_stage(at, the_case, 2, answers)
    assert store.attempt(attempt_id).stages_submitted == 3
