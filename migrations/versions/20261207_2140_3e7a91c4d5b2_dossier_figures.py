"""Dossier volumes: a source (CSV import or an API key), daily or monthly periods, the
return channel, and resolved / on-time / late counts for the on-time rate.

Revision ID: 3e7a91c4d5b2
Revises: 9c5280cea121
Create Date: 2026-12-07 21:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3e7a91c4d5b2"
down_revision = "9c5280cea121"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dossier_volumes") as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=40), server_default="import", nullable=False)
        )
        batch_op.add_column(sa.Column("period", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("return_channel", sa.String(length=10), server_default="all", nullable=False)
        )
        batch_op.add_column(sa.Column("resolved", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_on_time", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_late", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE dossier_volumes SET period = strftime('%Y-%m', month)")
    else:
        op.execute("UPDATE dossier_volumes SET period = to_char(month, 'YYYY-MM')")
    with op.batch_alter_table("dossier_volumes") as batch_op:
        batch_op.alter_column("period", existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_constraint("uq_dossier_volumes_cell", type_="unique")
        batch_op.create_unique_constraint(
            "uq_dossier_volumes_figure",
            ["source", "agency_id", "field_id", "return_channel", "period"],
        )
        batch_op.create_check_constraint("resolved_non_negative", "resolved >= 0")
        batch_op.create_check_constraint(
            "on_time_late_non_negative", "resolved_on_time >= 0 AND resolved_late >= 0"
        )
        batch_op.create_check_constraint(
            "on_time_late_within_resolved", "resolved_on_time + resolved_late <= resolved"
        )


def downgrade():
    # the old table holds one figure per agency, field and month: the figures by day or
    # by return channel, and those sent by the API, have no place in it and are dropped
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "DELETE FROM dossier_volumes WHERE source <> 'import' OR return_channel <> 'all' "
            "OR length(period) <> 7"
        )
    )
    with op.batch_alter_table("dossier_volumes") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_dossier_volumes_on_time_late_within_resolved"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_dossier_volumes_on_time_late_non_negative"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_dossier_volumes_resolved_non_negative"), type_="check"
        )
        batch_op.drop_constraint("uq_dossier_volumes_figure", type_="unique")
        batch_op.create_unique_constraint(
            "uq_dossier_volumes_cell", ["agency_id", "field_id", "month"]
        )
        batch_op.drop_column("updated_at")
        batch_op.drop_column("resolved_late")
        batch_op.drop_column("resolved_on_time")
        batch_op.drop_column("resolved")
        batch_op.drop_column("return_channel")
        batch_op.drop_column("period")
        batch_op.drop_column("source")
