"""The citizen's way in: the choice first, every error at once, nothing typed lost,
complaint words only suggest (the citizen confirms), the complaint redirect, and the
survey suggestion turned into a case in one flow."""

from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import (
    Attachment,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
)
from tests import factories
from tests.helpers import csrf_from, logged_in

GOOD = {
    "kind": "report",
    "content": "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
    "submitter_name": "Nguyễn Văn An",
    "contact_phone": "0912 345 678",
}
DENUNCIATION = "Tôi muốn tố giác cán bộ quầy số 3 đòi thêm tiền ngoài quy định."
NOT_A_COMPLAINT = "Tôi không khiếu nại, chỉ kiến nghị bỏ bớt bản sao giấy khai sinh."


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(app):
    with app.app_context():
        justice = factories.agency("Sở Tư pháp", code="STP")
        justice.complaint_body_name = "Thanh tra Sở Tư pháp"
        justice.complaint_body_address = "Số 1 đường Thanh Niên"
        justice.complaint_body_phone = "0220 3 852 000"
        field = factories.field(code="HT", name="Hộ tịch")
        procedure = factories.procedure(justice, field, code="1.001193")
        procedure.name = "Đăng ký khai sinh"
        db.session.commit()
        return SimpleNamespace(agency=justice.id, procedure=procedure.id)


def _cases(app) -> list[FeedbackCase]:
    with app.app_context():
        cases = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.id)).all()
        db.session.expunge_all()
        return cases


def _form_page(client, url="/feedback/new?lang=en") -> str:
    return client.get(url).get_data(as_text=True)


def _post(client, data, url="/feedback/new", files=None):
    payload = {"csrf_token": csrf_from(_form_page(client)), **data}
    if files:
        payload["attachments"] = files
    return client.post(url, data=payload, content_type="multipart/form-data")


def _summary(html: str) -> list[tuple[str, str]]:
    """The error summary's links: (target id, message)."""
    box = re.search(r'<div class="error-summary"[^>]*role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert box, "no error summary"
    return [
        (target, unescape(text))
        for target, text in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box.group(1))
    ]


class _HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.found.setdefault(attrs["name"], []).append(attrs.get("value") or "")


def _hidden(html: str) -> dict:
    """The hidden fields of a page (the confirmation step carries the whole form)."""
    parser = _HiddenInputs()
    parser.feed(html)
    return {k: v if len(v) > 1 else v[0] for k, v in parser.found.items()}


# -- the choice comes first --------------------------------------------------


def test_the_choice_comes_first_with_a_plain_explanation_of_each(client, world):
    html = client.get("/feedback/?lang=en").get_data(as_text=True)
    assert 'id="what-feedback"' in html and 'id="what-complaint"' in html
    assert "report or proposal (phản ánh, kiến nghị)" in html
    assert "complaint or denunciation (khiếu nại, tố cáo)" in html
    assert "citizen reception office" in html  # where complaints go, said before any form
    assert '<form method="get"' in html  # no token to expire, works without JavaScript
    # the home page leads to it, not straight to the form
    assert 'href="/feedback/"' in client.get("/").get_data(as_text=True)


def test_the_choice_leads_to_the_form_or_the_redirect_and_asks_again_if_none(client, world):
    reply = client.get("/feedback/?chosen=1&what=feedback")
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/new"
    reply = client.get("/feedback/?chosen=1&what=complaint")
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/complaint"
    reply = client.get("/feedback/?chosen=1&lang=en")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert _summary(html) == [("what-feedback", "Choose what you want to send.")]
    assert "<title>Error: " in html


# -- the complaint redirect ----------------------------------------------------


def test_a_complaint_chosen_first_is_redirected_with_the_agencys_body_and_a_code(
    app, client, world
):
    html = client.get("/feedback/complaint?lang=en").get_data(as_text=True)
    # no personal data asked (the footer's office phone is the province's, not a field)
    for field in ("submitter_name", "contact_phone", "contact_email", "address"):
        assert f'name="{field}"' not in html
    data = {
        "csrf_token": csrf_from(html),
        "agency_id": str(world.agency),
        "submit_key": _hidden(html)["submit_key"],
    }
    reply = client.post("/feedback/complaint", data=data)
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/feedback/complaint/recorded"
    page = client.get("/feedback/complaint/recorded").get_data(as_text=True)
    code = re.search(r'id="record-code">([^<]+)<', page).group(1)
    assert re.fullmatch(r"KT-\d{2}-[A-Z0-9]{6}", code)
    assert "Thanh tra Sở Tư pháp" in page and "Số 1 đường Thanh Niên" in page
    assert 'href="tel:02203852000"' in page
    assert 'id="record-secret"' not in page  # nothing was written: nothing to follow
    # a reload shows it again; a double click is the same record
    assert code in client.get("/feedback/complaint/recorded").get_data(as_text=True)
    assert client.post("/feedback/complaint", data=data).status_code == 303
    (case,) = _cases(app)
    assert (case.code, case.state, case.agency_id) == (
        code,
        CaseState.redirected_complaint,
        world.agency,
    )
    assert (case.content, case.submitter_name, case.contact_phone, case.contact_email) == (
        "",
        None,
        None,
        None,
    )


