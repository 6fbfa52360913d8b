"""Kiosk mode in a real browser: a tablet that starts over by itself, with and without JavaScript."""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.surveys.models import Kiosk, Response
from survey_app.surveys.tokens import issue_kiosk_token

pytestmark = pytest.mark.e2e

FACE = 'form.overall button[name="overall"][value="{}"]'


@contextlib.contextmanager
def kiosk_settings(live, **settings):
    """Shorter kiosk timings for the test (read per request by the live app)."""
    old = {key: live.app.config[key] for key in settings}
    live.app.config.update(settings)
    try:
        yield
    finally:
        live.app.config.update(old)


def new_kiosk(live) -> tuple[str, int]:
    counter = live.counter("Sở Tư pháp", "Quầy Chứng thực")
    with live.app.app_context():
        kiosk = Kiosk(counter_id=counter.id, label="Máy tính bảng")
        db.session.add(kiosk)
        db.session.commit()
        path = f"/k/{issue_kiosk_token(kiosk.id, counter.code)}"
        db.session.remove()
    return path, counter.id


def kiosk_channels(live, counter_id: int) -> list[str]:
    with live.app.app_context():
        rows = db.session.scalars(select(Response.channel).where(Response.counter_id == counter_id))
        out = [str(c) for c in rows]
        db.session.remove()
        return out


def test_idle_tablet_goes_back_to_the_faces_and_thank_you_returns_by_itself(live, phone):
    path, counter_id = new_kiosk(live)
    start = f"{live.url}{path}"
    with kiosk_settings(live, KIOSK_IDLE_SECONDS=2, KIOSK_THANKS_SECONDS=1):
        assert phone.goto(start).status == 200
        with phone.expect_navigation():
            phone.locator(FACE.format(4)).tap()
        assert phone.url.endswith(f"{path}/more")
        # the citizen walks away: the script takes the tablet back to the first screen
        phone.wait_for_url(start, timeout=8_000)
        assert phone.locator('form.overall button[name="overall"]').count() == 5

        # the next citizen answers all three steps; the thank-you screen returns by itself
        with phone.expect_navigation():
            phone.locator(FACE.format(5)).tap()
        for _ in range(6):  # "Gửi" on each questionnaire screen
            with phone.expect_navigation():
                phone.locator("form.details .bar button.primary").click()
        assert phone.url.endswith(f"{path}/comment")
        assert phone.locator('input[name="wants_feedback"]').count() == 0
        with phone.expect_navigation():
            phone.locator("form.comment .bar button.primary").click()
        assert phone.url.endswith(f"{path}/thanks")
        phone.wait_for_url(start, timeout=8_000)
    assert kiosk_channels(live, counter_id) == ["kiosk", "kiosk"]
    assert phone.watch.problems == []  # kiosk.js runs under the strict CSP


def test_without_javascript_the_meta_refresh_resets_the_tablet(live, phone_without_js):
    path, counter_id = new_kiosk(live)
    start = f"{live.url}{path}"
    page = phone_without_js
    with kiosk_settings(live, KIOSK_IDLE_SECONDS=2):
        page.goto(start)
        with page.expect_navigation():
            page.locator(FACE.format(3)).tap()
        assert re.search(rf"{re.escape(path)}/more$", page.url)
        page.wait_for_url(start, timeout=8_000)
    assert kiosk_channels(live, counter_id) == ["kiosk"]


def test_a_tablet_whose_link_was_replaced_stops_on_a_page_that_says_so(live, phone):
    """The idle reset lands on the dead link's page and stays there: no loop, no script error."""
    from survey_app.surveys import kiosks as kiosk_services

    path, counter_id = new_kiosk(live)
    start = f"{live.url}{path}"
    with kiosk_settings(live, KIOSK_IDLE_SECONDS=2):
        phone.goto(start)
        with phone.expect_navigation():
            phone.locator(FACE.format(4)).tap()
        with live.app.app_context():
            kiosk = db.session.scalar(select(Kiosk).where(Kiosk.counter_id == counter_id))
            kiosk_services.replace_link(kiosk)
            db.session.commit()
            db.session.remove()
        # the script takes the tablet back to its (now dead) first screen
        with phone.expect_navigation(timeout=8_000) as navigation:
            pass
        assert navigation.value.status == 410
        assert phone.url == start
        assert "đã được thay bằng đường dẫn mới" in phone.content()
        phone.wait_for_timeout(3_000)  # longer than the idle reset: it does not run here
        assert phone.url == start
    assert kiosk_channels(live, counter_id) == ["kiosk"]
    assert phone.watch.problems == []
