"""JSON cases API and Open311 GeoReport v2, every response validated against the OpenAPI file."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from survey_app.agencies.models import Agency, ProcedureField
from survey_app.api.services import create_api_client
from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseState, FeedbackCase, RoutingRule
from survey_app.feedback.workflow import transition
from tests import factories
from tests.api.openapi import check, spec

GOOD = {
    "kind": "report",
    "content": "Quầy yêu cầu nộp bản sao không có trong quy định.",
    "submitter_name": "Nguyễn Văn An",
    "contact_phone": "0912345678",
    "consent": True,
}


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        field = factories.field(code="HT", name="Hộ tịch")
        factories.procedure(agency, field, code="1.001193")
        _, key = create_api_client("Cổng dịch vụ công")
        db.session.commit()
        return SimpleNamespace(key=key)


def auth(world):
    return {"Authorization": f"Bearer {world.key}"}


def test_the_openapi_file_is_valid():
    validate(spec())


def test_create_and_read_a_case(client, world):
    reply = client.post(
        "/api/v1/cases", json={**GOOD, "procedure": "1.001193"}, headers=auth(world)
    )
    check(reply, "/api/v1/cases", "POST")
    assert reply.status_code == 201
    body = reply.json
    assert (
        body["agency"] == "STP"
        and body["state"] == "submitted"
        and len(body["tracking_number"]) == 12
    )
    status = client.get(f"/api/v1/cases/{body['code']}", headers=auth(world))
    check(status, "/api/v1/cases/X")
    assert status.json["code"] == body["code"] and "tracking_number" not in status.json
    assert "Nguyễn" not in status.get_data(as_text=True)


@pytest.mark.parametrize(
    "body, field",
    [
        ({**GOOD, "submitter_name": ""}, "submitter_name"),
        ({**GOOD, "contact_phone": None}, "contact"),
        ({**GOOD, "consent": "yes"}, "consent"),
        ({**GOOD, "kind": "rant"}, "kind"),
        ({**GOOD, "procedure": "9.999999"}, "procedure"),
        ({**GOOD, "content": 5}, "content"),
        # what the web form checks, every channel checks (each was stored as given)
        ({**GOOD, "contact_email": "an@example.vn\r\nBcc: spam@example.com"}, "contact_email"),
        ({**GOOD, "contact_email": "not an address"}, "contact_email"),
        ({**GOOD, "contact_phone": "123"}, "contact_phone"),
        ({**GOOD, "submitter_name": "N" * 1000}, "submitter_name"),
        ({**GOOD, "address": "Đ" * 5000}, "address"),
        ({**GOOD, "content": "Nội dung " * 2500}, "content"),
        ({**GOOD, "content": "\u200b" * 12}, "content"),  # zero-width spaces say nothing
        ({**GOOD, "submitter_name": "\u200b"}, "submitter_name"),
    ],
)
def test_invalid_cases_are_422_naming_the_field(app, client, world, body, field):
    reply = client.post("/api/v1/cases", json=body, headers=auth(world))
    check(reply, "/api/v1/cases", "POST")
    assert reply.status_code == 422 and field in reply.json["error"]["fields"]
    with app.app_context():
        assert db.session.scalars(select(FeedbackCase)).all() == []


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/survey-links"])
def test_json_nested_past_what_python_reads_is_a_400(client, world, path):
    body = "[" * 5_000 + "]" * 5_000  # deeper than Python parses (its recursion limit)
    reply = client.post(path, data=body, content_type="application/json", headers=auth(world))
    assert reply.status_code == 400 and reply.json["error"]["status"] == 400


def test_cases_api_needs_a_key(client, world):
    for reply, path, method in [
        (client.post("/api/v1/cases", json=GOOD), "/api/v1/cases", "POST"),
        (client.get("/api/v1/cases/PA-26-AAAAAA"), "/api/v1/cases/X", "GET"),
    ]:
        check(reply, path, method)
        assert reply.status_code == 401
    reply = client.get("/api/v1/cases/PA-26-AAAAAA", headers=auth(world))
    check(reply, "/api/v1/cases/X")
    assert reply.status_code == 404
    reply = client.post(
        "/api/v1/cases", data="x", headers={**auth(world), "Content-Type": "text/plain"}
    )
    check(reply, "/api/v1/cases", "POST")
    assert reply.status_code == 400


def test_open311_services_and_definition(client, world):
    reply = client.get("/open311/v2/services.json")
    check(reply, "/open311/v2/services.json")
    assert [s["service_code"] for s in reply.json] == ["HT"]
    definition = client.get("/open311/v2/services/HT.json")
    check(definition, "/open311/v2/services/HT.json")
    assert {a["code"] for a in definition.json["attributes"]} == {"consent", "kind"}
    missing = client.get("/open311/v2/services/NOPE.json")
    check(missing, "/open311/v2/services/NOPE.json")
    assert missing.status_code == 404


def test_open311_post_and_get_requests(app, client, world):
    form = {
        "api_key": world.key,
        "service_code": "HT",
        "description": GOOD["content"],
        "first_name": "An",
        "last_name": "Nguyễn",
        "phone": "0912345678",
        "attribute[consent]": "true",
    }
    reply = client.post("/open311/v2/requests.json", data=form)
    check(reply, "/open311/v2/requests.json", "POST")
    assert reply.status_code == 201
    code = reply.json[0]["service_request_id"]
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase))
        assert case.channel == CaseChannel.api and case.submitter_name == "An Nguyễn"
        assert code == case.public_id != case.code  # the random public id, not the code
    one = client.get(f"/open311/v2/requests/{code}.json")
    check(one, f"/open311/v2/requests/{code}.json")
    assert one.json[0]["status"] == "open" and one.json[0]["description"] is None  # no summary yet
    assert "0912345678" not in one.get_data(as_text=True) and "An Nguyễn" not in one.get_data(
        as_text=True
    )
    listing = client.get("/open311/v2/requests.json?status=open&service_code=HT")
    check(listing, "/open311/v2/requests.json")
    assert listing.json == []  # only published cases are listed
    bad = client.get("/open311/v2/requests.json?status=maybe")
    check(bad, "/open311/v2/requests.json")
    assert bad.status_code == 400


def test_open311_errors(client, world):
    reply = client.post(
        "/open311/v2/requests.json", data={"service_code": "HT", "description": "x"}
    )
    check(reply, "/open311/v2/requests.json", "POST")
    assert reply.status_code == 403
    reply = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": world.key,
            "service_code": "HT",
            "description": GOOD["content"],
            "phone": "0912345678",
        },
    )
    check(reply, "/open311/v2/requests.json", "POST")
    assert reply.status_code == 400 and any("name" in e["description"] for e in reply.json)
    missing = client.get("/open311/v2/requests/PA-26-ZZZZZZ.json")
    check(missing, "/open311/v2/requests/X.json")
    assert missing.status_code == 404


def test_published_answer_is_visible_through_both_apis(app, client, world):
    reply = client.post(
        "/api/v1/cases", json={**GOOD, "procedure": "1.001193"}, headers=auth(world)
    )
    code = reply.json["code"]
    with app.app_context():
        coordinator = factories.user(Role.coordinator)
        case = db.session.scalar(select(FeedbackCase))
        for state in (CaseState.screening, CaseState.accepted):
            transition(case, state, coordinator)
        transition(case, CaseState.assigned, coordinator, assignee=coordinator)
        transition(case, CaseState.in_progress, coordinator)
        case.answer, case.public_summary = "Đã chấn chỉnh.", "Quầy đòi bản sao không cần thiết."
        case.public_summary_confirmed_at = now_utc()
        for state in (CaseState.answered, CaseState.approved, CaseState.published):
            transition(case, state, coordinator)
        db.session.commit()
        public_id = case.public_id
    status = client.get(f"/api/v1/cases/{code}", headers=auth(world))
    check(status, "/api/v1/cases/X")
    assert status.json["answer"] == "Đã chấn chỉnh." and status.json["state"] == "published"
    assert client.get(f"/open311/v2/requests/{code}.json").status_code == 404  # not by code
    one = client.get(f"/open311/v2/requests/{public_id}.json")
    check(one, "/open311/v2/requests/X.json")
    assert one.json[0]["status"] == "closed" and one.json[0]["service_notice"] == "Đã chấn chỉnh."
    assert one.json[0]["description"] == "Quầy đòi bản sao không cần thiết."


def test_survey_link_responses_match_the_spec(client, world):
    with client.application.app_context():
        code = factories.counter().code
        db.session.commit()
    reply = client.post(
        "/api/v1/survey-links", json={"counter": code, "qr": "svg"}, headers=auth(world)
    )
    check(reply, "/api/v1/survey-links", "POST")
    for body in ({}, {"counter": "NOPE42"}):
        check(
            client.post("/api/v1/survey-links", json=body, headers=auth(world)),
            "/api/v1/survey-links",
            "POST",
        )


def test_open311_xml_is_refused_in_open311_form(client, world):
    reply = client.get("/open311/v2/services.xml")
    assert reply.status_code == 400 and reply.json[0]["description"].startswith("only the json")


def test_a_key_limited_to_an_agency_files_cases_for_that_agency_only(app, client, world):
    """The key gets a 403 for another agency's counter; it filed cases for any agency."""
    with app.app_context():
        own = factories.agency("UBND huyện Nam Sách", code="H-NS")
        commune = factories.agency("Xã Nam Hồng", own, code="X-NH")
        _, key = create_api_client("Một cửa huyện", agency=own)
        db.session.commit()
        commune_code = commune.code
    headers = {"Authorization": f"Bearer {key}"}
    reply = client.post("/api/v1/cases", json={**GOOD, "agency": "STP"}, headers=headers)
    check(reply, "/api/v1/cases", "POST")
    assert reply.status_code == 422 and "agency" in reply.json["error"]["fields"]
    for code in ("H-NS", commune_code):
        reply = client.post("/api/v1/cases", json={**GOOD, "agency": code}, headers=headers)
        assert reply.status_code == 201 and reply.json["agency"] == code
    with app.app_context():
        assert {c.agency.code for c in db.session.scalars(select(FeedbackCase))} == {
            "H-NS",
            commune_code,
        }


