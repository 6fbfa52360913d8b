"""The citizen after filing (issue 17, points 3, 6 and 7): the receipt survives a reload
within the browser's session (the tracking number sealed, never in a URL, a log or the
cookie in clear), prints and saves; the case page speaks plain words with the answer's
due date; public pages carry the province's name, emblem, contact and privacy notice.

Texts are checked in English (``?lang=en``), or by element ids: the Vietnamese of new
messages reaches the catalogue when the branch is merged.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from PIL import Image
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role, User
from survey_app.extensions import db
from survey_app.feedback import receipts
from survey_app.feedback.models import CaseState, FeedbackCase, OutboxMessage
from survey_app.feedback.outbox import MAX_ATTEMPTS
from survey_app.feedback.workflow import extend, transition, work_calendar
from tests import factories
from tests.helpers import csrf_from

S = CaseState
CONTENT = "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật."
FORM = {
    "kind": "report",
    "content": CONTENT,
    "submitter_name": "Nguyễn Văn An",
    "contact_phone": "0912 345 678",
    "contact_email": "nguyen.an@example.vn",
    "consent": "y",
}
SECRET_ID = re.compile(r'id="case-secret">([^<]+)<')
CODE_ID = re.compile(r'id="case-code">([^<]+)<')


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(app):
    with app.app_context():
        justice = factories.agency("Sở Tư pháp", code="STP")
        procedure = factories.procedure(justice, factories.field(code="HT", name="Hộ tịch"))
        handler = factories.user(Role.handler, justice, email="xuly@example.gov.vn")
        handler.full_name = "Trần Thị Xử Lý"
        db.session.commit()
        return SimpleNamespace(agency=justice.id, procedure=procedure.id, handler=handler.id)


def _file(client, data=None, files=None, lang="en"):
    """File a case through the public form; returns (code, secret as printed)."""
    html = client.get(f"/feedback/new?lang={lang}").get_data(as_text=True)
    payload = {"csrf_token": csrf_from(html), **(data or FORM)}
    key = re.search(r'name="submit_key" value="([^"]+)"', html)
    if key:
        payload["submit_key"] = key.group(1)
    if files:
        payload["attachments"] = files
    reply = client.post("/feedback/new", data=payload, content_type="multipart/form-data")
    assert reply.status_code == 303, reply.get_data(as_text=True)[:2000]
    page = client.get("/feedback/submitted").get_data(as_text=True)
    return CODE_ID.search(page).group(1), SECRET_ID.search(page).group(1)


def _session_of(app, client) -> tuple[str, dict]:
    """The raw session cookie and what it holds."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    return cookie.value, serializer.loads(cookie.value)


# -- point 3: the receipt survives ------------------------------------------------


def test_a_reload_shows_the_receipt_again_within_the_session_only(app, client, world):
    code, secret = _file(client)
    for _ in range(3):  # reloads, and coming back later in the same session
        again = client.get("/feedback/submitted")
        assert again.status_code == 200
        html = again.get_data(as_text=True)
        assert CODE_ID.search(html).group(1) == code
        assert SECRET_ID.search(html).group(1) == secret
    assert client.get(f"/feedback/track/{code}/receipt").status_code == 200
    # the case page, followed from this browser, links back to the receipt
    status = client.get(f"/feedback/track/{code}").get_data(as_text=True)
    assert f'href="/feedback/track/{code}/receipt"' in status

    other = app.test_client()  # another browser (or this one after it was closed)
    reply = other.get("/feedback/submitted")
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/track"
    reply = other.get(f"/feedback/track/{code}/receipt")
    assert reply.status_code == 303 and reply.headers["Location"] == f"/feedback/track/{code}"
    reply = other.get(f"/feedback/track/{code}/receipt.txt")
    assert reply.status_code == 303 and secret.replace(" ", "") not in reply.get_data(as_text=True)
    assert other.get(reply.headers["Location"]).headers["Location"].startswith("/feedback/track?")


