"""Reports and proposals (phản ánh, kiến nghị) in a real browser.

A citizen files a report on a phone (with and without JavaScript) and tracks it
from another phone; a handler walks a case to its answer on a desktop, a
coordinator approves and publishes it, the citizen disagrees and the case
reopens; user text is never run as markup on staff or citizen pages.

Assertions are on URLs, HTTP statuses, element ids/names and what reached the
database, not on translated text. The live app's database is shared by all
browser tests of the session, so every test makes its own agency, procedure
and accounts and only looks at rows hanging off them.
"""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.auth.models import Role, User
from survey_app.auth.services import create_user
from survey_app.core.redact import redact
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind, CaseState, FeedbackCase
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import transition
from tests import factories
from tests.e2e.conftest import PageWatch
from tests.e2e.live import PHONE

pytestmark = pytest.mark.e2e
S = CaseState

DESKTOP = {
    "viewport": {"width": 1280, "height": 900},
    "locale": "vi-VN",
    "timezone_id": "Asia/Ho_Chi_Minh",
}
CODE = re.compile(r"PA-\d{2}-[A-HJ-NP-Z2-9]{6}")
SECRET = re.compile(r"\d{4} \d{4} \d{4}")  # 12 digits, printed in groups

CONTENT = "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật."
NAME = "Nguyễn Văn An"
PHONE_TYPED, PHONE_STORED = "0912 345 678", "0912345678"

SUBMIT_FEEDBACK = "form.feedback button.primary"
SUBMIT_TRACK = "form.code button.primary"
SUBMIT_LOGIN = "form:has(input[name=password]) button[type=submit]"
ANSWER_FORM = "form[action$='/task/answer']"

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


# -- helpers -----------------------------------------------------------------


def submit_form(page, selector: str, *, tap: bool = False):
    """Press a submit button and wait for the page it leads to; returns its HTTP response."""
    with page.expect_navigation() as navigation:
        if tap:
            page.locator(selector).tap()
        else:
            page.locator(selector).click()
    return navigation.value


def new_page(browser, options: dict, **extra):
    """A page in a fresh browser context (own cookies), watched for script and load errors."""
    context = browser.new_context(**options, **extra)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page)
    return context, page


def new_procedure(live) -> SimpleNamespace:
    """An agency and one of its procedures, with a name no other test's procedure has."""
    tag = "".join(secrets.choice("bcdfghkmnpqrstvx") for _ in range(8))
    with live.app.app_context():
        agency = factories.agency()
        procedure = factories.procedure(agency)
        procedure.name = f"Đăng ký khai sinh lưu động {tag}"
        db.session.commit()
        out = SimpleNamespace(id=procedure.id, code=procedure.code, agency_id=agency.id, tag=tag)
        db.session.remove()
        return out


def cases_of(live, **where) -> list[dict]:
    """The cases matching ``where`` (column == value), as plain dicts with their events."""
    with live.app.app_context():
        stmt = select(FeedbackCase).order_by(FeedbackCase.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(FeedbackCase, column) == value)
        rows = db.session.scalars(stmt).all()
        out = [
            {
                "id": c.id,
                "code": c.code,
                "kind": c.kind,
                "state": c.state,
                "channel": c.channel,
                "agency_id": c.agency_id,
                "procedure_id": c.procedure_id,
                "assignee_id": c.assignee_id,
                "content": c.content,
                "submitter_name": c.submitter_name,
                "contact_phone": c.contact_phone,
                "contact_email": c.contact_email,
                "consent_at": c.consent_at,
                "due_on": c.due_on,
                "answer": c.answer,
                "public_summary": c.public_summary,
                "public_summary_confirmed_at": c.public_summary_confirmed_at,
                "public_id": c.public_id,
                "published_at": c.published_at,
                "citizen_verdict": c.citizen_verdict,
                "events": [
                    (e.action, e.from_state, e.to_state, e.actor_id, e.reason) for e in c.events
                ],
            }
            for c in rows
        ]
        db.session.remove()
        return out


