"""An SMS invitation opened in a real phone browser: the short link from the outbox,
one tap, the optional steps, and the link used up (with and without JavaScript)."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.feedback.models import OutboxMessage
from survey_app.surveys.models import Response
from tests.e2e.test_survey_browser import complete_optional_steps, rate
from tests.invites.world import event, make_world, post


@pytest.fixture(scope="module")
def world(live):
    """The agencies and the one-stop software's key, once (the live app keeps its data)."""
    live.app.config["INVITE_SHARE"] = 1.0
    return make_world(live.app)


_numbers = itertools.count(1)


@pytest.fixture
def invitation(live, world):
    """An event from the one-stop software, invited: the SMS's short link on the live app."""
    n = next(_numbers)
    body = event(f"E2E-{n}", return_channel="post", phone=f"09770000{n:02d}")
    reply = post(live.app.test_client(), world.key, body)
    assert reply.status_code == 202 and reply.json["outcome"] == "invited", reply.json
    with live.app.app_context():
        sms = db.session.scalars(
            select(OutboxMessage.body).where(
                OutboxMessage.channel == "sms", OutboxMessage.recipient == body["phone"]
            )
        ).one()
    path = re.search(r"https://[^/\s]+(/[0-9a-z]{8})\b", sms).group(1)
    return live.url + path


def _invite_responses(live) -> list[Response]:
    """Every response through an invitation, oldest first (the live app keeps its data)."""
    with live.app.app_context():
        rows = db.session.scalars(
            select(Response).where(Response.channel == "invite").order_by(Response.id)
        ).all()
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("javascript", [True, False])
def test_an_sms_invitation_answered_in_a_phone_browser(live, browser, invitation, javascript):
    from tests.e2e.live import PHONE

    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    try:
        page = context.new_page()
        before = len(_invite_responses(live))
        assert page.goto(invitation.upper()).status == 200  # typed in capitals: the same link
        assert page.locator("text=Trả kết quả qua bưu chính").count() == 1
        assert rate(page, 4).status == 200
        code = re.search(r"/s/([A-Z0-9]+)/more", page.url).group(1)
        complete_optional_steps(page, code)
        [response] = _invite_responses(live)[before:]
        assert (response.overall, response.return_channel) == (4, "post")
        assert response.completed_at is not None
        assert page.goto(invitation).status == 409
    finally:
        context.close()
    assert len(_invite_responses(live)) == before + 1
