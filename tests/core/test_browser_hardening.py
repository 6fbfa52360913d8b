"""Browser-side hardening, checked over the whole URL map.

* every response carries the strict Content-Security-Policy (no 'unsafe-inline')
  and the usual security headers, and no page needs inline script or style;
* every form endpoint (everything that accepts POST, except the API-key JSON
  endpoints) refuses a request without a CSRF token;
* script and HTML planted in every free-text field are shown escaped on every
  page that shows them.
"""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage

from survey_app import create_app
from survey_app.auth.models import Role
from survey_app.auth.permissions import API_KEY, PUBLIC, access_of
from survey_app.core.time import now_utc
from survey_app.extensions import csrf, db
from survey_app.feedback import attachments, audit
from survey_app.feedback.models import (
    AnswerTemplate,
    CalendarOverride,
    CaseChannel,
    CaseEvent,
    CaseKind,
    CaseState,
)
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.views import TRACKED_KEY
from survey_app.surveys import services as survey_services
from survey_app.surveys.models import Channel
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.routes import MAP_APP as _MAP_APP
from tests.routes import RULES, url_for_rule

CSP_DIRECTIVES = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}
#: A 1×1 PNG, attached to the case.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)


def _payload(tag: str) -> str:
    return f'<script>alert("{tag}")</script>"><img src=x onerror=alert("{tag}")>'


#: Raw markup that must never reach a page from stored text.
DANGEROUS = ("<script>alert(", "<img src=x")


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    """One of everything, with a script/HTML payload in every free-text field."""
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    with app.app_context():
        field = factories.field(name=_payload("field-name"))
        agency = factories.agency(name=_payload("agency-name"))
        counter = factories.counter(agency, name=_payload("counter-name"))
        counter.location = _payload("counter-location")
        procedure = factories.procedure(agency, field)
        procedure.name = _payload("procedure-name")
        admin = factories.user(Role.admin)
        handler = factories.user(Role.handler, agency)
        handler.full_name = _payload("user-name")
        case, _secret = submit(
            Submission(
                kind=CaseKind.report,
                content="Nội dung phản ánh. " + _payload("case-content"),
                submitter_name=_payload("submitter-name"),
                contact_phone="0912345678",
                contact_email="an@example.vn",
                address=_payload("address"),
                consent=True,
                procedure=procedure,
            ),
            CaseChannel.web,
        )
        case.agency = agency
        case.assignee = handler
        photo = attachments.store(
            case,
            FileStorage(filename=_payload("attachment-name") + ".png"),
            attachments.clean_image(PNG, "image/png"),
            "image/png",
        )
        case.state = CaseState.published
        case.published_at = now_utc()
        case.answer = _payload("answer")
        case.public_summary = _payload("public-summary")
        case.extension_reason = _payload("extension-reason")
        db.session.add(
            CaseEvent(
                case=case,
                action="transferred",
                actor=handler,
                reason=_payload("event-reason"),
                note=_payload("event-note"),
            )
        )
        db.session.add(
            AnswerTemplate(
                title=_payload("template-title"), body=_payload("template-body"), agency=agency
            )
        )
        db.session.add(
            CalendarOverride(
                day=date(2030, 1, 2), is_working_day=False, note=_payload("calendar-note")
            )
        )
        waiting, _secret = submit(
            Submission(
                kind=CaseKind.proposal,
                content="Kiến nghị cần bổ sung thông tin.",
                submitter_name="Lê Văn Cúc",
                contact_phone="0912345679",
                consent=True,
                procedure=procedure,
            ),
            CaseChannel.web,
        )
        waiting.state = CaseState.needs_info
        waiting.public_reason = _payload("public-reason")
        audit.record(handler, "answer", case, _payload("audit-detail"))
        response = survey_services.record_overall(
            counter, 2, survey_services.Origin(Channel.poster, "vi", "c" * 32)
        )
        survey_services.record_comment(response, _payload("survey-comment"), False)
        from survey_app.reports import services as report_services
        from survey_app.reports.periods import Period

        snapshot = report_services.publish(Period.containing("month", now_utc()))
        from survey_app.surveys.models import Kiosk
        from survey_app.surveys.tokens import issue_kiosk_token

        kiosk = Kiosk(counter=counter, label=_payload("kiosk-label"))
        db.session.add(kiosk)
        db.session.flush()
        kiosk_token = issue_kiosk_token(kiosk.id, counter.code)
        from survey_app.feed.services import create_subscription

        webhook, _ = create_subscription(
            None,
            _payload("webhook-name"),
            "https://lgsp.example.vn/in?x=" + _payload("webhook-url"),
            [],
        )
        db.session.commit()
        return SimpleNamespace(
            admin=admin.email,
            handler=handler.email,
            case_id=case.id,
            waiting=(waiting.id, waiting.code),
            values={
                "agency_id": agency.id,
                "counter_id": counter.id,
                "case_id": case.id,
                "user_id": handler.id,
                "snapshot_id": snapshot.id,
                "code": counter.code,
                "token": "no-such-token",
                "kiosk_id": kiosk.id,
                "attachment_id": photo.id,
                "kiosk_token": kiosk_token,
                "subscription_id": webhook.id,
            },
            case_code=case.code,
        )


TAGS = [
    "field-name",
    "agency-name",
    "counter-name",
    "counter-location",
    "procedure-name",
    "user-name",
    "case-content",
    "submitter-name",
    "address",
    "answer",
    "public-summary",
    "public-reason",
    "extension-reason",
    "event-reason",
    "template-title",
    "template-body",
    "calendar-note",
    "audit-detail",
    "survey-comment",
    "kiosk-label",
    "attachment-name",
    "webhook-name",
    "webhook-url",
]