def the_case(live, case_id: int) -> dict:
    (case,) = cases_of(live, id=case_id)
    return case


def staff_world(live, content: str = CONTENT, submitter_name: str = NAME) -> SimpleNamespace:
    """An agency with a procedure, a handler of it, a coordinator, and a web case routed there."""
    n = secrets.token_hex(4)
    with live.app.app_context():
        agency = factories.agency()
        procedure = factories.procedure(agency)
        handler = create_user(
            f"handler-{n}@example.gov.vn",
            "Trần Thị Xử Lý",
            factories.PASSWORD,
            Role.handler,
            agency,
        )
        coordinator = create_user(
            f"coordinator-{n}@example.gov.vn",
            "Lê Văn Điều Phối",
            factories.PASSWORD,
            Role.coordinator,
        )
        case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content=content,
                submitter_name=submitter_name,
                contact_phone=PHONE_STORED,
                consent=True,
                procedure=procedure,
            ),
            CaseChannel.web,
        )
        db.session.commit()
        world = SimpleNamespace(
            agency_id=agency.id,
            procedure_id=procedure.id,
            case_id=case.id,
            code=case.code,
            secret=secret,
            handler_id=handler.id,
            handler_email=handler.email,
            coordinator_id=coordinator.id,
            coordinator_email=coordinator.email,
        )
        db.session.remove()
    assert the_case(live, world.case_id)["agency_id"] == world.agency_id  # routed by the procedure
    return world


def log_in(page, live, email: str) -> None:
    assert page.goto(f"{live.url}/login").status == 200
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    reply = submit_form(page, SUBMIT_LOGIN)
    assert reply.status == 200, reply.status
    assert not page.url.rstrip("/").endswith("/login"), page.url


def take_task(
    page, live, case_id: int, name: str, to_state, assignee_id: int | None = None
) -> None:
    """Take a task of the case page (its card opened if closed); the case must then be
    in ``to_state``."""
    card = page.locator(f"details#task-{name}")
    assert card.count() == 1, name
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    if assignee_id is not None:
        card.locator("select[name=assignee_id]").select_option(str(assignee_id))
    reply = submit_form(page, f"details#task-{name} button.primary")
    assert reply.status == 200, (name, reply.status)
    assert page.url == f"{live.url}/staff/feedback/{case_id}", page.url
    assert the_case(live, case_id)["state"] == to_state


def track(page, live, code: str, secret: str):
    """Look a case up with its code and tracking number; returns the status page's response."""
    assert page.goto(f"{live.url}/feedback/track").status == 200
    page.locator("input[name=code]").fill(code)
    page.locator("input[name=secret]").fill(secret)
    reply = submit_form(page, SUBMIT_TRACK, tap=True)
    assert page.url == f"{live.url}/feedback/track/{code}", page.url
    return reply


# -- 1 and 2: a citizen files a report on a phone ----------------------------


