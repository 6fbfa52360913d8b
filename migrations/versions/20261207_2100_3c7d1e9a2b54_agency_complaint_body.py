"""Agencies: where complaints and denunciations about them go (name, address, phone).

Shown to a citizen redirected with a complaint or denunciation (khiếu nại, tố cáo);
empty columns fall back to the agency above, then to the COMPLAINT_BODY_* settings.

Revision ID: 3c7d1e9a2b54
Revises: 8d2e4a6c1f37
Create Date: 2026-12-07 21:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c7d1e9a2b54"
down_revision = "8d2e4a6c1f37"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agencies") as batch_op:
        batch_op.add_column(sa.Column("complaint_body_name", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("complaint_body_address", sa.String(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column("complaint_body_phone", sa.String(length=60), nullable=True))


def downgrade():
    with op.batch_alter_table("agencies") as batch_op:
        batch_op.drop_column("complaint_body_phone")
        batch_op.drop_column("complaint_body_address")
        batch_op.drop_column("complaint_body_name")