def _url(app, rule, values, overrides=None) -> str:
    return url_for_rule(rule, {**values, **(overrides or {})})


def _pages(app, world):
    """Every GET page, as the province admin and as a citizen who tracks the case."""
    admin = logged_in(app, world.admin)
    citizen = app.test_client()
    with citizen.session_transaction() as session:
        session[TRACKED_KEY] = [world.case_id, world.waiting[0]]
    for rule in RULES:
        if "GET" not in rule.methods:
            continue
        access = access_of(app.view_functions[rule.endpoint])
        if access == API_KEY:
            continue
        overrides = {"code": world.case_code} if rule.endpoint.startswith("feedback.") else None
        url = _url(app, rule, world.values, overrides)
        client = citizen if access == PUBLIC else admin
        yield rule.endpoint, url, client.get(url)
    yield (
        "reports.agency (month)",
        "",
        admin.get(f"/staff/reports/agencies/{world.values['agency_id']}"),
    )
    yield "feedback.answers", "", citizen.get("/feedback/answers")
    yield "feedback.status (needs info)", "", citizen.get(f"/feedback/track/{world.waiting[1]}")
    yield "open311", "", citizen.get("/open311/v2/requests.json")


def test_stored_text_is_escaped_on_every_page(app, world):
    shown: set[str] = set()
    problems = []
    for endpoint, url, reply in _pages(app, world):
        assert reply.status_code < 500, f"{endpoint} {url}: {reply.status_code}"
        if not reply.mimetype.startswith(("text/", "application/json", "image/svg")):
            continue
        body = reply.get_data(as_text=True)
        if reply.mimetype == "text/html" or reply.mimetype == "image/svg+xml":
            for raw in DANGEROUS:
                if raw in body:
                    problems.append(f"{endpoint} {url}: unescaped {raw!r}")
        shown |= {tag for tag in TAGS if tag in body}
    assert not problems, "\n".join(problems)
    # the test means something only if every planted field was shown somewhere
    assert set(TAGS) <= shown, f"never shown: {sorted(set(TAGS) - shown)}"


def test_every_response_carries_the_security_headers(app, world):
    anonymous = app.test_client()
    replies = list(_pages(app, world))
    replies.append(("static", "", anonymous.get("/static/staff.css")))
    replies.append(("404", "", anonymous.get("/no-such-page")))
    replies.append(("api 401", "", anonymous.post("/api/v1/cases", json={})))
    for endpoint, url, reply in replies:
        headers = reply.headers
        csp = headers.get("Content-Security-Policy", "")
        assert CSP_DIRECTIVES <= {d.strip() for d in csp.split(";")}, (endpoint, url, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain http in tests
        if reply.mimetype == "text/html":
            body = reply.get_data(as_text=True)
            # the policy would block these, so no page may rely on them
            assert not re.search(r"<script(?![^>]*\bsrc=)", body), endpoint
            assert "<style" not in body and not re.search(r"\sstyle=", body), endpoint
            assert not re.search(r"\son[a-z]+=", body.replace("onerror=alert", "")), endpoint


def test_hsts_over_https_and_in_production(app, database_url):
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    prod = create_app(
        {"APP_ENV": "production", "SECRET_KEY": "k" * 48, "SQLALCHEMY_DATABASE_URI": database_url}
    )
    assert "max-age=" in prod.test_client().get("/").headers["Strict-Transport-Security"]


#: Blueprints exempt from CSRF: systems calling with a key or a shared secret (the SMS
#: gateway's callbacks, tests/notifications), not browsers.
_NO_CSRF = {bp.name for bp in csrf._exempt_blueprints}
FORM_RULES = [
    r
    for r in RULES
    if "POST" in r.methods
    and access_of(_MAP_APP.view_functions[r.endpoint]) != API_KEY
    and r.endpoint.partition(".")[0] not in _NO_CSRF
]


#: Citizen forms that check their token themselves: an expired page comes back with what
#: was typed and a message, instead of the error page (nothing is lost).
SELF_CHECKED = frozenset({"feedback.new", "feedback.complaint"})


@pytest.mark.parametrize("rule", FORM_RULES, ids=[f"{r.endpoint}:{r.rule}" for r in FORM_RULES])
def test_every_form_refuses_a_post_without_csrf_token(app, world, rule):
    """Staff are logged in (a forged cross-site POST would carry their cookie)."""
    url = _url(
        app, rule, world.values, {"code": world.case_code} if "feedback." in rule.endpoint else None
    )
    client = logged_in(app, world.admin)
    data = {
        "email": world.admin,
        "password": "x",
        "content": "x",
        "overall": "4",
        "to_state": "closed",
    }
    reply = client.post(url, data=data)
    assert reply.status_code == 400, reply.status_code
    html = reply.get_data(as_text=True)
    if rule.endpoint in SELF_CHECKED:  # the citizen's form again, with what was typed
        assert "Trang đã hết hạn" in html or "Trang này đã hết hạn" in html
    else:
        assert "Biểu mẫu đã hết hạn" in html
    # a token from another session does not do either
    other = app.test_client()
    foreign = csrf_from(other.get("/login").get_data(as_text=True))
    assert client.post(url, data={**data, "csrf_token": foreign}).status_code == 400


def test_api_key_endpoints_need_no_csrf_token_but_a_key(app, world):
    """The exemption is for machine clients only: a browser session there gets 401."""
    client = logged_in(app, world.admin)
    assert client.post("/api/v1/cases", json={"kind": "report"}).status_code == 401
    assert len(FORM_RULES) >= 20