def file_report(page, live, procedure, *, javascript: bool) -> tuple[str, str]:
    """Fill the public form (searching the procedure), first without a name, then with it.

    Returns the case code and tracking number shown after submission.
    """
    first = page.goto(f"{live.url}/feedback/new")
    assert first.status == 200
    if javascript:  # made for a phone: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    # a notice, not a consent to tick: handling feedback rests on the law (NĐ 13/2023 Art. 17)
    assert page.locator("#privacy-notice").count() == 1
    assert page.locator("input[name=consent]").count() == 0

    page.check("input[name=kind][value=report]")
    # accents left out, as people type on a phone
    page.locator("input[name=procedure_query]").fill(f"dang ky khai sinh {procedure.tag}")
    reply = submit_form(page, "button[name=search]", tap=True)
    assert reply.status == 200
    assert page.url == f"{live.url}/feedback/new", page.url
    radios = page.locator("input[name=procedure_id]")
    assert radios.evaluate_all("rs => rs.map(r => r.value)") == [str(procedure.id)]
    assert page.locator("input[name=kind][value=report]").is_checked()  # kept across the search
    page.check(f"input[name=procedure_id][value='{procedure.id}']")

    page.locator("textarea[name=content]").fill(CONTENT)
    page.locator("input[name=contact_phone]").fill(PHONE_TYPED)

    # without a name: refused, nothing stored, nothing typed is lost
    reply = submit_form(page, SUBMIT_FEEDBACK, tap=True)
    assert reply.status == 400
    assert page.url == f"{live.url}/feedback/new", page.url
    assert cases_of(live, procedure_id=procedure.id) == []
    assert page.locator(".error-summary a[href='#submitter_name']").count() == 1
    assert page.locator("textarea[name=content]").input_value() == CONTENT
    assert page.locator("input[name=contact_phone]").input_value() == PHONE_TYPED
    assert page.locator(f"input[name=procedure_id][value='{procedure.id}']").is_checked()
    assert page.locator("input[name=kind][value=report]").is_checked()

    page.locator("input[name=submitter_name]").fill(NAME)
    reply = submit_form(page, SUBMIT_FEEDBACK, tap=True)
    assert reply.status == 200
    assert page.url == f"{live.url}/feedback/submitted", page.url
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    assert CODE.fullmatch(code), code
    assert SECRET.fullmatch(secret), secret

    # kept for the browser's session: reloading the page shows the same receipt (issue 17)
    again = page.reload()
    assert again.status == 200 and page.url == f"{live.url}/feedback/submitted", page.url
    assert page.locator("#case-secret").inner_text().strip() == secret
    return code, secret


def assert_filed(live, procedure, code: str) -> None:
    (case,) = cases_of(live, procedure_id=procedure.id)
    assert case["code"] == code
    assert case["kind"] == CaseKind.report
    assert case["channel"] == CaseChannel.web
    assert case["agency_id"] == procedure.agency_id  # routed to the procedure's agency
    assert case["state"] == CaseState.submitted
    assert case["content"] == CONTENT
    assert case["submitter_name"] == NAME
    assert case["contact_phone"] == PHONE_STORED
    assert case["contact_email"] is None
    assert case["consent_at"] is None  # none asked: the notice replaces it
    assert case["due_on"] is not None  # the screening clock runs
    assert case["events"] == []


def track_from_another_phone(browser, live, code: str, secret: str, **options) -> None:
    context, page = new_page(browser, PHONE, **options)
    try:
        # the code alone shows nothing: this browser has not proved it holds the number,
        # so the case's address asks for it, with the code filled in
        assert page.goto(f"{live.url}/feedback/track/{code}").status == 200
        assert page.url == f"{live.url}/feedback/track?code={code}"
        assert page.locator("#code").input_value() == code
        assert page.locator("#case-state").count() == 0
        reply = track(page, live, code, secret)
        assert reply.status == 200
        assert page.locator("#case-state").count() == 1
        assert page.locator("#case-due").count() == 1
        assert page.watch.problems == []
    finally:
        context.close()


def test_citizen_files_a_report_on_a_phone_and_tracks_it(browser, live, phone):
    procedure = new_procedure(live)
    code, secret = file_report(phone, live, procedure, javascript=True)
    assert_filed(live, procedure, code)
    assert phone.watch.problems == []
    track_from_another_phone(browser, live, code, secret)


def test_filing_works_without_javascript(browser, live, phone_without_js):
    procedure = new_procedure(live)
    code, secret = file_report(phone_without_js, live, procedure, javascript=False)
    assert_filed(live, procedure, code)
    track_from_another_phone(browser, live, code, secret, java_script_enabled=False)


# -- 3: handler, coordinator, citizen ----------------------------------------


