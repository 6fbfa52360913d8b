"""Paper, phone and e-mail intake: the day received is recorded (default today, never in
the future, not absurdly old) and the legal deadline counts from it in working days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import FeedbackCase
from survey_app.feedback.workflow import Durations, work_calendar
from tests import factories
from tests.helpers import csrf_from, logged_in

#: Wednesday 25 February 2026, 10:00 in Hà Nội.
NOW = datetime(2026, 2, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def coordinator(app):
    with app.app_context():
        user = factories.user(Role.coordinator)
        db.session.commit()
        return user.email


def _intake(client, **extra):
    page = client.get("/staff/feedback/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "channel": "paper",
        "kind": "report",
        "content": "Đơn giấy: quầy thu phí sai quy định.",
        "submitter_name": "Phạm Văn Dũng",
        "contact_phone": "0987654321",
        "consent": "y",
        **extra,
    }
    return client.post("/staff/feedback/new", data=data)


def _last_case(app) -> FeedbackCase:
    with app.app_context():
        case = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.id.desc())).first()
        db.session.expunge(case)
        return case


def test_the_form_offers_today_by_default(app, coordinator):
    with freeze_time(NOW):
        html = logged_in(app, coordinator).get("/staff/feedback/new").get_data(as_text=True)
    assert 'name="received_on" type="date" value="2026-02-25"' in html
    assert 'max="2026-02-25"' in html


def test_the_deadline_counts_from_the_day_received(app, coordinator):
    with freeze_time(NOW):
        client = logged_in(app, coordinator)
        assert _intake(client, received_on="2026-02-20").status_code == 303  # a Friday
        late = _last_case(app)
        assert _intake(client).status_code == 303
        today = _last_case(app)
        with app.app_context():
            days = Durations.from_config().screening
            expected = work_calendar().add_working_days(date(2026, 2, 20), days)
        page = client.get(f"/staff/feedback/{late.id}").get_data(as_text=True)
    assert late.clock_start_on == date(2026, 2, 20)
    assert late.due_on == expected == date(2026, 2, 24)  # Monday, Tuesday: already late
    assert late.received_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date() == date(2026, 2, 20)
    assert today.clock_start_on == date(2026, 2, 25) and today.due_on > late.due_on
    assert 'id="received">20/02/2026</dd>' in page  # the day, no invented hour


@pytest.mark.parametrize(
    "value",
    ["2026-02-26", "2025-11-01", "20/02/2026", "2026-02-30"],
    ids=["future", "too-old", "not-iso", "no-such-day"],
)
def test_a_wrong_day_is_refused_with_what_was_typed_kept(app, coordinator, value):
    with freeze_time(NOW):
        client = logged_in(app, coordinator)
        reply = _intake(client, received_on=value)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert f'value="{value}"' in html and "Phạm Văn Dũng" in html
    assert 'class="field bad"><label for="received_on">' in html
    with app.app_context():
        assert db.session.scalar(select(FeedbackCase.id)) is None
