"""Migration ea1a7fff82f7 on a database with cases: public ids for all, the published
ones' answers and summaries redacted, their search words filled; and back down."""

from __future__ import annotations

import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.feedback.models import PUBLIC_ID_ALPHABET

BEFORE, REVISION = "d5a8e2c4f1b7", "ea1a7fff82f7"

_CASE = (
    "INSERT INTO feedback_cases (id, code, secret_hash, kind, state, channel, content, "
    "procedure_id, answer, public_summary, received_at, clock_start_on, clock_days, "
    "paused_days, extension_days, updated_at, version) VALUES (:id, :code, 'h', 'report', "
    ":state, 'web', :content, :procedure, :answer, :summary, '2026-03-02 02:00:00', "
    "'2026-03-02', 15, 0, 0, '2026-03-02 02:00:00', 1)"
)


@pytest.fixture
def old_database(tmp_path, database_url):
    schema = None
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    if database_url.startswith("postgresql"):
        # a schema of its own on the test server: the migrations run there from the start
        schema = f"mig_{uuid.uuid4().hex[:12]}"
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO procedure_fields (id, code, name) VALUES (1, 'HT', 'x')")
            )
            conn.execute(
                text(
                    "INSERT INTO procedures (id, code, name, field_id, is_active) "
                    "VALUES (1, '1.001193', 'Đăng ký khai sinh', 1, true)"
                )
            )
            rows = [
                # published before summaries were required: the content was shown
                (1, "published", 1, None, "Sở đã chấn chỉnh, gọi 0912 345 678."),
                (2, "closed", None, "Ông Nguyễn Văn Bình (0912) 345 678 hỏi phí.", "Đã trả lời."),
                (3, "in_progress", 1, "Bản nháp chưa công khai.", "Bản nháp."),
            ]
            for case_id, state, procedure, summary, answer in rows:
                conn.execute(
                    text(_CASE),
                    {
                        "id": case_id,
                        "code": f"PA-26-AAAAA{case_id}",
                        "state": state,
                        "content": "Tôi là Lê Thị Cúc, 0987654321, gmail: cuc@gmail.com",
                        "procedure": procedure,
                        "answer": answer,
                        "summary": summary,
                    },
                )
    yield app
    with app.app_context():
        db.engine.dispose()
    if schema is not None:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def _rows(conn):
    return {
        r.id: r
        for r in conn.execute(
            text(
                "SELECT id, public_id, public_summary, public_summary_confirmed_at, "
                "public_answer, search_text FROM feedback_cases"
            )
        )
    }


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migration_fills_public_ids_and_the_published_view_of_old_cases(old_database):
    with old_database.app_context():
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            rows = _rows(conn)
        ids = [r.public_id for r in rows.values()]
        assert len(set(ids)) == 3
        assert all(len(i) == 16 and set(i) <= set(PUBLIC_ID_ALPHABET) for i in ids)
        first, second, draft = rows[1], rows[2], rows[3]
        assert first.public_summary is None and first.public_summary_confirmed_at is None
        assert first.public_answer == "Sở đã chấn chỉnh, gọi [số điện thoại]."
        assert first.search_text.startswith("1 001193 dang ky khai sinh so da chan chinh")
        assert "0912" not in first.search_text and "cuc" not in first.search_text.split()
        assert second.public_summary == "Ông [họ tên] [số điện thoại] hỏi phí."
        assert second.public_summary_confirmed_at is not None
        assert second.search_text == "ong ho ten so dien thoai hoi phi da tra loi"
        # a case not published keeps its draft, unconfirmed, with nothing public
        assert draft.public_summary == "Bản nháp chưa công khai."
        assert (draft.public_summary_confirmed_at, draft.public_answer, draft.search_text) == (
            None,
            None,
            None,
        )
        index_names = {i["name"] for i in inspect(db.engine).get_indexes("feedback_cases")}
        assert {"uq_feedback_cases_public_id", "ix_feedback_cases_published_at"} <= index_names
        if db.engine.dialect.name == "postgresql":  # built concurrently, and valid
            assert "ix_feedback_cases_search" in index_names
            with db.engine.connect() as conn:
                invalid = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                        "WHERE c.relname = 'feedback_cases' AND c.relnamespace = "
                        "current_schema()::regnamespace AND NOT i.indisvalid"
                    )
                ).scalar()
            assert invalid == 0

        downgrade(revision=BEFORE)
        columns = {c["name"] for c in inspect(db.engine).get_columns("feedback_cases")}
        assert not columns & {"public_id", "public_answer", "search_text"}
        with db.engine.connect() as conn:  # the cases themselves are untouched
            assert conn.execute(text("SELECT count(*) FROM feedback_cases")).scalar() == 3
