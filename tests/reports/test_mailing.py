"""The reports by e-mail: subscriptions by role or address, ``flask report send`` once a
period has closed (once per period and address), the summary, the scope, the PDF attached,
and the administrators' page."""

from __future__ import annotations

import email
import io
import smtplib
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from pypdf import PdfReader
from sqlalchemy import select

from survey_app.agencies.models import Agency, AgencyKind
from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback import outbox
from survey_app.feedback.models import AuditLog, OutboxMessage
from survey_app.feedback.retention import purge_outbox
from survey_app.reports import mailing, services
from survey_app.reports.models import ReportSubscription
from survey_app.reports.periods import Period
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")  # 15/02–14/03/2022: closes at 00:00 on 15/03, local time
RUNNING = datetime(2022, 3, 14, 23, 30, tzinfo=VN)
CLOSED = datetime(2022, 3, 15, 6, 30, tzinfo=VN)  # the timer's morning
ITEMS = ("A1", "B1", "C1", "D1", "E1")


def _answers(value: int) -> dict:
    return dict.fromkeys(ITEMS, value)


@pytest.fixture
def world(app):
    """A province with a district (and its commune), a weak and a good department; a
    province-wide reader, a viewer of the district, a disabled reader."""
    with app.app_context():
        province = factories.agency("UBND tỉnh Thử", kind=AgencyKind.province, code="TINH")
        district = factories.agency(
            "UBND huyện Thử", parent=province, kind=AgencyKind.district, code="HUYEN"
        )
        commune = factories.agency(
            "UBND xã Thử", parent=district, kind=AgencyKind.commune, code="XA"
        )
        weak = factories.agency("Sở Yếu", parent=province, code="SOYEU")
        good = factories.agency("Sở Tốt", parent=province, code="SOTOT")
        when = datetime(2022, 3, 1, 9, tzinfo=VN)
        for agency, values in (
            (weak, [2] * 30 + [5] * 10),
            (good, [5] * 40),
            (district, [5] * 36 + [3] * 4),
            (commune, [5, 5, 4]),
        ):
            counter = factories.counter(agency)
            for k, v in enumerate(values):
                respond(counter, v, _answers(v), when + timedelta(minutes=k))
        reader = factories.user(Role.report_reader, email="lanhdao@tinh.gov.vn")
        viewer = factories.user(Role.viewer, district, email="huyen@tinh.gov.vn")
        gone = factories.user(Role.report_reader, email="nghihuu@tinh.gov.vn")
        gone.active = False
        admin = factories.user(Role.admin, email="quantri@tinh.gov.vn")
        db.session.commit()
        return SimpleNamespace(
            admin=admin.email,
            admin_id=admin.id,
            reader=reader.email,
            viewer=viewer.email,
            district_admin=None,
            ids={"district": district.id, "weak": weak.id},
        )


def subscribe(role: Role | None = None, email_: str | None = None, kind: str = "month", **kw):
    db.session.add(ReportSubscription(role=role, email=email_, kind=kind, **kw))
    db.session.commit()


def mails() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()


def mail_to(address: str) -> OutboxMessage:
    (message,) = [m for m in mails() if m.recipient == address]
    return message


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def send(runner, *args, at=CLOSED):
    with freeze_time(at):
        return runner.invoke(args=["report", "send", *args])


# -- when ----------------------------------------------------------------------------------


def test_nothing_is_sent_while_the_period_runs_then_once_after_it_closes(app, world, runner):
    with app.app_context():
        subscribe(Role.report_reader)
    result = send(runner, at=RUNNING)
    assert result.exit_code == 0, result.output
    assert "no period to send" in result.output
    result = send(runner, "--period", "2022-03", at=RUNNING)
    assert result.exit_code != 0 and "2022-03 has not closed yet" in result.output
    assert "2022-03-15" in result.output
    with app.app_context():
        assert mails() == []

    result = send(runner)
    assert result.exit_code == 0, result.output
    assert "report 2022-03: 1 mail(s) queued, 0 already sent or queued" in result.output
    with app.app_context():
        (message,) = mails()
        assert message.recipient == world.reader  # the disabled reader gets nothing
        assert message.dedupe_key == mailing.dedupe_key(MARCH, world.reader)

    # the next morning, and another server at the same time: nothing more
    result = send(runner, at=CLOSED + timedelta(days=1))
    assert "report 2022-03: 0 mail(s) queued, 1 already sent or queued" in result.output
    with app.app_context():
        assert len(mails()) == 1


