"""Responses: the random number of the survey page each came from, unique (double taps).

A unique index rather than a constraint, so that SQLite adds it in place (a
constraint would make batch mode copy the table, and dropping the old copy
would cascade to the answers).

Revision ID: d5a8e2c4f1b7
Revises: c3d9e1f0a7b2
Create Date: 2026-12-06 03:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5a8e2c4f1b7"
down_revision = "c3d9e1f0a7b2"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("responses", sa.Column("start_nonce", sa.String(length=32), nullable=True))
    op.create_index("uq_responses_start_nonce", "responses", ["start_nonce"], unique=True)


def downgrade():
    op.drop_index("uq_responses_start_nonce", table_name="responses")
    op.drop_column("responses", "start_nonce")  # SQLite ≥ 3.35 drops a column in place
