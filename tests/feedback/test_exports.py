"""The staff exports of cases: masked means masked, free text included, and the audit
log says which cases each export contained."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog, CaseChannel, CaseKind
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.helpers import logged_in

NAME, PHONE, EMAIL, ID_NUMBER = "Lê Thị Hồng", "0912345678", "hong.le@example.vn", "001099012345"
#: The personal data a citizen typed into the text, as people write it.
CONTENT = (
    f"Tôi là {NAME}, số CCCD {ID_NUMBER}. Quầy đòi bản sao không có trong quy định. "
    f"Xin gọi lại cho tôi: 0912 345 678 hoặc 0912.345.678, e-mail {EMAIL}. "
    f"({NAME.upper()} ký tên)"
)
SECRETS = (NAME, NAME.upper(), ID_NUMBER, "0912 345 678", "0912.345.678", PHONE, EMAIL)


@pytest.fixture
def world(app):
    with app.app_context():
        a = factories.agency("Sở Tư pháp", code="STP")
        b = factories.agency("Sở Xây dựng", code="SXD")
        ids = []
        for agency, content in (
            (a, CONTENT),
            (a, "Đề nghị niêm yết phí rõ ràng hơn."),
            (b, CONTENT),
        ):
            case, _ = submit(
                Submission(
                    kind=CaseKind.report,
                    content=content,
                    submitter_name=NAME,
                    contact_phone=PHONE,
                    contact_email=EMAIL,
                    consent=True,
                    agency=agency,
                ),
                CaseChannel.web,
            )
            ids.append(case.id)
        handler = factories.user(Role.handler, a)
        coordinator = factories.user(Role.coordinator)
        db.session.commit()
        return SimpleNamespace(
            ids=ids, handler=handler.email, coordinator=coordinator.email, handler_id=handler.id
        )


def _vi(app, msgid: str) -> str:
    """``msgid`` as a Vietnamese page shows it (whether the catalogue has it yet or not)."""
    from flask_babel import gettext

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        return gettext(msgid)


def _csv(reply) -> list[list[str]]:
    return list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))


def test_mask_text_hides_the_submitters_name_wherever_the_text_repeats_it():
    from survey_app.feedback.audit import mask_text

    masked = mask_text(CONTENT, NAME)
    assert not [s for s in SECRETS if s in masked], masked
    assert "([họ tên] ký tên)" in masked and "Quầy đòi bản sao" in masked
    assert mask_text("Tôi là Lê Thị  Hồng.", "Lê Thị Hồng") == "Tôi là [họ tên]."
    assert mask_text("Gửi bà lê thị hồng.", "Lê Thị Hồng") == "Gửi bà [họ tên]."
    assert mask_text("", NAME) == "" and mask_text(None) == ""


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_masked_export_masks_the_free_text_too(app, world, fmt):
    """The name, phone and e-mail columns were masked but the content column showed the
    citizen's name, phone numbers, e-mail and ID number as typed."""
    reply = logged_in(app, world.handler).get(f"/staff/feedback/export.{fmt}")
    assert reply.status_code == 200
    if fmt == "csv":
        rows = _csv(reply)
    else:
        sheet = load_workbook(io.BytesIO(reply.data)).active
        rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == 3  # the header and agency A's two cases
    content = rows[0].index(_vi(app, "Content"))
    text = " ".join(" ".join(str(c) for c in row) for row in rows)
    assert not [s for s in SECRETS if s in text]
    assert "Quầy đòi bản sao không có trong quy định" in rows[1][content]
    assert rows[2][content] == "Đề nghị niêm yết phí rõ ràng hơn."


def test_an_unmasked_export_keeps_the_text_as_written(app, world):
    rows = _csv(logged_in(app, world.coordinator).get("/staff/feedback/export.csv?scope=all"))
    content = rows[0].index(_vi(app, "Content"))
    assert [r[content] for r in rows[1:]].count(CONTENT) == 2


def test_the_audit_log_says_which_cases_each_export_contained(app, world):
    client = logged_in(app, world.handler)
    assert client.get("/staff/feedback/export.csv?q=0912 345 678").status_code == 200
    assert client.get("/staff/feedback/export.xlsx?state=submitted").status_code == 200
    with app.app_context():
        exports = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id)
        ).all()
        assert [e.user_id for e in exports] == [world.handler_id] * 2
        first, second = exports
        assert first.detail.startswith("csv, 1 cases, masked, ")
        assert "text search" in first.detail and "345" not in first.detail
        assert second.detail.startswith("xlsx, 2 cases, masked, ") and "state=submitted" in (
            second.detail
        )
        for export, cases in ((first, world.ids[:1]), (second, world.ids[:2])):
            lines = db.session.scalars(
                select(AuditLog).where(AuditLog.detail.startswith(f"export #{export.id} "))
            ).all()
            assert {line.action for line in lines} == {"export_case"}
            assert sorted(line.case_id for line in lines) == sorted(cases)
            assert {line.user_id for line in lines} == {world.handler_id}
    # each case's trail on the audit page shows the export it left in
    admin = _admin_client(app)
    page = admin.get(f"/staff/feedback/admin/audit?case={world.ids[0]}").get_data(as_text=True)
    assert page.count("export_case") == 2  # in both exports
    trails = [
        admin.get(f"/staff/feedback/admin/audit?case={case_id}").get_data(as_text=True)
        for case_id in world.ids[1:]
    ]
    assert [t.count("export_case") for t in trails] == [1, 0]  # agency B's case: in none
    # the whole log shows one line per export, not one per case
    whole = admin.get("/staff/feedback/admin/audit").get_data(as_text=True)
    assert "export_case" not in whole and whole.count("cases, masked") == 2


def _admin_client(app):
    with app.app_context():
        email = factories.user(Role.admin).email
        db.session.commit()
    return logged_in(app, email)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_have_vietnamese_headers_values_and_local_times(app, world, fmt):
    from datetime import UTC, date, datetime

    from survey_app.feedback.models import FeedbackCase

    with app.app_context():
        case = db.session.get(FeedbackCase, world.ids[0])
        case.received_at = datetime(2026, 3, 1, 17, 5, tzinfo=UTC)  # 00:05 on 2 March in Hà Nội
        case.due_on = date(2026, 3, 4)
        code = case.code
        db.session.commit()
    reply = logged_in(app, world.coordinator).get(f"/staff/feedback/export.{fmt}?scope=all")
    if fmt == "csv":
        rows = _csv(reply)
    else:
        sheet = load_workbook(io.BytesIO(reply.data)).active
        rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    expected = [
        "Case code",
        "Kind",
        "State",
        "Received by",
        "Agency",
        "Procedure code",
        "Received on (Vietnam time)",
        "Due by",
        "Full name",
        "Phone",
        "E-mail",
        "Content",
    ]
    assert header == [_vi(app, msgid) for msgid in expected]
    assert "Mã hồ sơ" in header or "Case code" in header  # (before the catalogue has them)
    assert "code" not in header and "received_at" not in header
    row = next(r for r in rows[1:] if r[0] == code)
    assert row[6] == "02/03/2026 00:05" and row[7] == "04/03/2026"
    assert row[2] == _vi(app, "Submitted") and row[3] == _vi(app, "Web form")
    assert row[2] != "submitted" and row[3] != "web"
