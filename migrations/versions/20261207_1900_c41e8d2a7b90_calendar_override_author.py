"""Calendar overrides: who set the day (shown on the calendar page beside its note).

Revision ID: c41e8d2a7b90
Revises: e7c3b9d2a4f6
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c41e8d2a7b90"
down_revision = "e7c3b9d2a4f6"
branch_labels = None
depends_on = None


def upgrade():
    # a foreign key needs batch mode on SQLite (a copy of this small table, which nothing
    # refers to; the tables it refers to are not reflected)
    with op.batch_alter_table(
        "calendar_overrides", reflect_kwargs={"resolve_fks": False}
    ) as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_calendar_overrides_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table(
        "calendar_overrides", reflect_kwargs={"resolve_fks": False}
    ) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_calendar_overrides_created_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("created_by_id")
