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

from .conftest import learner as new_learner

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
    learner = new_learner(store, "Ada")
    first = ps.new_progress()
    assert persistence.resume(first, store, learner, case.id) is None
    play(first, store, case, 2)

    later = ps.new_progress()  # a new browser session
    assert persistence.resume(later, store, learner, case.id) is None
    assert later["submitted"] == [0, 1]
    assert later["answers"] == first["answers"]
    assert later[persistence.DB_ATTEMPT] == first[persistence.DB_ATTEMPT]


def test_completing_a_case_saves_its_score(store: Store, case: Case) -> None:
    learner = new_learner(store, "Ada")
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
    learner = new_learner(store, "Ada")
    persistence.resume(progress, store, learner, case.id)
    assert progress["submitted"] == [0]  # the session's answers are not replaced by an empty attempt
    # ... and are written with the learner's next step, before any other submit
    assert persistence.save_unsaved(progress, store, case, submitted_score(progress, case))
    assert store.attempt(progress[persistence.DB_ATTEMPT]).stages_submitted == 1
    assert [r.question_id for r in store.answers(progress[persistence.DB_ATTEMPT])] == [
        q.id for q in case.stages[0].questions
    ]
    assert not persistence.save_unsaved(progress, store, case, submitted_score(progress, case))  # done


