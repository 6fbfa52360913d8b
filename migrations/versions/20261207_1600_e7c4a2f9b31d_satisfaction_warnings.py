"""Early warning: the detector's watch over each counter and agency, and its warnings.

At most one warning per subject is not closed (a unique partial index, on
SQLite and PostgreSQL): two runs of ``flask report warnings`` at once, or on
two servers, record one. Both tables are new and small: no concurrent build.

Revision ID: e7c4a2f9b31d
Revises: ea1a7fff82f7
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7c4a2f9b31d"
down_revision = "ea1a7fff82f7"
branch_labels = None
depends_on = None


def _chart_columns(nullable: bool) -> list[sa.Column]:
    return [
        sa.Column("weight_up", sa.Integer(), nullable=nullable),
        sa.Column("weight_down", sa.Integer(), nullable=nullable),
        sa.Column("threshold", sa.Integer(), nullable=nullable),
        sa.Column("shift_share", sa.Float(), nullable=nullable),
        sa.Column("arl0_taps", sa.Float(), nullable=nullable),
        sa.Column("arl1_taps", sa.Float(), nullable=nullable),
        sa.Column("quiet_taps", sa.Integer(), nullable=nullable),
    ]


def _subject_keys(table: str) -> list:
    return [
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f(f"fk_{table}_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f(f"fk_{table}_counter_id_counters"),
            ondelete="CASCADE",
        ),
    ]


def upgrade():
    op.create_table(
        "satisfaction_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline_taps", sa.Integer(), nullable=False),
        sa.Column("baseline_dissatisfied", sa.Integer(), nullable=False),
        sa.Column("monitored", sa.Boolean(), nullable=False),
        sa.Column("baseline_share", sa.Float(), nullable=True),
        sa.Column("design_share", sa.Float(), nullable=True),
        sa.Column("taps_per_day", sa.Float(), nullable=True),
        sa.Column("arl0_target", sa.Float(), nullable=True),
        *_chart_columns(nullable=True),
        sa.Column("window_taps", sa.Integer(), nullable=False),
        sa.Column("statistic", sa.Integer(), nullable=True),
        *_subject_keys("satisfaction_watches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_watches")),
        sa.UniqueConstraint("subject", name=op.f("uq_satisfaction_watches_subject")),
    )
    with op.batch_alter_table("satisfaction_watches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_satisfaction_watches_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_satisfaction_watches_counter_id"), ["counter_id"], unique=False
        )

    op.create_table(
        "satisfaction_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "closed",
                name="warningstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signal_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watch_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_signal_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.Column("recent_taps", sa.Integer(), nullable=False),
        sa.Column("recent_dissatisfied", sa.Integer(), nullable=False),
        sa.Column("baseline_share", sa.Float(), nullable=False),
        sa.Column("design_share", sa.Float(), nullable=False),
        sa.Column("baseline_taps", sa.Integer(), nullable=False),
        sa.Column("taps_per_day", sa.Float(), nullable=False),
        *_chart_columns(nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        *_subject_keys("satisfaction_warnings"),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_satisfaction_warnings_acknowledged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_warnings")),
    )
    with op.batch_alter_table("satisfaction_warnings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_satisfaction_warnings_open_subject",
            ["subject"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.create_index(
            "ix_satisfaction_warnings_agency_status", ["agency_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_satisfaction_warnings_counter_id"), ["counter_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("satisfaction_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_warnings_counter_id"))
        batch_op.drop_index("ix_satisfaction_warnings_agency_status")
        batch_op.drop_index("uq_satisfaction_warnings_open_subject")
    op.drop_table("satisfaction_warnings")
    with op.batch_alter_table("satisfaction_watches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_watches_counter_id"))
        batch_op.drop_index(batch_op.f("ix_satisfaction_watches_agency_id"))
    op.drop_table("satisfaction_watches")