def test_a_limited_key_cannot_reach_another_agency_through_a_procedure_or_service_code(
    app, client, world
):
    """A key limited to a district named another agency's procedure (JSON API) or
    service_code (Open311) and its case went to that agency: now a 422 names the field,
    nothing is stored, and what routes inside the key's scope still goes through."""
    with app.app_context():
        own = factories.agency("UBND huyện Nam Sách", code="H-NS")
        commune = factories.agency("Xã Nam Hồng", own, code="X-NH")
        own_field = factories.field(code="DD", name="Đất đai")
        factories.procedure(commune, own_field, code="2.000001")
        shared = factories.field(code="CT", name="Chứng thực")
        factories.procedure(None, shared, code="2.000002")  # no agency, no rule: coordinators
        stp = db.session.scalar(select(Agency).where(Agency.code == "STP"))
        civil = db.session.scalar(select(ProcedureField).where(ProcedureField.code == "HT"))
        db.session.add_all(
            [RoutingRule(field=civil, agency=stp), RoutingRule(field=own_field, agency=commune)]
        )
        _, district_key = create_api_client("Một cửa huyện", agency=own)
        _, counter_key = create_api_client("Kiosk xã", counter=factories.counter(commune))
        db.session.commit()
    for key in (district_key, counter_key):
        headers = {"Authorization": f"Bearer {key}"}
        # 1.001193 is Sở Tư pháp's procedure (field HT): outside the key's scope
        reply = client.post(
            "/api/v1/cases", json={**GOOD, "procedure": "1.001193"}, headers=headers
        )
        check(reply, "/api/v1/cases", "POST")
        assert reply.status_code == 422
        assert set(reply.json["error"]["fields"]) == {"procedure"}
        open311 = {
            "api_key": key,
            "description": GOOD["content"],
            "first_name": "An",
            "phone": "0912345678",
            "attribute[consent]": "true",
        }
        reply = client.post("/open311/v2/requests.json", data={**open311, "service_code": "HT"})
        check(reply, "/open311/v2/requests.json", "POST")
        assert reply.status_code == 422
        assert reply.json[0]["description"].startswith("service_code: ")
        with app.app_context():
            assert db.session.scalar(select(FeedbackCase.id)) is None
    # inside the scope: the commune's procedure, an unrouted one, naming one's own agency
    headers = {"Authorization": f"Bearer {district_key}"}
    filed = [
        client.post("/api/v1/cases", json={**GOOD, "procedure": code}, headers=headers)
        for code in ("2.000001", "2.000002")
    ]
    named = client.post(
        "/api/v1/cases", json={**GOOD, "agency": "H-NS", "procedure": "1.001193"}, headers=headers
    )
    assert [r.status_code for r in (*filed, named)] == [201, 201, 201]
    assert [r.json["agency"] for r in (*filed, named)] == ["X-NH", None, "H-NS"]
    for service, agency in (("DD", "X-NH"), ("CT", None)):
        reply = client.post(
            "/open311/v2/requests.json",
            data={**open311, "api_key": district_key, "service_code": service},
        )
        assert reply.status_code == 201
        with app.app_context():
            public_id = reply.json[0]["service_request_id"]  # never the case code
            case = db.session.scalar(
                select(FeedbackCase).where(FeedbackCase.public_id == public_id)
            )
            assert (case.agency.code if case.agency else None) == agency
    # a key without a limit still files for any agency, by procedure and by service
    reply = client.post(
        "/api/v1/cases", json={**GOOD, "procedure": "1.001193"}, headers=auth(world)
    )
    assert reply.status_code == 201 and reply.json["agency"] == "STP"
    reply = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": world.key,
            "service_code": "HT",
            "description": GOOD["content"],
            "first_name": "An",
            "phone": "0912345678",
            "attribute[consent]": "true",
        },
    )
    assert reply.status_code == 201
    with app.app_context():
        public_id = reply.json[0]["service_request_id"]
        case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.public_id == public_id))
        assert case.agency.code == "STP"
