"""The public form sent twice is one case (issue 15, point 18): a double click, Send
pressed again, or the back button and Send. Each page of the form carries a random
key; the case stores it (hashed, unique) with its text; the second sending shows the
first one's confirmation, code and tracking number, which is what the citizen sees
(the browser keeps only the last answer)."""

from __future__ import annotations

import io
import re
import threading
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.feedback import services
from survey_app.feedback.models import Attachment, CaseChannel, FeedbackCase
from tests import factories
from tests.helpers import csrf_from


def _png() -> bytes:
    """A real photo: attachments are decoded and re-encoded on upload."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
GOOD = {
    "kind": "report",
    "content": "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
    "submitter_name": "Nguyễn Văn An",
    "contact_phone": "0912 345 678",
    "contact_email": "an@example.vn",
    "consent": "y",
}


@pytest.fixture
def world(app):
    with app.app_context():
        justice = factories.agency("Sở Tư pháp", code="STP")
        db.session.commit()
        return SimpleNamespace(agency=justice.id)


def _count(app, model=FeedbackCase):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _form(client, url="/feedback/new"):
    html = client.get(url).get_data(as_text=True)
    key = re.search(r'name="submit_key" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_from(html), "submit_key": key}


def _confirmation(client):
    page = client.get("/feedback/submitted").get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', page).group(1)
    secret = re.search(r'id="case-secret">([^<]+)<', page).group(1)
    return code, secret


def _at_once(app, cookie, requests):
    """Send ``requests`` (functions of a client) from browsers sharing ``cookie``, in
    threads held until every one has looked for an earlier sending (none found yet)."""
    barrier = threading.Barrier(len(requests), timeout=20)
    waited = threading.local()
    real = services.case_for_key

    def looked_up(key):
        found = real(key)
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()
        return found

    clients = []
    for _ in requests:
        client = app.test_client()
        client.set_cookie("session", cookie)
        clients.append(client)
    replies: list = [None] * len(requests)

    def run(i):
        replies[i] = requests[i](clients[i])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "case_for_key", looked_up)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return clients, replies


def test_the_same_form_sent_twice_is_one_case_with_its_number_shown_again(app, client, world):
    fields = _form(client) | GOOD
    first = client.post("/feedback/new", data=fields)
    assert first.status_code == 303
    code, secret = _confirmation(client)
    again = client.post("/feedback/new", data=fields)  # Send again, or reload
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert _confirmation(client) == (code, secret)
    assert _count(app) == 1
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase))
        assert services.check_secret(case, secret) and len(case.submit_key_hash) == 64
        assert fields["submit_key"] not in case.submit_key_hash  # stored hashed
    # one "received" message per channel the citizen gave (e-mail, phone), not two
    with app.app_context():
        from survey_app.feedback.models import OutboxMessage

        channels = db.session.scalars(
            select(OutboxMessage.channel).where(OutboxMessage.kind == "received")
        ).all()
        assert sorted(channels) == ["email", "zalo"]


def test_a_double_click_files_one_case_with_one_attachment(app, world):
    """Four sendings of one page at the same moment (with a photo each): one case, one
    stored file, and every answer shows that case's code and number."""
    client = app.test_client()
    fields = _form(client) | GOOD
    cookie = client.get_cookie("session").value
    attachments_before = _count(app, Attachment)

    def send(c):
        data = fields | {"attachments": [(io.BytesIO(PNG), "anh.png")]}
        return c.post("/feedback/new", data=data, content_type="multipart/form-data")

    clients, replies = _at_once(app, cookie, [send] * 4)
    assert [r.status_code for r in replies] == [303] * 4, [r.status_code for r in replies]
    assert _count(app) == 1
    assert _count(app, Attachment) - attachments_before == 1
    shown = {_confirmation(c) for c in clients}
    assert len(shown) == 1
    (code, secret) = shown.pop()
    tracker = app.test_client()
    html = tracker.get("/feedback/track").get_data(as_text=True)
    reply = tracker.post(
        "/feedback/track", data={"csrf_token": csrf_from(html), "code": code, "secret": secret}
    )
    assert reply.status_code == 303


