"""A JSON body posted to a page's form is no form data: a 400 that says what is missing.

Flask-WTF would read a JSON body as the form's data, so numbers, lists and objects
reached validators and views made for text (each of these was a 500).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey_app.agencies.models import Agency
from survey_app.extensions import db
from survey_app.feedback.models import FeedbackCase
from survey_app.surveys.models import Response
from tests import factories
from tests.helpers import csrf_from, logged_in

BODIES = [
    {"overall": 3, "started": 1},
    {"code": 1, "secret": "1", "email": 1, "password": "x", "kind": "report"},
    {"content": {"a": 1}, "procedure_query": 5, "contact_email": True, "consent": [1]},
    [1],
    "x",
]


def _post_json(client, page_url: str, url: str, body):
    page = client.get(page_url)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    return client.post(url, json=body, headers={"X-CSRFToken": token})


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("body", BODIES)
def test_public_forms_refuse_a_json_body_with_a_message(app, client, body):
    with app.app_context():
        code = factories.counter().code
        db.session.commit()
    reply = _post_json(client, f"/s/{code}", f"/s/{code}", body)
    assert reply.status_code == 400
    assert "Vui lòng chạm vào một trong năm khuôn mặt" in reply.get_data(as_text=True)
    assert _count(app, Response) == 0
    for url in ("/feedback/track", "/feedback/new", "/login"):
        reply = _post_json(client, url, url, body)
        assert reply.status_code == 400, url
    assert _count(app, FeedbackCase) == 0


@pytest.mark.parametrize("body", BODIES)
def test_staff_forms_refuse_a_json_body(app, body):
    with app.app_context():
        user = factories.user()
        db.session.commit()
        email, before = user.email, db.session.scalar(select(func.count()).select_from(Agency))
    client = logged_in(app, email)
    reply = _post_json(client, "/staff/agencies/new", "/staff/agencies/new", body)
    assert reply.status_code == 400
    assert _count(app, Agency) == before