def test_without_an_agency_the_province_wide_body_is_shown(app, client, world):
    html = client.get("/feedback/complaint").get_data(as_text=True)
    reply = client.post("/feedback/complaint", data={"csrf_token": csrf_from(html)})
    assert reply.status_code == 303
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert app.config["COMPLAINT_BODY_NAME"] in page
    assert app.config["COMPLAINT_BODY_ADDRESS"] in page


def test_admins_set_the_complaint_body_where_they_edit_the_agency(app, world):
    with app.app_context():
        admin = factories.user(Role.admin)
        db.session.commit()
        email = admin.email
    staff = logged_in(app, email)
    url = f"/staff/agencies/{world.agency}/edit"
    html = staff.get(url).get_data(as_text=True)
    assert 'name="complaint_body_name"' in html and 'value="Thanh tra Sở Tư pháp"' in html
    reply = staff.post(
        url,
        data={
            "csrf_token": csrf_from(html),
            "code": "STP",
            "name": "Sở Tư pháp",
            "kind": "department",
            "parent_id": "",
            "is_active": "y",
            "complaint_body_name": "Thanh tra Sở Tư pháp tỉnh",
            "complaint_body_address": "  Số 9 đường Hồng Quang ",
            "complaint_body_phone": "",
        },
    )
    assert reply.status_code in (302, 303)
    with app.app_context():
        agency = db.session.get(factories.Agency, world.agency)
        assert (
            agency.complaint_body_name,
            agency.complaint_body_address,
            agency.complaint_body_phone,
        ) == ("Thanh tra Sở Tư pháp tỉnh", "Số 9 đường Hồng Quang", None)


# -- words only suggest; the citizen confirms -----------------------------------


def test_i_do_not_complain_i_only_propose_is_sent_as_a_proposal(app, client, world):
    reply = _post(client, {**GOOD, "kind": "proposal", "content": NOT_A_COMPLAINT})
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/submitted"
    (case,) = _cases(app)
    assert (case.kind, case.state) == (CaseKind.proposal, CaseState.submitted)


def test_to_giac_asks_the_citizen_and_stores_nothing_until_they_answer(app, client, world):
    reply = _post(client, {**GOOD, "content": DENUNCIATION})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "tố giác" in html and 'name="complaint_answer"' in html
    assert _cases(app) == []
    carried = _hidden(html)  # the whole form travels with the answer
    assert carried["content"] == DENUNCIATION and carried["submitter_name"] == "Nguyễn Văn An"
    assert carried["contact_phone"] == "0912 345 678" and carried["complaint_asked"] == "1"
    # sent without an answer: asked again, with the error summary
    again = client.post("/feedback/new?lang=en", data=carried)
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert _summary(page) == [("complaint_answer-feedback", "Choose one answer.")]
    assert 'id="complaint_answer-feedback"' in page
    # "no, it is a report": filed as one, with the name and contact
    reply = client.post("/feedback/new", data={**_hidden(page), "complaint_answer": "feedback"})
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/submitted"
    (case,) = _cases(app)
    assert (case.state, case.content, case.contact_phone) == (
        CaseState.submitted,
        DENUNCIATION,
        "0912345678",
    )


def test_a_confirmed_denunciation_keeps_the_text_but_not_the_person(app, client, world):
    html = _post(client, {**GOOD, "content": DENUNCIATION, "agency_id": str(world.agency)})
    carried = _hidden(html.get_data(as_text=True))
    reply = client.post("/feedback/new", data={**carried, "complaint_answer": "complaint"})
    assert reply.status_code == 303
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Thanh tra Sở Tư pháp" in page
    code = re.search(r'id="record-code">([^<]+)<', page).group(1)
    secret = re.search(r'id="record-secret">([^<]+)<', page).group(1)
    (case,) = _cases(app)
    assert (case.code, case.state, case.content) == (
        code,
        CaseState.redirected_complaint,
        DENUNCIATION,
    )
    assert (case.submitter_name, case.contact_phone, case.address) == (None, None, None)
    # the citizen can follow it (a coordinator may find it is feedback after all)
    assert client.get(f"/feedback/track/{code}").status_code == 200
    assert len(re.sub(r"\D", "", secret)) == 12


