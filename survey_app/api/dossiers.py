"""``POST /api/v1/dossier-counts``: the one-stop system sends its dossier counts.

Daily or monthly counts per agency × procedure field (× return channel), with
the dossiers received, resolved, resolved on time and resolved late, into the
same table as the CSV import (:mod:`survey_app.agencies.dossiers`, which
defines the fields and the replacing rules). Each API key is one source: a
re-send of the same agency, field, period and return channel replaces that
key's earlier numbers, never adds to them. A request is all or nothing: any
invalid record and nothing is stored (422, each problem under the record's
field, ``records[3].agency``). Documented in ``docs/openapi.json``.

The key needs the ``dossiers`` scope (``flask api-keys create --scope
dossiers``); a key limited to an agency sends figures for that agency's
subtree only.
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..agencies.dossiers import CHANNELS, MAX_COUNT, Figure, overlaps_within, parse_period
from ..agencies.models import ALL_CHANNELS, Agency, ProcedureField, api_source
from ..auth.permissions import api_key
from ..core.errors import error_response
from ..core.time import local_today
from ..extensions import db, limiter
from .views import _key_for_limit, bp

#: Records in one request (a month of a province's agencies × fields × channels fits).
MAX_RECORDS = 5000
#: Largest body this endpoint reads (the app's default limit is for forms and cases).
MAX_BODY = 2 * 1024 * 1024
RECORD_KEYS = {
    "agency",
    "field",
    "period",
    "return_channel",
    "received",
    "resolved",
    "resolved_on_time",
    "resolved_late",
}


def _invalid(problems: dict[str, str]):
    return jsonify(error={"status": 422, "title": _("Invalid request"), "fields": problems}), 422


def _count(record: dict, name: str, where: str, problems: dict, required: bool = False):
    """A whole number 0 … 2³¹−1 from ``record[name]`` (None when absent and optional)."""
    value = record.get(name)
    if value is None:
        if required:
            problems[f"{where}.{name}"] = _("Required: a whole number of dossiers, 0 or more.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems[f"{where}.{name}"] = _("Must be a whole number (JSON integer), 0 or more.")
    elif value < 0:
        problems[f"{where}.{name}"] = _("Must not be negative.")
    elif value > MAX_COUNT:
        problems[f"{where}.{name}"] = _("Too large.")
    else:
        return value
    return None


def _code(record: dict, name: str, where: str, problems: dict) -> str | None:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        problems[f"{where}.{name}"] = _("Required: a code (text).")
        return None
    return value.strip()


def _record(k, record, agencies, fields, problems) -> Figure | None:
    """One record checked into a :class:`Figure`; its problems under ``records[k].<field>``."""
    where = f"records[{k}]"
    if not isinstance(record, dict):
        problems[where] = _("Each record must be a JSON object.")
        return None
    before = len(problems)
    for name in sorted(set(record) - RECORD_KEYS):
        problems[f"{where}.{name}"] = _("Unknown field.")
    agency_code = _code(record, "agency", where, problems)
    agency = agencies.get(agency_code) if agency_code else None
    if agency_code and agency is None:
        problems[f"{where}.agency"] = _("Unknown agency code.")
    elif agency is not None and not g.api_client.may_file_for(agency):
        problems[f"{where}.agency"] = _("This API key may not send figures for this agency.")
    field_code = _code(record, "field", where, problems)
    field = fields.get(field_code) if field_code else None
    if field_code and field is None:
        problems[f"{where}.field"] = _("Unknown procedure field code.")

    period = record.get("period")
    parsed = parse_period(period.strip()) if isinstance(period, str) else None
    if parsed is None:
        problems[f"{where}.period"] = _(
            "Must be a month YYYY-MM or a day YYYY-MM-DD (a real date, years 2000–2100)."
        )
    else:
        today = local_today()
        if (parsed[2] or parsed[1]) > (today if parsed[2] else today.replace(day=1)):
            problems[f"{where}.period"] = _("Is in the future.")
            parsed = None

    channel = record.get("return_channel")
    if channel is None:
        channel = ALL_CHANNELS
    elif not isinstance(channel, str) or channel not in (*CHANNELS, ALL_CHANNELS):
        problems[f"{where}.return_channel"] = _(
            'Must be "counter", "online", "post", or absent (all channels).'
        )
        channel = None

    received = _count(record, "received", where, problems, required=True)
    resolved = _count(record, "resolved", where, problems)
    on_time = _count(record, "resolved_on_time", where, problems)
    late = _count(record, "resolved_late", where, problems)
    given = (record.get("resolved_on_time") is not None, record.get("resolved_late") is not None)
    if any(given) and not all(given):
        missing = "resolved_late" if given[0] else "resolved_on_time"
        problems[f"{where}.{missing}"] = _("Give the on-time and late counts together.")
    elif any(given) and record.get("resolved") is None:
        problems[f"{where}.resolved"] = _("Required with the on-time and late counts.")
    elif None not in (resolved, on_time, late) and on_time + late > resolved:
        problems[f"{where}.resolved"] = _(
            "resolved_on_time + resolved_late (%(sum)d) is more than resolved (%(resolved)d).",
            sum=on_time + late,
            resolved=resolved,
        )
    if len(problems) > before:
        return None
    return Figure(
        agency_id=agency.id,
        field_id=field.id,
        period=parsed[0],
        month=parsed[1],
        return_channel=channel,
        dossiers=received,
        resolved=resolved,
        resolved_on_time=on_time,
        resolved_late=late,
    )


@bp.post("/dossier-counts")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key(scope="dossiers")
def dossier_counts():
    """Store the one-stop system's dossier counts (replacing this key's earlier ones)."""
    from ..agencies.dossiers import store_figures
    from ..core.params import json_body

    request.max_content_length = MAX_BODY
    body = json_body()
    if not isinstance(body, dict):
        db.session.commit()  # keep last_used_at
        return error_response(400, _("The request body must be a JSON object."))
    records = body.get("records")
    if not isinstance(records, list) or not records:
        db.session.commit()
        return _invalid({"records": _("Required: a list of 1 to %(n)d records.", n=MAX_RECORDS)})
    if len(records) > MAX_RECORDS:
        db.session.commit()
        return _invalid(
            {"records": _("At most %(n)d records in one request: split them.", n=MAX_RECORDS)}
        )
    codes = {
        name: {
            r[name].strip() for r in records if isinstance(r, dict) and isinstance(r.get(name), str)
        }
        for name in ("agency", "field")
    }
    agencies = {
        a.code: a
        for a in db.session.scalars(select(Agency).where(Agency.code.in_(codes["agency"])))
    }
    fields = {
        f.code: f
        for f in db.session.scalars(
            select(ProcedureField).where(ProcedureField.code.in_(codes["field"]))
        )
    }
    problems: dict[str, str] = {}
    figures = [_record(k, r, agencies, fields, problems) for k, r in enumerate(records)]
    if not problems:
        for j, k in overlaps_within(figures):
            same = figures[j].key == figures[k].key
            problems[f"records[{k}]"] = (
                _("The same agency, field, period and return channel as records[%(j)d].", j=j)
                if same
                else _(
                    "Counts some of the dossiers of records[%(j)d] again (a month and one of "
                    "its days, or all channels and one channel): send one or the other.",
                    j=j,
                )
            )
    if problems:
        db.session.rollback()
        return _invalid(problems)
    stored = store_figures(api_source(g.api_client.id), figures)
    db.session.commit()
    return jsonify(
        received=len(figures),
        created=stored.created,
        replaced=stored.replaced,
        unchanged=stored.unchanged,
        superseded=stored.superseded,
        months=sorted({f"{f.month:%Y-%m}" for f in figures}),
    ), 200
