"""The citizen's receipt and case page in a real phone browser, with and without
JavaScript (issue 17, points 3, 6 and 7).

A citizen files a report, reloads the receipt (the code and tracking number are still
there), saves it as a file, prints it on one page, follows the case as staff move it
along, and reads the answer. Another browser sees no receipt. Assertions are on URLs,
element ids and what the database holds, not on translated text.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import CaseState, FeedbackCase
from survey_app.feedback.workflow import transition
from tests import factories
from tests.e2e.live import PHONE
from tests.e2e.test_feedback_browser import (
    CODE,
    CONTENT,
    NAME,
    PHONE_TYPED,
    SECRET,
    SUBMIT_FEEDBACK,
    new_page,
    new_procedure,
    submit_form,
)

pytestmark = pytest.mark.e2e

ANSWER = "Sở đã chấn chỉnh quầy: bản sao giấy khai sinh không còn bị yêu cầu."


def file_a_report(page, live, procedure) -> tuple[str, str]:
    """Fill the public form with what it asks for and send it; returns code and number."""
    assert page.goto(f"{live.url}/feedback/new").status == 200
    kind = page.locator("input[name=kind][value=report]")
    if kind.count():
        kind.check()
    page.locator("textarea[name=content]").fill(CONTENT)
    page.locator("input[name=submitter_name]").fill(NAME)
    page.locator("input[name=contact_phone]").fill(PHONE_TYPED)
    if page.locator("input[name=contact_email]").count():
        page.locator("input[name=contact_email]").fill("nguyen.an@example.vn")
    if page.locator("input[name=consent]").count():
        page.check("input[name=consent]")
    reply = submit_form(page, SUBMIT_FEEDBACK, tap=True)
    assert reply.status == 200
    assert page.url == f"{live.url}/feedback/submitted", page.url
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    assert CODE.fullmatch(code) and SECRET.fullmatch(secret), (code, secret)
    with live.app.app_context():
        case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))
        case.procedure_id = procedure.id  # (the search is the form's business, not this test's)
        case.agency_id = procedure.agency_id
        db.session.commit()
        db.session.remove()
    return code, secret


def move(live, code: str, *steps: CaseState, answer: str | None = None) -> None:
    """Staff's steps on the case, as the workflow makes them."""
    with live.app.app_context():
        case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))
        for step in steps:
            if step == CaseState.answered:
                case.answer = answer
            if step == CaseState.published:
                case.public_summary = "Quầy yêu cầu bản sao không có trong luật."
                case.public_summary_confirmed_at = datetime.now(UTC)
            assignee = None
            if step == CaseState.assigned:
                assignee = factories.user(Role.handler, case.agency)
            transition(case, step, None, assignee=assignee)
        db.session.commit()
        db.session.remove()


