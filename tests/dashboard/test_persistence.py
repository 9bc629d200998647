"""Saving and resuming a learner's case progress through the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from dashboard import persistence
from dashboard.player import progress as ps
from dashboard.player.results import score_progress
from dashboard.store import Store
from logic import best_answers, load_case, score_case, stage_plans
from logic.cases import Case
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def case() -> Case:
    loaded, _ = load_case(REPO / "cases" / "myositis-after-failed-immunosuppression.yaml", KB)
    assert loaded is not None
    return loaded.case


def submitted_score(progress: dict, case: Case):  # type: ignore[no-untyped-def,type-arg]
    """The player's own score of what was submitted (the store saves it, never re-scores)."""
    return score_progress(case, progress, stage_plans(case, KB), KB)


def play(progress: dict, store: Store, case: Case, stages: int) -> None:  # type: ignore[type-arg]
    answers = best_answers(case, KB)
    for i in range(stages):
        stage = {q.id: answers[q.id] for q in case.stages[i].questions}
        assert ps.submit_stage(progress, len(case.stages), i, stage)
        assert persistence.record_submit(progress, store, case, submitted_score(progress, case)) is None


def test_a_case_resumes_where_it_was_left(store: Store, case: Case) -> None:
    learner = store.learner("Ada")
    first = ps.new_progress()
    assert persistence.resume(first, store, learner, case.id) is None
    play(first, store, case, 2)

    later = ps.new_progress()  # a new browser session
    assert persistence.resume(later, store, learner, case.id) is None
    assert later["submitted"] == [0, 1]
    assert later["answers"] == first["answers"]
    assert later[persistence.DB_ATTEMPT] == first[persistence.DB_ATTEMPT]


def test_completing_a_case_saves_its_score(store: Store, case: Case) -> None:
    learner = store.learner("Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    play(progress, store, case, len(case.stages))
    [row] = store.progress(learner)
    assert row.completed == 1
    assert row.best_total == score_case(case, best_answers(case, KB), KB).total == 100
    assert store.class_summary(case.id) == [100]
    fresh = ps.new_progress()  # a completed attempt is not resumed: the next visit starts afresh
    persistence.resume(fresh, store, learner, case.id)
    assert fresh["submitted"] == []


def test_progress_played_before_naming_oneself_is_kept(store: Store, case: Case) -> None:
    progress = ps.new_progress()
    answers = best_answers(case, KB)
    ps.submit_stage(progress, len(case.stages), 0, {q.id: answers[q.id] for q in case.stages[0].questions})
    learner = store.learner("Ada")
    persistence.resume(progress, store, learner, case.id)
    assert progress["submitted"] == [0]  # the session's answers are not replaced by an empty attempt
    persistence.record_submit(progress, store, case, submitted_score(progress, case))
    assert store.attempt(progress[persistence.DB_ATTEMPT]).stages_submitted == 1


def test_restart_opens_a_fresh_attempt(store: Store, case: Case) -> None:
    learner = store.learner("Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    play(progress, store, case, 1)
    old = progress[persistence.DB_ATTEMPT]
    ps.restart(progress)
    assert persistence.record_restart(progress, store, learner, case.id) is None
    assert progress[persistence.DB_ATTEMPT] != old
    assert store.attempt(progress[persistence.DB_ATTEMPT]).stages_submitted == 0


def test_learners_do_not_see_each_others_progress(store: Store, case: Case) -> None:
    ada, bo = store.learner("Ada"), store.learner("Bo")
    progress = ps.new_progress()
    persistence.resume(progress, store, ada, case.id)
    play(progress, store, case, 2)
    other = ps.new_progress()
    persistence.resume(other, store, bo, case.id)
    assert other["submitted"] == [] and other["answers"] == {}


def test_a_store_failure_is_reported_not_raised(tmp_path: Path, case: Case) -> None:
    store = Store(f"sqlite:///{tmp_path / 'gone.db'}")
    learner = store.learner("Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    store.engine.dispose()
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # the database file is now unusable
    ps.submit_stage(
        progress, len(case.stages), 0, dict.fromkeys((q.id for q in case.stages[0].questions), "x")
    )
    message = persistence.record_submit(progress, store, case, submitted_score(progress, case))
    assert message is not None and message.startswith("Progress could not be saved")
    assert progress["submitted"] == [0]  # the learner keeps playing
    with pytest.raises(OperationalError):
        store.learner("Bo")  # (the store really is broken)
