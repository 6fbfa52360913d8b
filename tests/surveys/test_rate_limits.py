"""Rate limiting of submissions: in memory by default, in Redis when configured."""

from __future__ import annotations

import os
import uuid

import pytest

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db
from tests import factories
from tests.helpers import csrf_from

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def _limited_app(database_url, storage, prefix, proxies=0):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = storage
        RATELIMIT_KEY_PREFIX = prefix
        SURVEY_RATE_LIMIT = "3/minute"
        DUPLICATE_WINDOW_SECONDS = 0  # so only the rate limit stops the taps
        PROXY_FIX_X_FOR = proxies

    return create_app(Limited)


def _hammer(app, code, times, headers=None):
    statuses = []
    for _ in range(times):
        client = app.test_client()
        html = client.get(f"/s/{code}", headers=headers).get_data(as_text=True)
        statuses.append(
            client.post(
                f"/s/{code}",
                data={"csrf_token": csrf_from(html), "overall": "4"},
                headers=headers,
            )
        )
    return statuses


@pytest.fixture
def counter_code(app):
    with app.app_context():
        code = factories.counter().code
        db.session.commit()
        return code


def test_fourth_submission_in_a_minute_is_429_in_the_visitors_language(
    app, database_url, counter_code
):
    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}")
    replies = _hammer(limited, counter_code, 4)
    assert [r.status_code for r in replies] == [303, 303, 303, 429]
    assert "Quá nhiều lần thử" in replies[-1].get_data(as_text=True)
    assert "Retry-After" in replies[-1].headers
    # reading the survey page is not limited
    assert limited.test_client().get(f"/s/{counter_code}").status_code == 200


def test_a_refused_tap_logs_no_address(app, database_url, counter_code, caplog):
    """The log says which limit was exceeded, and by a keyed pseudonym of the client,
    never its address (personal data, NĐ 13/2023)."""
    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}")
    caplog.set_level("INFO", logger="survey_app.core.ratelimit")
    address = {"REMOTE_ADDR": "203.0.113.77"}
    statuses = []
    for _ in range(4):
        client = limited.test_client()
        html = client.get(f"/s/{counter_code}", environ_base=address).get_data(as_text=True)
        reply = client.post(
            f"/s/{counter_code}",
            data={"csrf_token": csrf_from(html), "overall": "4"},
            environ_base=address,
        )
        statuses.append(reply.status_code)
    assert statuses[-1] == 429
    lines = [r.getMessage() for r in caplog.records if "exceeded" in r.getMessage()]
    assert lines and all("203.0.113" not in line for line in lines)
    assert all(" by #" in line for line in lines)


def test_a_flask_limiter_429_is_explained_in_the_visitors_language(app, database_url):
    """/login, the feedback form and the API are limited by Flask-Limiter, whose own text
    is the limit itself ("10 per 1 minute"): the page says what it means instead."""
    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}")
    limited.config["LOGIN_RATE_LIMIT"] = "2/minute"
    client = limited.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": "nobody@example.gov.vn", "password": "wrong password"}
    replies = [client.post("/login", data=data) for _ in range(3)]
    assert [r.status_code for r in replies] == [400, 400, 429]
    html = replies[-1].get_data(as_text=True)
    assert "Quá nhiều lần thử" in html
    assert "per 1 minute" not in html and "2 per" not in html
    english = client.post("/login?lang=en", data=data, headers={"Accept-Language": "en"})
    assert english.status_code == 429
    assert "Too many attempts from your connection" in english.get_data(as_text=True)


@pytest.mark.skipif(
    not REDIS_URL, reason="Redis test SKIPPED: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)"
)
def test_limits_are_shared_through_redis(app, database_url, counter_code):
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()  # TEST_REDIS_URL names a database kept for the tests
    limited = _limited_app(database_url, REDIS_URL, f"t{uuid.uuid4().hex}")
    replies = _hammer(limited, counter_code, 4)
    assert [r.status_code for r in replies] == [303, 303, 303, 429]
    keys = store.keys("*surveys.counter*")
    assert keys, "the counts must be stored in Redis, where every worker sees them"
    assert max(int(store.get(k)) for k in keys) >= 3


def test_a_tap_goes_through_when_the_limit_storage_is_down(
    app, database_url, counter_code, monkeypatch, caplog
):
    """A citizen's rating is worth more than the limit: a dead Redis does not refuse it,
    and the limit is still counted, in the process (tests/core/test_redis_down.py)."""
    from survey_app.extensions import limiter

    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}")

    def storage_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(limiter.storage, "incr", storage_down)
    replies = _hammer(limited, counter_code, 4)
    assert [r.status_code for r in replies] == [303, 303, 303, 429]
    assert "rate limit storage unavailable" in caplog.text


def test_the_limit_counts_each_survey_step_separately(app, database_url, counter_code):
    """Like Flask-Limiter's per-view limits: three taps do not use up step 2's allowance."""
    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}")
    client = limited.test_client()
    html = client.get(f"/s/{counter_code}").get_data(as_text=True)
    token = csrf_from(html)
    assert (
        client.post(f"/s/{counter_code}", data={"csrf_token": token, "overall": "4"}).status_code
        == 303
    )
    statuses = [
        client.post(
            f"/s/{counter_code}/comment", data={"csrf_token": token, "comment": "Tốt"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [303, 303, 303, 429]


def test_behind_the_proxy_each_citizens_address_counts(app, database_url, counter_code):
    """With PROXY_FIX_X_FOR=1 (nginx in front), the limit and the client hash use the
    address nginx saw, not nginx's own: one address's fourth tap is refused, another
    address still gets through, and their taps hash differently."""
    from survey_app.surveys.models import Response

    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}", proxies=1)
    first = {"X-Forwarded-For": "203.0.113.7"}
    replies = _hammer(limited, counter_code, 4, headers=first)
    assert [r.status_code for r in replies] == [303, 303, 303, 429]
    other = _hammer(limited, counter_code, 1, headers={"X-Forwarded-For": "198.51.100.20"})
    assert [r.status_code for r in other] == [303]
    with limited.app_context():
        hashes = db.session.scalars(db.select(Response.client_hash).order_by(Response.id)).all()
    assert len(hashes) == 4
    assert len(set(hashes[:3])) == 1 and hashes[3] != hashes[0]


def test_flask_limiters_hooks_skip_the_survey_but_not_other_views(app, database_url, counter_code):
    """Flask-Limiter's request hooks leave the views limited by ``rate_limit`` alone (they
    would only repeat the work); a view with ``@limiter.limit`` still goes through them."""
    from flask.globals import request_ctx

    limited = _limited_app(database_url, "memory://", f"t{uuid.uuid4().hex}")
    client = limited.test_client()
    token = csrf_from(client.get(f"/s/{counter_code}").get_data(as_text=True))
    with client:
        reply = client.post(f"/s/{counter_code}", data={"csrf_token": token, "overall": "4"})
        assert reply.status_code == 303
        assert not hasattr(request_ctx._get_current_object(), "_limiter_request_context")
    with client:
        client.post("/login", data={"csrf_token": token, "email": "x@example.org", "password": "x"})
        assert hasattr(request_ctx._get_current_object(), "_limiter_request_context")