def test_the_number_is_sealed_in_the_cookie(app, client, world):
    code, secret = _file(client)
    digits = secret.replace(" ", "")
    raw, data = _session_of(app, client)
    dumped = json.dumps(data)
    assert digits not in raw and digits not in dumped and secret not in dumped
    (entry,) = data[receipts.RECEIPTS_KEY]
    assert entry["c"] == code and "new_case" not in data
    # (bench/load_faults.py opens it outside the application, with the key it set)
    assert receipts.open_sealed(entry["s"], [app.config["SECRET_KEY"]]) == digits
    with app.test_request_context():
        assert receipts.unseal(entry["s"]) == digits
        tampered = entry["s"][:-2] + ("A" if entry["s"][-2] != "A" else "B") + entry["s"][-1]
        assert receipts.unseal(tampered) is None
        assert receipts.unseal("not a token") is None
        app.config["SECRET_KEY_FALLBACKS"] = [app.config["SECRET_KEY"]]
        old_key, app.config["SECRET_KEY"] = app.config["SECRET_KEY"], "another-key-" + "x" * 40
        try:
            assert receipts.unseal(entry["s"]) == digits  # a rotated key still opens it
            app.config["SECRET_KEY_FALLBACKS"] = []
            assert receipts.unseal(entry["s"]) is None  # an unknown key does not
        finally:
            app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old_key, []


def test_a_number_left_in_clear_by_an_older_page_is_sealed_on_the_next_view(app, client, world):
    code, secret = _file(client)
    digits = secret.replace(" ", "")
    with client.session_transaction() as session:
        session.pop(receipts.RECEIPTS_KEY)
        session["new_case"] = {"code": code, "secret": digits}
    page = client.get("/feedback/submitted").get_data(as_text=True)
    assert SECRET_ID.search(page).group(1) == secret
    raw, data = _session_of(app, client)
    assert "new_case" not in data and digits not in raw and digits not in json.dumps(data)


