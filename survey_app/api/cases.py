"""JSON API for feedback cases (create, read status) and the Open311 GeoReport v2 endpoints.

Both are documented in ``docs/openapi.json``; the tests validate every
response against it.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..agencies.importers import CODE_PATTERN
from ..agencies.models import Agency, Procedure, ProcedureField
from ..auth.permissions import api_key, public
from ..core.errors import error_response
from ..core.params import json_body
from ..extensions import db, limiter
from ..feedback import notify
from ..feedback.models import CaseChannel, CaseKind, CaseState, FeedbackCase
from ..feedback.published import PUBLISHED_STATES
from ..feedback.services import IntakeError, Submission, route, submit
from ..feedback.workflow import STATE_LABELS
from .views import _key_for_limit, bp

open311 = Blueprint("open311", __name__, url_prefix="/open311/v2")

CLOSED_STATES = (
    CaseState.closed,
    CaseState.rejected,
    CaseState.redirected_complaint,
    CaseState.published,
)


def case_status(case: FeedbackCase) -> dict:
    """A case as the API shows it: no personal data (the answer as published, redacted)."""
    published = case.state in PUBLISHED_STATES
    return {
        "code": case.code,
        "kind": case.kind.value,
        "state": case.state.value,
        "state_label": str(STATE_LABELS[case.state]),
        "agency": case.agency.code if case.agency else None,
        "procedure": case.procedure.code if case.procedure else None,
        "received_at": case.received_at.isoformat(),
        "due_on": case.due_on.isoformat() if case.due_on else None,
        "answer": case.public_answer if published else None,
        "published_at": case.published_at.isoformat() if case.published_at else None,
    }


def _outside_scope(agency: Agency | None) -> bool:
    """True if a new case would go to ``agency`` and the request's key may not file
    cases for it (a key limited to a counter or an agency files for that subtree only;
    a case routed to nobody goes to the coordinators' queue and is in every scope)."""
    return agency is not None and not g.api_client.may_file_for(agency)


@bp.post("/cases")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key()
def create_case():
    """Create a case on a citizen's behalf (an integrating portal); ``consent`` records
    whether the citizen also consented, which handling does not require."""
    body = json_body()
    if not isinstance(body, dict):
        return error_response(400, _("The request body must be a JSON object."))
    text_fields = (
        "kind",
        "content",
        "submitter_name",
        "contact_phone",
        "contact_email",
        "address",
        "procedure",
        "agency",
    )
    problems = {
        k: _("Must be text.")
        for k in text_fields
        if body.get(k) is not None and not isinstance(body[k], str)
    }
    if body.get("kind") not in ("report", "proposal", "complaint"):
        problems["kind"] = _("Must be report, proposal or complaint.")
    if not isinstance(body.get("consent"), bool):
        problems["consent"] = _("Must be true or false.")
    procedure = agency = None
    if not problems and body.get("procedure"):
        procedure = db.session.scalar(select(Procedure).where(Procedure.code == body["procedure"]))
        if procedure is None:
            problems["procedure"] = _("Unknown procedure code.")
    if not problems and body.get("agency"):
        agency = db.session.scalar(select(Agency).where(Agency.code == body["agency"]))
        if agency is None:
            problems["agency"] = _("Unknown agency code.")
        elif not g.api_client.may_file_for(agency):
            problems["agency"] = _("This key may not file cases for that agency.")
    if not problems and agency is None and procedure is not None:
        if _outside_scope(route(procedure, None)):  # where the case would be routed
            problems["procedure"] = _(
                "This key may not file cases about that procedure: the agency that "
                "handles it is outside the key's scope."
            )
    if problems:
        return jsonify(
            error={"status": 422, "title": _("Invalid request"), "fields": problems}
        ), 422
    sub = Submission(
        kind=CaseKind.proposal if body["kind"] == "proposal" else CaseKind.report,
        content=body.get("content") or "",
        submitter_name=body.get("submitter_name"),
        contact_phone=body.get("contact_phone"),
        contact_email=body.get("contact_email"),
        address=body.get("address"),
        procedure=procedure,
        agency=agency,
        consent=body["consent"],
        is_complaint=body["kind"] == "complaint",
    )
    try:
        case, secret = submit(sub, CaseChannel.api)
    except IntakeError as exc:
        db.session.rollback()
        return jsonify(
            error={"status": 422, "title": _("Invalid request"), "fields": exc.errors}
        ), 422
    notify.citizen_received(case, secret)
    db.session.commit()
    return jsonify({**case_status(case), "tracking_number": secret}), 201


@bp.get("/cases/<code>")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key()
def read_case(code: str):
    """A case's status (no personal data)."""
    case = _case_by_code(code)
    db.session.commit()  # the key's last use
    if case is None:
        return error_response(404, _("No case has this code."))
    return jsonify(case_status(case))


# -- Open311 GeoReport v2 ---------------------------------------------------------------------
# Services are procedure fields (lĩnh vực); a request is a case. Errors are lists of
# {code, description} as the specification says.


#: Case codes as issued (e.g. PA-22-7KQ2MX): anything else cannot be one.
_REQUEST_ID = re.compile(r"[A-Z0-9-]{1,40}")
#: Open311 service_request_id: the case's random public id, never its code (which,
#: with the tracking number, opens the case).
_PUBLIC_ID = re.compile(r"[A-Z0-9]{1,24}")


def _case_by_code(code: str) -> FeedbackCase | None:
    """The case with this code; None, without a query, for what cannot be a code."""
    code = code.strip().upper()
    if not _REQUEST_ID.fullmatch(code):
        return None
    return db.session.scalar(select(FeedbackCase).where(FeedbackCase.code == code))


def _case_by_public_id(public_id: str) -> FeedbackCase | None:
    """The case with this public id; None, without a query, for what cannot be one."""
    public_id = public_id.strip().upper()
    if not _PUBLIC_ID.fullmatch(public_id):
        return None
    return db.session.scalar(select(FeedbackCase).where(FeedbackCase.public_id == public_id))


def _o311_error(status: int, description: str):
    return jsonify([{"code": status, "description": description}]), status


@open311.before_request
def _json_only():
    """GeoReport v2 offers .xml and .json; this server speaks JSON."""
    if (request.view_args or {}).get("fmt", "json") != "json":
        return _o311_error(400, "only the json format is supported")
    return None


def _service(field: ProcedureField) -> dict:
    return {
        "service_code": field.code,
        "service_name": field.name,
        "description": _(
            "Reports and proposals about procedures in the field %(name)s", name=field.name
        ),
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


@open311.get("/services.<fmt>")
@public
def services(fmt: str):
    """GeoReport v2 service list: one service per procedure field."""
    fields = db.session.scalars(select(ProcedureField).order_by(ProcedureField.code)).all()
    return jsonify([_service(f) for f in fields])


@open311.get("/services/<code>.<fmt>")
@public
def service_definition(code: str, fmt: str):
    """GeoReport v2 service definition: the attributes a request must carry."""
    field = db.session.scalar(select(ProcedureField).where(ProcedureField.code == code))
    if field is None:
        return _o311_error(404, "unknown service_code")
    return jsonify(
        {
            "service_code": field.code,
            "attributes": [
                {
                    "variable": True,
                    "code": "consent",
                    "datatype": "singlevaluelist",
                    "required": False,
                    "datatype_description": "true: the citizen also consented (optional: handling "
                    "a report or proposal is the office's legal duty, Decree 20/2008, and does not "
                    "rest on consent, Decree 13/2023 Art. 17)",
                    "order": 1,
                    "description": "Consent to the processing of personal data (optional)",
                    "values": [{"key": "true", "name": "Yes"}],
                },
                {
                    "variable": True,
                    "code": "kind",
                    "datatype": "singlevaluelist",
                    "required": False,
                    "datatype_description": "report (phản ánh, default) or proposal (kiến nghị)",
                    "order": 2,
                    "description": "Report or proposal",
                    "values": [
                        {"key": "report", "name": "Report"},
                        {"key": "proposal", "name": "Proposal"},
                    ],
                },
            ],
        }
    )


def _request_view(case: FeedbackCase) -> dict:
    published = case.state in PUBLISHED_STATES
    return {
        "service_request_id": case.public_id,
        "status": "closed" if case.state in CLOSED_STATES else "open",
        "status_notes": str(STATE_LABELS[case.state]),
        "service_name": case.field.name if case.field else None,
        "service_code": case.field.code if case.field else None,
        # public: only what staff published (the question they confirmed, the answer
        # redacted), never the citizen's text nor a draft
        "description": case.public_summary if published else None,
        "agency_responsible": case.agency.name if case.agency else None,
        "service_notice": case.public_answer if published else None,
        "requested_datetime": case.received_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.due_on.isoformat() if case.due_on else None,
        "address": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _o311_no_key():
    return _o311_error(403, "a valid api_key is required")


@open311.post("/requests.<fmt>")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key(_o311_no_key, key_in_params=True)  # as GeoReport v2 specifies
def create_request(fmt: str):
    """GeoReport v2 POST service request."""
    form = request.form
    field = db.session.scalar(
        select(ProcedureField).where(ProcedureField.code == form.get("service_code", ""))
    )
    if field is None:
        return _o311_error(400, "service_code is missing or unknown")
    if _outside_scope(route(None, field)):  # the agency its requests are routed to
        return _o311_error(
            422,
            "service_code: "
            + _(
                "This key may not file requests in this service: the agency that handles "
                "it is outside the key's scope."
            ),
        )
    name = " ".join(
        p for p in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if p
    )
    sub = Submission(
        kind=CaseKind.proposal if form.get("attribute[kind]") == "proposal" else CaseKind.report,
        content=form.get("description", ""),
        submitter_name=name,
        contact_phone=form.get("phone"),
        contact_email=form.get("email"),
        address=form.get("address_string"),
        field=field,
        consent=form.get("attribute[consent]") == "true",
    )
    try:
        case, secret = submit(sub, CaseChannel.api)
    except IntakeError as exc:
        db.session.rollback()
        return jsonify(
            [
                {"code": 400, "description": f"{key}: {message}"}
                for key, message in exc.errors.items()
            ]
        ), 400
    notify.citizen_received(case, secret)
    db.session.commit()
    return jsonify(
        [
            {
                "service_request_id": case.public_id,
                "service_notice": str(STATE_LABELS[case.state]),
                "account_id": None,
                "token": None,
            }
        ]
    ), 201


@open311.get("/requests.<fmt>")
@public
def list_requests(fmt: str):
    """GeoReport v2 GET service requests: published cases only (public: no personal data).

    Ids and service codes that we never issue cannot match anything, so they
    are not sent to the database (which may refuse some characters).
    """
    status = request.args.get("status")
    if status not in (None, "", "open", "closed"):
        return _o311_error(400, "status must be open or closed")
    stmt = (
        select(FeedbackCase)
        .options(joinedload(FeedbackCase.field), joinedload(FeedbackCase.agency))
        .where(FeedbackCase.state.in_(PUBLISHED_STATES))
    )
    asked = [i.strip().upper() for i in request.args.get("service_request_id", "").split(",")]
    asked = [i for i in asked if i]
    ids = [i for i in asked[:100] if _PUBLIC_ID.fullmatch(i)]
    service_code = request.args.get("service_code") or None
    if (asked and not ids) or (
        service_code is not None
        and not (len(service_code) <= 40 and CODE_PATTERN.fullmatch(service_code))
    ):
        return jsonify([])
    if ids:
        stmt = stmt.where(FeedbackCase.public_id.in_(ids))
    if service_code is not None:
        stmt = stmt.join(ProcedureField, FeedbackCase.field_id == ProcedureField.id).where(
            ProcedureField.code == service_code
        )
    if status == "closed":
        stmt = stmt.where(FeedbackCase.state.in_(CLOSED_STATES))
    elif status == "open":
        stmt = stmt.where(FeedbackCase.state.not_in(CLOSED_STATES))
    cases = db.session.scalars(stmt.order_by(FeedbackCase.received_at.desc()).limit(1000)).all()
    return jsonify([_request_view(c) for c in cases])


@open311.get("/requests/<code>.<fmt>")
@public
def get_request(code: str, fmt: str):
    """GeoReport v2 GET one service request, by the id its POST returned.

    The id is random and appears publicly only once the case is published, so the
    caller that filed the request can follow it; nobody can walk the cases.
    """
    case = _case_by_public_id(code)
    if case is None:
        return _o311_error(404, "no request has this id")
    return jsonify([_request_view(case)])
