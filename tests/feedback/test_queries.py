"""The staff queue's queries use their indexes (bench/feedback_queue.md has the figures)."""

from __future__ import annotations

from sqlalchemy import text

from survey_app.auth.models import Role
from survey_app.core.time import local_today
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind
from survey_app.feedback.queries import CaseFilters, apply_filters, visible_cases
from survey_app.feedback.services import Submission, submit
from tests import factories

QUEUE_ORDER = ("ix_feedback_cases_queue_order", "ix_feedback_cases_agency_queue_order")


def _sql(stmt) -> str:
    return str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))


def test_queue_order_indexes_exist(app_ctx):
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'feedback_cases'")
        )
    else:
        rows = db.session.execute(
            text("SELECT name FROM sqlite_master WHERE tbl_name = 'feedback_cases'")
        )
    names = {r[0] for r in rows}
    assert set(QUEUE_ORDER) <= names


def test_coordinator_queue_walks_the_index_instead_of_sorting(app_ctx):
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL's plan depends on statistics; the benchmark shows it there
    coordinator = factories.user(Role.coordinator)
    stmt = apply_filters(
        visible_cases(coordinator), CaseFilters(scope="all"), coordinator, local_today()
    )
    from survey_app.feedback.models import FeedbackCase

    stmt = stmt.order_by(FeedbackCase.due_on.is_(None), FeedbackCase.due_on, FeedbackCase.id).limit(
        51
    )
    plan = " ".join(
        str(r[-1]) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + _sql(stmt)))
    )
    assert "ix_feedback_cases_queue_order" in plan and "TEMP B-TREE" not in plan, plan


def test_a_case_code_in_the_search_box_finds_exactly_that_case(app_ctx):
    handler_agency = factories.agency()
    coordinator = factories.user(Role.coordinator)
    cases = [
        submit(
            Submission(
                kind=CaseKind.report,
                content=f"Nội dung phản ánh số {i} đủ dài.",
                submitter_name="A",
                contact_phone="0912345678",
                consent=True,
                agency=handler_agency,
            ),
            CaseChannel.web,
        )[0]
        for i in range(3)
    ]
    filters = CaseFilters(scope="all", text=cases[1].code.lower())
    found = db.session.scalars(
        apply_filters(visible_cases(coordinator), filters, coordinator, local_today())
    ).all()
    assert [c.id for c in found] == [cases[1].id]
    assert "feedback_cases.code =" in _sql(
        apply_filters(visible_cases(coordinator), filters, coordinator, local_today())
    )
