"""Redis (the shared rate-limit storage) down or mute: every page answers, limits count per process.

``redis://127.0.0.1:1`` is a closed port (connections refused at once); a socket
that accepts connections and never answers stands for a Redis that hangs.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.core import ratelimit
from survey_app.extensions import db, limiter
from survey_app.feedback.models import FeedbackCase
from tests import factories

CLOSED_PORT = "redis://127.0.0.1:1/0"
_HIDDEN = re.compile(r"<input[^>]*type=\"hidden\"[^>]*>")
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def _hidden_fields(html: str) -> dict[str, str]:
    """Every hidden field of the page's form (the CSRF token and whatever else it carries)."""
    fields = {}
    for tag in _HIDDEN.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    assert "csrf_token" in fields, "page has no CSRF token"
    return fields


def _app(database_url: str, storage: str, **settings):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = storage
        RATELIMIT_KEY_PREFIX = f"t{uuid.uuid4().hex}"
        RATELIMIT_STORAGE_TIMEOUT = 0.2
        SURVEY_RATE_LIMIT = "3/minute"
        LOGIN_RATE_LIMIT = "3/minute"
        TRACK_RATE_LIMIT = "3/minute"
        FEEDBACK_RATE_LIMIT = "3/minute"
        DUPLICATE_WINDOW_SECONDS = 0  # so only the rate limit stops the taps

    for name, value in settings.items():
        setattr(Limited, name, value)
    return create_app(Limited)


@pytest.fixture(autouse=True)
def _limiter_storage_presumed_alive_again():
    """Flask-Limiter is one object per process: its "storage is dead" flag must not
    outlive the test (a later app with a working storage would count in memory)."""
    yield
    limiter._storage_dead = False


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        procedure = factories.procedure(agency, factories.field(code="HT"), code="1.001193")
        counter = factories.counter(agency)
        user = factories.user(email="canbo@example.gov.vn")
        db.session.commit()
        return {"procedure": procedure.id, "counter": counter.code, "email": user.email}


def _tap(app, code: str):
    client = app.test_client()
    fields = _hidden_fields(client.get(f"/s/{code}").get_data(as_text=True))
    return client.post(f"/s/{code}", data={**fields, "overall": "4"})


def _login(client, email: str, password: str):
    fields = _hidden_fields(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={**fields, "email": email, "password": password})


def _track(client, secret: str):
    fields = _hidden_fields(client.get("/feedback/track").get_data(as_text=True))
    return client.post("/feedback/track", data={**fields, "code": "PA-26-AAAAAA", "secret": secret})


def _file(client, procedure_id: int):
    fields = _hidden_fields(client.get("/feedback/new").get_data(as_text=True))
    data = {
        **fields,
        "kind": "report",
        "content": "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
        "submitter_name": "Nguyễn Văn An",
        "contact_phone": "0912 345 678",
        "consent": "y",
        "procedure_id": str(procedure_id),
    }
    return client.post("/feedback/new", data=data, content_type="multipart/form-data")


def _case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FeedbackCase))


