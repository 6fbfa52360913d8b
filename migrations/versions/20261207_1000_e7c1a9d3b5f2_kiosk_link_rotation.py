"""Kiosks: the number of the current link (replacing a link kills the old one) and its expiry.

Existing kiosks get link number 1, which is what their links (issued before
links carried a number) count as, and no end date: tablets in use keep working
until an admin replaces the link or sets a date. Both columns are added in
place (no table copy on SQLite).

Revision ID: e7c1a9d3b5f2
Revises: d5a8e2c4f1b7
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7c1a9d3b5f2"
down_revision = "d5a8e2c4f1b7"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "kiosks",
        sa.Column("link_generation", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column("kiosks", sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite ≥ 3.35 drops a column in place
    op.drop_column("kiosks", "link_expires_at")
    op.drop_column("kiosks", "link_generation")
