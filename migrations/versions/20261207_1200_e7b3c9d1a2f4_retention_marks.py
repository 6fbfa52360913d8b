"""Retention marks: how far the purge of survey comments and report snapshots has got.

Revision ID: e7b3c9d1a2f4
Revises: e7c1a9d3b5f2
Create Date: 2026-12-07 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7b3c9d1a2f4"
down_revision = "e7c1a9d3b5f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "retention_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("done_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_retention_marks")),
    )


def downgrade():
    op.drop_table("retention_marks")