def test_a_period_closed_too_long_ago_is_only_sent_by_hand(app, world, runner, monkeypatch):
    with app.app_context():
        subscribe(Role.report_reader)
    late = CLOSED + timedelta(days=app.config["REPORT_MAIL_DAYS"])
    assert "no period to send" in send(runner, at=late).output
    # the purge forgets sent mails: the window never outlasts it
    monkeypatch.setitem(app.config, "OUTBOX_RETENTION_DAYS", 2)
    with app.app_context(), freeze_time(CLOSED + timedelta(days=3)):
        assert mailing.catch_up_days() == 2 and mailing.due_periods() == []
    result = send(runner, "--period", "2022-03", at=late)
    assert result.exit_code == 0 and "1 mail(s) queued" in result.output


def test_each_subscribed_kind_sends_its_own_closed_period(app, world, runner):
    with app.app_context():
        subscribe(Role.report_reader, kind="quarter")
        with freeze_time(CLOSED):  # 15/03 closes both the month and the quarter (Q1)
            assert mailing.due_periods() == [Period.parse("2022-Q1")]
        subscribe(Role.report_reader, kind="month")
        with freeze_time(CLOSED):
            assert mailing.due_periods() == [MARCH, Period.parse("2022-Q1")]
    result = send(runner)
    assert "report 2022-03: 1 mail(s)" in result.output
    assert "report 2022-Q1: 1 mail(s)" in result.output
    with app.app_context():
        subjects = sorted(m.subject for m in mails())
        assert subjects == [
            "Báo cáo sự hài lòng: Quý I/2022 (15/12/2021–14/03/2022)",
            "Báo cáo sự hài lòng: Tháng 3/2022 (15/02/2022–14/03/2022)",
        ]


def test_a_bad_period_is_a_clear_error(runner, world):
    result = send(runner, "--period", "2022-13")
    assert result.exit_code != 0 and "2022-13" in result.output


# -- who and what -----------------------------------------------------------------------------


def test_the_summary_says_the_headline_the_counts_the_lowest_and_the_source(app, world, runner):
    with app.app_context():
        subscribe(Role.report_reader)
    send(runner)
    with app.app_context():
        report = services.compute_report(MARCH)
        message = mail_to(world.reader)
        body = message.body
        assert body.startswith("Kính gửi ông/bà Nguyễn Văn A,")
        # the report's own summary (reports/summary.py), the headline's figures (Q0)
        province = report["province"]["q0"]
        low, high = (f"{100 * province[k]:.1f}".replace(".", ",") for k in ("ci_low", "ci_high"))
        assert "Tỷ lệ người dân, tổ chức hài lòng chung toàn tỉnh là" in body
        assert f"(khoảng tin cậy 95\u00a0%: {low}–{high}\u00a0%)" in body
        verdicts = [r["q0"]["verdict"] for r in report["agencies"]]
        assert verdicts.count("below_target") == 1 and verdicts.count("above_target") >= 1
        assert (
            f"Trong 4 cơ quan có phiếu: {verdicts.count('above_target')} cơ quan đạt mục tiêu; "
            f"{verdicts.count('inconclusive')} cơ quan chưa kết luận được" in body
        )
        weak = next(r for r in report["agencies"] if r["name"] == "Sở Yếu")
        weak_pct = f"{100 * weak['q0']['index']:.1f}".replace(".", ",") + "\u00a0%"
        assert f"- 1 cơ quan dưới mục tiêu: Sở Yếu ({weak_pct})." in body
        assert report["n_responses"] == 123 and "Số liệu dựa trên 123 phiếu trả lời" in body
        assert "Báo cáo kỳ này chưa được công bố" in body
        assert "https://hailong.example.gov.vn/staff/reports/?period=2022-03" in body
        assert "Báo cáo đầy đủ được đính kèm (PDF, bao-cao-hai-long-2022-03.pdf)." in body
        assert "chỉ gồm các cơ quan" not in body  # province-wide


