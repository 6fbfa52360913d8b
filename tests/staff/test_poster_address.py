"""PUBLIC_BASE_URL follows the served address in development, and the staff pages warn
when the posters would encode another address than the one being served, or one no
phone can open."""

from __future__ import annotations

import re
from contextlib import contextmanager
from html import unescape
from pathlib import Path

import pytest
from flask import Flask

from survey_app import create_app
from survey_app.config import DEFAULT_PUBLIC_BASE_URL, Config
from survey_app.extensions import db
from survey_app.surveys import qr
from tests import factories

LAN = "http://192.168.1.20:5000"
LOOPBACK = "http://127.0.0.1:5000"


def _finalised(**settings) -> dict:
    config = {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings}
    Config.finalise(config, Path("/nonexistent"))
    return config


def test_unset_in_development_follows_the_request_and_has_a_default_outside_one():
    config = _finalised(APP_ENV="development", PUBLIC_BASE_URL="")
    assert config["PUBLIC_BASE_URL_FROM_REQUEST"] is True
    assert config["PUBLIC_BASE_URL"] == DEFAULT_PUBLIC_BASE_URL


@pytest.mark.parametrize(
    "settings",
    [
        {"APP_ENV": "development", "PUBLIC_BASE_URL": "http://192.168.1.20:5000/"},
        {"APP_ENV": "production", "PUBLIC_BASE_URL": "https://hailong.haiduong.gov.vn"},
        {"APP_ENV": "production", "PUBLIC_BASE_URL": ""},  # production never guesses
        {"APP_ENV": "testing", "PUBLIC_BASE_URL": ""},
    ],
)
def test_a_configured_address_or_any_other_environment_is_used_as_is(settings):
    config = _finalised(**settings)
    assert config["PUBLIC_BASE_URL_FROM_REQUEST"] is False
    assert config["PUBLIC_BASE_URL"] == (
        settings["PUBLIC_BASE_URL"].rstrip("/") or DEFAULT_PUBLIC_BASE_URL
    )


@contextmanager
def base_url_setting(app: Flask, value: str, *, from_request: bool = False):
    saved = app.config["PUBLIC_BASE_URL"], app.config["PUBLIC_BASE_URL_FROM_REQUEST"]
    app.config["PUBLIC_BASE_URL"], app.config["PUBLIC_BASE_URL_FROM_REQUEST"] = (
        value,
        from_request,
    )
    try:
        yield
    finally:
        app.config["PUBLIC_BASE_URL"], app.config["PUBLIC_BASE_URL_FROM_REQUEST"] = saved


def test_qr_addresses_follow_the_request_in_development_and_not_outside_it(app):
    with base_url_setting(app, DEFAULT_PUBLIC_BASE_URL, from_request=True):
        with app.test_request_context("/staff/", base_url=LAN):
            assert qr.counter_url("ABC123") == f"{LAN}/s/ABC123"
            assert qr.receipt_url("tok") == f"{LAN}/r/tok"
        with app.app_context():  # e-mails, the CLI: the configured (default) value
            assert qr.counter_url("ABC123") == f"{DEFAULT_PUBLIC_BASE_URL}/s/ABC123"
    with base_url_setting(app, "https://hailong.haiduong.gov.vn"):
        with app.test_request_context("/staff/", base_url=LAN):
            assert qr.counter_url("ABC123") == "https://hailong.haiduong.gov.vn/s/ABC123"


@pytest.mark.parametrize(
    ("encoded", "served", "mismatch", "loopback"),
    [
        (LOOPBACK, LAN, True, True),
        (LAN, LOOPBACK, True, False),
        (LAN, LAN, False, False),
        (LOOPBACK, LOOPBACK, False, True),
        ("http://localhost:5000", "http://LOCALHOST:5000/", False, True),
        ("https://hailong.haiduong.gov.vn", "https://hailong.haiduong.gov.vn:443", False, False),
        ("https://hailong.haiduong.gov.vn", "http://hailong.haiduong.gov.vn", True, False),
        ("http://192.168.1.20:5000", "http://192.168.1.20:8000", True, False),
        ("http://[::1]:5000", LAN, True, True),
    ],
)
def test_poster_address_compares_scheme_host_and_port(app, encoded, served, mismatch, loopback):
    with base_url_setting(app, encoded), app.test_request_context("/staff/", base_url=served):
        address = qr.poster_address()
    assert (address.mismatch, address.loopback) == (mismatch, loopback)
    assert address.needs_warning is (mismatch or loopback)


