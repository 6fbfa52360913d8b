"""Access control, audited from the URL map.

* every endpoint declares who may use it (tests the start-up check too);
* every protected route is requested as anonymous, as each role of agency A
  and as each role of an unrelated agency B, and the status is compared with
  the one the declarations and the agency scoping call for; the pages agency B
  may see must not contain agency A's data.

The routes come from ``app.url_map``, so a new route is covered the day it is
added; one whose URL needs a value this file does not know fails until its
expectation is written here.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from survey_app.auth.models import Role
from survey_app.auth.permissions import (
    API_KEY,
    PUBLIC,
    ROLE_PERMISSIONS,
    SIGNED_IN,
    Permission,
    access_of,
    check_declarations,
    public,
    requires,
    undeclared_endpoints,
)
from survey_app.extensions import db
from survey_app.feedback import attachments, audit
from survey_app.feedback.models import AnswerTemplate, CaseChannel, CaseKind
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.routes import MAP_APP as _MAP_APP
from tests.routes import RULES, url_for_rule

ROLES = (Role.admin, Role.coordinator, Role.handler, Role.viewer)
#: A 1×1 PNG (attachments are opened through the case page).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)

# Markers only agency A's data contains; no page agency B's staff may open shows them.
CITIZEN_NAME = "Vũ Thị Bí Mật"
CITIZEN_PHONE = "0987000111"
CONTENT_MARKER = "NOIDUNG-RIENG-A-7731"
COUNTER_NAME = "Quầy riêng A-5512"
STAFF_EMAIL = "rieng.a@example.gov.vn"
TEMPLATE_TITLE = "Mẫu riêng A-9124"
MARKERS = (CITIZEN_NAME, CITIZEN_PHONE, CONTENT_MARKER, COUNTER_NAME, STAFF_EMAIL, TEMPLATE_TITLE)

#: URL arguments naming an object of agency A: staff outside A's scope get 404.
SCOPED_ARGS = {"agency_id", "counter_id", "case_id", "user_id", "kiosk_id", "attachment_id"}
#: URL arguments naming something province-wide (a published report, whose rows
#: are filtered by scope): every holder of the permission opens it.
UNSCOPED_ARGS = {"snapshot_id", "fmt", "code", "name", "subscription_id"}
#: Pages whose GET sends on to another page (the staff home: the role's start page).
REDIRECTS = {"staff.home"}
#: Pages acting on every agency's cases, or on the whole province's report (publishing
#: freezes it for everyone, subscriptions send it): only province-wide staff (no agency)
#: use them, so every account of this matrix, all of which belong to agency A or B, gets 403.
PROVINCE_WIDE = {
    "feedback_admin.routing",
    "feedback_admin.calendar",
    "reports.publish",
    "reports.confirm_publish",
    "report_subscriptions.index",
    # webhooks carry every agency's case events (survey_app/feed)
    "feed.index",
    "feed.new",
    "feed.edit",
    "feed.retry",
    "feed.new_secret",
    "feed.delete",
}
#: API endpoints that need a scope beyond a plain key's (``flask api-keys create --scope``).
KEY_SCOPES = {"api.feed": "feed", "api.result_returned": "events", "api.dossier_counts": "dossiers"}
#: What a province-wide report reader never sees: a citizen's name, phone or words, staff
#: accounts, answer templates (they do see counters: names and today's counts).
READER_MUST_NOT_SEE = (CITIZEN_NAME, CITIZEN_PHONE, CONTENT_MARKER, STAFF_EMAIL, TEMPLATE_TITLE)
#: Restoring or confirming quarantined responses: an agency's staff would judge their own ratings.
PROVINCE_WIDE |= {"reports.quarantine_review"}


def test_every_endpoint_declares_its_access(app):
    assert undeclared_endpoints(app) == []
    kinds = {access_of(app.view_functions[r.endpoint]) for r in RULES}
    assert kinds <= {PUBLIC, SIGNED_IN, API_KEY, *Permission}


def test_the_app_refuses_to_start_with_an_undeclared_route():
    app = Flask("t")

    @app.get("/declared")
    @public
    def declared():
        return "ok"

    check_declarations(app)  # fine so far

    @app.get("/forgotten")
    def forgotten():
        return "oops"

    with pytest.raises(RuntimeError, match="forgotten"):
        check_declarations(app)


def test_a_check_above_the_route_decorator_is_caught():
    """``@requires`` above ``@app.route`` wraps a function Flask never calls: the
    route would be open, and the start-up check says so."""
    app = Flask("t")

    @requires(Permission.view_reports)
    @app.get("/wrong-order")
    def wrong_order():
        return "oops"

    assert undeclared_endpoints(app) == ["wrong_order"]


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    with app.app_context():
        a = factories.agency("Sở A kiểm thử", code="SOA")
        b = factories.agency("Sở B kiểm thử", code="SOB")
        counter_a = factories.counter(a, name=COUNTER_NAME)
        factories.counter(b, name="Quầy B")
        proc_a = factories.procedure(a)
        users = {}
        for agency, tag in ((a, "a"), (b, "b")):
            for role in ROLES:
                users[(role, tag)] = factories.user(role, agency).email
        # province-wide by definition: no agency
        users[(Role.report_reader, "province")] = factories.user(Role.report_reader).email
        target = factories.user(Role.handler, a, email=STAFF_EMAIL)
        case_a, _ = submit(
            Submission(
                kind=CaseKind.report,
                content=f"Quầy đòi giấy tờ thừa. {CONTENT_MARKER}",
                submitter_name=CITIZEN_NAME,
                contact_phone=CITIZEN_PHONE,
                consent=True,
                procedure=proc_a,
            ),
            CaseChannel.web,
        )
        case_a.agency = a
        photo = attachments.store(
            case_a,
            FileStorage(filename="a.png"),
            attachments.clean_image(PNG, "image/png"),
            "image/png",
        )
        audit.record(target, "read_personal_data", case_a)  # the audit log names A's staff
        db.session.add(AnswerTemplate(title=TEMPLATE_TITLE, body="Kính gửi…", agency_id=a.id))
        from survey_app.api.services import create_api_client
        from survey_app.reports import services as report_services
        from survey_app.reports.periods import Period
        from survey_app.surveys.models import Kiosk

        kiosk_a = Kiosk(counter=counter_a, label="Máy tính bảng A")
        db.session.add(kiosk_a)
        db.session.flush()
        snapshot = report_services.publish(Period.parse("2022-03"))
        _client, key = create_api_client("Cổng dịch vụ công")
        _client, scoped_key = create_api_client("LGSP", scopes=tuple(set(KEY_SCOPES.values())))
        from survey_app.feed.services import create_subscription

        subscription, _secret = create_subscription(None, "LGSP", "https://lgsp.example.vn/in", [])
        db.session.commit()
        return SimpleNamespace(
            users=users,
            key=key,
            scoped_key=scoped_key,
            values={
                "agency_id": a.id,
                "counter_id": counter_a.id,
                "kiosk_id": kiosk_a.id,
                "case_id": case_a.id,
                "attachment_id": photo.id,
                "user_id": target.id,
                "snapshot_id": snapshot.id,
                "code": case_a.code,
                "name": "accept",  # a case page's task
                "subscription_id": subscription.id,
            },
        )


def _url(app, rule, values) -> str:
    unknown = set(rule.arguments) - SCOPED_ARGS - UNSCOPED_ARGS
    url = url_for_rule(
        rule,
        values,
        "; add it to the world fixture and to SCOPED_ARGS or UNSCOPED_ARGS in this file",
    )
    if unknown:
        pytest.fail(f"{rule.endpoint}: say whether {sorted(unknown)} are scoped to an agency")
    return url


def _expected(access, rule, role: Role | None, own_agency: bool) -> int | str:
    """The status a request should get: a number, or "ok" (the view ran: not 401/403/404)."""
    if access == API_KEY:
        return "key"  # decided by the key, not by the session
    if role is None:
        return 302  # to the login page
    if access == SIGNED_IN:
        return "ok"
    if access not in ROLE_PERMISSIONS[role] or rule.endpoint in PROVINCE_WIDE:
        return 403
    if not own_agency and SCOPED_ARGS & set(rule.arguments):
        return 404
    return "ok"


def _check(reply, expected, method, who, redirects: bool = False) -> str | None:
    status = reply.status_code
    if redirects and expected == "ok" and status == 303:
        return None
    if status >= 500:
        return f"{who} {method}: {status}"
    if expected == 302:
        location = reply.headers.get("Location", "")
        if status != 302 or "/login" not in location:
            return f"{who} {method}: {status} {location}, expected a redirect to the login page"
    elif expected == "ok":
        if status in (401, 403, 404) or (method == "GET" and status != 200):
            return f"{who} {method}: {status}, expected the page"
    elif status != expected:
        return f"{who} {method}: {status}, expected {expected}"
    return None


PROTECTED = [r for r in RULES if access_of(_MAP_APP.view_functions[r.endpoint]) != PUBLIC]


@pytest.mark.parametrize("rule", PROTECTED, ids=[f"{r.endpoint}:{r.rule}" for r in PROTECTED])
def test_access_matrix(app, world, rule):
    access = access_of(app.view_functions[rule.endpoint])
    url = _url(app, rule, world.values)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    assert set(methods) <= {"GET", "POST"}, f"{rule.endpoint}: write expectations for {methods}"
    problems = []

    if access == API_KEY:
        staff = logged_in(app, world.users[(Role.admin, "a")])
        for method in methods:
            for who, client in (("anonymous", app.test_client()), ("staff session", staff)):
                reply = client.open(url, method=method, json={})
                # a browser session is no API key; Open311 answers 403 as its spec says
                if reply.status_code not in (401, 403) or not reply.is_json:
                    problems.append(f"{who} {method}: {reply.status_code} without a key")
            key = world.key
            if rule.endpoint in KEY_SCOPES:  # a plain key is refused, a key with the scope is not
                plain = app.test_client().open(
                    url, method=method, json={}, headers={"Authorization": f"Bearer {key}"}
                )
                if plain.status_code != 403:
                    problems.append(f"a key without the scope {method}: {plain.status_code}")
                key = world.scoped_key
            reply = app.test_client().open(
                url, method=method, json={}, headers={"Authorization": f"Bearer {key}"}
            )
            if reply.status_code in (401, 403) or reply.status_code >= 500:
                problems.append(f"with a key {method}: {reply.status_code}")
        assert not problems, f"{rule.endpoint}:\n" + "\n".join(problems)
        return

    identities = [("anonymous", None, True, app.test_client())]
    for role in ROLES:
        for tag in ("a", "b"):
            client = logged_in(app, world.users[(role, tag)])
            identities.append((f"{role.value} of {tag.upper()}", role, tag == "a", client))
    reader = logged_in(app, world.users[(Role.report_reader, "province")])
    identities.append(("report reader (province)", Role.report_reader, True, reader))

    for who, role, own_agency, client in identities:
        expected = _expected(access, rule, role, own_agency)
        token = csrf_from(client.get("/login").get_data(as_text=True))
        for method in methods:
            if method == "GET":
                reply = client.get(url)
            else:
                reply = client.post(url, data={"csrf_token": token})
            problem = _check(reply, expected, method, who, rule.endpoint in REDIRECTS)
            if problem:
                problems.append(problem)
            elif role is not None and not own_agency and reply.status_code == 200:
                body = reply.get_data(as_text=True) if reply.mimetype.startswith("text") else ""
                leaked = [m for m in MARKERS if m in body]
                if leaked:
                    problems.append(f"{who} {method}: agency A's data in the page: {leaked}")
            elif role == Role.report_reader and reply.status_code == 200:
                body = reply.get_data(as_text=True) if reply.mimetype.startswith("text") else ""
                leaked = [m for m in READER_MUST_NOT_SEE if m in body]
                if leaked:
                    problems.append(f"{who} {method}: personal or staff data in the page: {leaked}")
    assert not problems, f"{rule.endpoint} {url}:\n" + "\n".join(problems)


def test_the_report_reader_reads_reports_and_no_feedback_case():
    """The province-wide report reader: every report page, no page of the feedback
    blueprints (cases, their exports and attachments, the admin pages), no publishing."""
    allowed = ROLE_PERMISSIONS[Role.report_reader]
    assert Permission.view_reports in allowed
    assert not allowed & {
        Permission.handle_feedback,
        Permission.coordinate_feedback,
        Permission.unmasked_exports,
        Permission.view_audit,
        Permission.publish_reports,
        Permission.manage_users,
        Permission.manage_report_subscriptions,
    }
    feedback = [r for r in PROTECTED if r.endpoint.split(".")[0] in {"cases", "feedback_admin"}]
    assert len(feedback) >= 10
    for rule in feedback:
        assert access_of(_MAP_APP.view_functions[rule.endpoint]) not in allowed, rule.endpoint
    reports = [
        r
        for r in PROTECTED
        if r.endpoint.startswith("reports.")
        and "GET" in r.methods
        # publishing and reviewing quarantined responses are not reading
        and r.endpoint not in {"reports.confirm_publish", "reports.quarantine"}
    ]
    assert reports and all(
        access_of(_MAP_APP.view_functions[r.endpoint]) in allowed for r in reports
    )


def test_matrix_covers_every_protected_route():
    """Guard against the matrix silently shrinking: it sees the staff, report and API routes."""
    endpoints = {r.endpoint for r in PROTECTED}
    assert {"staff.dashboard", "cases.case", "reports.index", "api.create_case"} <= endpoints
    assert len(PROTECTED) >= 35