def test_the_published_report_is_preferred_and_named(app, world, runner):
    with app.app_context():
        subscribe(Role.report_reader)
        with freeze_time(RUNNING):  # an interim report, while the month ran: not used
            services.publish(MARCH)
        with freeze_time(CLOSED - timedelta(hours=2)):
            snapshot = services.publish(MARCH)
        db.session.commit()
        snapshot_id = snapshot.id
    result = send(runner)
    assert "figures published" in result.output
    with app.app_context():
        body = mail_to(world.reader).body
        assert "Số liệu theo báo cáo đã công bố lúc 15/03/2022 04:30." in body
        assert f"/staff/reports/snapshots/{snapshot_id}" in body
        assert "chưa được công bố" not in body
        text = pdf_text(mail_to(world.reader).attachment)
        assert "theo số liệu đã công bố lúc 04:30 ngày 15/03/2022" in text


def test_a_scoped_viewer_is_sent_only_their_agencies(app, world, runner):
    with app.app_context():
        subscribe(Role.viewer)
        subscribe(Role.report_reader)
    send(runner)
    with app.app_context():
        scoped = mail_to(world.viewer)
        assert scoped.subject.endswith(" · UBND huyện Thử")
        assert (
            "Báo cáo này chỉ gồm các cơ quan thuộc UBND huyện Thử (phạm vi tài khoản của bạn)."
            in scoped.body
        )
        assert "Trong 2 cơ quan có phiếu:" in scoped.body
        # the commune's 3 responses give no verdict: it is not named among the lowest
        assert (
            "Không có cơ quan nào dưới mục tiêu một cách rõ ràng; thấp nhất: UBND huyện Thử ("
            in (scoped.body)
        )
        assert "UBND xã Thử" not in scoped.body
        assert "Sở Yếu" not in scoped.body and "Sở Tốt" not in scoped.body
        text = pdf_text(scoped.attachment)
        assert "chỉ gồm các cơ quan thuộc UBND huyện Thử" in text
        assert "UBND xã Thử" in text and "Sở Yếu" not in text and "Sở Tốt" not in text
        # the province-wide reader's PDF names every agency and no filter
        full = pdf_text(mail_to(world.reader).attachment)
        assert "Sở Yếu" in full and "UBND xã Thử" in full
        assert "chỉ gồm các cơ quan thuộc" not in full


def test_an_address_outside_gets_the_province_report_attached(app, world, runner, monkeypatch):
    with app.app_context():
        subscribe(email_="ChuTich@UBND.example.vn", kind="month")
    send(runner)
    with app.app_context():
        message = mail_to("chutich@ubnd.example.vn")
        assert message.body.startswith("Kính gửi Quý lãnh đạo,")
        assert "/staff/reports" not in message.body  # no account to log in with
        assert "1 cơ quan dưới mục tiêu: Sở Yếu" in message.body
        assert message.attachment_name == "bao-cao-hai-long-2022-03.pdf"
        assert message.attachment_type == "application/pdf"
        assert message.attachment.startswith(b"%PDF")
        assert "Sở Yếu" in pdf_text(message.attachment)

        # sent over SMTP as a real attachment, then emptied as the body is
        sent = []

        class FakeSMTP:
            def __init__(self, *args, **kwargs):
                pass

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def starttls(self):
                pass

            def login(self, *args):
                pass

            def send_message(self, msg):
                sent.append(email.message_from_bytes(msg.as_bytes()))

        monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        assert outbox.send_pending() == (1, 0)
        (mail,) = sent
        parts = {p.get_content_type(): p for p in mail.walk()}
        assert "Sở Yếu" in parts["text/plain"].get_payload(decode=True).decode()
        attached = parts["application/pdf"]
        assert attached.get_filename() == "bao-cao-hai-long-2022-03.pdf"
        assert attached.get_payload(decode=True).startswith(b"%PDF")
        db.session.expire_all()
        delivered = mail_to("chutich@ubnd.example.vn")
        assert delivered.sent_at is not None
        assert delivered.attachment is None and delivered.body == ""
        # and the purge deletes it with the other sent mails
        assert purge_outbox(delivered.sent_at + timedelta(seconds=1)) == 1