def test_the_number_is_in_no_url_log_or_other_page(app, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    code, secret = _file(client)
    digits = secret.replace(" ", "")
    pages = [
        "/",
        "/privacy",
        "/feedback/new",
        "/feedback/track",
        f"/feedback/track/{code}",
        f"/feedback/track?code={code}",
        "/feedback/answers",
    ]
    for path in pages:
        reply = client.get(path, follow_redirects=True)
        assert reply.status_code == 200, path
        html = reply.get_data(as_text=True)
        assert digits not in html and secret not in html, path
        for match in re.finditer(r'(?:href|src|action)="([^"]+)"', html):
            assert digits not in match.group(1)
    receipt = client.get("/feedback/submitted").get_data(as_text=True)
    for match in re.finditer(r'(?:href|src|action)="([^"]+)"', receipt):
        assert digits not in match.group(1).replace("%20", "")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert code and digits not in logged and secret not in logged


def test_the_receipt_prints_on_one_clean_page(app, client, world):
    _file(client)
    html = client.get("/feedback/submitted").get_data(as_text=True)
    assert 'href="/static/public.css"' in html
    head = re.search(r'<div class="print-only receipt-head">(.*?)</div>', html, re.S).group(1)
    assert app.config["PROVINCE_NAME"].upper() in head and "province-emblem.svg" in head
    assert 'id="write-it-down"' in html  # the warning to write it down
    assert 'id="deadline-rule"' in html and "15 working days" in html and "2 working days" in html
    assert "https://hailong.example.gov.vn/feedback/track" in html  # how to follow it
    assert 'id="case-received"' in html
    css = client.get("/static/public.css").get_data(as_text=True)
    print_rules = css[css.index("@media print") :]
    assert "@page" in print_rules
    assert re.search(r"\.top,\.site-footer,\.no-print[^{]*\{display:none!important\}", print_rules)
    assert ".print-only{display:block}" in print_rules
    # the page's buttons and links are not printed; the receipt is
    actions = re.search(r'<div class="receipt-actions no-print">', html)
    assert actions is not None and html.index('id="receipt"') < actions.start()


def test_the_receipt_downloads_as_a_small_text_file(app, client, world):
    code, secret = _file(client)
    reply = client.get(f"/feedback/track/{code}/receipt.txt")
    assert reply.status_code == 200
    assert reply.content_type == "text/plain; charset=utf-8"
    assert reply.headers["Content-Disposition"] == f'attachment; filename="bien-nhan-{code}.txt"'
    assert "no-store" in reply.headers["Cache-Control"]
    text = reply.get_data(as_text=True)
    assert len(reply.data) < 4000
    assert code in text and secret in text
    assert app.config["PROVINCE_NAME"].upper() in text and app.config["CONTACT_OFFICE"] in text
    assert "https://hailong.example.gov.vn/feedback/track" in text
    assert "15" in text and "working days" in text
    assert FORM["submitter_name"] not in text and "0912" not in text  # no personal data


def test_the_receipt_says_truthfully_where_it_was_sent_with_contacts_masked(app, client, world):
    code, _secret = _file(client)
    html = client.get("/feedback/submitted").get_data(as_text=True)
    sent = re.search(r'<ul class="sent" id="sent-to">(.*?)</ul>', html, re.S).group(1)
    assert "Being sent by e-mail to n***@example.vn" in sent  # queued, not yet sent
    # the phone by the first channel of NOTIFY_CHANNEL_ORDER (zalo, sms, email)
    assert "Being sent by Zalo to 091****678" in sent
    assert "nguyen.an@example.vn" not in html and "0912345678" not in html
    assert "0912 345 678" not in html
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))
        case_id = case.id
        mail = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"received:{case.id}")
        )
        mail.sent_at = datetime.now(UTC)
        phone = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key.like(f"received:{case.id}:%"),
                OutboxMessage.channel != "email",
            )
        )
        assert phone is not None and phone.channel == "zalo"
        # Zalo said the number has no account: the same text went by SMS instead
        phone.channel, phone.recipient = "sms", "+84912345678"  # (a gateway's spelling)
        db.session.commit()
    sent = re.search(
        r'<ul class="sent" id="sent-to">(.*?)</ul>',
        client.get("/feedback/submitted").get_data(as_text=True),
        re.S,
    ).group(1)
    assert "Sent by e-mail to n***@example.vn" in sent
    assert "Being sent by text message to 091****678" in sent
    assert "Not sent to the phone number" not in sent
    with app.app_context():  # the SMS gateway gave up: said so, not "being sent" for ever
        sms = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key.like(f"received:{case_id}:%"),
                OutboxMessage.channel == "sms",
            )
        )
        sms.attempts = MAX_ATTEMPTS
        db.session.commit()
    html = client.get("/feedback/submitted").get_data(as_text=True)
    assert '<li data-status="failed">Could not be sent to 091****678' in html


def test_a_phone_no_channel_reaches_is_said_not_sent(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "email")  # (no SMS nor Zalo)
    _file(client)
    html = client.get("/feedback/submitted").get_data(as_text=True)
    sent = re.search(r'<ul class="sent" id="sent-to">(.*?)</ul>', html, re.S).group(1)
    assert "Not sent to the phone number 091****678" in sent


def test_a_phone_only_citizen_is_told_where_the_numbers_went(app, client, world):
    _file(client, {**FORM, "contact_email": ""})
    html = client.get("/feedback/submitted").get_data(as_text=True)
    sent = re.search(r'<ul class="sent" id="sent-to">(.*?)</ul>', html, re.S).group(1)
    assert "Being sent by Zalo to 091****678" in sent and "e-mail" not in sent


# -- point 6: the case page -----------------------------------------------------


def _case(app, code):
    return db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))


def _status(client, code, secret=None) -> str:
    """The case page; with ``secret``, looked up with the number first (a session cookie
    is refused 8 hours after it was last written, and these tests move time by days)."""
    if secret is not None:
        html = client.get("/feedback/track").get_data(as_text=True)
        data = {"csrf_token": csrf_from(html), "code": code, "secret": secret}
        assert client.post("/feedback/track", data=data).status_code == 303
    reply = client.get(f"/feedback/track/{code}?lang=en")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def _stage(html: str) -> tuple[str, str]:
    m = re.search(r'id="case-state" data-stage="([a-z_]+)">([^<]+)<', html)
    return m.group(1), m.group(2)


