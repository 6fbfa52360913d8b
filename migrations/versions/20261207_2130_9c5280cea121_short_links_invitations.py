"""Short survey links and invitations after the result.

- ``short_links``: a random 8-character id for a receipt or an invitation
  (surveys/shortlinks.py), with its counter, procedure, expiry and use;
- ``invite_events``: the one-stop software's "result returned" events and what
  was decided (idempotent per sending system and event id);
- ``invite_phones``: keyed hashes of the numbers invited lately (one invitation
  per period), never the numbers;
- ``invite_counters``: each agency's counter for online and postal returns.

(The ``events`` scope of API keys uses ``api_clients.scopes``, added with the feed.)

Revision ID: 9c5280cea121
Revises: f3ed5a1c7b90
Create Date: 2026-12-07 21:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9c5280cea121"
down_revision = "f3ed5a1c7b90"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "short_links",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("receipt", "invite", name="purpose", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("dossier_ref_hash", sa.String(length=64), nullable=True),
        sa.Column("return_channel", sa.String(length=10), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_short_links_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_short_links_procedure_id_procedures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_links")),
    )
    op.create_index("ix_short_links_purpose_created", "short_links", ["purpose", "created_at"])

    op.create_table(
        "invite_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_client_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("return_channel", sa.String(length=10), nullable=False),
        sa.Column("returned_at", UTC, nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "invited",
                "not_sampled",
                "recently_invited",
                "opted_out",
                "stale",
                name="outcome",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_invite_events_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_clients.id"],
            name=op.f("fk_invite_events_api_client_id_api_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_invite_events_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_invite_events_procedure_id_procedures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_events")),
        sa.UniqueConstraint("api_client_id", "event_id", name="uq_invite_events_client_event"),
    )
    op.create_index("ix_invite_events_received_at", "invite_events", ["received_at"])

    op.create_table(
        "invite_phones",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_invite_phones")),
    )
    op.create_index(op.f("ix_invite_phones_invited_on"), "invite_phones", ["invited_on"])

    op.create_table(
        "invite_counters",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("return_channel", sa.String(length=10), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_invite_counters_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_invite_counters_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", "return_channel", name=op.f("pk_invite_counters")),
        sa.UniqueConstraint("counter_id", name=op.f("uq_invite_counters_counter_id")),
    )


def downgrade():
    op.drop_table("invite_counters")
    op.drop_index(op.f("ix_invite_phones_invited_on"), table_name="invite_phones")
    op.drop_table("invite_phones")
    op.drop_index("ix_invite_events_received_at", table_name="invite_events")
    op.drop_table("invite_events")
    op.drop_index("ix_short_links_purpose_created", table_name="short_links")
    op.drop_table("short_links")