def test_one_mail_per_address_and_the_widest_scope_wins(app, world, runner):
    with app.app_context():
        subscribe(Role.viewer)
        subscribe(Role.report_reader)
        subscribe(email_=world.viewer.upper())  # the district viewer, also by address
        subscribe(email_=world.reader)  # the reader, also by address
    result = send(runner)
    assert "2 mail(s) queued" in result.output
    with app.app_context():
        assert [m.recipient for m in mails()] == [world.viewer, world.reader]
        viewer = mail_to(world.viewer)
        assert "chỉ gồm các cơ quan" not in viewer.body and "Sở Yếu" in viewer.body
        reader = mail_to(world.reader)
        assert reader.body.startswith("Kính gửi ông/bà")  # the account, not the bare address


def test_paused_subscriptions_and_disabled_accounts_get_nothing(app, world, runner):
    with app.app_context():
        subscribe(Role.report_reader, active=False)
        subscribe(email_="tamdung@example.vn", active=False)
    assert "no period to send" in send(runner).output
    result = send(runner, "--period", "2022-03")
    assert "0 mail(s) queued, 0 already" in result.output
    with app.app_context():
        assert mails() == []


def test_two_servers_at_once_queue_one_mail(app, world, monkeypatch):
    """The second server checked before the first committed: the outbox's unique key
    refuses its copy, counted as already sent."""
    with app.app_context():
        subscribe(Role.report_reader)
        with freeze_time(CLOSED):
            assert mailing.send_period(MARCH).queued == 1
            db.session.commit()
            monkeypatch.setattr(mailing, "is_queued", lambda key: False)
            again = mailing.send_period(MARCH)
            db.session.commit()
        assert (again.queued, again.already) == (0, 1)
        assert len(mails()) == 1


def test_send_period_refuses_a_running_period(app_ctx):
    with freeze_time(RUNNING), pytest.raises(mailing.PeriodNotClosed):
        mailing.send_period(MARCH)


def test_an_empty_period_says_so(app, world, runner):
    with app.app_context():
        subscribe(Role.report_reader)
    send(runner, "--period", "2021-03")
    with app.app_context():
        body = mail_to(world.reader).body
        assert "Không người dân nào trả lời khảo sát từ 15/02/2021 đến 14/03/2021" in body
        assert mail_to(world.reader).attachment.startswith(b"%PDF")


# -- the administrators' page ---------------------------------------------------------------


PAGE = "/staff/reports/subscriptions/"
CHOOSE = "Vui lòng chọn một trong các lựa chọn có sẵn."


def _post(client, **data):
    token = csrf_from(client.get(PAGE).text)
    return client.post(PAGE, data={"csrf_token": token, **data})


