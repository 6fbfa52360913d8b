"""The JSON endpoint the one-stop software calls for a receipt link."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

import pytest

from survey_app.api.services import create_api_client
from survey_app.extensions import db
from survey_app.surveys.shortlinks import ShortLink
from survey_app.surveys.tokens import hash_dossier_ref
from tests import factories

URL = "/api/v1/survey-links"


@pytest.fixture
def setup(app):
    with app.app_context():
        district = factories.agency("UBND huyện Nam Sách")
        other = factories.agency("UBND huyện Thanh Hà")
        counter = factories.counter(district)
        other_counter = factories.counter(other)
        procedure = factories.procedure(district, code="1.001193")
        _, key_all = create_api_client("Một cửa điện tử")
        _, key_district = create_api_client("Nam Sách", agency=district)
        _, key_counter = create_api_client("Quầy 1", counter=counter)
        db.session.commit()
        return SimpleNamespace(
            code=counter.code,
            counter_id=counter.id,
            procedure_id=procedure.id,
            other_code=other_counter.code,
            key_all=key_all,
            key_district=key_district,
            key_counter=key_counter,
        )


def _post(client, key, body):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(URL, json=body, headers=headers)


def test_link_with_svg_qr(app, client, setup):
    reply = _post(
        client,
        setup.key_all,
        {"counter": setup.code, "procedure": "1.001193", "dossier_ref": "HS-1", "qr": "svg"},
    )
    assert reply.status_code == 201, reply.json
    body = reply.json
    # a short link (surveys/shortlinks.py), not the 140-character signed token
    assert re.fullmatch(r"https://hailong\.example\.gov\.vn/[0-9a-z]{8}", body["url"])
    assert body["channel"] == "receipt" and body["counter"] == setup.code
    assert body["qr_svg"].startswith("<svg")
    assert body["expires_at"] > body["issued_at"]
    with app.app_context():
        link = db.session.get(ShortLink, body["url"].rsplit("/", 1)[1])
        assert link.purpose == "receipt" and link.counter_id == setup.counter_id
        assert link.procedure_id == setup.procedure_id
        assert link.dossier_ref_hash == hash_dossier_ref("HS-1")


def test_link_with_png_qr_and_x_api_key_header(client, setup):
    reply = client.post(
        URL, json={"counter": setup.code.lower(), "qr": "png"}, headers={"X-API-Key": setup.key_all}
    )
    assert reply.status_code == 201
    assert base64.b64decode(reply.json["qr_png_base64"])[:4] == b"\x89PNG"


@pytest.mark.parametrize("key", [None, "hl_wrong", "garbage"])
def test_missing_or_wrong_key_is_401(client, setup, key):
    reply = _post(client, key, {"counter": setup.code})
    assert reply.status_code == 401
    assert reply.json["error"]["status"] == 401
    assert "WWW-Authenticate" in reply.headers


def test_scoped_keys(client, setup):
    assert _post(client, setup.key_district, {"counter": setup.code}).status_code == 201
    assert _post(client, setup.key_district, {"counter": setup.other_code}).status_code == 403
    assert _post(client, setup.key_counter, {"counter": setup.code}).status_code == 201
    assert _post(client, setup.key_counter, {"counter": setup.other_code}).status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "counter"),
        ({"counter": 12}, "counter"),
        ({"counter": "X", "qr": "gif"}, "qr"),
        ({"counter": "X", "dossier_ref": "x" * 101}, "dossier_ref"),
        ({"counter": "X", "procedure": 5}, "procedure"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(client, setup, body, field):
    reply = _post(client, setup.key_all, body)
    assert reply.status_code == 422
    assert field in reply.json["error"]["fields"]


def test_unknown_procedure_is_422_and_unknown_counter_404(client, setup):
    reply = _post(client, setup.key_all, {"counter": setup.code, "procedure": "9.999999"})
    assert reply.status_code == 422 and "procedure" in reply.json["error"]["fields"]
    assert _post(client, setup.key_all, {"counter": "NOPE42"}).status_code == 404


def test_non_json_body_is_400(client, setup):
    reply = client.post(
        URL,
        data="counter=ABC",
        headers={"Authorization": f"Bearer {setup.key_all}", "Content-Type": "text/plain"},
    )
    assert reply.status_code == 400
    assert reply.is_json


def test_revoked_key_is_401(app, client, setup, runner):
    result = runner.invoke(args=["api-keys", "list"])
    assert "Một cửa điện tử" in result.output and setup.key_all[:10] in result.output
    client_id = next(
        line.split("\t")[0] for line in result.output.splitlines() if "Một cửa điện tử" in line
    )
    assert runner.invoke(args=["api-keys", "revoke", client_id]).exit_code == 0
    assert _post(client, setup.key_all, {"counter": setup.code}).status_code == 401


def test_cli_creates_a_key_that_works(client, runner, setup):
    result = runner.invoke(args=["api-keys", "create", "--name", "Kiosk", "--counter", setup.code])
    assert result.exit_code == 0, result.output
    key = result.output.split(": ", 1)[1].split()[0]
    assert _post(client, key, {"counter": setup.code}).status_code == 201


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["create", "--name", " "], "must not be blank"),
        (["create", "--name", "K" * 256], "at most 255 characters"),
        (["revoke", "99999999999999999999"], "99999999999999999999"),
        (["revoke", "-3"], "-3"),
    ],
)
def test_cli_refuses_bad_names_and_ids(runner, args, problem):
    result = runner.invoke(args=["api-keys", *args])
    assert result.exit_code == 2 and problem in result.output, result.output
