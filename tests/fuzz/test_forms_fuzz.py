"""Hypothesis over the public forms and the CSV importers: no input makes them fail.

Each test sends what a browser (or an attacker) could send, with any text in
any field (control characters, NUL, astral-plane characters, very long
values), and checks the answer is a page for the visitor (2xx/3xx or a clear
4xx), never a server error, and that what was stored is within the rules.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from survey_app.agencies.importers import ImportFailed, import_file
from survey_app.extensions import db
from survey_app.feedback.models import FeedbackCase
from survey_app.surveys.models import Response
from tests import factories
from tests.helpers import csrf_from

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Any text a form field can carry, NUL and lone surrogates' neighbours included.
any_text = st.text(st.characters(codec="utf-8"), max_size=300)
#: Values that look like what the field expects, and ones that don't.
rating = st.one_of(
    st.sampled_from(["1", "3", "5", "na", "0", "6", "-1", "1.5", " 4", "٣"]), any_text
)
ANSWERED = (200, 303, 400, 404, 409, 410, 413, 429)
#: A new "phone" (User-Agent) for every example, so the duplicate check never interferes.
_phones = itertools.count()


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        counter = factories.counter(agency, name="Quầy Hộ tịch")
        factories.procedure(agency, factories.field(code="HT"), code="1.001193")
        db.session.commit()
        return SimpleNamespace(code=counter.code, agency_id=agency.id)


def _page_token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


@FUZZ
@given(overall=rating, started=any_text, channel=any_text, extra=any_text)
def test_any_tap_is_stored_within_the_rules_or_refused(
    app, world, overall, started, channel, extra
):
    client = app.test_client()
    data = {
        "csrf_token": _page_token(client, f"/s/{world.code}"),
        "overall": overall,
        "started": started,
        "channel": channel,
        "unexpected": extra,
    }
    # as a phone would send it: bytes on the wire (read as latin-1 by WSGI), no line breaks
    user_agent = extra.encode("utf-8").decode("latin-1").replace("\r", "").replace("\n", "")
    reply = client.post(f"/s/{world.code}", data=data, headers={"User-Agent": user_agent[:300]})
    assert reply.status_code in ANSWERED, reply.status_code
    if reply.status_code == 303:
        with app.app_context():
            last = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
            assert 1 <= last.overall <= 5 and str(last.channel) in ("poster", "web")
            assert last.overall == int(overall)


@FUZZ
@given(
    answers=st.dictionaries(
        st.sampled_from(
            [
                "A1",
                "B2",
                "C3",
                "E1",
                "trips",
                "gender",
                "age_group",
                "respondent_type",
                "agencies_contacted",
                "Z9",
            ]
        ),
        rating,
        max_size=10,
    ),
    comment=any_text,
    wants=any_text,
)
def test_any_optional_steps_are_stored_within_the_rules_or_refused(
    app, world, answers, comment, wants
):
    client = app.test_client()
    client.post(
        f"/s/{world.code}",
        data={"csrf_token": _page_token(client, f"/s/{world.code}"), "overall": "4"},
        headers={"User-Agent": f"fuzz-phone-{next(_phones)}"},
    )
    token = _page_token(client, f"/s/{world.code}/more")
    reply = client.post(f"/s/{world.code}/more", data={"csrf_token": token, **answers})
    assert reply.status_code in ANSWERED
    reply = client.post(
        f"/s/{world.code}/comment",
        data={"csrf_token": token, "comment": comment, "wants_feedback": wants},
    )
    assert reply.status_code in ANSWERED
    with app.app_context():
        for response in db.session.scalars(select(Response)):
            assert all(a.value is None or 1 <= a.value <= 5 for a in response.answers)
            assert response.comment is None or "\x00" not in response.comment


FEEDBACK_FIELDS = [
    "kind",
    "procedure_query",
    "procedure_id",
    "agency_id",
    "content",
    "submitter_name",
    "contact_phone",
    "contact_email",
    "address",
    "consent",
    "search",
]


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(FEEDBACK_FIELDS), any_text, max_size=11))
def test_any_feedback_form_is_filed_within_the_rules_or_refused(app, world, fields):
    client = app.test_client()
    token = _page_token(client, "/feedback/new")
    reply = client.post("/feedback/new", data={"csrf_token": token, **fields})
    assert reply.status_code in ANSWERED, reply.status_code
    if reply.status_code == 303:
        with app.app_context():
            case = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.id.desc())).first()
            assert case.content.strip() and "\x00" not in case.content


@FUZZ
@given(code=any_text, secret=any_text)
def test_any_tracking_lookup_is_answered(app, world, code, secret):
    client = app.test_client()
    token = _page_token(client, "/feedback/track")
    reply = client.post(
        "/feedback/track", data={"csrf_token": token, "code": code, "secret": secret}
    )
    assert reply.status_code in ANSWERED
    safe = re.sub(r"[^A-Za-z0-9-]", "", code)[:30] or "X"
    assert client.get(f"/feedback/track/{safe}").status_code in ANSWERED


HEADERS = {
    "agencies": ["code", "name", "parent_code", "kind"],
    "counters": ["agency_code", "name", "code", "location", "active"],
    "procedures": ["code", "name", "field_code", "field_name", "agency_code"],
    "volumes": ["agency_code", "field_code", "month", "dossiers"],
}
cell = st.one_of(
    any_text.map(lambda s: s[:40]), st.sampled_from(["STP", "HT", "2022-03", "12", "-1", "yes", ""])
)


@FUZZ
@given(
    kind=st.sampled_from(sorted(HEADERS)),
    rows=st.lists(st.lists(cell, min_size=0, max_size=6), max_size=6),
    raw=st.binary(max_size=200),
    use_raw=st.booleans(),
)
def test_any_csv_is_imported_whole_or_refused_with_line_numbers(
    app, world, tmp_path_factory, kind, rows, raw, use_raw
):
    path = tmp_path_factory.mktemp("csv") / f"{kind}.csv"
    if use_raw:
        path.write_bytes(raw)
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADERS[kind])
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    with app.app_context():
        try:
            import_file(kind, path)
        except ImportFailed as failure:
            db.session.rollback()
            messages = failure.args[0]
            assert messages and all(isinstance(m, str) and m for m in messages)
        else:
            db.session.commit()
