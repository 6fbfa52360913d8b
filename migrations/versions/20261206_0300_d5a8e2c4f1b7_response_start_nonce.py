"""Responses: the random number of the survey page each came from, unique (double taps).

A unique index rather than a constraint, so that SQLite adds it in place (a
constraint would make batch mode copy the table, and dropping the old copy
would cascade to the answers). On PostgreSQL it is built CONCURRENTLY: a plain
CREATE INDEX on a big ``responses`` blocks every survey tap while it runs.

Revision ID: d5a8e2c4f1b7
Revises: c3d9e1f0a7b2
Create Date: 2026-12-06 03:00:00

"""

import sqlalchemy as sa
from alembic import op

from survey_app.core.db import create_index_concurrently, drop_index_concurrently

# revision identifiers, used by Alembic.
revision = "d5a8e2c4f1b7"
down_revision = "c3d9e1f0a7b2"
branch_labels = None
depends_on = None


def upgrade():
    # the concurrent build commits the column first: if the build fails, the
    # column is already there when the migration runs again
    if op.get_context().as_sql or "start_nonce" not in {
        column["name"] for column in sa.inspect(op.get_bind()).get_columns("responses")
    }:
        op.add_column("responses", sa.Column("start_nonce", sa.String(length=32), nullable=True))
    create_index_concurrently("uq_responses_start_nonce", "responses", ["start_nonce"], unique=True)


def downgrade():
    drop_index_concurrently("uq_responses_start_nonce", "responses")
    op.drop_column("responses", "start_nonce")  # SQLite ≥ 3.35 drops a column in place
