"""bench/ladder_app.py really adds the protections it claims to measure."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def ladder(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ladder.db'}")
    monkeypatch.setenv("SECRET_KEY", "ladder-test-secret-key-0123456789abcdef")
    monkeypatch.setenv("SURVEY_RATE_LIMIT", "2/minute")
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("bare_app", "ladder_app"):
        sys.modules.pop(name, None)
    import bare_app
    import ladder_app

    def make(*layers):
        app = ladder_app.create_app(set(layers))
        with app.app_context():
            bare_app.db.create_all()
        return app

    factory = logging.getLogRecordFactory()
    yield make
    logging.setLogRecordFactory(factory)
    for name in ("bare_app", "ladder_app"):
        sys.modules.pop(name, None)


def _token(client) -> str:
    from flask_wtf.csrf import generate_csrf

    with client.application.test_request_context():
        token = generate_csrf()
        from flask import session

        with client.session_transaction() as s:
            s.update(session)
    return token


def test_the_bare_rung_takes_any_post(ladder):
    client = ladder().test_client()
    assert client.post("/s/ABC123", data={"overall": "4"}).status_code == 303


def test_csrf_refuses_a_post_without_the_token_and_takes_one_with_it(ladder):
    client = ladder("csrf").test_client()
    assert client.post("/s/ABC123", data={"overall": "4"}).status_code == 400
    token = _token(client)
    assert client.post("/s/ABC123", data={"overall": "4", "csrf_token": token}).status_code == 303


def test_session_rung_sets_the_cookie_and_limit_rung_refuses_the_third(ladder, app):
    """(``app``: the survey app's logging is set up in this process, as in most test runs.)"""
    client = ladder("session", "limit", "log", "headers").test_client()
    first = client.post("/s/ABC123", data={"overall": "4"})
    assert first.status_code == 303
    assert "session=" in first.headers["Set-Cookie"]
    assert first.headers["X-Request-ID"]
    assert first.headers["Content-Security-Policy"]
    assert client.post("/s/ABC123", data={"overall": "4"}).status_code == 303
    assert client.post("/s/ABC123", data={"overall": "4"}).status_code == 429


def test_an_unknown_layer_is_refused(ladder):
    with pytest.raises(SystemExit, match="unknown layers"):
        ladder("csrf", "gzip")


def test_row_rung_stores_a_response_at_the_counter_in_the_url(app, database_url, monkeypatch):
    """``row``: the bare endpoint's INSERT goes into the app's ``responses`` table."""
    import gc

    from survey_app.extensions import db
    from survey_app.surveys import services
    from survey_app.surveys.models import Channel, Response
    from tests import factories

    with app.app_context():
        counter = factories.counter()
        services.questionnaire_row(services.current_questionnaire())
        db.session.commit()
        code, counter_id, agency_id = counter.code, counter.id, counter.agency_id
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "ladder-test-secret-key-0123456789abcdef")
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("bare_app", "ladder_app"):
        sys.modules.pop(name, None)
    import bare_app
    import ladder_app

    ladder_app_ = ladder_app.create_app({"row"})
    try:
        client = ladder_app_.test_client()
        assert client.post(f"/s/{code}", data={"overall": "2"}).status_code == 303
        assert client.post("/s/NOPE99", data={"overall": "2"}).status_code == 404
        assert client.post(f"/s/{code}", data={"overall": "6"}).status_code == 400
    finally:
        with ladder_app_.app_context():
            bare_app.db.session.remove()
            gc.collect()
            bare_app.db.engine.dispose()
        for name in ("bare_app", "ladder_app"):
            sys.modules.pop(name, None)
    with app.app_context():
        (response,) = db.session.scalars(db.select(Response)).all()
        assert (response.counter_id, response.agency_id, response.overall) == (
            counter_id,
            agency_id,
            2,
        )
        assert response.channel == Channel.poster


def test_row_rung_needs_the_apps_database(ladder):
    with pytest.raises(SystemExit, match="needs the app's database"):
        ladder("row")


def test_instruction_benchmark_child_answers_every_request_with_303(
    app, database_url, tmp_path, monkeypatch
):
    """bench/instructions.py's child (run here without valgrind: its go and end files
    are there from the start) sends the harvested POSTs and records every answer."""
    import json
    import re
    import subprocess
    import urllib.parse

    from survey_app.extensions import db
    from survey_app.surveys import services
    from tests import factories

    with app.app_context():
        code = factories.counter().code
        services.questionnaire_row(services.current_questionnaire())
        db.session.commit()
    client = app.test_client()
    page = client.get(f"/s/{code}")
    html = page.get_data(as_text=True)
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    csrf, started = (
        urllib.parse.quote(re.search(rf'name="{name}"[^>]*value="([^"]+)"', html).group(1))
        for name in ("csrf_token", "started")
    )
    targets = tmp_path / "targets.tsv"
    targets.write_text(f"/s/{code}\t{cookie}\t{csrf}\t{started}\n")
    for name in ("go", "end"):
        (tmp_path / name).touch()
    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "testing",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": database_url,
        "SURVEY_RATE_LIMIT": "1000/minute",
    }
    result = subprocess.run(
        [sys.executable, str(BENCH / "instructions.py"), "--child", "app", "--requests", "5",
         "--sync-dir", str(tmp_path), "--targets", str(targets)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    statuses = json.loads((tmp_path / "done").read_text())
    assert [s.split()[0] for s in statuses] == ["303"] * 5


def test_rungs_option_picks_rungs_and_refuses_unknown_layers(monkeypatch):
    import argparse

    monkeypatch.syspath_prepend(str(BENCH))
    import survey_throughput as st

    assert st.parse_rungs("csrf+session+limit+row, log") == (
        ("csrf", "session", "limit", "row"),
        ("log",),
    )
    assert st.parse_rungs("") == st.LADDER
    assert st.parse_args(["--rungs", "csrf+limit"]).rungs == (("csrf", "limit"),)
    with pytest.raises(argparse.ArgumentTypeError, match="unknown layers cache"):
        st.parse_rungs("csrf+cache")
