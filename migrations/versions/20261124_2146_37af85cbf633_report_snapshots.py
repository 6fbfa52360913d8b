"""Report snapshots: published reports, frozen.

Revision ID: 37af85cbf633
Revises: 5c1d2e3f4a5b
Create Date: 2026-11-24 21:46:02.027638

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "37af85cbf633"
down_revision = "5c1d2e3f4a5b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_report_snapshots_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshots")),
    )
    with op.batch_alter_table("report_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_snapshots_period", ["period", "published_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("report_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_report_snapshots_period")
    op.drop_table("report_snapshots")
