"""Notification settings: a bad one stops the app at start, not at 3 a.m."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from survey_app.notifications.settings import (
    check_settings,
    is_quiet,
    next_morning,
    parse_order,
    parse_quiet_hours,
)


def test_channel_order_is_parsed_and_unknown_channels_refused():
    assert parse_order(" Zalo, sms ,email,sms") == ("zalo", "sms", "email")
    with pytest.raises(ValueError, match="viber"):
        parse_order("viber,sms")


@pytest.mark.parametrize(
    "bad",
    [
        {"NOTIFY_CHANNEL_ORDER": "sms,fax"},
        {"NOTIFY_QUIET_HOURS": "9pm-7am"},
        {"NOTIFY_QUIET_HOURS": "25:00-07:00"},
        {"SMS_ENCODING": "latin1"},
        {"SMS_MAX_SEGMENTS": 0},
        {"SMS_GATEWAY_SUCCESS_REGEX": "("},
    ],
)
def test_a_bad_setting_stops_the_app_with_its_name(bad):
    name = next(iter(bad))
    with pytest.raises(RuntimeError, match=name):
        check_settings(dict(bad))


def test_quiet_hours_across_midnight_in_local_time(app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_QUIET_HOURS", "21:00-07:00")
    assert parse_quiet_hours("21:00-07:00") is not None and parse_quiet_hours(" ") is None
    at = lambda h: datetime(2026, 3, 2, h, 0, tzinfo=UTC)  # noqa: E731 (local = UTC+7)
    assert not is_quiet(at(13), app.config)  # 20:00
    assert is_quiet(at(14), app.config)  # 21:00
    assert is_quiet(at(23), app.config)  # 06:00
    assert not is_quiet(at(0), app.config)  # 07:00
    assert next_morning(at(14), app.config) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    monkeypatch.setitem(app.config, "NOTIFY_QUIET_HOURS", "")
    assert not is_quiet(at(20), app.config)
