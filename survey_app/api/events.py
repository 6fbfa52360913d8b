"""``POST /api/v1/events/result-returned``: the one-stop software reports a dossier's result
returned, and the service may invite the citizen to rate it (:mod:`survey_app.invites`).

Needs a key with the ``events`` scope (``flask api-keys create --scope events``).
Documented in ``docs/openapi.json``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app, g, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from ..agencies.models import Agency, Counter, Procedure
from ..auth.permissions import api_key
from ..core.errors import error_response
from ..core.params import json_body
from ..core.time import now_utc
from ..extensions import db, limiter
from ..invites import services
from ..invites.models import InviteEvent, ReturnChannel
from .views import _key_for_limit, bp

#: Event ids as one-stop systems make them: letters, digits and . _ : - / (at most 100).
EVENT_ID = re.compile(r"[A-Za-z0-9._:/-]{1,100}")
FIELDS = ("event_id", "procedure", "agency", "return_channel", "counter", "phone", "returned_at")


def _invalid(problems: dict[str, str]):
    return jsonify(error={"status": 422, "title": _("Invalid request"), "fields": problems}), 422


def _returned_at(value: str) -> datetime | None:
    """An ISO 8601 time with its offset (``2026-12-07T09:30:00+07:00``), else None."""
    if len(value) > 40:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _event_view(row: InviteEvent, duplicate: bool) -> dict:
    return {
        "event_id": row.event_id,
        "outcome": row.outcome.value,
        "received_at": row.received_at.isoformat(),
        "duplicate": duplicate,
    }


@bp.post("/events/result-returned")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key(scope="events")
def result_returned():
    """A dossier's result was returned to the citizen: record it, maybe invite them by SMS.

    202 for a new event, 200 for a re-send of one already received (nothing more is
    done: no second invitation), 409 for an event id re-used with other content.
    """
    client = g.api_client
    body = json_body()
    if not isinstance(body, dict):
        return error_response(400, _("The request body must be a JSON object."))
    problems: dict[str, str] = {}
    for name in FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            problems[name] = _("Must be text.")
    # the text of each field ("" if absent or not text: those are named above)
    text = {name: body[name] if isinstance(body.get(name), str) else "" for name in FIELDS}
    if "event_id" not in problems and not EVENT_ID.fullmatch(text["event_id"]):
        problems["event_id"] = _(
            "Give the event's id: up to 100 letters, digits and . _ : / - characters."
        )
    for name in ("procedure", "agency"):
        if name not in problems and not text[name].strip():
            problems[name] = _("This field is required.")
    channel = text["return_channel"]
    if "return_channel" not in problems and channel not in tuple(ReturnChannel):
        problems["return_channel"] = _("Must be counter, online or post.")
    if "counter" in problems:
        pass
    elif channel == ReturnChannel.counter and not text["counter"].strip():
        problems["counter"] = _(
            "Give the counter's code when the result was returned at a counter."
        )
    elif channel in (ReturnChannel.online, ReturnChannel.post) and text["counter"]:
        problems["counter"] = _(
            "Leave out the counter when the result was returned online or by post."
        )
    phone = None
    if "phone" not in problems:
        try:
            phone = services.normalise_mobile(text["phone"])
        except services.InvalidPhone:
            problems["phone"] = _("Must be a Vietnamese mobile number, e.g. 0912 345 678.")
    returned_at = _returned_at(text["returned_at"])
    if "returned_at" not in problems:
        if returned_at is None:
            problems["returned_at"] = _(
                "Must be a date and time with its offset, e.g. 2026-12-07T09:30:00+07:00."
            )
        elif returned_at - now_utc() > timedelta(minutes=5):
            problems["returned_at"] = _("Must not be in the future.")
    if problems:
        return _invalid(problems)

    agency = db.session.scalar(
        select(Agency).where(Agency.code == text["agency"].strip(), Agency.is_active.is_(True))
    )
    procedure = db.session.scalar(
        select(Procedure).where(Procedure.code == text["procedure"].strip())
    )
    counter = None
    if agency is None:
        problems["agency"] = _("Unknown agency code.")
    if procedure is None:
        problems["procedure"] = _("Unknown procedure code.")
    if channel == ReturnChannel.counter:
        counter = db.session.scalar(
            select(Counter).where(
                Counter.code == text["counter"].strip().upper(), Counter.is_active.is_(True)
            )
        )
        if counter is None:
            problems["counter"] = _("Unknown counter code.")
        elif agency is not None and not counter.agency.is_within(agency):
            problems["counter"] = _("This counter does not belong to that agency.")
    if problems:
        db.session.commit()  # the key's last use
        return _invalid(problems)
    if not client.may_file_for(agency) or (counter is not None and not client.may_use(counter)):
        db.session.commit()
        return error_response(
            403, _("This API key may not send events for that agency or counter.")
        )

    event = services.ResultEvent(
        event_id=text["event_id"],
        agency=agency,
        procedure=procedure,
        return_channel=ReturnChannel(channel),
        counter=counter,
        phone=phone,
        returned_at=returned_at,
    )
    row, created = services.receive(client, event)
    if not created and row.fingerprint != event.fingerprint():
        db.session.commit()
        return error_response(
            409,
            _("An event with this id was already received with other content; give it a new id."),
        )
    db.session.commit()
    return jsonify(_event_view(row, duplicate=not created)), 202 if created else 200