def _due(html: str) -> date | None:
    m = re.search(r'id="case-due" data-date="([0-9-]+)"', html)
    return date.fromisoformat(m.group(1)) if m else None


def test_the_case_page_in_plain_words_through_every_step(app, client, world):
    with freeze_time("2026-03-02 02:00:00"):  # Monday 2 March 2026, 09:00 in Hà Nội
        code, secret = _file(
            client,
            {**FORM, "procedure_id": str(world.procedure)},
            files=[(io.BytesIO(_png()), "giay-hen-cua-toi.png")],
        )
        html = _status(client, code, secret)
    stage, words = _stage(html)
    assert (stage, words) == ("received", "Received, being screened")
    assert 'aria-current="step">Received by the office<' in html
    # what they sent: their own text and their attachment's name
    assert CONTENT in html and "giay-hen-cua-toi.png" in html
    assert "On 2 Mar 2026 your report was received." in html
    # before acceptance: the answer is due 15 working days after screening's due date
    with app.app_context():
        case = _case(app, code)
        screening_due = case.due_on
        assert screening_due == date(2026, 3, 4)
        assert _due(html) == work_calendar().add_working_days(screening_due, 15)
        assert _due(html) == date(2026, 3, 25)

    with freeze_time("2026-03-03 02:00:00"):
        with app.app_context():
            case = _case(app, code)
            transition(case, S.screening, None)
            transition(case, S.needs_info, None, reason="Xin cho biết ngày bạn nộp hồ sơ.")
            db.session.commit()
        html = _status(client, code, secret)
    assert _stage(html)[0] == "needs_info"
    assert "On 3 Mar 2026 you were asked for more information." in html
    assert "Xin cho biết ngày bạn nộp hồ sơ." in html
    assert _due(html) is None and 'id="case-due"' in html  # the clock is stopped: said so

    with freeze_time("2026-03-05 02:00:00"):
        with app.app_context():
            case = _case(app, code)
            transition(case, S.screening, None)
            transition(case, S.accepted, None)
            db.session.commit()
        html = _status(client, code, secret)
    stage, words = _stage(html)
    assert (stage, words) == ("accepted", "Accepted for handling")
    assert "On 5 Mar 2026 Sở Tư pháp accepted it for handling." in html
    assert 'aria-current="step">Accepted for handling<' in html
    with app.app_context():
        case = _case(app, code)
        # the answer's clock: 15 working days from acceptance (Thursday 5 March)
        assert case.due_on == date(2026, 3, 26) == _due(html)

    with freeze_time("2026-03-06 02:00:00"):
        with app.app_context():
            case = _case(app, code)
            handler = db.session.get(User, world.handler)
            transition(case, S.assigned, None, assignee=handler)
            transition(case, S.in_progress, None)
            extend(case, handler, 5, "Cần xác minh tại bộ phận một cửa.")
            db.session.commit()
        html = _status(client, code, secret)
    assert _stage(html)[0] == "accepted"
    assert "On 6 Mar 2026 an official was put in charge of it." in html
    assert "extended by 5 working days" in html and "Cần xác minh tại bộ phận một cửa." in html
    assert _due(html) == date(2026, 4, 2)  # 26 March + 5 working days
    assert "Trần Thị Xử Lý" not in html and "xuly@example.gov.vn" not in html  # no staff

    answer = "Sở đã chấn chỉnh quầy: bản sao giấy khai sinh không còn bị yêu cầu."
    with freeze_time("2026-03-10 02:00:00"):
        with app.app_context():
            case = _case(app, code)
            case.answer = answer
            transition(case, S.answered, None)
            db.session.commit()
        html = _status(client, code, secret)
    assert _stage(html)[0] == "answering" and answer not in html  # not sent yet
    assert _due(html) == date(2026, 4, 2)

    with freeze_time("2026-03-11 02:00:00"):
        with app.app_context():
            case = _case(app, code)
            transition(case, S.approved, None)
            db.session.commit()
            publish_due = _case(app, code).due_on
        html = _status(client, code, secret)
    assert _stage(html)[0] == "answering" and _due(html) == publish_due
    assert "Answer to be sent by" in html

    with freeze_time("2026-03-12 02:00:00"):
        with app.app_context():
            case = _case(app, code)
            case.public_summary = "Quầy yêu cầu bản sao không có trong luật."
            case.public_summary_confirmed_at = datetime.now(UTC)
            transition(case, S.published, None)
            db.session.commit()
        html = _status(client, code, secret)
    stage, words = _stage(html)
    assert (stage, words) == ("answered", "Answered")
    assert re.search(r'id="case-answer">' + re.escape(answer) + "<", html)
    assert 'id="case-answered-on">12 Mar 2026<' in html
    assert "On 12 Mar 2026 the answer was sent and published." in html
    assert "Trần Thị Xử Lý" not in html
    # no internal state names in the timeline
    timeline = re.search(r'<ol class="timeline" id="case-timeline">(.*?)</ol>', html, re.S).group(1)
    for internal in ("in_progress", "needs_info", "assigned", "In progress", "Assigned"):
        assert internal not in timeline


