"""Notification channels: SMS/Zalo delivery status in the outbox, phone opt-outs,
the Zalo OA's tokens, and staff notification preferences.

Revision ID: a7c3e9f1b2d4
Revises: 3c7d1e9a2b54
Create Date: 2026-12-07 21:00:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "a7c3e9f1b2d4"
down_revision = "3c7d1e9a2b54"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("encoding", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), server_default="queued", nullable=False)
        )
        batch_op.add_column(sa.Column("provider_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_provider_id", ["provider_id"], unique=False)
    # rows already there: sent ones are "sent", given-up ones "failed"
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.execute("UPDATE outbox SET status = 'failed' WHERE sent_at IS NULL AND attempts >= 8")
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("zalo_phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("notification_prefs", sa.JSON(), nullable=True))
    op.create_table(
        "phone_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_opt_outs")),
        sa.UniqueConstraint("phone_hash", name=op.f("uq_phone_opt_outs_phone_hash")),
    )
    op.create_table(
        "zalo_tokens",
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_zalo_tokens")),
    )


def downgrade():
    op.drop_table("zalo_tokens")
    op.drop_table("phone_opt_outs")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("notification_prefs")
        batch_op.drop_column("zalo_phone")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_provider_id")
        batch_op.drop_column("status_at")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("status")
        batch_op.drop_column("segments")
        batch_op.drop_column("encoding")
        batch_op.drop_column("payload")
        batch_op.drop_column("kind")