def test_handler_answers_coordinator_publishes_citizen_disagrees(browser, live):
    world = staff_world(live)
    answer = "Sở đã chấn chỉnh quầy: bản sao giấy khai sinh không còn bị yêu cầu."
    summary = "Quầy yêu cầu bản sao giấy khai sinh không có trong luật."

    # the handler, at a desk
    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, live, world.handler_email)
        assert page.goto(f"{live.url}/staff/feedback/").status == 200
        link = page.locator(f"table a[href='/staff/feedback/{world.case_id}']")
        assert link.count() == 1
        with page.expect_navigation() as navigation:
            link.click()
        assert navigation.value.status == 200
        assert page.url == f"{live.url}/staff/feedback/{world.case_id}", page.url

        take_task(page, live, world.case_id, "accept", S.accepted)
        take_task(page, live, world.case_id, "assign", S.assigned, assignee_id=world.handler_id)
        assert the_case(live, world.case_id)["assignee_id"] == world.handler_id

        # sending the answer before writing it is refused, and nothing changes
        reply = submit_form(page, f"{ANSWER_FORM} button.primary")
        assert reply.status == 400
        assert page.locator("[role=alert]").count() == 1
        assert the_case(live, world.case_id)["state"] == CaseState.assigned

        page.locator(f"{ANSWER_FORM} textarea[name=answer]").fill(answer)
        # the public summary starts as the citizen's text, masked; staff confirm it
        box = page.locator(f"{ANSWER_FORM} textarea[name=public_summary]")
        assert box.input_value() == redact(CONTENT)
        box.fill(summary)
        page.check(f"{ANSWER_FORM} input[name=confirm_summary]")
        # one step: started and answered, waiting for the coordinators' approval
        take_task(page, live, world.case_id, "answer", S.answered)
        saved = the_case(live, world.case_id)
        assert (saved["answer"], saved["public_summary"]) == (answer, summary)
        assert saved["public_summary_confirmed_at"] is not None
        assert page.locator("details.task[id^=task-]").count() == 0  # approving is not theirs
        assert page.watch.problems == []
    finally:
        context.close()

    # the coordinator approves and publishes
    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, live, world.coordinator_email)
        assert page.goto(f"{live.url}/staff/feedback/?scope=all&state=answered").status == 200
        link = page.locator(f"table a[href='/staff/feedback/{world.case_id}']")
        assert link.count() == 1
        with page.expect_navigation() as navigation:
            link.click()
        assert navigation.value.status == 200
        page.check("details#task-approve input[name=go_on]")  # and publish at once
        take_task(page, live, world.case_id, "approve", S.published)
        assert the_case(live, world.case_id)["published_at"] is not None
        assert page.watch.problems == []
    finally:
        context.close()

    # the citizen, on a phone, reads the answer and does not agree
    context, page = new_page(browser, PHONE)
    try:
        reply = track(page, live, world.code, world.secret)
        assert reply.status == 200
        assert page.locator("#case-answer").inner_text().strip() == answer
        assert page.locator("input[name=verdict]").count() == 2
        page.check("input[name=verdict][value=disagree]")
        page.locator("textarea[name=reason]").fill("Tuần trước quầy vẫn đòi bản sao.")
        reply = submit_form(page, SUBMIT_FEEDBACK, tap=True)
        assert reply.status == 200
        assert page.url == f"{live.url}/feedback/track/{world.code}", page.url
        assert page.locator("#case-state").count() == 1
        assert page.locator("input[name=verdict]").count() == 0  # nothing left to rate
        assert page.watch.problems == []
    finally:
        context.close()

    case = the_case(live, world.case_id)
    assert case["state"] == CaseState.in_progress
    assert case["due_on"] is not None  # a new answer clock runs
    assert case["published_at"] is None
    action, from_state, to_state, actor_id, reason = case["events"][-1]
    assert (action, from_state, to_state, actor_id) == (
        "citizen_disagreed",
        CaseState.published,
        CaseState.in_progress,
        None,
    )
    assert reason == "Tuần trước quầy vẫn đòi bản sao."
    assert [e[2] for e in case["events"]] == [
        CaseState.screening,
        CaseState.accepted,
        CaseState.assigned,
        CaseState.in_progress,
        CaseState.answered,
        CaseState.approved,
        CaseState.published,
        CaseState.in_progress,
    ]
    assert [e[3] for e in case["events"][:5]] == [world.handler_id] * 5
    assert [e[3] for e in case["events"][5:7]] == [world.coordinator_id] * 2