def _vietnamese(msgid: str) -> str:
    """The Vietnamese of ``msgid``: the catalogue's, else this branch's pending one."""
    from babel.messages.pofile import read_po

    with open("translations/vi/LC_MESSAGES/messages.po", "rb") as po:
        entry = read_po(po).get(msgid)
    if entry is not None and entry.string:
        return entry.string
    pending = Path("translations/pending/tracking.json")
    return json.loads(pending.read_text(encoding="utf-8"))[msgid]


def test_the_three_words_are_distinct_in_both_languages(app, client, world):
    from survey_app.feedback import citizen

    with app.test_request_context("/?lang=en"):
        english = {s: citizen.stage_title(s) for s in citizen.PATH}
    assert len(set(english.values())) == 3
    vi = [_vietnamese(english[s]).lower() for s in citizen.PATH]
    assert "đã nhận" in vi[0] and "đã tiếp nhận xử lý" in vi[1] and "đã trả lời" in vi[2]


def test_rejected_and_redirected_cases_say_why_and_have_no_deadline(app, client, world):
    code, _ = _file(client)
    with app.app_context():
        case = _case(app, code)
        transition(case, S.screening, None)
        transition(case, S.rejected, None, reason="Nội dung không thuộc phạm vi phản ánh.")
        db.session.commit()
        html = _status(client, code)
    assert _stage(html) == ("not_accepted", "Not accepted")
    assert "Nội dung không thuộc phạm vi phản ánh." in html and 'id="case-due"' not in html


def test_a_case_sent_back_to_the_coordinators_shows_the_latest_answer_date(app, client, world):
    code, _ = _file(client, {**FORM, "procedure_id": str(world.procedure)})
    with app.app_context():
        case = _case(app, code)
        transition(case, S.screening, None)
        transition(case, S.transferred, None, reason="Không thuộc thẩm quyền của Sở.")
        db.session.commit()
        case = _case(app, code)
        expected = work_calendar().add_working_days(case.due_on, 15)
    html = _status(client, code)
    assert _stage(html)[0] == "forwarded" and _due(html) == expected
    assert "returned to the provincial office" in html
    assert "Không thuộc thẩm quyền của Sở." not in html  # staff's reason for staff

    with app.app_context():  # the coordinators send it on: the answer's clock runs
        case = _case(app, code)
        transition(
            case, S.transferred, None, agency=db.session.get(Agency, world.agency), reason="x"
        )
        db.session.commit()
        answer_due = _case(app, code).due_on
    html = _status(client, code)
    assert _stage(html)[0] == "transferred" and _due(html) == answer_due
    assert 'aria-current="step">Received by the office<' in html  # not accepted yet
    assert "it was sent to Sở Tư pháp." in html


