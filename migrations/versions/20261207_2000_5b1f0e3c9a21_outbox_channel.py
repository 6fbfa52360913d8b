"""Outbox: the channel a message goes by (e-mail, SMS, Zalo).

Revision ID: 5b1f0e3c9a21
Revises: c41e8d2a7b90
Create Date: 2026-12-07 20:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b1f0e3c9a21"
down_revision = "c41e8d2a7b90"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "outbox",
        sa.Column("channel", sa.String(length=10), server_default="email", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("channel")
