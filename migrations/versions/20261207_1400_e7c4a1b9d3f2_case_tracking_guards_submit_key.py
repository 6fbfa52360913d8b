"""Feedback: wrong tracking numbers per case, and the public form's submission key.

Wrong numbers pause a case's tracking (case_tracking_guards); the submission key
makes the same form sent twice one case (feedback_cases.submit_key_hash).

The key's column gets a unique index rather than a constraint, so that SQLite adds
it in place (a constraint would make batch mode copy feedback_cases, and dropping
the old copy would cascade to its events and attachments).

Revision ID: e7c4a1b9d3f2
Revises: 9507a3bc4777
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7c4a1b9d3f2"
down_revision = "9507a3bc4777"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_tracking_guards",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_failures", sa.Integer(), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["feedback_cases.id"],
            name=op.f("fk_case_tracking_guards_case_id_feedback_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_tracking_guards")),
    )
    op.add_column("feedback_cases", sa.Column("submit_key_hash", sa.String(length=64)))
    op.create_index(
        "uq_feedback_cases_submit_key_hash", "feedback_cases", ["submit_key_hash"], unique=True
    )


def downgrade():
    op.drop_index("uq_feedback_cases_submit_key_hash", table_name="feedback_cases")
    op.drop_column("feedback_cases", "submit_key_hash")  # SQLite ≥ 3.35 drops it in place
    op.drop_table("case_tracking_guards")
