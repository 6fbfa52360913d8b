"""Indexes in the staff queue's order (due first, no due date last), overall and per agency.

Revision ID: 5c1d2e3f4a5b
Revises: 0ef2f62839f2
Create Date: 2026-11-24 21:50:00

Expression indexes: SQLite cannot reflect them, so autogenerate does not
compare them; tests/feedback/test_queries.py checks they exist and are used.
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1d2e3f4a5b"
down_revision = "0ef2f62839f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_feedback_cases_queue_order",
        "feedback_cases",
        [sa.text("(due_on IS NULL)"), "due_on", "id"],
    )
    op.create_index(
        "ix_feedback_cases_agency_queue_order",
        "feedback_cases",
        ["agency_id", sa.text("(due_on IS NULL)"), "due_on", "id"],
    )


def downgrade():
    op.drop_index("ix_feedback_cases_agency_queue_order", table_name="feedback_cases")
    op.drop_index("ix_feedback_cases_queue_order", table_name="feedback_cases")
