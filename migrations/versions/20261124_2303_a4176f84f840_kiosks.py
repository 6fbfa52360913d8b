"""Kiosks: tablets at counters running the survey, each with a revocable signed link.

Revision ID: a4176f84f840
Revises: 37af85cbf633
Create Date: 2026-11-24 23:03:28.071357

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4176f84f840"
down_revision = "37af85cbf633"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_kiosks_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_kiosks_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
    )
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosks_counter_id"), ["counter_id"], unique=False)


def downgrade():
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosks_counter_id"))

    op.drop_table("kiosks")
