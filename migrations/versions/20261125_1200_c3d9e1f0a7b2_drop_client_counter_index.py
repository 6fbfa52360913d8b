"""Drop ix_responses_client_counter: no query reads responses by client hash any more.

It served the server-side duplicate check, which refused a tap when the same
address + browser string had rated the counter recently. That check turned
away different citizens on one Wi-Fi and is gone (a repeat is refused per
browser, by its session); the index only cost every insert.

Revision ID: c3d9e1f0a7b2
Revises: b7e4c2a9d15f
Create Date: 2026-11-25 12:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c3d9e1f0a7b2"
down_revision = "b7e4c2a9d15f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_client_counter")


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responses_client_counter",
            ["client_hash", "counter_id", "submitted_at"],
            unique=False,
        )
