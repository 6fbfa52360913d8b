"""Fixtures: a case with a phone, and the fake SMS gateway and Zalo wired into the app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.fakes.zalo import FakeZalo

#: Monday 2 March 2026, 09:00 in Hà Nội: outside the quiet hours.
MORNING = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def sms_gateway(app, monkeypatch):
    with FakeSmsGateway(delay=1.5) as fake:
        for name, value in fake.settings().items():
            monkeypatch.setitem(app.config, name, value)
        monkeypatch.setitem(app.config, "SMS_GATEWAY_TIMEOUT", 0.5)
        monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "sms,email")
        yield fake


@pytest.fixture
def zalo(app, monkeypatch):
    with FakeZalo(delay=1.5) as fake:
        for name, value in fake.settings().items():
            monkeypatch.setitem(app.config, name, value)
        monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "zalo,sms,email")
        yield fake


@pytest.fixture
def world(app_ctx):
    agency = factories.agency("Sở Tư pháp", code="STP")
    handler = factories.user(Role.handler, agency, email="handler@stp.vn")
    coordinator = factories.user(Role.coordinator, email="dieuphoi@vp.vn")
    db.session.commit()
    return {"agency": agency, "handler": handler, "coordinator": coordinator}


def new_case(world, phone="0912 345 678", email=None):
    """A case filed on the web with ``phone`` (and ``email``), at MORNING."""
    with freeze_time(MORNING):
        case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content="Quầy yêu cầu nộp bản sao không có trong quy định.",
                submitter_name="Nguyễn Văn An",
                contact_phone=phone,
                contact_email=email,
                consent=True,
                agency=world["agency"],
            ),
            CaseChannel.web,
        )
    return case, secret