def test_going_back_and_sending_another_text_is_another_case(app, client, world):
    fields = _form(client) | GOOD
    assert client.post("/feedback/new", data=fields).status_code == 303
    first = _confirmation(client)
    changed = fields | {"content": GOOD["content"] + " Xin được hướng dẫn lại."}
    assert client.post("/feedback/new", data=changed).status_code == 303
    second = _confirmation(client)
    assert first[0] != second[0] and first[1] != second[1]
    assert _count(app) == 2


def test_two_pages_of_the_form_are_two_cases_even_with_the_same_text(app, world):
    """Two citizens (or one, twice on purpose) filling the form on two pages."""
    for _ in range(2):
        client = app.test_client()
        assert client.post("/feedback/new", data=_form(client) | GOOD).status_code == 303
    assert _count(app) == 2


def test_a_missing_or_odd_key_files_as_before_and_the_page_gets_a_new_key(app, client, world):
    """Pages shown before the key existed send none; a key of any other shape is not
    one the form gives and is ignored (not refused)."""
    html = client.get("/feedback/new").get_data(as_text=True)
    for odd in ("", "x", "<script>" * 20, "a" * 65):
        reply = client.post(
            "/feedback/new",
            data={"csrf_token": csrf_from(html), "submit_key": odd, **GOOD, "submitter_name": ""},
        )
        assert reply.status_code == 400  # (the name is missing: the form comes back)
        page = reply.get_data(as_text=True)
        key = re.search(r'name="submit_key" value="([^"]+)"', page).group(1)
        assert services.SUBMIT_KEY.fullmatch(key) and key != odd
    reply = client.post("/feedback/new", data={"csrf_token": csrf_from(html), **GOOD})
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(FeedbackCase.submit_key_hash)) is None


def test_a_refused_sending_keeps_its_key_so_the_corrected_one_is_still_one_case(app, client, world):
    fields = _form(client) | GOOD
    refused = client.post("/feedback/new", data=fields | {"submitter_name": ""})
    assert refused.status_code == 400
    assert f'name="submit_key" value="{fields["submit_key"]}"' in refused.get_data(as_text=True)
    assert client.post("/feedback/new", data=fields).status_code == 303
    assert client.post("/feedback/new", data=fields).status_code == 303
    assert _count(app) == 1


def test_the_survey_suggestion_sent_twice_at_once_shows_its_case(app, world):
    """The survey's "file it as formal feedback" path: a double click is the case's
    confirmation (it was a 409 'already sent' without the number)."""
    with app.app_context():
        counter = factories.counter(db.session.get(factories.Agency, world.agency))
        db.session.commit()
        code = counter.code
    client = app.test_client()
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={"csrf_token": csrf_from(html), "overall": "2"})
    html = client.get(f"/s/{code}/comment").get_data(as_text=True)
    comment = "Cán bộ yêu cầu giấy tờ không có trong quy định."
    client.post(
        f"/s/{code}/comment",
        data={"csrf_token": csrf_from(html), "wants_feedback": "y", "comment": comment},
    )
    fields = _form(client, "/feedback/new?from=survey") | {
        "kind": "report",
        "content": comment,
        "agency_id": str(world.agency),
        "submitter_name": "Trần B",
        "contact_email": "b@example.vn",
        "consent": "y",
    }
    cookie = client.get_cookie("session").value

    def send(c):
        return c.post("/feedback/new?from=survey", data=fields)

    clients, replies = _at_once(app, cookie, [send] * 3)
    assert [r.status_code for r in replies] == [303] * 3, [r.status_code for r in replies]
    assert _count(app) == 1
    assert len({_confirmation(c) for c in clients}) == 1
    with app.app_context():
        assert db.session.scalar(select(FeedbackCase.channel)) == CaseChannel.survey
    # Send again later from the same page: its confirmation again, still one case
    again = app.test_client()
    again.set_cookie("session", cookie)
    assert send(again).status_code == 303
    assert _count(app) == 1
