"""The retention purge leaves nothing behind (docs/PERSONAL_DATA.md).

Citizens file cases through every channel (web form with attachments, the
survey's conversion, the JSON API, Open311) with names, phones, e-mail
addresses, home addresses and ID numbers; staff copy them into reasons, notes,
the answer and the audit log; notifications are queued and fail. Five years
and a day later ``flask feedback purge`` runs, and every text column of every
table (the schema's, so a column added tomorrow is searched too) and the
attachment folder are searched for what the citizens gave.
"""

from __future__ import annotations

import io
import json
import re
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from PIL import Image
from sqlalchemy import func, select

from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback import audit, notify, outbox, retention
from survey_app.feedback.complaints import reclassify
from survey_app.feedback.models import (
    AuditLog,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
    OutboxMessage,
)
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import transition
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.helpers import csrf_from, logged_in

DOC = Path(__file__).resolve().parents[2] / "docs" / "PERSONAL_DATA.md"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 9:00 in Hanoi
RETENTION = 1825
AFTER = T0 + timedelta(days=RETENTION + 2)


@dataclass(frozen=True)
class Citizen:
    name: str
    phone: str  # as typed: the app stores it without spaces
    email: str
    address: str
    id_number: str

    def patterns(self) -> dict[str, re.Pattern[str]]:
        """What to search for: the values however they were spaced or cased."""

        def digits(value: str) -> re.Pattern[str]:
            core = re.sub(r"\D", "", value).removeprefix("0")
            return re.compile(r"[\s.\-()]*".join(core))

        return {
            f"{self.name}: name": re.compile(re.escape(self.name)),
            f"{self.name}: phone": digits(self.phone),
            f"{self.name}: e-mail": re.compile(re.escape(self.email), re.IGNORECASE),
            f"{self.name}: address": re.compile(re.escape(self.address), re.IGNORECASE),
            f"{self.name}: id": digits(self.id_number),
        }


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# Each citizen's values are unique, so a find names the case it leaked from.
WEB = Citizen(
    _nfc("Phạm Thị Hồng Nhung"),
    "0903 111 222",
    "nhung.pham@example.vn",
    _nfc("Số 7 ngõ Hoà Bình, Hải Dương"),
    "001234567890",
)
SURVEY = Citizen(
    _nfc("Đoàn Văn Khải"),
    "0904 333 444",
    "khai.doan@example.vn",
    _nfc("Thôn Đông, Nam Sách"),
    "036099001122",
)
API = Citizen(
    _nfc("Lương Thị Mai"),
    "0905 555 666",
    "mai.luong@example.vn",
    _nfc("12 Trần Phú, Kinh Môn"),
    "034188002233",
)
OPEN311 = Citizen(
    _nfc("Vũ Quang Huy"),
    "0906 777 888",
    "huy.vu@example.vn",
    _nfc("Khu 3, Chí Linh"),
    "030077003344",
)
COMMENTER = Citizen(
    _nfc("Hà Thu Trang"), "0907 999 000", "trang.ha@example.vn", _nfc("Xã Tân Hưng"), "031066004455"
)
#: Cases that must keep their data: one still open, one that ended too recently.
OPEN = Citizen(
    _nfc("Kiều Minh Tâm"),
    "0908 121 212",
    "tam.kieu@example.vn",
    _nfc("Phường Ngọc Châu"),
    "038055005566",
)
RECENT = Citizen(
    _nfc("Mạc Thị Lan"),
    "0909 343 434",
    "lan.mac@example.vn",
    _nfc("Phường Thanh Bình"),
    "037044006677",
)
PURGED = (WEB, SURVEY, API, OPEN311, COMMENTER)


def _text_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if isinstance(c.type, (sa.String, sa.JSON))]