# -- 4: user text is text ----------------------------------------------------


def test_user_text_never_runs_on_staff_or_citizen_pages(browser, live):
    """The content (and the answer) carry a script and an onerror handler.

    The browser contexts bypass the Content-Security-Policy, so an unescaped
    payload would really run: escaping, not the CSP, is what is tested.
    """
    world = staff_world(live, content=XSS, submitter_name='<b id="xss-name">Lê</b> Văn Cúc')
    with live.app.app_context():
        case = db.session.get(FeedbackCase, world.case_id)
        coordinator = db.session.get(User, world.coordinator_id)
        for state in (CaseState.screening, CaseState.accepted):
            transition(case, state, coordinator)
        transition(case, CaseState.assigned, coordinator, assignee=coordinator)
        transition(case, CaseState.in_progress, coordinator)
        case.answer = case.public_summary = XSS
        case.public_summary_confirmed_at = now_utc()
        for state in (CaseState.answered, CaseState.approved, CaseState.published):
            transition(case, state, coordinator)
        db.session.commit()
        db.session.remove()

    def assert_inert(page):
        assert page.evaluate("window.__xss") is None
        assert page.locator("main script, main img, #xss-name").count() == 0
        assert page.watch.problems == []  # no request for the image "x" either

    # staff: the handler's case page and queue
    context, page = new_page(browser, DESKTOP, bypass_csp=True)
    try:
        log_in(page, live, world.handler_email)
        assert page.goto(f"{live.url}/staff/feedback/{world.case_id}").status == 200
        assert_inert(page)
        assert page.locator("div.answer").first.inner_text() == XSS
        assert '<b id="xss-name">Lê</b> Văn Cúc' in page.locator("main").inner_text()
        assert page.goto(f"{live.url}/staff/feedback/?scope=all").status == 200
        assert page.locator(f"table a[href='/staff/feedback/{world.case_id}']").count() == 1
        assert_inert(page)
    finally:
        context.close()

    # the citizen: the status page with the published answer, and the public list
    context, page = new_page(browser, PHONE, bypass_csp=True)
    try:
        assert track(page, live, world.code, world.secret).status == 200
        assert_inert(page)
        assert page.locator("#case-answer").inner_text() == XSS
        assert page.goto(f"{live.url}/feedback/answers").status == 200
        public_id = the_case(live, world.case_id)["public_id"]
        article = page.locator(f"article#answer-{public_id}")
        assert article.count() == 1
        assert_inert(page)
        assert article.locator("h3 + p").inner_text() == XSS  # the question as confirmed
        assert article.locator("div.answer").inner_text() == XSS  # the answer, redacted
    finally:
        context.close()


def test_staff_pages_fit_a_phone_and_wide_tables_scroll_by_themselves(browser, live):
    """A coordinator on a phone: the page itself never scrolls sideways; a table
    wider than the screen scrolls inside its own box."""
    world = staff_world(live)
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, live, world.coordinator_email)
        width = page.viewport_size["width"]
        for path in (
            "/staff/feedback/?scope=all",
            f"/staff/feedback/{world.case_id}",
            "/staff/",
            "/staff/agencies",
            "/staff/reports/",
        ):
            assert page.goto(f"{live.url}{path}").status == 200, path
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        page.goto(f"{live.url}/staff/feedback/?scope=all")
        table = page.locator("main table").first
        assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto"
        assert page.watch.problems == []
    finally:
        context.close()
