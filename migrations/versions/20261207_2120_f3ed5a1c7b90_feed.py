"""The outgoing feed: case events, webhook subscriptions and deliveries; API key scopes.

- ``feed_events``: one row per case event, with its payload (no personal data) as
  sent, and its place in the pull feed (``position``, given after commit);
- ``feed_sequence``: the pull feed's last position (one row);
- ``webhook_subscriptions`` and ``feed_deliveries``: where events are POSTed,
  signed, and each delivery's attempts, back-off and last error;
- ``api_clients.scopes``: extra scopes of a key (``feed``); existing keys get none.

Revision ID: f3ed5a1c7b90
Revises: a7c3e9f1b2d4
Create Date: 2026-12-07 21:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3ed5a1c7b90"
down_revision = "a7c3e9f1b2d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_feed_events_agency_id_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["feedback_cases.id"],
            name=op.f("fk_feed_events_case_id_feedback_cases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_feed_events_uid")),
    )
    op.create_index(op.f("ix_feed_events_case_id"), "feed_events", ["case_id"])
    op.create_index(op.f("ix_feed_events_occurred_at"), "feed_events", ["occurred_at"])
    op.create_index("uq_feed_events_position", "feed_events", ["position"], unique=True)
    op.create_index(
        "ix_feed_events_unsequenced",
        "feed_events",
        ["id"],
        sqlite_where=sa.text("position IS NULL"),
        postgresql_where=sa.text("position IS NULL"),
    )
    op.create_table(
        "feed_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_sequence")),
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("event_types", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("secret_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_webhook_subscriptions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "feed_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="deliverystatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["feed_events.id"],
            name=op.f("fk_feed_deliveries_event_id_feed_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_feed_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_deliveries")),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_feed_deliveries_event"),
    )
    op.create_index(op.f("ix_feed_deliveries_event_id"), "feed_deliveries", ["event_id"])
    op.create_index(
        op.f("ix_feed_deliveries_subscription_id"), "feed_deliveries", ["subscription_id"]
    )
    op.create_index("ix_feed_deliveries_due", "feed_deliveries", ["status", "next_attempt_at"])
    # NOT NULL with a default: SQLite adds it in place, existing keys get no extra scope
    op.add_column(
        "api_clients",
        sa.Column("scopes", sa.String(length=200), server_default="", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("api_clients") as batch_op:
        batch_op.drop_column("scopes")
    op.drop_table("feed_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("feed_sequence")
    op.drop_table("feed_events")
