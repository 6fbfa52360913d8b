"""Who is told what, on which channel: citizens on every channel they gave, staff by
their preferences; the admin outbox page and the staff settings page; phone checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.feedback import notify, outbox
from survey_app.feedback.models import CaseState, OutboxMessage
from survey_app.feedback.workflow import transition
from survey_app.notifications import choose_channels
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.notifications.conftest import MORNING, new_case


def _queued(kind=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return [(m.channel, m.recipient) for m in db.session.scalars(query)]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("zalo,sms,email", [("email", "an@example.vn"), ("zalo", "0912345678")]),
        ("sms,zalo,email", [("email", "an@example.vn"), ("sms", "0912345678")]),
        ("sms", [("sms", "0912345678")]),
        ("email", [("email", "an@example.vn")]),
    ],
)
def test_channel_choice_follows_the_preference_order(app_ctx, app, monkeypatch, order, expected):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", order)
    assert choose_channels("received", email="an@example.vn", phone="0912345678") == expected


def test_zalo_without_a_template_for_the_kind_or_unconfigured_in_production_is_skipped(
    app_ctx, app, zalo, monkeypatch
):
    monkeypatch.setitem(app.config, "ZALO_TEMPLATES", "received=1001")
    assert choose_channels("received", phone="0912345678") == [("zalo", "0912345678")]
    assert choose_channels("answered", phone="0912345678") == [("sms", "0912345678")]
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    monkeypatch.setitem(app.config, "ZALO_APP_ID", None)
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", None)
    assert choose_channels("received", phone="0912345678") == []  # never "sent" to a log


@pytest.mark.parametrize("order", ["sms,email", "zalo,email"])
def test_a_phone_only_citizen_hears_of_every_step(app_ctx, app, monkeypatch, world, order):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", order)
    channel = order.split(",")[0]
    phone = "0912345678"
    case, secret = new_case(world)
    notify.citizen_received(case, secret)
    db.session.commit()
    (received,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "received")
    ).all()
    assert (received.channel, received.recipient) == (channel, phone)
    assert case.code in received.body and secret[:4] in received.body
    if channel == "sms":
        assert received.segments and received.segments <= 3 and received.encoding
    else:
        assert '"tracking_number"' in received.payload and case.code in received.payload
    coordinator, other = world["coordinator"], factories.agency("UBND huyện Thanh Hà")
    with freeze_time(MORNING + timedelta(hours=1)):
        transition(case, CaseState.screening, coordinator)
        transition(case, CaseState.needs_info, coordinator, reason="Xin gửi bản chụp biên nhận.")
        notify.citizen_state_changed(case, case.public_reason)
        transition(case, CaseState.screening, coordinator)
        before = notify.Before.of(case)
        transition(
            case, CaseState.transferred, coordinator, reason="Thuộc thẩm quyền huyện", agency=other
        )
        notify.after_transition(case, before, coordinator)
        db.session.commit()
    assert _queued("needs_info") == [(channel, phone)]
    assert _queued("transferred") == [(channel, phone)]
    transferred = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "transferred")
    )
    assert "UBND huyện Thanh Hà" in (transferred.payload or transferred.body)
    case.state = CaseState.published  # (the steps to publication are workflow's tests)
    with freeze_time(MORNING + timedelta(hours=2)):
        notify.citizen_state_changed(case, "")
        db.session.commit()
    assert _queued("answered") == [(channel, phone)]
    answered = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "answered"))
    assert f"/feedback/track/{case.code}" in (answered.payload or answered.body)
    (invite,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rate_invite"))
    assert (invite.channel, invite.recipient) == (channel, phone)
    assert invite.send_after == MORNING + timedelta(hours=2 + 24)  # a day to read the answer


def test_a_citizen_with_phone_and_email_is_told_on_both(app_ctx, app, monkeypatch, world):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "zalo,sms,email")
    case, secret = new_case(world, email="an@example.vn")
    notify.citizen_received(case, secret)
    db.session.commit()
    assert _queued("received") == [("email", "an@example.vn"), ("zalo", "0912345678")]


def test_secrets_never_reach_the_log(app_ctx, app, monkeypatch, world, caplog):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "sms,email")
    case, secret = new_case(world, email="an@example.vn")
    with freeze_time(MORNING):
        notify.citizen_received(case, secret)
        db.session.commit()
    with caplog.at_level("INFO"), freeze_time(MORNING):
        sent, failed = outbox.send_pending()
    assert sent >= 3 and failed == 0  # mail, SMS (logged: no gateway) and the handler's mail
    assert case.code in caplog.text and secret[:4] + " " + secret[4:8] not in caplog.text


def test_staff_are_told_of_new_cases_and_assignments_by_their_preferences(
    app_ctx, app, monkeypatch, world
):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "zalo,sms,email")
    handler, coordinator = world["handler"], world["coordinator"]
    quiet = factories.user(factories.Role.handler, world["agency"], email="quiet@stp.vn")
    quiet.notification_prefs = {"new_case": [], "assigned": [], "reminder": [], "escalation": []}
    handler.notification_prefs = {"new_case": ["email", "zalo"], "assigned": ["zalo"]}
    handler.zalo_phone = "0987654321"
    db.session.commit()
    case, secret = new_case(world, email="an@example.vn")
    notify.citizen_received(case, secret)
    db.session.commit()
    assert _queued("new_case") == [("email", "handler@stp.vn"), ("zalo", "0987654321")]
    with freeze_time(MORNING + timedelta(hours=1)):
        transition(case, CaseState.screening, coordinator)
        transition(case, CaseState.accepted, coordinator)
        before = notify.Before.of(case)
        transition(case, CaseState.assigned, coordinator, assignee=handler)
        notify.after_transition(case, before, coordinator)
        db.session.commit()
    assert _queued("assigned") == [("zalo", "0987654321")]


def test_reminders_follow_preferences(app_ctx, world):
    handler = world["handler"]
    handler.notification_prefs = {"reminder": []}
    db.session.commit()
    case, _secret = new_case(world)
    with freeze_time(MORNING):
        transition(case, CaseState.screening, handler)
        transition(case, CaseState.accepted, handler)
        db.session.commit()
    calendar = notify.work_calendar()
    today = case.due_on - timedelta(days=1)
    while calendar.working_days_between(today, case.due_on) < 3:
        today -= timedelta(days=1)
    assert calendar.working_days_between(today, case.due_on) == 3
    assert notify.remind(today).reminders == 0
    handler.notification_prefs = None  # e-mail for everything
    db.session.commit()
    assert notify.remind(today).reminders == 1


# -- pages ------------------------------------------------------------------------------------
@pytest.fixture
def staff(app):
    """Accounts for page tests (no app context held open: each request has its own)."""
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        factories.user(factories.Role.handler, agency, email="handler@stp.vn")
        factories.user(factories.Role.admin, email="admin@vp.vn")
        db.session.commit()


def test_staff_settings_page_saves_choices_and_refuses_a_bad_number(app, staff):
    client = logged_in(app, "handler@stp.vn")
    page = client.get("/staff/notifications?lang=en")
    assert page.status_code == 200 and "A case assigned to me" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    bad = client.post(
        "/staff/notifications?lang=en",
        data={"csrf_token": token, "assigned:zalo": "y", "zalo_phone": "024 3825 1234"},
    )
    assert bad.status_code == 400 and "This is a landline number" in bad.get_data(as_text=True)
    assert 'value="024 3825 1234"' in bad.get_data(as_text=True)  # kept, not lost
    good = client.post(
        "/staff/notifications",
        data={
            "csrf_token": token,
            "assigned:zalo": "y",
            "assigned:email": "y",
            "reminder:email": "y",
            "zalo_phone": "+84 987 654 321",
        },
    )
    assert good.status_code == 303
    with app.app_context():
        user = db.session.scalar(
            select(factories.User).where(factories.User.email == "handler@stp.vn")
        )
        assert user.zalo_phone == "0987654321"
        assert user.notification_prefs["assigned"] == ["email", "zalo"]
        assert user.notification_prefs["new_case"] == []


def test_admin_outbox_page_masks_recipients_and_retries(app, staff):
    with app.app_context():
        outbox.enqueue("0912345678", "s", "x", "a", channel="sms", kind="received")
        outbox.enqueue("an@example.vn", "s", "x", "b", kind="received")
        for message in db.session.scalars(select(OutboxMessage)):
            message.attempts = outbox.MAX_ATTEMPTS
            message.status = "failed"
            message.last_error = "HTTP 500: gateway down for 0912345678"
        db.session.commit()
        ids = [m.id for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    handler = logged_in(app, "handler@stp.vn")
    assert handler.get("/staff/admin/outbox").status_code == 403
    client = logged_in(app, "admin@vp.vn")
    page = client.get("/staff/admin/outbox?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "091****678" in html and "a***@example.vn" in html
    assert "0912345678" not in html and "an@example.vn" not in html
    assert "HTTP 500: gateway down" in html
    response = client.post(
        "/staff/admin/outbox?show=failed", data={"csrf_token": csrf_from(html), "retry": ids[0]}
    )
    assert response.status_code == 303
    with app.app_context():
        message = db.session.get(OutboxMessage, ids[0])
        assert message.attempts == 0 and message.status == "queued"


def test_the_feedback_form_and_api_refuse_a_number_that_is_not_mobile(app, client, staff):
    from survey_app.api.services import create_api_client

    with app.app_context():
        _, key = create_api_client("Cổng dịch vụ công")
        db.session.commit()
    body = {
        "kind": "report",
        "content": "Quầy yêu cầu nộp bản sao không có trong quy định.",
        "submitter_name": "Nguyễn Văn An",
        "contact_phone": "024 3825 1234",
        "consent": True,
    }
    response = client.post(
        "/api/v1/cases?lang=en", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 422
    assert "landline" in response.get_json()["error"]["fields"]["contact_phone"]
    body["contact_phone"] = "0612 345 678"  # no such mobile prefix
    response = client.post(
        "/api/v1/cases?lang=en", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 422
    assert (
        "Enter a Vietnamese phone number" in response.get_json()["error"]["fields"]["contact_phone"]
    )
    body["contact_phone"] = "+84 (912) 345-678"
    response = client.post("/api/v1/cases", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201
    with app.app_context():
        from survey_app.feedback.models import FeedbackCase

        assert db.session.scalar(select(FeedbackCase.contact_phone)) == "0912345678"


def test_the_form_field_validator_accepts_spellings_and_refuses():
    from werkzeug.datastructures import MultiDict
    from wtforms import Form, StringField
    from wtforms.validators import Optional

    from survey_app.core.phones import MobilePhone

    class F(Form):
        phone = StringField(validators=[Optional(), MobilePhone("bad")])

    form = F(MultiDict({"phone": "0912.345.678"}))
    assert form.validate() and form.phone.data == "0912.345.678"  # kept as typed
    form = F(MultiDict({"phone": "0612345678"}))
    assert not form.validate() and form.phone.errors == ["bad"]


def test_a_stored_landline_gets_no_phone_message_and_no_error(app_ctx, world):
    """Cases from before intake checked numbers may hold a landline: told by e-mail only."""
    case, secret = new_case(world, email="an@example.vn")
    case.contact_phone = "024 3825 1234"
    notify.citizen_received(case, secret)
    db.session.commit()
    assert _queued("received") == [("email", "an@example.vn")]
