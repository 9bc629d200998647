"""Live teaching sessions.

- live_sessions: one per session (join code, case, cohort, the stage and projected question, the
  presenter's switches, and two change counters: version for every change, state_version for the
  presenter's changes).
- live_questions: each opened question's phase (open, locked, revealed) and vote round.
- live_seats: who joined (a seat token's hash, a display name or none, their learner and attempt).
- live_votes: each seat's answer per question per vote round.
- attempts and answer_records get live_session_id: a seat's attempt, and the answer records written
  from its votes, say which session they came from.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("join_code", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("case_hash", sa.String(64), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(200), nullable=True),
        sa.Column("show_names", sa.Boolean(), nullable=False),
        sa.Column("live_histogram", sa.Boolean(), nullable=False),
        sa.Column("leaderboard", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name="fk_live_sessions_cohort_id_cohorts"),
        sa.PrimaryKeyConstraint("id", name="pk_live_sessions"),
        sa.UniqueConstraint("join_code", name="uq_live_sessions_join_code"),
    )
    op.create_index("ix_live_sessions_cohort_id", "live_sessions", ["cohort_id"])

    op.create_table(
        "live_questions",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(200), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["live_sessions.id"], name="fk_live_questions_session_id_live_sessions"
        ),
        sa.PrimaryKeyConstraint("session_id", "question_id", name="pk_live_questions"),
    )

    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("live_session_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_attempts_live_session_id_live_sessions", "live_sessions", ["live_session_id"], ["id"]
        )
        batch.create_index("ix_attempts_live_session_id", ["live_session_id"])
    with op.batch_alter_table("answer_records") as batch:
        batch.add_column(sa.Column("live_session_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_answer_records_live_session_id_live_sessions", "live_sessions", ["live_session_id"], ["id"]
        )
        batch.create_index("ix_answer_records_live_session_id", ["live_session_id"])

    op.create_table(
        "live_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=True),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["live_sessions.id"], name="fk_live_seats_session_id_live_sessions"
        ),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name="fk_live_seats_learner_id_learners"),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], name="fk_live_seats_attempt_id_attempts"),
        sa.PrimaryKeyConstraint("id", name="pk_live_seats"),
        sa.UniqueConstraint("token_hash", name="uq_live_seats_token_hash"),
        sa.UniqueConstraint("session_id", "learner_id", name="uq_live_seats_session_id_learner_id"),
        sa.UniqueConstraint("session_id", "number", name="uq_live_seats_session_id_number"),
    )
    op.create_index("ix_live_seats_learner_id", "live_seats", ["learner_id"])

    op.create_table(
        "live_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(200), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("answered_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["live_sessions.id"], name="fk_live_votes_session_id_live_sessions"
        ),
        sa.ForeignKeyConstraint(["seat_id"], ["live_seats.id"], name="fk_live_votes_seat_id_live_seats"),
        sa.PrimaryKeyConstraint("id", name="pk_live_votes"),
        sa.UniqueConstraint(
            "seat_id", "question_id", "round", name="uq_live_votes_seat_id_question_id_round"
        ),
    )
    op.create_index(
        "ix_live_votes_session_id_question_id_round", "live_votes", ["session_id", "question_id", "round"]
    )