def test_change_what_i_wrote_goes_back_to_the_form_with_everything(client, world):
    carried = _hidden(_post(client, {**GOOD, "content": DENUNCIATION}).get_data(as_text=True))
    reply = client.post("/feedback/new", data={**carried, "edit": "1"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and 'id="privacy-notice"' in html
    assert DENUNCIATION in html and 'value="Nguyễn Văn An"' in html
    assert "error-summary" not in html


# -- every error at once, Enter sends, nothing lost ----------------------------


def test_every_error_at_once_in_a_linked_summary_in_the_pages_order(app, client, world):
    reply = _post(client, {"kind": "", "content": "ngắn", "contact_email": "not mail"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    targets = [target for target, _ in _summary(html)]
    assert targets == ["kind-report", "content", "submitter_name", "contact_email"]
    for target in targets:  # each link goes to a field of the page
        assert f'id="{target}"' in html
    # each field also carries its own message, read out with it
    assert re.search(r'id="content-error">', html)
    assert re.search(r'<textarea id="content"[^>]*aria-invalid="true"', html)
    assert re.search(r"<title>(Error|Lỗi):", html)
    assert 'role="alert"' in html
    assert _cases(app) == []


def test_no_contact_at_all_is_one_error_linked_to_the_phone(client, world):
    reply = _post(client, {**GOOD, "contact_phone": ""})
    assert [t for t, _ in _summary(reply.get_data(as_text=True))] == ["contact_phone"]


def test_enter_sends_the_form_the_search_is_not_the_default_button(client, world):
    html = _form_page(client)
    form = re.search(r'<form method="post"[^>]*class="feedback"[^>]*>(.*?)</form>', html, re.S)
    buttons = re.findall(r"<button[^>]*>", form.group(1))
    assert 'name="send"' in buttons[0] and 'type="submit"' in buttons[0]  # the default
    assert any('name="search"' in b for b in buttons[1:])
    # the default button sends: even with a query typed in the search box
    reply = _post(client, {**GOOD, "send": "1", "procedure_query": "khai sinh"})
    assert reply.status_code == 303


def test_an_expired_page_loses_nothing_typed(app, client, world):
    data = {**GOOD, "address": "Số 5 phố Lý Thường Kiệt", "csrf_token": "expired-or-forged"}
    reply = client.post("/feedback/new?lang=en", data=data)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    ((target, message),) = _summary(html)
    assert target == "send" and "expired" in message
    assert GOOD["content"] in html and 'value="Nguyễn Văn An"' in html
    assert 'value="0912 345 678"' in html and 'value="Số 5 phố Lý Thường Kiệt"' in html
    assert _cases(app) == []
    # the page shown again carries a good token: Send works
    reply = client.post("/feedback/new", data={**data, "csrf_token": csrf_from(html)})
    assert reply.status_code == 303


def test_chosen_files_are_kept_across_errors_and_the_question(app, client, world, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    try:
        reply = _post(
            client,
            {**GOOD, "submitter_name": "", "content": DENUNCIATION},
            files=[(io.BytesIO(_png()), "giay to.png")],
        )
        html = reply.get_data(as_text=True)
        assert reply.status_code == 400 and "giay to.png" in html
        (token,) = re.findall(r'name="kept_file" value="([^"]+)"', html)
        # a forged token names no file
        forged = {**GOOD, "content": DENUNCIATION, "kept_file": [token, token[:-3] + "abc"]}
        reply = client.post("/feedback/new", data={"csrf_token": csrf_from(html), **forged})
        page = reply.get_data(as_text=True)
        assert reply.status_code == 200 and 'name="complaint_answer"' in page  # the question
        assert re.findall(r'name="kept_file" value="([^"]+)"', page) == [token]
        reply = client.post("/feedback/new", data={**_hidden(page), "complaint_answer": "feedback"})
        assert reply.status_code == 303
        (case,) = _cases(app)
        with app.app_context():
            (attachment,) = db.session.scalars(select(Attachment)).all()
            assert attachment.case_id == case.id and attachment.original_name == "giay to.png"
            assert (tmp_path / attachment.stored_name).is_file()
    finally:
        app.config["ATTACHMENT_DIR"] = None


def test_files_chosen_before_a_procedure_search_are_kept(app, client, world, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    try:
        reply = _post(
            client,
            {"procedure_query": "khai sinh", "search": "1", "content": GOOD["content"]},
            files=[(io.BytesIO(_png()), "anh.png")],
        )
        html = reply.get_data(as_text=True)
        assert reply.status_code == 200 and f'value="{world.procedure}"' in html
        assert "error-summary" not in html
        (token,) = re.findall(r'name="kept_file" value="([^"]+)"', html)
        data = {**GOOD, "csrf_token": csrf_from(html), "kept_file": token}
        assert client.post("/feedback/new", data=data).status_code == 303
        (case,) = _cases(app)
        with app.app_context():
            (attachment,) = db.session.scalars(select(Attachment)).all()
            assert (attachment.case_id, attachment.original_name) == (case.id, "anh.png")
    finally:
        app.config["ATTACHMENT_DIR"] = None


# -- the survey suggestion, turned into a case in one flow ------------------------


def _suggest(app, client, world, comment: str) -> str:
    with app.app_context():
        counter = factories.counter(db.session.get(factories.Agency, world.agency))
        db.session.commit()
        code = counter.code
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={"csrf_token": csrf_from(html), "overall": "2"})
    html = client.get(f"/s/{code}/comment").get_data(as_text=True)
    reply = client.post(
        f"/s/{code}/comment",
        data={"csrf_token": csrf_from(html), "wants_feedback": "y", "comment": comment},
    )
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/feedback/new?from=survey"  # no thank-you page first
    return code


def test_the_suggestion_is_carried_over_and_only_what_is_missing_is_asked(app, client, world):
    comment = "Cán bộ yêu cầu giấy tờ không có trong quy định."
    code = _suggest(app, client, world, comment)
    form = client.get("/feedback/new?from=survey&lang=en").get_data(as_text=True)
    assert comment in form and "Thank you" not in form and "✓" not in form
    assert 'name="procedure_query"' not in form and 'name="agency_id"' not in form
    assert "Sở Tư pháp" in form  # what it concerns, from the counter
    # the thank-you page, if the citizen goes there, says it is not sent yet
    pending = client.get(f"/s/{code}/thanks?lang=en").get_data(as_text=True)
    assert "not sent yet" in pending and "✓" not in pending
    reply = client.post(
        "/feedback/new?from=survey",
        data={
            "csrf_token": csrf_from(form),
            "kind": "report",
            "content": comment,
            "submitter_name": "Trần Bình",
            "contact_email": "binh@example.vn",
        },
    )
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/submitted"
    assert 'id="case-code"' in client.get("/feedback/submitted").get_data(as_text=True)
    (case,) = _cases(app)
    assert (case.channel, case.agency_id, case.content) == (
        CaseChannel.survey,
        world.agency,
        comment,
    )
    # now the thank-you page thanks
    assert "✓" in client.get(f"/s/{code}/thanks").get_data(as_text=True)


def test_a_survey_suggestion_with_complaint_words_is_confirmed_too(app, client, world):
    _suggest(app, client, world, DENUNCIATION)
    form = client.get("/feedback/new?from=survey").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(form),
        "kind": "report",
        "content": DENUNCIATION,
        "submitter_name": "Trần Bình",
        "contact_phone": "0912345678",
    }
    reply = client.post("/feedback/new?from=survey", data=data)
    assert reply.status_code == 200 and 'name="complaint_answer"' in reply.get_data(as_text=True)
    reply = client.post(
        "/feedback/new?from=survey",
        data={**_hidden(reply.get_data(as_text=True)), "complaint_answer": "complaint"},
    )
    assert reply.status_code == 303
    (case,) = _cases(app)
    assert case.state == CaseState.redirected_complaint and case.response_id is not None
    assert case.channel == CaseChannel.survey and case.contact_phone is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedbackCase)) == 1


def test_the_records_tracking_number_is_never_in_clear_in_the_cookie(app, client, world):
    carried = _hidden(_post(client, {**GOOD, "content": DENUNCIATION}).get_data(as_text=True))
    client.post("/feedback/new", data={**carried, "complaint_answer": "complaint"})
    page = client.get("/feedback/complaint/recorded").get_data(as_text=True)
    secret = re.sub(r"\D", "", re.search(r'id="record-secret">([^<]+)<', page).group(1))
    with client.session_transaction() as session:
        kept = session["complaint_record"]
    assert secret not in repr(kept) and "secret" not in kept
    assert kept["code"] in page


def test_the_suggestion_step_says_its_error_at_the_top_too(app, client, world):
    with app.app_context():
        counter = factories.counter(db.session.get(factories.Agency, world.agency))
        db.session.commit()
        code = counter.code
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={"csrf_token": csrf_from(html), "overall": "4"})
    html = client.get(f"/s/{code}/comment").get_data(as_text=True)
    too_long = "Nên thêm ghế chờ. " * 200
    reply = client.post(
        f"/s/{code}/comment",
        data={"csrf_token": csrf_from(html), "comment": too_long, "wants_feedback": "y"},
    )
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert [target for target, _ in _summary(page)] == ["comment"]
    assert 'id="comment-error"' in page and too_long.strip() in unescape(page)