# -- point 7: the province on public pages ---------------------------------------


def test_public_pages_carry_the_province_and_its_contact_from_the_settings(
    app, client, world, monkeypatch
):
    settings = {
        "PROVINCE_AUTHORITY": "Ủy ban nhân dân tỉnh Thử Nghiệm",
        "CONTACT_OFFICE": "Văn phòng UBND tỉnh Thử Nghiệm",
        "CONTACT_ADDRESS": "Số 1 đường Thử, tỉnh Thử Nghiệm",
        "CONTACT_PHONE": "0200 123 4567",
        "CONTACT_EMAIL": "vanphong@thunghiem.gov.vn",
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    for path in ("/", "/feedback/track", "/feedback/new", "/feedback/answers", "/privacy"):
        html = client.get(path).get_data(as_text=True)
        header = html[html.index('<header class="top">') : html.index("</header>")]
        assert 'class="emblem" src="/static/province-emblem.svg"' in header, path
        assert settings["PROVINCE_AUTHORITY"] in header, path
        footer = html[html.index('<footer class="site-footer">') :]
        for value in list(settings.values())[1:]:
            assert value in footer, (path, value)
        assert 'href="tel:02001234567"' in footer
        assert 'href="/privacy" id="privacy-link"' in footer


def test_the_emblem_is_a_shipped_neutral_file_or_the_operators_own(
    app, client, monkeypatch, tmp_path
):
    svg = client.get("/static/province-emblem.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert "<title" in text and not re.search(r"(?:href|src)\s*=", text)  # nothing fetched
    own = tmp_path / "logo.svg"
    own.write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>own</title></svg>')
    monkeypatch.setitem(app.config, "PROVINCE_EMBLEM", str(own))
    html = client.get("/").get_data(as_text=True)
    assert 'class="emblem" src="/emblem"' in html
    served = client.get("/emblem")
    assert served.status_code == 200 and b"<title>own</title>" in served.data
    monkeypatch.setitem(app.config, "PROVINCE_EMBLEM", "my-logo.png")  # a static file by name
    assert 'src="/static/my-logo.png"' in client.get("/").get_data(as_text=True)
    assert client.get("/emblem").status_code == 404  # nothing outside static to serve


def test_the_privacy_notice(app, client, monkeypatch):
    from flask import url_for

    with app.test_request_context():
        assert url_for("core.privacy") == "/privacy"
    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_DAYS", 730)
    html = client.get("/privacy?lang=en").get_data(as_text=True)
    for needed in (
        "Decree 20/2008/NĐ-CP",
        "Decree 13/2023/NĐ-CP",
        "Law on Personal Data Protection 2025",
        "Decision 31/2021/QĐ-TTg",
        "erased 2 years after your case ends",
        app.config["CONTACT_OFFICE"],
        app.config["CONTACT_EMAIL"],
        "ID number",
    ):
        assert needed in html, needed
    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_DAYS", 100)
    assert "erased 100 days after" in client.get("/privacy").get_data(as_text=True)


def test_production_is_warned_of_the_demo_contact(app, caplog):
    from survey_app.core.views import _warn_of_demo_contact, demo_settings_left

    assert "CONTACT_PHONE" in demo_settings_left(app.config)  # the suite runs on the demo's
    production = {**app.config, "APP_ENV": "production"}
    with caplog.at_level(logging.WARNING, logger="survey_app.core.views"):
        _warn_of_demo_contact(SimpleNamespace(app=SimpleNamespace(config=production)))
    assert "CONTACT_PHONE" in caplog.text
    caplog.clear()
    own = {name: f"{name} of the province" for name in demo_settings_left(app.config)}
    with caplog.at_level(logging.WARNING, logger="survey_app.core.views"):
        _warn_of_demo_contact(SimpleNamespace(app=SimpleNamespace(config={**production, **own})))
    assert caplog.text == ""
