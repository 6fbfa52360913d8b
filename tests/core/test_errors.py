"""Errors: a clear page in the visitor's language and a 4xx; 503 when the database is down."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy.exc import OperationalError

from survey_app.surveys import views as survey_views


def test_404_page_is_translated(client):
    reply = client.get("/no/such/page")
    assert reply.status_code == 404
    assert "Không tìm thấy trang" in reply.get_data(as_text=True)
    reply = client.get("/no/such/page?lang=en")
    assert "Page not found" in reply.get_data(as_text=True)


def test_405_is_a_page_not_a_traceback(client):
    reply = client.delete("/")
    assert reply.status_code == 405
    assert "Traceback" not in reply.get_data(as_text=True)


def test_database_outage_gives_a_503_page(client, monkeypatch):
    def broken(code):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(survey_views, "_active_counter", broken)
    reply = client.get("/s/ABC234")
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "30"
    html = reply.get_data(as_text=True)
    assert "Dịch vụ tạm thời gián đoạn" in html and "Traceback" not in html


def test_database_outage_on_the_api_is_json(client, monkeypatch):
    from survey_app.api import services as api_services

    def broken(key):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(api_services, "client_for_key", broken)
    reply = client.post(
        "/api/v1/survey-links", json={"counter": "X"}, headers={"X-API-Key": "hl_x"}
    )
    assert reply.status_code == 503 and reply.json["error"]["status"] == 503


def test_unexpected_error_is_a_500_page_without_details(client, monkeypatch):
    def boom(code):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(survey_views, "_active_counter", boom)
    reply = client.get("/s/ABC234")
    assert reply.status_code == 500
    assert "secret internals" not in reply.get_data(as_text=True)


def test_real_outage_with_an_unreachable_database_is_503(tmp_path):
    """No monkeypatching: the database file's directory is gone."""
    from survey_app import create_app
    from survey_app.config import TestConfig

    class Broken(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"

    reply = create_app(Broken).test_client().get("/s/ABC234")
    assert reply.status_code == 503


def test_security_headers_on_pages(client):
    reply = client.get("/")
    csp = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-store"
    css = client.get("/static/survey.css")
    assert "max-age=86400" in css.headers["Cache-Control"]


def test_405_lists_the_allowed_methods_in_html_and_json(client):
    page = client.delete("/login")
    assert page.status_code == 405
    assert set(page.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert page.mimetype == "text/html"
    api = client.open("/api/v1/survey-links", method="TRACE")
    assert api.status_code == 405 and api.headers["Allow"] and api.is_json


def test_connection_lost_after_the_last_query_still_serves_the_page(app, client, monkeypatch):
    """The database restarts after the view has read what it needs: closing the
    request's session rolls back on a dead connection. The finished page is served
    (it was a bare 500 from the teardown), and the next request gets a new connection."""
    from survey_app.extensions import db
    from tests import factories

    with app.app_context():
        code = factories.counter().code
        db.session.commit()
        dialect = db.engine.dialect
    real_rollback = dialect.do_rollback
    failed = []

    def rollback_on_a_dead_connection(dbapi_connection):
        if not failed:
            failed.append(True)
            dbapi_connection.driver_connection.close()  # the server went away
            raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")
        return real_rollback(dbapi_connection)

    monkeypatch.setattr(dialect, "do_rollback", rollback_on_a_dead_connection)
    reply = client.get(f"/s/{code}")
    assert failed, "the request's rollback did not run"
    assert reply.status_code == 200
    assert code in reply.get_data(as_text=True)
    assert client.get(f"/s/{code}").status_code == 200
    # The closed connection's pool record is collected later by the garbage
    # collector, which logs its failed reset with a traceback. Python 3.11
    # formats tracebacks with ast.parse, and a nested ast.parse inside another
    # test's ast.parse (werkzeug compiles routes with it) raises "AST constructor
    # recursion depth mismatch" (CPython gh-106905). Collect it here, now.
    gc.collect()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("host", ["a..b", "a" * 64 + ".vn"])
def test_a_host_header_werkzeug_refuses_gets_a_plain_400(client, host):
    """No URL can be built for such a request, so the error page itself used to fail
    (and the 500 page after it): the answer is the message as plain text."""
    reply = client.get("/s/ABC123", headers={"Host": host})
    assert reply.status_code == 400
    assert reply.mimetype == "text/plain"
    assert "Yêu cầu không hợp lệ" in reply.get_data(as_text=True)