def test_login_tracking_filing_and_survey_work_with_redis_down_and_stay_limited(
    app, database_url, world, caplog
):
    caplog.set_level(logging.INFO)
    down = _app(database_url, CLOSED_PORT)

    # staff log in (and the login limit still counts, in this process)
    client = down.test_client()
    assert _login(client, world["email"], factories.PASSWORD).status_code == 303
    wrong = [
        _login(down.test_client(), world["email"], "not the password").status_code for _ in range(3)
    ]
    assert 500 not in wrong and wrong[-1] == 429 and all(400 <= s < 500 for s in wrong)

    # citizens track a case: an unknown one is a 404, the fourth guess a 429
    client = down.test_client()
    assert [_track(client, str(n)).status_code for n in range(4)] == [404, 404, 404, 429]

    # and file one: stored, the citizen sent on to the tracking number
    assert _file(down.test_client(), world["procedure"]).status_code == 303
    assert _case_count(down) == 1

    # the survey is not unlimited: three taps a minute from this address, then 429
    statuses = [_tap(down, world["counter"]).status_code for _ in range(5)]
    assert statuses == [303, 303, 303, 429, 429]

    # one warning per way of counting for the whole outage, not one per request
    ours = [
        r
        for r in caplog.records
        if r.name == "survey_app.core.ratelimit" and r.levelno == logging.WARNING
    ]
    assert len(ours) == 1 and "counted per process" in ours[0].getMessage()
    flask_limiters = [
        r for r in caplog.records if r.name == "flask-limiter" and r.levelno >= logging.WARNING
    ]
    assert len(flask_limiters) == 1 and "in-memory" in flask_limiters[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def mute_redis():
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()  # resets the pending connections: a request still waiting fails then


def _within(seconds: float, call):
    """``call()``'s result if it returns within ``seconds`` (fails the test otherwise)."""
    result = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"no answer within {seconds} s"
    return result[0], time.monotonic() - started


def test_a_redis_that_does_not_answer_costs_a_fraction_of_a_second(
    app, database_url, world, mute_redis
):
    mute = _app(database_url, mute_redis, RATELIMIT_STORAGE_TIMEOUT=0.3)
    reply, seconds = _within(10, lambda: _tap(mute, world["counter"]))
    assert reply.status_code == 303 and seconds < 3
    client = mute.test_client()
    reply, seconds = _within(10, lambda: _login(client, world["email"], factories.PASSWORD))
    assert reply.status_code == 303 and seconds < 3
    # the next requests do not wait for it again: they count in memory
    reply, seconds = _within(10, lambda: _tap(mute, world["counter"]))
    assert reply.status_code == 303 and seconds < 1


def test_redis_timeouts_are_passed_to_the_storage_only_for_redis():
    options = ratelimit.limit_storage_options(
        {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "RATELIMIT_STORAGE_TIMEOUT": 0.5}
    )
    assert options == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    assert ratelimit.limit_storage_options(
        {
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "RATELIMIT_STORAGE_TIMEOUT": 0.5,
            "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 2},
        }
    ) == {"socket_connect_timeout": 0.5, "socket_timeout": 2}  # the operator's own wins
    assert (
        ratelimit.limit_storage_options(
            {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_STORAGE_TIMEOUT": 0.5}
        )
        == {}
    )


def test_the_survey_goes_back_to_the_shared_storage_when_it_answers_again(
    app, database_url, world, monkeypatch, caplog
):
    """The per-process counts are a stopgap: once the storage answers, counting is shared again."""
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    caplog.set_level(logging.INFO)
    flaky = _app(database_url, "memory://", SURVEY_RATE_LIMIT="100/minute")
    storage = limiter.storage
    real_incr = storage.incr
    counted = (parse("100/minute"), flaky.config["RATELIMIT_KEY_PREFIX"], "127.0.0.1")

    def remaining() -> int:
        shared = FixedWindowRateLimiter(storage)
        return shared.get_window_stats(*counted, "surveys.counter").remaining

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(storage, "incr", down)
    assert _tap(flaky, world["counter"]).status_code == 303  # counted in memory
    monkeypatch.setattr(storage, "incr", real_incr)
    assert _tap(flaky, world["counter"]).status_code == 303  # within RETRY_SECONDS: memory
    assert remaining() == 100
    clock = ratelimit.monotonic
    monkeypatch.setattr(ratelimit, "monotonic", lambda: clock() + ratelimit.RETRY_SECONDS)
    assert _tap(flaky, world["counter"]).status_code == 303  # tried again: the storage answers
    assert remaining() == 99
    assert _tap(flaky, world["counter"]).status_code == 303  # and keeps counting there
    assert remaining() == 98
    assert "limits shared again" in caplog.text
