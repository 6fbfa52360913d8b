"""Login back-off per browser, server-side sessions, and the account an audit line is about.

- ``login_devices``: browsers recognised for an account (device cookies), each
  with its own budget of wrong passwords;
- ``users.login_lockouts``: locks in a row, for the exponential back-off;
- ``user_sessions``: one row per staff login, deleted at logout and when the
  password changes, so a copied session cookie stops working;
- ``audit_log.target_user_id``: the staff account an administrator acted on.

Revision ID: 9507a3bc4777
Revises: e7b3c9d1a2f4
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9507a3bc4777"
down_revision = "e7b3c9d1a2f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("login_lockouts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_devices")),
        sa.UniqueConstraint("user_id", "device_hash", name=op.f("uq_login_devices_user_id")),
    )
    op.create_index(op.f("ix_login_devices_user_id"), "login_devices", ["user_id"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    # a plain column with a constant default: SQLite adds it in place, no table copy
    op.add_column(
        "users", sa.Column("login_lockouts", sa.Integer(), server_default="0", nullable=False)
    )
    # a foreign key needs batch mode on SQLite (a copy of audit_log, which nothing refers
    # to; the tables it refers to are not reflected); on PostgreSQL the new column is all
    # NULL, so checking the key is quick
    with op.batch_alter_table("audit_log", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.add_column(sa.Column("target_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_target_user_id_users"),
            "users",
            ["target_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("audit_log", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_audit_log_target_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("target_user_id")
    op.drop_column("users", "login_lockouts")  # SQLite ≥ 3.35 drops a column in place
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index(op.f("ix_login_devices_user_id"), table_name="login_devices")
    op.drop_table("login_devices")
