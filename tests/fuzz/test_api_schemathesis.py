"""Schemathesis over docs/openapi.json: generated requests to every JSON and Open311 operation.

Every operation is called with schema-valid and schema-violating input, with a
valid API key, and the answer must never be a server error; answers must also
match the documented status codes, content types and response schemas, and
schema-violating input must be refused. One check is left out: a request the
schema allows may still be refused with 422, because the legal rules for
feedback (consent, a contact, Art. 7 of Decree 20/2008) cannot all be written
as JSON Schema. And every request carries a valid key, so schemathesis's
"ignored auth" check (it adds a bad key beside the good one) does not apply;
requests without a key are covered by tests/auth/test_access_matrix.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from survey_app.api.services import create_api_client
from survey_app.extensions import db
from tests import factories

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture
def api_world(app):
    """An agency, a procedure and an API key: enough for generated cases to reach real code."""
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        field = factories.field(code="HT", name="Hộ tịch")
        factories.procedure(agency, field, code="1.001193")
        factories.counter(agency)
        _, key = create_api_client("Cổng dịch vụ công", scopes=("events", "dossiers"))
        db.session.commit()
        return key


schema = schemathesis.openapi.from_path(SPEC)


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_the_api_fail(case, app, api_world):
    response = case.call(app=app, headers={"Authorization": f"Bearer {api_world}"})
    assert response.status_code < 500, (response.status_code, response.text[:500])
    case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])
