"""Structured logs: request ids, one access line per request, no personal data."""

from __future__ import annotations

import json
import logging
import re

import pytest

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.core.logs import (
    ACCESS_LOGGER,
    _StderrHandler,
    log_format,
    make_formatter,
    request_id_from,
)
from tests.helpers import csrf_from

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    def lines():
        return [r for r in caplog.records if r.name == ACCESS_LOGGER]

    return lines


def test_one_access_line_with_the_incoming_request_id(client, access):
    reply = client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c1e"})
    assert reply.headers["X-Request-ID"] == "nginx-4f2a9c1e"
    [line] = access()
    assert line.request_id == "nginx-4f2a9c1e"
    assert (line.method, line.path, line.status) == ("GET", "/healthz", 200)
    assert line.endpoint == "health.healthz"
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0


@pytest.mark.parametrize(
    "header", [None, "", "short", "has spaces in it", "x" * 65, 'id"},{"level":"forged']
)
def test_missing_or_unsafe_request_ids_are_replaced(client, access, header):
    headers = {"X-Request-ID": header} if header is not None else {}
    reply = client.get("/healthz", headers=headers)
    generated = reply.headers["X-Request-ID"]
    assert HEX32.fullmatch(generated)
    assert access()[-1].request_id == generated


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_request_id_validation():
    assert request_id_from("0123abcd-ef:45.67_89") == "0123abcd-ef:45.67_89"
    assert HEX32.fullmatch(request_id_from("<script>alert(1)</script>"))


def test_query_strings_and_form_bodies_are_not_logged(app, client, access, caplog):
    caplog.set_level(logging.DEBUG)
    client.get("/?code=NGUYENVANAN0912345678")
    html = client.get("/feedback/new").get_data(as_text=True)
    client.post(
        "/feedback/new",
        data={
            "csrf_token": csrf_from(html),
            "kind": "report",
            "content": "Nội dung riêng tư",
            "submitter_name": "Nguyễn Văn An",
            "contact_phone": "0912345678",
            "consent": "y",
        },
    )
    paths = [line.path for line in access()]
    assert paths == ["/", "/feedback/new", "/feedback/new"]
    everything = "\n".join(
        f"{r.getMessage()} {json.dumps(r.__dict__, default=str, ensure_ascii=False)}"
        for r in caplog.records
    )
    for secret in ("NGUYENVANAN", "0912345678", "Nguyễn Văn An", "Nội dung riêng tư"):
        assert secret not in everything


def test_receipt_tokens_in_the_path_are_masked(client, access):
    client.get("/r/AbCdEfSecretToken123")
    assert access()[-1].path == "/r/***"
    assert "AbCdEfSecretToken123" not in access()[-1].getMessage()


def test_json_lines_carry_every_field(client, access):
    client.post("/healthz", headers={"X-Request-ID": "req-json-0001"})  # 405
    [line] = access()
    data = json.loads(make_formatter("json").format(line))
    assert {
        "timestamp",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
    } <= set(data)
    assert data["level"] == "INFO" and data["logger"] == ACCESS_LOGGER
    assert (data["request_id"], data["method"], data["path"], data["status"]) == (
        "req-json-0001",
        "POST",
        "/healthz",
        405,
    )
    assert data["timestamp"].endswith("+00:00")


def test_records_outside_a_request_have_no_request_id(caplog):
    caplog.set_level(logging.INFO, logger="survey_app.test")
    logging.getLogger("survey_app.test").info("from a command")
    [record] = [r for r in caplog.records if r.name == "survey_app.test"]
    assert record.request_id is None
    assert "[None] from a command" in make_formatter("text").format(record)


def test_log_format_follows_the_environment():
    class Production(TestConfig):
        APP_ENV = "production"

    class Explicit(TestConfig):
        LOG_FORMAT = "json"

    assert log_format(create_app(TestConfig)) == "text"
    assert log_format(create_app(Explicit)) == "json"
    assert log_format(create_app(Production)) == "json"


def test_outside_tests_one_stderr_handler_writes_json_lines(capsys):
    class Served(TestConfig):
        TESTING = False
        LOG_FORMAT = "json"

    root = logging.getLogger()
    level = root.level
    try:
        create_app(Served)
        client = create_app(Served).test_client()  # a second app replaces the first's handler
        handlers = [h for h in root.handlers if isinstance(h, _StderrHandler)]
        assert len(handlers) == 1
        client.get("/healthz", headers={"X-Request-ID": "served-000001"})
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
        [access] = [x for x in lines if x["logger"] == ACCESS_LOGGER]
        assert access["request_id"] == "served-000001" and access["status"] == 200
    finally:
        for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
            root.removeHandler(handler)
        root.setLevel(level)


def test_an_unknown_log_format_is_refused_at_start_up():
    class Wrong(TestConfig):
        LOG_FORMAT = "xml"

    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app(Wrong)


def test_a_poster_pdf_adds_no_lines_of_font_subsetting_to_the_log(app, caplog):
    """fontTools tells at INFO how it subsets the font into every PDF: about forty
    lines per poster or report, which would bury the access log."""
    from survey_app.surveys.posters import render_posters
    from tests import factories

    with app.app_context(), caplog.at_level(logging.INFO):
        counter = factories.counter()
        render_posters([counter])
    assert not [r for r in caplog.records if r.name.startswith("fontTools")]
