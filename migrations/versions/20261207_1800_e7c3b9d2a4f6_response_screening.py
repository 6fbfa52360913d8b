"""Ballot-stuffing screening: an address hash and a quarantine flag on responses, the
bursts the screening catches, their members, and the screening's own state.

The two new columns of ``responses`` are added in place on SQLite (no batch copy:
dropping the old copy of the table would cascade to the answers); the burst's
link to its responses lives in its own table, which can carry foreign keys.

Revision ID: e7c3b9d2a4f6
Revises: 724ec0d3ffa2
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7c3b9d2a4f6"
down_revision = "724ec0d3ffa2"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("responses", sa.Column("address_hash", sa.String(length=32), nullable=True))
    op.add_column(
        "responses",
        sa.Column("quarantined", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "response_bursts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons", sa.String(length=60), nullable=False),
        sa.Column("n_responses", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "quarantined",
                "confirmed",
                "restored",
                name="burststate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_response_bursts_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_response_bursts_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["users.id"],
            name=op.f("fk_response_bursts_reviewed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_bursts")),
    )
    op.create_index(
        op.f("ix_response_bursts_agency_id"), "response_bursts", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_response_bursts_counter_id"), "response_bursts", ["counter_id"], unique=False
    )
    op.create_index(
        "ix_response_bursts_state_first", "response_bursts", ["state", "first_at"], unique=False
    )
    op.create_table(
        "response_burst_members",
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("burst_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["burst_id"],
            ["response_bursts.id"],
            name=op.f("fk_response_burst_members_burst_id_response_bursts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_burst_members_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_response_burst_members")),
    )
    op.create_index(
        op.f("ix_response_burst_members_burst_id"),
        "response_burst_members",
        ["burst_id"],
        unique=False,
    )
    op.create_table(
        "screening_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screened_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_state")),
    )


def downgrade():
    op.drop_table("screening_state")
    op.drop_index(op.f("ix_response_burst_members_burst_id"), table_name="response_burst_members")
    op.drop_table("response_burst_members")
    op.drop_index("ix_response_bursts_state_first", table_name="response_bursts")
    op.drop_index(op.f("ix_response_bursts_counter_id"), table_name="response_bursts")
    op.drop_index(op.f("ix_response_bursts_agency_id"), table_name="response_bursts")
    op.drop_table("response_bursts")
    op.drop_column("responses", "quarantined")  # SQLite ≥ 3.35 drops a column in place
    op.drop_column("responses", "address_hash")
