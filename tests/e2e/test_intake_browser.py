"""The citizen's way in, in a real phone browser, with and without JavaScript:
the survey suggestion turned into a case in one flow, the complaint choice first,
complaint words that ask (never decide), every error at once, and Enter that sends.

Assertions are on URLs, HTTP statuses, element ids/names and what reached the
database, not on translated text.
"""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseState, FeedbackCase
from survey_app.surveys.models import Response
from tests import factories
from tests.e2e.live import PHONE

pytestmark = pytest.mark.e2e

SUGGESTION = "Nên niêm yết rõ mức lệ phí sao y bản chính ở quầy, tôi phải hỏi ba lần."
DENUNCIATION = "Tôi muốn tố giác cán bộ quầy số 3 đòi thêm tiền ngoài quy định."
NOT_A_COMPLAINT = "Tôi không khiếu nại, chỉ kiến nghị bỏ bớt bản sao giấy khai sinh."
CODE = re.compile(r"PA-\d{2}-[A-HJ-NP-Z2-9]{6}")
RECORD = re.compile(r"KT-\d{2}-[A-HJ-NP-Z2-9]{6}")


def go(page, action) -> object:
    """Run ``action`` (a click, a key press) and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        action()
    return navigation.value


def cases_where(live, **where) -> list[FeedbackCase]:
    with live.app.app_context():
        stmt = select(FeedbackCase).order_by(FeedbackCase.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(FeedbackCase, column) == value)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def agency_with_body(live) -> tuple[int, str, str]:
    """A new agency whose complaints go to a body with a name and phone no other test has."""
    tag = secrets.token_hex(3)
    with live.app.app_context():
        agency = factories.agency(f"Sở Xây dựng {tag}")
        agency.complaint_body_name = f"Thanh tra Sở Xây dựng {tag}"
        agency.complaint_body_address = "Số 2 đường Hồng Quang"
        agency.complaint_body_phone = "0220 3 111 222"
        db.session.commit()
        out = (agency.id, agency.name, agency.complaint_body_name)
        db.session.remove()
        return out


def responses_of(live, counter_id: int) -> list[Response]:
    with live.app.app_context():
        rows = db.session.scalars(select(Response).where(Response.counter_id == counter_id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def suggest(page, live, comment: str):
    """Rate a counter, write a suggestion and ask for it to be a formal case."""
    counter = live.counter()
    assert page.goto(f"{live.url}/s/{counter.code}").status == 200
    go(page, lambda: page.locator('form.overall button[name="overall"][value="2"]').tap())
    assert page.goto(f"{live.url}/s/{counter.code}/comment").status == 200
    page.locator("textarea#comment").fill(comment)
    page.check("input[name=wants_feedback]")
    reply = go(page, lambda: page.locator("form.comment .bar button.primary").tap())
    assert reply.status == 200
    return counter


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_survey_suggestion_becomes_a_case_in_one_flow(live, phone, phone_without_js, javascript):
    page = phone if javascript else phone_without_js
    suggestion = f"{SUGGESTION} ({secrets.token_hex(3)})"
    counter = suggest(page, live, suggestion)
    # straight to what is missing: no thank-you, the suggestion carried over
    assert page.url == f"{live.url}/feedback/new?from=survey", page.url
    assert page.locator(".thanks").count() == 0
    assert page.locator("textarea#content").input_value() == suggestion
    assert page.locator("input[name=procedure_query]").count() == 0  # known from the counter
    assert page.locator("#privacy-notice").count() == 1
    assert page.locator("input[type=checkbox]").count() == 0  # no consent to tick
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    # Send without a contact: told at the top, nothing filed, the text still there
    page.locator("input#submitter_name").fill("Phạm Thị Hoa")
    reply = go(page, lambda: page.locator("#send").tap())
    assert reply.status == 400
    assert page.locator(".error-summary a[href='#contact_phone']").count() == 1
    assert page.locator("textarea#content").input_value() == suggestion
    assert cases_where(live, channel=CaseChannel.survey, content=suggestion) == []
    # the summary's link takes the citizen to the field
    if javascript:
        page.locator(".error-summary a[href='#contact_phone']").click()
        assert page.evaluate("location.hash") == "#contact_phone"
    # Enter in the phone box sends the form
    page.locator("input#contact_phone").fill("0912 345 678")
    reply = go(page, lambda: page.locator("input#contact_phone").press("Enter"))
    assert reply.status == 200
    assert page.url == f"{live.url}/feedback/submitted", page.url
    assert CODE.fullmatch(page.locator("#case-code").inner_text().strip())
    (case,) = cases_where(live, channel=CaseChannel.survey, content=suggestion)
    (response,) = responses_of(live, counter.id)
    assert case.response_id == response.id and case.contact_phone == "0912345678"
    assert case.state == CaseState.submitted
    # the survey's thank-you page thanks now that the case exists
    page.goto(f"{live.url}/s/{counter.code}/thanks")
    assert page.locator(".thanks").count() == 1
    assert page.watch.problems == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_complaint_choice_comes_first_and_redirects_with_a_code(
    live, phone, phone_without_js, javascript
):
    page = phone if javascript else phone_without_js
    agency_id, _, body = agency_with_body(live)
    assert page.goto(f"{live.url}/").status == 200
    go(page, lambda: page.locator("a[href='/feedback/']").tap())
    assert page.url == f"{live.url}/feedback/"
    # Continue without a choice: the question again, with the error summary
    reply = go(page, lambda: page.locator("form.start button.primary").tap())
    assert reply.status == 400
    assert page.locator(".error-summary a[href='#what-feedback']").count() == 1
    assert page.title().startswith(("Lỗi:", "Error:"))
    page.check("#what-complaint")
    go(page, lambda: page.locator("form.start button.primary").tap())
    assert page.url == f"{live.url}/feedback/complaint", page.url
    assert page.locator("input#submitter_name").count() == 0  # no personal data asked
    page.select_option("#agency_id", str(agency_id))
    reply = go(page, lambda: page.locator("form.feedback button.primary").tap())
    assert reply.status == 200
    assert page.url == f"{live.url}/feedback/complaint/recorded", page.url
    assert page.locator("#complaint-body-name").inner_text() == body
    assert page.locator("#complaint-body-phone").get_attribute("href") == "tel:02203111222"
    code = page.locator("#record-code").inner_text().strip()
    assert RECORD.fullmatch(code), code
    # a reload shows it again
    page.reload()
    assert page.locator("#record-code").inner_text().strip() == code
    (case,) = cases_where(live, code=code)
    assert case.state == CaseState.redirected_complaint and case.agency_id == agency_id
    assert case.submitter_name is None and case.contact_phone is None
    assert page.watch.problems == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_complaint_words_ask_and_the_citizen_decides(live, phone, phone_without_js, javascript):
    page = phone if javascript else phone_without_js
    agency_id, _, body = agency_with_body(live)

    def fill(content: str) -> None:
        assert page.goto(f"{live.url}/feedback/new").status == 200
        page.check("input[name=kind][value=proposal]")
        page.select_option("#agency_id", str(agency_id))
        page.locator("textarea#content").fill(content)
        page.locator("input#submitter_name").fill("Đỗ Văn Nam")
        page.locator("input#contact_phone").fill("0987 654 321")

    # "I do not complain, I only propose": sent as a proposal, no question
    fill(NOT_A_COMPLAINT)
    go(page, lambda: page.locator("#send").tap())
    assert page.url == f"{live.url}/feedback/submitted", page.url
    (proposal,) = cases_where(live, agency_id=agency_id, content=NOT_A_COMPLAINT)
    assert proposal.state == CaseState.submitted

    # "tố giác": the citizen is asked, and answering "no" files the report as written
    fill(DENUNCIATION)
    reply = go(page, lambda: page.locator("#send").tap())
    assert reply.status == 200 and page.locator("input[name=complaint_answer]").count() == 2
    assert cases_where(live, agency_id=agency_id, content=DENUNCIATION) == []
    reply = go(page, lambda: page.locator("form.confirm button.primary").tap())  # no answer
    assert reply.status == 400
    assert page.locator(".error-summary a[href='#complaint_answer-feedback']").count() == 1
    go(page, lambda: page.locator("button[name=edit]").tap())  # back to the form: all kept
    assert page.locator("textarea#content").input_value() == DENUNCIATION
    assert page.locator("input#contact_phone").input_value() == "0987 654 321"
    go(page, lambda: page.locator("#send").tap())
    page.check("#complaint_answer-complaint")
    go(page, lambda: page.locator("form.confirm button.primary").tap())
    assert page.url == f"{live.url}/feedback/complaint/recorded", page.url
    assert page.locator("#complaint-body-name").inner_text() == body
    (record,) = cases_where(live, agency_id=agency_id, content=DENUNCIATION)
    assert record.state == CaseState.redirected_complaint and record.contact_phone is None
    assert page.watch.problems == []
