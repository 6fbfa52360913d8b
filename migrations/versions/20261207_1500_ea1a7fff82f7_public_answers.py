"""Published answers without personal data, a random public id, and an indexed search.

- ``public_id``: a random id public lists and Open311 show instead of the case
  code (the code opens the case with the tracking number); every row gets one.
- ``public_summary_confirmed_at``: publishing needs a question as published that
  staff confirmed. Summaries of cases published before are masked with the
  redaction service and taken as confirmed (staff wrote them).
- ``public_answer``: the answer as published, redacted; ``search_text``: the
  folded words of the published procedure, question and answer. Both are filled
  for cases already published.
- Indexes: the public id (unique), ``published_at`` (the public list's order),
  and on PostgreSQL a full-text GIN index on ``search_text``. On PostgreSQL they
  are built CONCURRENTLY, outside the migration's transaction, so that the
  service keeps writing cases while they are built.

Revision ID: ea1a7fff82f7
Revises: e7c4a1b9d3f2
Create Date: 2026-12-07 10:00:00

"""

import secrets
import unicodedata
from datetime import UTC, datetime

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ea1a7fff82f7"
down_revision = "e7c4a1b9d3f2"
branch_labels = None
depends_on = None

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_TOKEN = re.compile(r"[0-9a-z]+")
_PUBLISHED = ("published", "closed")
_SEARCH_INDEX = "ix_feedback_cases_search"

cases = sa.table(
    "feedback_cases",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("procedure_id", sa.Integer),
    sa.column("answer", sa.Text),
    sa.column("public_summary", sa.Text),
    sa.column("public_id", sa.String),
    sa.column("public_summary_confirmed_at", sa.DateTime(timezone=True)),
    sa.column("public_answer", sa.Text),
    sa.column("search_text", sa.Text),
)
procedures = sa.table(
    "procedures",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
)


def _words(value):
    """Folded words, as survey_app.feedback.published.words_of (copied: a migration
    must not change when the application's code does)."""
    folded = unicodedata.normalize("NFD", (value or "").casefold().replace("đ", "d"))
    return _TOKEN.findall("".join(c for c in folded if not unicodedata.combining(c)))


def _backfill(conn):
    from survey_app.core.redact import redact  # the shared redaction service

    ids = conn.execute(sa.select(cases.c.id)).scalars().all()
    if ids:
        conn.execute(
            cases.update().where(cases.c.id == sa.bindparam("b_id")),
            [
                {"b_id": i, "public_id": "".join(secrets.choice(_ALPHABET) for _ in range(16))}
                for i in ids
            ],
        )
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC, as UTCDateTime does
    rows = conn.execute(
        sa.select(
            cases.c.id, cases.c.answer, cases.c.public_summary, procedures.c.code, procedures.c.name
        )
        .select_from(cases.outerjoin(procedures, cases.c.procedure_id == procedures.c.id))
        .where(cases.c.state.in_(_PUBLISHED))
    ).all()
    for row in rows:
        summary = redact(row.public_summary) or None
        answer = redact(row.answer) or None
        words = [w for part in (row.code, row.name, summary, answer) for w in _words(part)]
        conn.execute(
            cases.update()
            .where(cases.c.id == row.id)
            .values(
                public_summary=summary,
                public_summary_confirmed_at=now if summary else None,
                public_answer=answer,
                search_text=" ".join(dict.fromkeys(words)),
            )
        )


def upgrade():
    op.add_column("feedback_cases", sa.Column("public_id", sa.String(length=24), nullable=True))
    op.add_column(
        "feedback_cases",
        sa.Column("public_summary_confirmed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("feedback_cases", sa.Column("public_answer", sa.Text(), nullable=True))
    op.add_column("feedback_cases", sa.Column("search_text", sa.Text(), nullable=True))
    _backfill(op.get_bind())
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("uq_feedback_cases_public_id", "feedback_cases", ["public_id"], unique=True)
        op.create_index("ix_feedback_cases_published_at", "feedback_cases", ["published_at"])
        return
    # committed first, then built without locking writes; an invalid index left by an
    # interrupted earlier run is dropped and built again
    with op.get_context().autocommit_block():
        for name, columns, options in (
            ("uq_feedback_cases_public_id", ["public_id"], {"unique": True}),
            ("ix_feedback_cases_published_at", ["published_at"], {}),
            (
                _SEARCH_INDEX,
                [sa.text("to_tsvector('simple'::regconfig, search_text)")],
                {
                    "postgresql_using": "gin",
                    "postgresql_where": sa.text("search_text IS NOT NULL"),
                },
            ),
        ):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.create_index(
                name, "feedback_cases", columns, postgresql_concurrently=True, **options
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name in (
                _SEARCH_INDEX,
                "ix_feedback_cases_published_at",
                "uq_feedback_cases_public_id",
            ):
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    else:
        op.drop_index("ix_feedback_cases_published_at", table_name="feedback_cases")
        op.drop_index("uq_feedback_cases_public_id", table_name="feedback_cases")
    # SQLite ≥ 3.35 drops a column in place
    op.drop_column("feedback_cases", "search_text")
    op.drop_column("feedback_cases", "public_answer")
    op.drop_column("feedback_cases", "public_summary_confirmed_at")
    op.drop_column("feedback_cases", "public_id")