def test_restart_opens_a_fresh_attempt(store: Store, case: Case) -> None:
    learner = new_learner(store, "Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    play(progress, store, case, 1)
    old = progress[persistence.DB_ATTEMPT]
    ps.restart(progress)
    assert persistence.record_restart(progress, store, learner, case.id) is None
    assert progress[persistence.DB_ATTEMPT] != old
    assert store.attempt(progress[persistence.DB_ATTEMPT]).stages_submitted == 0


def test_learners_do_not_see_each_others_progress(store: Store, case: Case) -> None:
    ada, bo = new_learner(store, "Ada"), new_learner(store, "Bo")
    progress = ps.new_progress()
    persistence.resume(progress, store, ada, case.id)
    play(progress, store, case, 2)
    other = ps.new_progress()
    persistence.resume(other, store, bo, case.id)
    assert other["submitted"] == [] and other["answers"] == {}


def test_a_store_failure_is_reported_not_raised(tmp_path: Path, case: Case) -> None:
    store = Store(f"sqlite:///{tmp_path / 'gone.db'}")
    learner = new_learner(store, "Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    store.close()  # its connections (reads' and writes') go; the next call opens new ones
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # the database file is now unusable
    ps.submit_stage(
        progress, len(case.stages), 0, dict.fromkeys((q.id for q in case.stages[0].questions), "x")
    )
    message = persistence.record_submit(progress, store, case, submitted_score(progress, case))
    assert message is not None and message.startswith("This stage could not be saved just now.")
    assert "Error" not in message and "gone.db" not in message  # no exception names or paths
    assert progress["submitted"] == [0]  # the learner keeps playing
    assert persistence.saving_problem(progress, store, learner, True) == persistence.NOT_SAVED
    with pytest.raises(OperationalError):
        store.close()
        store.health.down_until = 0  # past the back-off: the next call really tries again
        store.progress(learner)  # (the store really is broken)


def test_each_submitted_answer_is_recorded_once_with_its_grade_time_and_case_version(
    store: Store, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner = new_learner(store, "Ada")
    cohort = store.create_cohort("Year 4")
    digest = persistence.case_hash(REPO / "cases" / "myositis-after-failed-immunosuppression.yaml")
    assert digest is not None and len(digest) == 64
    progress = ps.new_progress()
    assert persistence.resume(progress, store, learner, case.id, cohort.id, digest) is None
    clock = iter([1000.0, 1042.5, 2000.0, 2010.0])
    monkeypatch.setattr(persistence, "_clock", lambda: next(clock))
    persistence.stage_shown(progress, 0)  # shown at 1000
    persistence.stage_shown(progress, 0)  # a rerun: still shown at 1000
    play(progress, store, case, 1)  # submitted at 1042.5
    persistence.stage_shown(progress, 1)
    play_stage(progress, store, case, 1)
    attempt = store.attempt(progress[persistence.DB_ATTEMPT])
    assert (attempt.cohort_id, attempt.case_hash) == (cohort.id, digest)
    rows = store.answers(attempt.id)
    expected = score_case(case, best_answers(case, KB), KB)
    stage_two = [q.id for i, q in case.questions() if i < 2]
    assert [r.question_id for r in rows] == stage_two  # one each, though stage 1 was saved twice
    for row in rows:
        result = expected.result(row.question_id)
        assert (row.learner_id, row.cohort_id, row.case_id, row.case_hash) == (
            learner,
            cohort.id,
            case.id,
            digest,
        )
        assert (row.kind, row.points, row.max_points, row.unsafe) == (
            result.kind,
            result.points,
            result.max_points,
            result.unsafe,
        )
        assert row.answer == best_answers(case, KB)[row.question_id]
        assert row.certainty is None  # no question of this case asks for it
        assert row.seconds == (42.5 if row.stage_index == 0 else 10.0)
        assert row.grade in ("recommended", "correct") or result.max_points == 0


def play_stage(progress: dict, store: Store, case: Case, i: int) -> None:  # type: ignore[type-arg]
    answers = best_answers(case, KB)
    assert ps.submit_stage(
        progress, len(case.stages), i, {q.id: answers[q.id] for q in case.stages[i].questions}
    )
    assert persistence.record_submit(progress, store, case, submitted_score(progress, case)) is None


def test_a_wrong_single_choice_is_recorded_with_its_grade(store: Store, case: Case) -> None:
    learner = new_learner(store, "Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    answers = dict(best_answers(case, KB))
    answers["next-agent"] = "rituximab"
    stage = {q.id: answers[q.id] for q in case.stages[0].questions}
    ps.submit_stage(progress, len(case.stages), 0, stage)
    persistence.record_submit(progress, store, case, submitted_score(progress, case))
    [row] = [r for r in store.answers(progress[persistence.DB_ATTEMPT]) if r.question_id == "next-agent"]
    graded = score_case(case, answers, KB).result("next-agent")
    assert row.answer == "rituximab" and row.grade == graded.verdicts[0].grade != "recommended"
    assert row.verdicts == [{"id": "rituximab", "grade": graded.verdicts[0].grade}]
    assert row.points == graded.points < row.max_points


def test_certainty_is_taken_from_the_scoring_result_when_present(case: Case) -> None:
    result = score_case(case, best_answers(case, KB), KB).results[0]
    assert persistence.answer_input(result, 3.0).certainty is None
    sure = type(
        "WithCertainty",
        (),
        {**{f: getattr(result, f) for f in result.__dataclass_fields__}, "scored": True, "certainty": 4},
    )()
    assert persistence.answer_input(sure, 3.0).certainty == 4  # type: ignore[arg-type]


def test_stages_submitted_while_the_store_was_down_are_recorded_when_it_is_back(
    store: Store, case: Case
) -> None:
    learner = new_learner(store, "Ada")
    progress = ps.new_progress()
    persistence.resume(progress, store, learner, case.id)
    answers = best_answers(case, KB)
    ps.submit_stage(progress, len(case.stages), 0, {q.id: answers[q.id] for q in case.stages[0].questions})
    assert (
        persistence.record_submit(progress, None, case, submitted_score(progress, case)) is None
    )  # no store this time
    play_stage(progress, store, case, 1)
    rows = store.answers(progress[persistence.DB_ATTEMPT])
    assert {r.stage_index for r in rows} == {0, 1}


def test_a_stage_whose_save_failed_is_kept_in_the_session_and_written_with_the_next_step(
    tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 7: a save that fails (here SQLite's write lock held by another process past the bound) is
    not lost: the session keeps it, and the next step that finds the store available writes it,
    exactly once, without waiting for another submit."""
    import sqlite3

    from dashboard import store_base

    monkeypatch.setattr(store_base, "BUSY_TIMEOUT_S", 0.3)  # the bound, shortened for the test
    path = tmp_path / "busy.db"
    store = Store(f"sqlite:///{path}")
    try:
        learner = new_learner(store, "Ada")
        progress = ps.new_progress()
        persistence.resume(progress, store, learner, case.id)
        answers = best_answers(case, KB)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
        try:
            ps.submit_stage(
                progress, len(case.stages), 0, {q.id: answers[q.id] for q in case.stages[0].questions}
            )
            message = persistence.record_submit(progress, store, case, submitted_score(progress, case))
            assert message is not None and message.endswith("are saved with your next step.")
            # the next step comes while the store backs off: nothing is tried, nothing is dropped
            assert not persistence.save_unsaved(progress, store, case, submitted_score(progress, case))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        attempt_id = progress[persistence.DB_ATTEMPT]
        store.health.down_until = 0  # past the back-off
        assert store.attempt(attempt_id).stages_submitted == 0
        assert persistence.save_unsaved(progress, store, case, submitted_score(progress, case))
        assert store.attempt(attempt_id).stages_submitted == 1
        assert store.attempt(attempt_id).answers == {q.id: answers[q.id] for q in case.stages[0].questions}
        assert not persistence.save_unsaved(progress, store, case, submitted_score(progress, case))
        play_on = {q.id: answers[q.id] for q in case.stages[1].questions}
        ps.submit_stage(progress, len(case.stages), 1, play_on)
        assert persistence.record_submit(progress, store, case, submitted_score(progress, case)) is None
        records = [r.question_id for r in store.answers(attempt_id)]
        assert records == [q.id for i in (0, 1) for q in case.stages[i].questions]  # each exactly once
    finally:
        store.close()
