"""Responses: how the dossier's result was returned (counter, online, post), for invitations.

Revision ID: 8d2e4a6c1f37
Revises: 5b1f0e3c9a21
Create Date: 2026-12-07 20:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8d2e4a6c1f37"
down_revision = "5b1f0e3c9a21"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("responses", sa.Column("return_channel", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("responses") as batch_op:
        batch_op.drop_column("return_channel")
