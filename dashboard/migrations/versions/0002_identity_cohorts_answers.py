"""Identity, cohorts and answer records.

- learners: the display name is no longer unique (a name alone opens nothing); kind ('legacy' for rows
  made before sign-in, 'named', 'oidc'), name_key (casefolded name of a 'named' learner, unique),
  email (of an 'oidc' learner, unique), resume_code_hash.
- cohorts, cohort_members; attempts get cohort_id and case_hash (sha256 of the case file's bytes).
- answer_records: one row per submitted answer, unique per (attempt, question), indexed for analytics.
- sign_in_sessions (embedded sign-in kept by a cookie), auth_failures (rate limiting).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite gives the old UNIQUE(name) no name: batch mode names it by this convention so it can be dropped.
LEGACY_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    name_uniques = [
        u["name"] or "uq_learners_name"
        for u in sa.inspect(bind).get_unique_constraints("learners")
        if u["column_names"] == ["name"]
    ]
    with op.batch_alter_table("learners", naming_convention=LEGACY_NAMING) as batch:
        for constraint in name_uniques:
            batch.drop_constraint(constraint, type_="unique")
        batch.add_column(sa.Column("kind", sa.String(16), server_default="legacy", nullable=False))
        batch.add_column(sa.Column("name_key", sa.String(80), nullable=True))
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("resume_code_hash", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_learners_name_key", ["name_key"])
        batch.create_unique_constraint("uq_learners_email", ["email"])

    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("join_code", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("archived_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cohorts"),
        sa.UniqueConstraint("join_code", name="uq_cohorts_join_code"),
    )
    op.create_table(
        "cohort_members",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name="fk_cohort_members_cohort_id_cohorts"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name="fk_cohort_members_learner_id_learners"
        ),
        sa.PrimaryKeyConstraint("cohort_id", "learner_id", name="pk_cohort_members"),
    )
    op.create_index("ix_cohort_members_learner_id", "cohort_members", ["learner_id"])

    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("case_hash", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_attempts_cohort_id_cohorts", "cohorts", ["cohort_id"], ["id"])
        batch.create_index("ix_attempts_cohort_id", ["cohort_id"])

    op.create_table(
        "answer_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("case_hash", sa.String(64), nullable=True),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("grade", sa.String(32), nullable=True),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column("credit", sa.Float(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("unsafe", sa.Boolean(), nullable=False),
        sa.Column("certainty", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("submitted_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["attempts.id"], name="fk_answer_records_attempt_id_attempts"
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name="fk_answer_records_learner_id_learners"
        ),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name="fk_answer_records_cohort_id_cohorts"),
        sa.PrimaryKeyConstraint("id", name="pk_answer_records"),
        sa.UniqueConstraint("attempt_id", "question_id", name="uq_answer_records_attempt_id_question_id"),
    )
    op.create_index(
        "ix_answer_records_cohort_id_case_id_question_id",
        "answer_records",
        ["cohort_id", "case_id", "question_id"],
    )
    op.create_index("ix_answer_records_case_id_question_id", "answer_records", ["case_id", "question_id"])
    op.create_index("ix_answer_records_submitted_at", "answer_records", ["submitted_at"])
    op.create_index("ix_answer_records_learner_id", "answer_records", ["learner_id"])

    op.create_table(
        "sign_in_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name="fk_sign_in_sessions_learner_id_learners"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sign_in_sessions"),
    )
    op.create_index("ix_sign_in_sessions_learner_id", "sign_in_sessions", ["learner_id"])

    op.create_table(
        "auth_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failed_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_failures"),
    )
    op.create_index("ix_auth_failures_key_failed_at", "auth_failures", ["key", "failed_at"])
