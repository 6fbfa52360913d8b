"""Report subscriptions, and attachments in the outbox.

- ``report_subscriptions``: who is sent the monthly, quarterly, half-year or
  year report once its period closes: a role (its active accounts, each with
  its own scope) or an e-mail address outside the service;
- ``outbox.attachment``, ``attachment_name``, ``attachment_type``: a file sent
  with a message (the report's PDF), emptied once the message is delivered.

The new ``report_reader`` role needs no change: ``users.role`` is a plain
string column (a non-native enum without a CHECK constraint).

Revision ID: 724ec0d3ffa2
Revises: e7c4a2f9b31d
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "724ec0d3ffa2"
down_revision = "e7c4a2f9b31d"
branch_labels = None
depends_on = None

ROLES = ("admin", "coordinator", "handler", "viewer", "report_reader")


def upgrade():
    op.create_table(
        "report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="role", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(role IS NULL) <> (email IS NULL)",
            name=op.f("ck_report_subscriptions_one_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_report_subscriptions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_subscriptions")),
        sa.UniqueConstraint("role", "kind", name=op.f("uq_report_subscriptions_role")),
        sa.UniqueConstraint("email", "kind", name=op.f("uq_report_subscriptions_email")),
    )
    # plain nullable columns: SQLite adds them in place, no table copy
    op.add_column("outbox", sa.Column("attachment", sa.LargeBinary(), nullable=True))
    op.add_column("outbox", sa.Column("attachment_name", sa.String(length=255), nullable=True))
    op.add_column("outbox", sa.Column("attachment_type", sa.String(length=100), nullable=True))


def downgrade():
    # SQLite ≥ 3.35 drops a column in place
    op.drop_column("outbox", "attachment_type")
    op.drop_column("outbox", "attachment_name")
    op.drop_column("outbox", "attachment")
    op.drop_table("report_subscriptions")
