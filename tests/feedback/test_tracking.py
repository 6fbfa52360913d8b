"""Tracking numbers (issue 15, point 15): long enough, typed as printed, and at most
``TRACK_CASE_MAX_FAILURES`` wrong ones per case before a short pause, however many
addresses send them; the citizen's own browser is not paused."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback import tracking
from survey_app.feedback.models import CaseChannel, CaseKind, FeedbackCase, TrackingGuard
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.helpers import csrf_from, logged_in

NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 12:00 in Hà Nội


def _case(content="Quầy đòi bản sao không cần thiết khi đăng ký khai sinh."):
    case, secret = submit(
        Submission(
            kind=CaseKind.report,
            content=content,
            submitter_name="Nguyễn Văn An",
            contact_phone="0912345678",
            consent=True,
        ),
        CaseChannel.web,
    )
    return case, secret


@pytest.fixture
def world(app):
    with app.app_context():
        case, secret = _case()
        other, other_secret = _case("Đề nghị rút ngắn thời gian cấp giấy phép xây dựng.")
        coordinator = factories.user(Role.coordinator)
        db.session.commit()
        return SimpleNamespace(
            case=case.id,
            code=case.code,
            secret=secret,
            other_code=other.code,
            other_secret=other_secret,
            coordinator=coordinator.email,
        )


def _wrong(secret: str) -> str:
    """A number that is not ``secret`` (same length, same alphabet)."""
    return ("3" if secret[0] == "2" else "2") + secret[1:]


def _track(client, code, secret, address=None):
    html = client.get("/feedback/track").get_data(as_text=True)
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post(
        "/feedback/track",
        data={"csrf_token": csrf_from(html), "code": code, "secret": secret},
        environ_base=environ,
    )


def test_the_number_is_12_digits_printed_in_groups_and_typed_either_way(app, client):
    """8^12 ≈ 6.9·10^10 numbers (8 digits were 1.7·10^7), shown in groups of four."""
    with app.app_context():
        factories.agency("Sở Tư pháp", code="STP")
        db.session.commit()
    html = client.get("/feedback/new").get_data(as_text=True)
    client.post(
        "/feedback/new",
        data={
            "csrf_token": csrf_from(html),
            "submit_key": re.search(r'name="submit_key" value="([^"]+)"', html).group(1),
            "kind": "report",
            "content": "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
            "submitter_name": "Nguyễn Văn An",
            "contact_phone": "0912 345 678",
            "consent": "y",
        },
    )
    page = client.get("/feedback/submitted").get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', page).group(1)
    printed = re.search(r'id="case-secret">([^<]+)<', page).group(1)
    assert re.fullmatch(r"[2-9]{4} [2-9]{4} [2-9]{4}", printed), printed
    digits = printed.replace(" ", "")
    for typed in (printed, digits, f"{digits[:4]}-{digits[4:8]}-{digits[8:]}", f" {digits} "):
        reply = _track(app.test_client(), code, typed)
        assert reply.status_code == 303, typed


def test_numbers_given_before_still_work(app, world):
    """Cases filed before have 8-digit numbers, hashed the way they were then."""
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        key = hashlib.sha256(("case-secret:" + app.config["SECRET_KEY"]).encode()).digest()
        case.secret_hash = hmac.new(
            key, f"{case.code}:23456789".encode(), hashlib.sha256
        ).hexdigest()
        db.session.commit()
    assert _track(app.test_client(), world.code, "23456789").status_code == 303
    assert _track(app.test_client(), world.code, "2345 6789").status_code == 303
    assert _track(app.test_client(), world.code, "23456788").status_code == 404


def test_wrong_numbers_from_rotating_addresses_pause_the_case(app, database_url, world):
    """Each guess from another address, under the per-address limit: the case's own
    limit stops them after 5, the right number included, for 30 minutes; other cases
    are not affected; then the right number opens it."""
    from survey_app import create_app
    from survey_app.config import TestConfig

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_KEY_PREFIX = f"t{uuid.uuid4().hex}"
        TRACK_RATE_LIMIT = "3/minute"

    limited = create_app(Limited)
    wrong = _wrong(world.secret)
    with freeze_time(NOON) as clock:
        statuses = [
            _track(limited.test_client(), world.code, wrong, f"203.0.113.{n}").status_code
            for n in range(1, 6)
        ]
        # the same answer as an unknown code, until the fifth says the case is paused
        assert statuses == [404] * 4 + [429]
        paused = _track(limited.test_client(), world.code, world.secret, "203.0.113.77")
        assert paused.status_code == 429
        assert paused.headers["Retry-After"] == str(30 * 60)
        html = paused.get_data(as_text=True)
        assert world.code in html and "12:30" in html
        assert "Hồ sơ của Ông/Bà vẫn an toàn" in html  # the citizen is told, in Vietnamese
        # another case is not paused
        other = _track(limited.test_client(), world.other_code, world.other_secret, "203.0.113.8")
        assert other.status_code == 303
        clock.tick(timedelta(minutes=29))
        assert (
            _track(limited.test_client(), world.code, world.secret, "203.0.113.9").status_code
            == 429
        )
        clock.tick(timedelta(minutes=1, seconds=1))
        opened = _track(limited.test_client(), world.code, world.secret, "203.0.113.10")
        assert opened.status_code == 303
    with app.app_context():
        guard = db.session.get(TrackingGuard, world.case)
        assert (guard.failures, guard.total_failures, guard.locks) == (0, 5, 1)


def test_only_wrong_numbers_count_and_the_right_one_resets_the_count(app, world):
    wrong = _wrong(world.secret)
    for _ in range(4):
        assert _track(app.test_client(), world.code, wrong).status_code == 404
    assert _track(app.test_client(), world.code, world.secret).status_code == 303
    for _ in range(4):
        assert _track(app.test_client(), world.code, wrong).status_code == 404
    assert _track(app.test_client(), world.code, world.secret).status_code == 303
    with app.app_context():
        guard = db.session.get(TrackingGuard, world.case)
        assert guard.locked_until is None and guard.total_failures == 8


def test_the_citizens_own_browser_is_not_paused(app, world):
    """Someone pauses the case with 5 wrong numbers: the phone that followed it before
    still opens it, rates the answer and may use the form; staff see the pause."""
    citizen = app.test_client()
    assert _track(citizen, world.code, world.secret).status_code == 303
    for _ in range(5):
        _track(app.test_client(), world.code, _wrong(world.secret))
    assert _track(app.test_client(), world.code, world.secret).status_code == 429
    assert citizen.get(f"/feedback/track/{world.code}").status_code == 200
    assert _track(citizen, world.code, world.secret).status_code == 303
    assert _track(citizen, world.code, _wrong(world.secret)).status_code == 404
    with app.app_context():
        assert db.session.get(TrackingGuard, world.case).total_failures == 5  # not counted
    staff = logged_in(app, world.coordinator)
    page = staff.get(f"/staff/feedback/{world.case}").get_data(as_text=True)
    guard = re.search(r'id="tracking-guard">([^<]+)', page).group(1)
    assert "5" in guard and "1" in guard


def test_simultaneous_guesses_are_counted_one_by_one(app, world, monkeypatch):
    """Twelve wrong numbers at the same moment: exactly five are checked, the others
    are told the case is paused (a burst cannot all read "4 failures so far")."""
    real = tracking.check_secret

    def slow_check(case, secret):
        time.sleep(0.05)  # widen the window between reading the count and writing it
        return real(case, secret)

    monkeypatch.setattr(tracking, "check_secret", slow_check)
    wrong = _wrong(world.secret)
    clients = [app.test_client() for _ in range(12)]
    pages = [c.get("/feedback/track").get_data(as_text=True) for c in clients]
    barrier = threading.Barrier(len(clients), timeout=20)
    replies: list = [None] * len(clients)

    def guess(i):
        barrier.wait()
        replies[i] = clients[i].post(
            "/feedback/track",
            data={"csrf_token": csrf_from(pages[i]), "code": world.code, "secret": wrong},
        )

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # five checked (the fifth also says the case is now paused), seven not checked
    assert sorted(r.status_code for r in replies) == [404] * 4 + [429] * 8
    with app.app_context():
        guard = db.session.get(TrackingGuard, world.case)
        assert guard.total_failures == 5 and guard.locks == 1


def test_guessing_never_makes_a_staff_page_stale(app, world):
    """The count lives beside the case, not in it: its version does not move."""
    with app.app_context():
        version = db.session.get(FeedbackCase, world.case).version
    for _ in range(6):
        _track(app.test_client(), world.code, _wrong(world.secret))
    with app.app_context():
        assert db.session.get(FeedbackCase, world.case).version == version
        assert db.session.scalar(select(TrackingGuard.locks)) == 1


def test_the_arithmetic_in_the_docstring_holds(app):
    """The figures the settings rest on (feedback/tracking.py)."""
    space = len(tracking.SECRET_ALPHABET) ** tracking.SECRET_LENGTH
    per_hour = app.config["TRACK_CASE_MAX_FAILURES"] * 60 / app.config["TRACK_CASE_LOCK_MINUTES"]
    assert space == 68_719_476_736 and per_hour == 10
    assert space / 2 / per_hour / 24 / 365 > 390_000  # years to find one case's number
    assert 10_000 * per_hour * 24 * 365 / space < 0.013  # 10,000 cases for a year
    assert 8**8 / 2 / per_hour / 24 / 365 > 95  # a number given before, 8 digits