@pytest.fixture
def world(app):
    with app.app_context():
        counter = factories.counter(factories.agency("Sở Tư pháp"), name="Quầy Hộ tịch")
        admin = factories.user()
        db.session.commit()
        return counter.id, counter.code, admin.email


def _page(app, email: str, path: str, base_url: str) -> str:
    client = app.test_client()
    page = client.get("/login", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    reply = client.post(
        "/login",
        data={"email": email, "password": factories.PASSWORD, "csrf_token": token},
        base_url=base_url,
    )
    assert reply.status_code == 303
    reply = client.get(path, base_url=base_url)
    assert reply.status_code == 200
    return unescape(reply.get_data(as_text=True))


def _warning(html: str) -> str | None:
    match = re.search(r'<div class="notice poster-address"[^>]*>(.*?)</div>', html, re.S)
    return match and re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1)))


@pytest.mark.parametrize("path", ["/staff/", "/staff/counters/{id}", "/staff/counters/{id}/kiosks"])
def test_staff_pages_warn_when_posters_encode_127_0_0_1_but_the_lan_address_is_served(
    app, world, path
):
    counter_id, code, email = world
    with base_url_setting(app, LOOPBACK):
        html = _page(app, email, path.format(id=counter_id) + "?lang=en", LAN)
    warning = _warning(html)
    assert warning, html
    assert f"encode {LOOPBACK}, but this page was opened at {LAN}" in warning
    assert "no phone can open it" in warning


def test_and_the_other_way_round(app, world):
    counter_id, code, email = world
    with base_url_setting(app, LAN):
        html = _page(app, email, f"/staff/counters/{counter_id}?lang=en", LOOPBACK)
    warning = _warning(html)
    assert f"encode {LAN}, but this page was opened at {LOOPBACK}" in warning
    assert "no phone can open it" not in warning  # the LAN address is fine for a phone
    assert f"{LAN}/s/{code}" in html  # the address shown is the one the QR encodes


def test_no_warning_when_the_served_address_is_encoded(app, world):
    counter_id, code, email = world
    with base_url_setting(app, LAN):
        html = _page(app, email, f"/staff/counters/{counter_id}", LAN)
    assert _warning(html) is None
    assert "poster-address" not in html


def test_in_development_the_posters_follow_the_lan_address_without_a_warning(app, world):
    counter_id, code, email = world
    with base_url_setting(app, DEFAULT_PUBLIC_BASE_URL, from_request=True):
        html = _page(app, email, f"/staff/counters/{counter_id}", LAN)
        assert _warning(html) is None
        assert f'href="{LAN}/s/{code}"' in html
        # served at 127.0.0.1 it still follows, but says no phone can open that
        html = _page(app, email, f"/staff/counters/{counter_id}?lang=en", LOOPBACK)
        assert f'href="{LOOPBACK}/s/{code}"' in html
        warning = _warning(html)
        assert "no phone can open it" in warning and "but this page was opened" not in warning


def test_a_development_app_without_the_setting_follows_the_request(monkeypatch, tmp_path):
    """End to end through create_app, as `make run` starts it."""
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app(
        {"APP_ENV": "development", "PUBLIC_BASE_URL": "", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    with app.test_request_context("/", base_url="http://10.0.0.7:5000"):
        assert qr.public_url("/feedback/new") == "http://10.0.0.7:5000/feedback/new"
    with app.app_context():
        assert qr.public_url("/feedback/new") == f"{DEFAULT_PUBLIC_BASE_URL}/feedback/new"