def no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_receipt_survives_a_reload_saves_and_prints(browser, live, javascript):
    procedure = new_procedure(live)
    context, page = new_page(browser, PHONE, java_script_enabled=javascript)
    try:
        code, secret = file_a_report(page, live, procedure)
        no_sideways_scrolling(page)
        assert page.locator("#write-it-down").is_visible()
        # the print button is an enhancement: only with JavaScript
        assert page.locator("#print-receipt").is_visible() is javascript

        # a reload shows the same receipt
        again = page.reload()
        assert again.status == 200 and page.url == f"{live.url}/feedback/submitted"
        assert page.locator("#case-code").inner_text().strip() == code
        assert page.locator("#case-secret").inner_text().strip() == secret

        # the number is in no address the page links to, and not in its cookies in clear
        hrefs = page.locator("a[href]").evaluate_all("as => as.map(a => a.href)")
        assert not [h for h in hrefs if secret.replace(" ", "") in h]
        cookies = page.context.cookies()
        assert cookies and all(secret.replace(" ", "") not in c["value"] for c in cookies)

        # saved as a small text file (a plain link: no JavaScript needed)
        with page.expect_download() as download:
            page.locator("#receipt-download").click()
        saved = download.value
        assert saved.suggested_filename == f"bien-nhan-{code}.txt"
        text = open(saved.path(), encoding="utf-8").read()
        assert code in text and secret in text

        # printed: one A4 page, without the page's buttons
        if javascript:  # (Chromium prints the same either way: once is enough)
            from pypdf import PdfReader

            pdf = PdfReader(io.BytesIO(page.pdf(format="A4")))
            assert len(pdf.pages) == 1
            printed = pdf.pages[0].extract_text()
            assert code in printed and secret in printed
            assert "receipt-download" not in printed

        # the case page, and back to the receipt in the same session
        assert page.locator("#see-case").count() == 1
        reply = submit_form(page, "#see-case")
        assert reply.status == 200 and page.url == f"{live.url}/feedback/track/{code}"
        assert page.locator("#case-state").get_attribute("data-stage") == "received"
        assert page.locator("#case-due").get_attribute("data-date")
        assert secret not in page.content() and secret.replace(" ", "") not in page.content()
        reply = submit_form(page, "#see-receipt")
        assert reply.status == 200
        assert page.locator("#case-secret").inner_text().strip() == secret
        assert page.watch.problems == []
    finally:
        context.close()

    # another browser (or this one once closed): no receipt, the number is asked for
    context, page = new_page(browser, PHONE, java_script_enabled=javascript)
    try:
        page.goto(f"{live.url}/feedback/submitted")
        assert page.url == f"{live.url}/feedback/track"
        assert page.locator("#case-secret").count() == 0
        page.goto(f"{live.url}/feedback/track/{code}/receipt")
        assert page.url == f"{live.url}/feedback/track?code={code}"
        assert page.locator("#case-secret").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_case_page_follows_the_case_to_its_answer(browser, live, javascript):
    procedure = new_procedure(live)
    context, page = new_page(browser, PHONE, java_script_enabled=javascript)
    try:
        code, _secret = file_a_report(page, live, procedure)
        case_url = f"{live.url}/feedback/track/{code}"

        move(live, code, CaseState.screening, CaseState.accepted)
        assert page.goto(case_url).status == 200
        assert page.locator("#case-state").get_attribute("data-stage") == "accepted"
        with live.app.app_context():
            case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))
            due = case.due_on.isoformat()  # the answer's clock, started by the acceptance
            agency = case.agency.name
            db.session.remove()
        assert page.locator("#case-due").get_attribute("data-date") == due
        assert page.locator("#case-agency").inner_text().strip() == agency
        assert page.locator("#case-timeline li").count() == 2  # received, accepted
        assert CONTENT in page.locator("#case-content").inner_text()
        no_sideways_scrolling(page)

        move(
            live,
            code,
            CaseState.assigned,
            CaseState.in_progress,
            CaseState.answered,
            CaseState.approved,
            CaseState.published,
            answer=ANSWER,
        )
        assert page.reload().status == 200
        assert page.locator("#case-state").get_attribute("data-stage") == "answered"
        assert page.locator("#case-answer").inner_text().strip() == ANSWER
        assert re.fullmatch(r"[\d/ A-Za-z]+", page.locator("#case-answered-on").inner_text())
        assert page.locator("#case-due").count() == 0
        # the verdict form is there, and works without JavaScript
        assert page.locator("input[name=verdict]").count() == 2
        no_sideways_scrolling(page)
        assert page.watch.problems == []
    finally:
        context.close()


def test_public_pages_show_the_province_and_the_privacy_notice(browser, live):
    context, page = new_page(browser, PHONE, java_script_enabled=False)
    try:
        assert page.goto(f"{live.url}/").status == 200
        emblem = page.locator("header.top img.emblem")
        assert emblem.count() == 1
        assert emblem.evaluate("img => img.complete && img.naturalWidth > 0")  # it loads
        assert live.app.config["PROVINCE_AUTHORITY"] in page.locator("header.top").inner_text()
        footer = page.locator("footer.site-footer")
        assert live.app.config["CONTACT_PHONE"] in footer.inner_text()
        reply = submit_form(page, "#privacy-link")
        assert reply.status == 200 and page.url == f"{live.url}/privacy"
        assert live.app.config["CONTACT_EMAIL"] in page.locator("#privacy-contact").inner_text()
        no_sideways_scrolling(page)
        assert page.watch.problems == []
    finally:
        context.close()
