"""Feedback cases (phản ánh, kiến nghị): cases, events, attachments, routing, templates, calendar overrides.

Revision ID: 0a938d8f7c13
Revises: af927ad50b18
Create Date: 2026-11-24 20:54:30.269000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0a938d8f7c13"
down_revision = "af927ad50b18"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working_day", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_overrides")),
        sa.UniqueConstraint("day", name=op.f("uq_calendar_overrides_day")),
    )
    op.create_table(
        "answer_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_answer_templates_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_templates")),
    )
    with op.batch_alter_table("answer_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_templates_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("field_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_routing_rules_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["procedure_fields.id"],
            name=op.f("fk_routing_rules_field_id_procedure_fields"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_routing_rules_procedure_id_procedures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("field_id", name="uq_routing_rules_field"),
        sa.UniqueConstraint("procedure_id", name="uq_routing_rules_procedure"),
    )
    op.create_table(
        "feedback_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("report", "proposal", name="casekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "submitted",
                "screening",
                "rejected",
                "needs_info",
                "redirected_complaint",
                "transferred",
                "accepted",
                "assigned",
                "in_progress",
                "answered",
                "approved",
                "published",
                "closed",
                name="casestate",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "survey",
                "paper",
                "phone",
                "email",
                "api",
                name="casechannel",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("field_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("submitter_name", sa.String(length=255), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("contact_email", sa.String(length=255), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clock_start_on", sa.Date(), nullable=False),
        sa.Column("clock_days", sa.Integer(), nullable=False),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("paused_since", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("public_reason", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("public_summary", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "citizen_verdict",
            sa.Enum("agree", "disagree", name="citizenverdict", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_feedback_cases_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_feedback_cases_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_feedback_cases_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["procedure_fields.id"],
            name=op.f("fk_feedback_cases_field_id_procedure_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_feedback_cases_procedure_id_procedures"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_feedback_cases_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_cases")),
        sa.UniqueConstraint("code", name=op.f("uq_feedback_cases_code")),
        sa.UniqueConstraint("response_id", name=op.f("uq_feedback_cases_response_id")),
    )
    with op.batch_alter_table("feedback_cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_cases_agency_state", ["agency_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_cases_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_cases_procedure_id"), ["procedure_id"], unique=False
        )
        batch_op.create_index("ix_feedback_cases_received", ["received_at"], unique=False)
        batch_op.create_index("ix_feedback_cases_state_due", ["state", "due_on"], unique=False)

    op.create_table(
        "case_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["feedback_cases.id"],
            name=op.f("fk_case_attachments_case_id_feedback_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_case_attachments_stored_name")),
    )
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_attachments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(
                "submitted",
                "screening",
                "rejected",
                "needs_info",
                "redirected_complaint",
                "transferred",
                "accepted",
                "assigned",
                "in_progress",
                "answered",
                "approved",
                "published",
                "closed",
                name="casestate",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "submitted",
                "screening",
                "rejected",
                "needs_info",
                "redirected_complaint",
                "transferred",
                "accepted",
                "assigned",
                "in_progress",
                "answered",
                "approved",
                "published",
                "closed",
                name="casestate",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("from_agency_id", sa.Integer(), nullable=True),
        sa.Column("to_agency_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("working_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_case_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["feedback_cases.id"],
            name=op.f("fk_case_events_case_id_feedback_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_agency_id"], ["agencies.id"], name=op.f("fk_case_events_from_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["to_agency_id"], ["agencies.id"], name=op.f("fk_case_events_to_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))

    op.drop_table("case_events")
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_attachments_case_id"))

    op.drop_table("case_attachments")
    with op.batch_alter_table("feedback_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_cases_state_due")
        batch_op.drop_index("ix_feedback_cases_received")
        batch_op.drop_index(batch_op.f("ix_feedback_cases_procedure_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_cases_assignee_id"))
        batch_op.drop_index("ix_feedback_cases_agency_state")

    op.drop_table("feedback_cases")
    op.drop_table("routing_rules")
    with op.batch_alter_table("answer_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_templates_agency_id"))

    op.drop_table("answer_templates")
    op.drop_table("calendar_overrides")
