"""Schemathesis over GET /api/v1/feed with a key that has the feed scope (the suite-wide
fuzz test's key has none, so it only meets the 403): no input makes it fail, every
answer matches docs/openapi.json, and input the schema forbids is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from survey_app.api.services import create_api_client
from survey_app.extensions import db

from .conftest import file_case

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"

schema = schemathesis.openapi.from_path(SPEC).include(path="/api/v1/feed")


@pytest.fixture
def feed_key(app, province):
    with app.app_context():
        _, key = create_api_client("LGSP", scopes=("feed",))
        for _ in range(3):
            file_case()
        db.session.commit()
        return key


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_the_feed_fail(case, app, feed_key):
    response = case.call(app=app, headers={"Authorization": f"Bearer {feed_key}"})
    assert response.status_code < 500, (response.status_code, response.text[:500])
    # a well-formed cursor this feed never gave is refused (400): allowed by the schema
    case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])