def test_only_province_wide_admins_open_the_page(app, world):
    with app.app_context():
        district = db.session.get(Agency, world.ids["district"])
        district_admin = factories.user(Role.admin, district).email
        coordinator = factories.user(Role.coordinator).email
        db.session.commit()
    assert logged_in(app, world.admin).get(PAGE).status_code == 200
    reply = logged_in(app, district_admin).get(PAGE)
    assert reply.status_code == 403 and "quản trị viên toàn tỉnh" in reply.text
    for who in (coordinator, world.reader, world.viewer):
        assert logged_in(app, who).get(PAGE).status_code == 403
    anonymous = app.test_client().get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_admins_add_pause_resume_and_remove_recipients(app, world):
    admin = logged_in(app, world.admin)
    page = admin.get(PAGE).text
    assert "Chưa có ai được gửi báo cáo." in page and 'id="next-sends"' in page
    reply = _post(admin, recipient="role", role="report_reader", kinds=["month", "quarter"])
    assert reply.status_code == 303
    page = admin.get(PAGE).text
    assert "Đã thêm: Hằng tháng, Hằng quý." in page
    assert "Đọc báo cáo toàn tỉnh" in page and "1 tài khoản đang hoạt động" in page

    reply = _post(admin, recipient="email", email=" ChuTich@UBND.example.vn ", kinds=["month"])
    assert reply.status_code == 303
    reply = _post(admin, recipient="role", role="report_reader", kinds=["month", "year"])
    assert reply.status_code == 303
    page = admin.get(PAGE).text
    assert "Đã thêm: Hằng năm." in page and "Đã có trong danh sách, giữ nguyên: Hằng tháng." in page
    with app.app_context():
        rows = db.session.scalars(select(ReportSubscription)).all()
        assert {(s.role, s.email, s.kind) for s in rows} == {
            (Role.report_reader, None, "month"),
            (Role.report_reader, None, "quarter"),
            (Role.report_reader, None, "year"),
            (None, "chutich@ubnd.example.vn", "month"),
        }
        assert all(s.created_by_id == world.admin_id for s in rows)
        target = next(s.id for s in rows if s.email)
        actions = db.session.scalars(select(AuditLog.action)).all()
        assert actions.count("report_subscription_added") == 4

    assert _post(admin, toggle=str(target)).status_code == 303
    with app.app_context():
        assert db.session.get(ReportSubscription, target).active is False
    assert "Đang tạm dừng" in admin.get(PAGE).text
    _post(admin, toggle=str(target))
    with app.app_context():
        assert db.session.get(ReportSubscription, target).active is True
    assert _post(admin, delete=str(target)).status_code == 303
    with app.app_context():
        assert db.session.get(ReportSubscription, target) is None
        actions = db.session.scalars(select(AuditLog.action)).all()
        assert {"report_subscription_paused", "report_subscription_resumed"} <= set(actions)
        assert "report_subscription_removed" in actions
    assert _post(admin, delete="999999").status_code == 404
    assert _post(admin, delete="abc").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"recipient": "email", "email": "", "kinds": ["month"]}, "Hãy nhập địa chỉ thư điện tử"),
        (
            {"recipient": "email", "email": "khong-phai-dia-chi", "kinds": ["month"]},
            "Vui lòng nhập địa chỉ thư điện tử hợp lệ.",
        ),
        ({"recipient": "role", "role": "", "kinds": ["month"]}, "Hãy chọn vai trò"),
        ({"recipient": "role", "role": "report_reader"}, "Hãy chọn ít nhất một loại báo cáo."),
        ({"recipient": "role", "role": "superuser", "kinds": ["month"]}, CHOOSE),
        ({"recipient": "role", "role": "viewer", "kinds": ["week"]}, "week"),
        ({"recipient": "fax", "kinds": ["month"]}, CHOOSE),
    ],
)
def test_bad_input_is_a_400_with_the_reason(app, world, data, message):
    admin = logged_in(app, world.admin)
    reply = _post(admin, **data)
    assert reply.status_code == 400 and message in reply.text
    with app.app_context():
        assert db.session.scalars(select(ReportSubscription)).all() == []


def test_changes_need_the_csrf_token(app, world):
    admin = logged_in(app, world.admin)
    admin.get(PAGE)
    reply = admin.post(PAGE, data={"recipient": "role", "role": "viewer", "kinds": ["month"]})
    assert reply.status_code == 400
    with app.app_context():
        subscribe(Role.viewer)
        subscription_id = db.session.scalar(select(ReportSubscription.id))
    assert admin.post(PAGE, data={"delete": str(subscription_id)}).status_code == 400
    with app.app_context():
        assert db.session.get(ReportSubscription, subscription_id) is not None
