"""Index on responses.submitted_at: reports and exports read whole periods across agencies.

Revision ID: b7e2c41d9a05
Revises: a4176f84f840
Create Date: 2026-11-24 23:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e2c41d9a05"
down_revision = "a4176f84f840"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index("ix_responses_submitted_at", ["submitted_at"], unique=False)


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_submitted_at")
