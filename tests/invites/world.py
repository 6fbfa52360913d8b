"""What the invitation tests share: agencies, counters, a procedure and API keys."""

from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace

from survey_app.api.services import create_api_client
from survey_app.core.time import now_utc
from survey_app.extensions import db
from tests import factories

URL = "/api/v1/events/result-returned"
PHONE = "0912345678"


def make_world(app) -> SimpleNamespace:
    """A province-level department with a commune below it, counters, a procedure, keys."""
    with app.app_context():
        department = factories.agency("Sở Tư pháp", code="STP")
        commune = factories.agency("UBND xã An Phụ", parent=department, code="X-ANPHU")
        other = factories.agency("Sở Xây dựng", code="SXD")
        counter = factories.counter(commune, name="Quầy số 1")
        other_counter = factories.counter(other)
        factories.procedure(department, code="1.001193")
        _, key = create_api_client("Một cửa điện tử", scopes=("events",))
        _, key_no_scope = create_api_client("Cổng cũ")
        _, key_other = create_api_client("Một cửa Sở Xây dựng", agency=other, scopes=("events",))
        db.session.commit()
        return SimpleNamespace(
            counter_code=counter.code,
            counter_id=counter.id,
            other_counter_code=other_counter.code,
            commune_id=commune.id,
            department_id=department.id,
            key=key,
            key_no_scope=key_no_scope,
            key_other=key_other,
        )


def event(n: int | str = 1, **changes) -> dict:
    """A valid event body, returned just now at the commune's counter."""
    body = {
        "event_id": f"MC-2026-{n}",
        "procedure": "1.001193",
        "agency": "X-ANPHU",
        "return_channel": "online",
        "phone": PHONE,
        "returned_at": now_utc().astimezone(UTC).isoformat(),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post(client, key, body):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(URL, json=body, headers=headers)