def find(citizens) -> dict[str, set[str]]:
    """``table.column`` → the citizens' values found in it, in every table of the schema."""
    patterns = {k: p for c in citizens for k, p in c.patterns().items()}
    found: dict[str, set[str]] = {}
    for table in db.metadata.sorted_tables:
        columns = _text_columns(table)
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                text = _nfc(text)
                for what, pattern in patterns.items():
                    if pattern.search(text):
                        found.setdefault(f"{table.name}.{column.name}", set()).add(what)
    return found


def documented_places() -> set[str]:
    """The ``table.column`` entries of section 1 of docs/PERSONAL_DATA.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## 1.", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)`", section, re.MULTILINE))


def _jpeg(text: str) -> bytes:
    """A photo whose EXIF says who took it (removed on upload anyway)."""
    exif = Image.Exif()
    exif[0x013B] = text  # Artist
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 30, 30)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% {text}\n%%EOF\n".encode()


def _token_and_version(client, case_id: int) -> tuple[str, str]:
    page = client.get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    return csrf_from(page), re.search(r'name="version" value="(\d+)"', page).group(1)


def _staff_post(client, case_id: int, action: str, **form) -> None:
    token, version = _token_and_version(client, case_id)
    reply = client.post(
        f"/staff/feedback/{case_id}/{action}",
        data={"csrf_token": token, "version": version, **form},
    )
    assert reply.status_code == 303, (action, form, reply.get_data(as_text=True)[:800])


def _case_by_code(code: str) -> FeedbackCase:
    return db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))


def _refusing_smtp(monkeypatch) -> None:
    """A mail server that refuses every recipient, quoting the address (as real ones do)."""

    class Refusing:
        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def send_message(self, email):
            to = email["To"]
            raise smtplib.SMTPRecipientsRefused({to: (550, f"5.1.1 <{to}>: unknown".encode())})

    monkeypatch.setattr(smtplib, "SMTP", Refusing)


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        field = factories.field(code="HT", name="Hộ tịch")
        factories.procedure(agency, field, code="1.001193")
        counter = factories.counter(agency)
        handler = factories.user(Role.handler, agency)
        coordinator = factories.user(Role.coordinator)
        from survey_app.api.services import create_api_client

        _client, key = create_api_client("Cổng dịch vụ công")
        db.session.commit()
        return SimpleNamespace(
            agency=agency.id,
            counter=counter.code,
            handler=handler.id,
            handler_email=handler.email,
            coordinator=coordinator.email,
            key=key,
            folder=tmp_path / "attachments",
        )


def _web_case(app, world) -> str:
    """The web form with two attachments, then every staff step up to publication."""
    c = WEB
    client = app.test_client()
    html = client.get("/feedback/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "kind": "report",
        "content": f"Quầy đòi bản sao CCCD {c.id_number}. Liên hệ tôi {c.email} hoặc {c.phone}.",
        "agency_id": str(world.agency),
        "submitter_name": c.name,
        "contact_phone": c.phone,
        "contact_email": c.email,
        "address": c.address,
        "consent": "y",
        "attachments": [
            (io.BytesIO(_jpeg(c.name)), f"CCCD {c.name}.jpg"),
            (io.BytesIO(_pdf(c.id_number)), f"{c.id_number}.pdf"),
        ],
    }
    reply = client.post("/feedback/new", data=data, content_type="multipart/form-data")
    assert reply.status_code == 303
    code = re.search(
        r'id="case-code">([^<]+)<', client.get("/feedback/submitted").get_data(as_text=True)
    ).group(1)
    with app.app_context():
        case_id = _case_by_code(code).id
        attachment_ids = [a.id for a in _case_by_code(code).attachments]
    staff = logged_in(app, world.coordinator)
    staff.get(f"/staff/feedback/{case_id}/attachments/{attachment_ids[0]}")  # audited read
    _staff_post(staff, case_id, "transition", to_state="screening")
    _staff_post(
        staff,
        case_id,
        "transition",
        to_state="needs_info",
        reason=f"Đề nghị gửi lại CCCD {c.id_number}; gọi lại số {c.phone}.",
        note=f"Đã gọi chị {c.name}, nhà ở {c.address}.",
    )
    _staff_post(staff, case_id, "transition", to_state="screening")
    _staff_post(staff, case_id, "transition", to_state="accepted", agency_id=str(world.agency))
    _staff_post(staff, case_id, "extend", days="5", reason=f"Chờ ý kiến, đã báo {c.email}.")
    _staff_post(staff, case_id, "transition", to_state="assigned", assignee_id=str(world.handler))
    _staff_post(staff, case_id, "transition", to_state="in_progress")
    _staff_post(
        staff,
        case_id,
        "answer",
        answer=f"Kính gửi bà {c.name}. Quầy đã được nhắc không đòi bản sao.",
        # publishing needs a question staff confirmed free of personal data
        public_summary="Quầy đòi bản sao giấy tờ không cần thiết.",
        confirm_summary="y",
    )
    for step in ("answered", "approved", "published"):
        _staff_post(staff, case_id, "transition", to_state=step)
    with app.app_context():
        # staff quoted the citizen in an audit line (nothing in the app does this yet)
        audit.record(None, "note", db.session.get(FeedbackCase, case_id), f"gọi {c.phone}")
        db.session.commit()
    return code


def _survey_case(app, world) -> str:
    """A survey suggestion with contacts, turned into a case, answered and agreed with."""
    c = SURVEY
    client = app.test_client()
    code = world.counter
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={"csrf_token": csrf_from(html), "overall": "2"})
    html = client.get(f"/s/{code}/comment").get_data(as_text=True)
    comment = f"Cần sửa ngay, gọi tôi {c.phone} hoặc {c.email}, CCCD {c.id_number}."
    client.post(
        f"/s/{code}/comment",
        data={"csrf_token": csrf_from(html), "wants_feedback": "y", "comment": comment},
    )
    form = client.get("/feedback/new?from=survey").get_data(as_text=True)
    reply = client.post(
        "/feedback/new?from=survey",
        data={
            "csrf_token": csrf_from(form),
            "kind": "report",
            "content": comment,
            "agency_id": str(world.agency),
            "submitter_name": c.name,
            "contact_email": c.email,
            "address": c.address,
            "consent": "y",
        },
    )
    assert reply.status_code == 303
    page = client.get("/feedback/submitted").get_data(as_text=True)
    case_code = re.search(r'id="case-code">([^<]+)<', page).group(1)
    with app.app_context():
        case = _case_by_code(case_code)
        staff = db.session.get(factories.User, world.handler)
        for step in ("screening", "accepted", "assigned", "in_progress"):
            transition(case, CaseState(step), None, assignee=staff)
        case.answer = "Đã chấn chỉnh."
        case.public_summary = "Đề nghị chấn chỉnh thái độ phục vụ."
        case.public_summary_confirmed_at = now_utc()  # publishing needs it confirmed
        for step in ("answered", "approved", "published"):
            transition(case, CaseState(step), None)
        db.session.commit()
    track = client.get(f"/feedback/track/{case_code}").get_data(as_text=True)
    reply = client.post(
        f"/feedback/track/{case_code}", data={"csrf_token": csrf_from(track), "verdict": "agree"}
    )
    assert reply.status_code == 303
    return case_code


def _api_case(app, world) -> str:
    c = API
    body = {
        "kind": "proposal",
        "content": f"Đề nghị bỏ yêu cầu bản sao; CCCD của tôi {c.id_number}, {c.phone}.",
        "submitter_name": c.name,
        "contact_phone": c.phone,
        "contact_email": c.email,
        "address": c.address,
        "consent": True,
        "procedure": "1.001193",
    }
    reply = app.test_client().post(
        "/api/v1/cases", json=body, headers={"Authorization": f"Bearer {world.key}"}
    )
    assert reply.status_code == 201
    code = reply.json["code"]
    with app.app_context():
        case = _case_by_code(code)
        transition(case, CaseState.screening, None)
        # a draft of the published question, never confirmed, may quote the citizen
        case.public_summary = f"Nháp: hỏi về hồ sơ, liên hệ {c.email}"
        transition(case, CaseState.rejected, None, reason=f"Trùng hồ sơ của {c.name}.")
        db.session.commit()
    return code


def _open311_case(app, world) -> str:
    c = OPEN311
    first, last = c.name.rsplit(" ", 1)[1], c.name.rsplit(" ", 1)[0]
    reply = app.test_client().post(
        "/open311/v2/requests.json",
        data={
            "api_key": world.key,
            "service_code": "HT",
            "description": f"Tôi muốn khiếu nại cán bộ, số CCCD {c.id_number}, email {c.email}.",
            "first_name": first,
            "last_name": last,
            "phone": c.phone,
            "email": c.email,
            "address_string": c.address,
            "attribute[consent]": "true",
        },
    )
    assert reply.status_code == 201
    public_id = reply.json[0]["service_request_id"]  # Open311 never shows the case code
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.public_id == public_id))
        # its words only suggest a complaint: a coordinator decides it is one
        assert case.state == CaseState.submitted
        coordinator = factories.user(Role.coordinator)
        reclassify(case, "complaint", coordinator, "Nội dung là khiếu nại: gửi Thanh tra.")
        db.session.commit()
        assert case.state == CaseState.redirected_complaint
        return case.code


def _comment_and_report(app, world) -> None:
    """A survey comment never turned into a case; a report that froze comments as an older
    version of the redaction left them (unredacted)."""
    c = COMMENTER
    client = app.test_client()
    html = client.get(f"/s/{world.counter}").get_data(as_text=True)
    client.post(f"/s/{world.counter}", data={"csrf_token": csrf_from(html), "overall": "4"})
    html = client.get(f"/s/{world.counter}/comment").get_data(as_text=True)
    client.post(
        f"/s/{world.counter}/comment",
        data={
            "csrf_token": csrf_from(html),
            "comment": f"Cán bộ tốt. Cần gì gọi {c.phone}, {c.email}, CCCD {c.id_number}.",
        },
    )
    with app.app_context():
        from survey_app.reports import services as report_services
        from survey_app.reports.periods import Period

        snapshot = report_services.publish(Period.containing("month", T0))
        results = dict(snapshot.results)
        results["comments"] = {
            str(world.agency): [
                {
                    "submitted_at": T0.isoformat(),
                    "overall": 4,
                    "text": f"Gọi {c.phone} hoặc {c.email}",
                    "counter": "Quầy 1",
                }
            ]
        }
        snapshot.results = results
        db.session.commit()


def _case_kept(app, world, c: Citizen, ends: bool) -> str:
    with app.app_context():
        case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content=f"Phản ánh, CCCD {c.id_number}, {c.email}.",
                submitter_name=c.name,
                contact_phone=c.phone,
                contact_email=c.email,
                address=c.address,
                consent=True,
                agency=db.session.get(factories.Agency, world.agency),
            ),
            CaseChannel.phone,
        )
        notify.citizen_received(case, secret)
        if ends:
            transition(case, CaseState.screening, None)
            transition(case, CaseState.rejected, None, reason=f"Gọi {c.phone} không được.")
        db.session.commit()
        return case.code


def _seed(app, world, monkeypatch) -> dict[str, str]:
    # citizens with a phone get SMS too; the gateway refuses them, as SMTP refuses mail
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "sms,email")
    with freeze_time(T0):
        codes = {
            "web": _web_case(app, world),
            "survey": _survey_case(app, world),
            "api": _api_case(app, world),
            "open311": _open311_case(app, world),
        }
        _comment_and_report(app, world)
        codes["open"] = _case_kept(app, world, OPEN, ends=False)
        with app.app_context():
            _refusing_smtp(monkeypatch)
            monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
            monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "http://127.0.0.1:9/send")
            sent, failed = outbox.send_pending(1000)
            assert sent == 0 and failed >= 5
            monkeypatch.setitem(app.config, "MAIL_SERVER", None)
            monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", None)
    with freeze_time(AFTER - timedelta(days=10)):
        codes["recent"] = _case_kept(app, world, RECENT, ends=True)
    return codes


def test_the_purge_leaves_no_trace_of_the_citizens_in_any_column_or_file(
    app, world, runner, monkeypatch
):
    codes = _seed(app, world, monkeypatch)
    documented = documented_places()
    with app.app_context():
        before = find(PURGED)
        files_before = sorted(p.name for p in world.folder.iterdir())
    # the test seeds every place the register lists, and the register lists every place
    # the citizens' data reached (a new column that copies it must be added to the doc)
    assert set(before) == documented, (
        f"seeded but not documented: {sorted(set(before) - documented)}; "
        f"documented but not seeded: {sorted(documented - set(before))}"
    )
    assert len(files_before) == 2

    with freeze_time(AFTER):
        result = runner.invoke(args=["feedback", "purge"])
    assert result.exit_code == 0, result.output
    assert "contact data erased from 4 case(s)" in result.output

    with app.app_context():
        db.session.expire_all()
        assert find(PURGED) == {}
        # what must stay, stays: cases still open or ended within the period
        kept = find((OPEN, RECENT))
        assert {"feedback_cases.submitter_name", "feedback_cases.contact_email"} <= set(kept)
        assert "outbox.recipient" in kept
        for key in ("open", "recent"):
            case = _case_by_code(codes[key])
            assert case.contact_erased_at is None and case.submitter_name
        # the purged cases remain, for the statistics
        web = _case_by_code(codes["web"])
        assert web.state == CaseState.published and web.contact_erased_at is not None
        assert web.answer == "Kính gửi bà [họ tên]. Quầy đã được nhắc không đòi bản sao."
        assert web.public_summary == "Quầy đòi bản sao giấy tờ không cần thiết."  # as published
        assert "[số điện thoại]" in web.events[1].reason and web.events[1].note is None
        assert not web.attachments
        states = {k: _case_by_code(v).state for k, v in codes.items()}
        assert states["survey"] == CaseState.closed and states["api"] == CaseState.rejected
        # audited: one line per case and one for the run, with counts and no data
        lines = db.session.scalars(
            select(AuditLog).where(AuditLog.action.in_(("purge", "purge_run")))
        ).all()
        assert sorted(line.action for line in lines) == ["purge"] * 4 + ["purge_run"]
        web_line = next(line for line in lines if line.case_id == web.id)
        assert "attachments=2" in web_line.detail and "contact_fields=4" in web_line.detail
    assert sorted(p.name for p in world.folder.iterdir()) == []

    # the published answer is still public, without the citizen
    with freeze_time(AFTER):
        page = app.test_client().get("/feedback/answers").get_data(as_text=True)
    assert "Quầy đã được nhắc không đòi bản sao." in page and WEB.name not in page


def test_the_purge_is_idempotent(app, world, runner, monkeypatch):
    _seed(app, world, monkeypatch)
    with freeze_time(AFTER):
        runner.invoke(args=["feedback", "purge"])
    with app.app_context():
        snapshot = _dump_all()
    with freeze_time(AFTER + timedelta(hours=1)):
        again = runner.invoke(args=["feedback", "purge"])
    assert again.exit_code == 0
    assert "contact data erased from 0 case(s)" in again.output
    assert "notifications deleted: 0, survey comments redacted: 0" in again.output
    with app.app_context():
        db.session.expire_all()
        now = _dump_all()
        runs = db.session.scalars(
            select(AuditLog.detail).where(AuditLog.action == "purge_run").order_by(AuditLog.id)
        ).all()
    # nothing changed but the second run's own audit line and how far the marks have got
    moving = ("audit_log", "retention_marks")
    assert {k: v for k, v in now.items() if k not in moving} == {
        k: v for k, v in snapshot.items() if k not in moving
    }
    assert len(runs) == 2 and runs[1] == "retention 1825 days: nothing, orphan files=0"


def _dump_all() -> dict[str, list]:
    out = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in ("updated_at",)]
        rows = db.session.execute(select(*columns)).all()
        out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def test_a_case_reopened_after_its_purge_is_purged_again_when_it_ends_again(app, world, runner):
    with freeze_time(T0):
        code = _case_kept(app, world, RECENT, ends=True)
    with freeze_time(AFTER):
        runner.invoke(args=["feedback", "purge"])
    with app.app_context():
        case = _case_by_code(code)
        assert case.submitter_name is None
    # the case is taken up again (a rejected case cannot be reopened: use a published one)
    with freeze_time(AFTER + timedelta(days=1)), app.app_context():
        case = _case_by_code(code)
        case.state = CaseState.published
        case.published_at = case.closed_at = None
        # (its contacts are gone: what is typed now is caught by redact(), not by name)
        transition(
            case,
            CaseState.in_progress,
            None,
            reason=f"Bà ấy gọi lại từ {RECENT.phone}, email {RECENT.email}.",
        )
        case.answer = "Trả lời lại."
        case.public_summary = "Đề nghị xem lại hồ sơ."  # the question as published,
        case.public_summary_confirmed_at = now_utc()  # confirmed by staff
        transition(case, CaseState.answered, None)
        transition(case, CaseState.approved, None)
        transition(case, CaseState.published, None)
        db.session.commit()
    with freeze_time(AFTER + timedelta(days=2)):
        result = runner.invoke(args=["feedback", "purge"])
    assert "erased from 0 case(s)" in result.output  # ended again, but only yesterday
    with freeze_time(AFTER + timedelta(days=RETENTION + 3)):
        result = runner.invoke(args=["feedback", "purge"])
    assert "erased from 1 case(s)" in result.output
    with app.app_context():
        assert find((RECENT,)) == {}


def test_a_case_not_yet_old_enough_keeps_its_data(app, world, runner):
    with freeze_time(T0):
        code = _case_kept(app, world, RECENT, ends=True)
    with freeze_time(T0 + timedelta(days=RETENTION - 1)):
        result = runner.invoke(args=["feedback", "purge"])
    assert "erased from 0 case(s)" in result.output
    with app.app_context():
        assert _case_by_code(code).contact_email == RECENT.email


def test_old_sent_notifications_are_deleted_and_pending_ones_kept(app, world, runner):
    with app.app_context():
        with freeze_time(T0):
            outbox.enqueue("staff@example.gov.vn", "Nhắc việc", "x", dedupe_key="k1")
            outbox.enqueue("retrying@example.vn", "Hồ sơ", "y", dedupe_key="k2")
            db.session.commit()
            assert outbox.send_pending() == (2, 0)  # development: written to the log
        with freeze_time(T0 + timedelta(days=2)):
            outbox.enqueue("waiting@example.vn", "Hồ sơ", "z", dedupe_key="k3")
            db.session.commit()
    with freeze_time(T0 + timedelta(days=31)):
        result = runner.invoke(args=["feedback", "purge"])
    assert "notifications deleted: 2" in result.output
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["waiting@example.vn"]


def test_a_failed_mail_is_logged_without_its_address(app, world, monkeypatch, caplog):
    with app.app_context():
        outbox.enqueue("nhung.pham@example.vn", "Hồ sơ", "body")
        db.session.commit()
        _refusing_smtp(monkeypatch)
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        with caplog.at_level("INFO"):
            assert outbox.send_pending() == (0, 1)
    assert "mail to 'n***@example.vn' failed" in caplog.text
    assert "nhung.pham@example.vn" not in caplog.text


def test_production_without_a_mail_server_logs_no_address_or_tracking_number(
    app, world, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    with app.app_context():
        outbox.enqueue("nhung.pham@example.vn", "Hồ sơ PA-26-ABCDEF", "Số theo dõi: 84512673")
        db.session.commit()
        with caplog.at_level("INFO"):
            assert outbox.send_pending() == (1, 0)
    assert "n***@example.vn" in caplog.text and "PA-26-ABCDEF" in caplog.text
    assert "nhung.pham" not in caplog.text and "84512673" not in caplog.text


def test_a_database_error_in_the_log_does_not_carry_the_values(app_ctx):
    with pytest.raises(sa.exc.DBAPIError) as caught:
        db.session.execute(sa.text("SELECT * FROM no_such_table WHERE x = :x"), {"x": "0903111222"})
    db.session.rollback()
    assert "0903111222" not in str(caught.value)


@pytest.mark.skipif(not POSTGRES_URL, reason="row locks: PostgreSQL only")
def test_two_servers_purging_at_once_share_the_cases(app, world, runner):
    """A case another server holds is skipped, not waited for nor purged twice."""
    with freeze_time(T0):
        first = _case_kept(app, world, RECENT, ends=True)
        second = _case_kept(app, world, OPEN, ends=True)
    with app.app_context():
        held = _case_by_code(first).id
        db.session.commit()
        other = db.engine.connect()
        try:
            transaction = other.begin()
            other.execute(
                sa.text("SELECT id FROM feedback_cases WHERE id = :i FOR UPDATE"), {"i": held}
            )
            with freeze_time(AFTER):
                batch = retention.purge_cases(AFTER - timedelta(days=RETENTION), RETENTION)
                db.session.commit()
            assert batch.counts.cases == 1
            assert _case_by_code(first).contact_erased_at is None
            assert _case_by_code(second).contact_erased_at is not None
            transaction.rollback()
        finally:
            other.close()
        with freeze_time(AFTER):
            batch = retention.purge_cases(AFTER - timedelta(days=RETENTION), RETENTION)
            db.session.commit()
        assert batch.counts.cases == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "purge")
            )
            == 2
        )


def test_files_of_purged_cases_are_deleted_only_after_the_commit(app, world, runner, monkeypatch):
    """A purge whose commit fails leaves the rows and the files as they were."""
    with freeze_time(T0):
        client = app.test_client()
        html = client.get("/feedback/new").get_data(as_text=True)
        data = {
            "csrf_token": csrf_from(html),
            "kind": "report",
            "content": "Quầy đòi bản sao không cần thiết.",
            "submitter_name": WEB.name,
            "contact_phone": WEB.phone,
            "consent": "y",
            "attachments": [(io.BytesIO(_jpeg("x")), "a.jpg"), (io.BytesIO(_pdf("y")), "b.pdf")],
        }
        assert client.post("/feedback/new", data=data).status_code == 303
        with app.app_context():
            case = db.session.scalar(select(FeedbackCase))
            code = case.code
            transition(case, CaseState.screening, None)
            transition(case, CaseState.rejected, None, reason="Không thuộc phạm vi.")
            db.session.commit()
    before = sorted(world.folder.iterdir())
    assert len(before) == 2

    def fail():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    with app.app_context(), freeze_time(AFTER):
        monkeypatch.setattr(db.session, "commit", fail)
        result = runner.invoke(args=["feedback", "purge"])
        monkeypatch.undo()
        assert isinstance(result.exception, sa.exc.OperationalError)
        db.session.rollback()
        assert sorted(world.folder.iterdir()) == before
        assert len(_case_by_code(code).attachments) == 2
        assert _case_by_code(code).contact_erased_at is None
