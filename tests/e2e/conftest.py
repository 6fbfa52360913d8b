"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, and a live app.

The tests skip (with the reason) when playwright or /usr/bin/chromium is
missing. They never use the session's ``app`` fixture: the live app is a
separate instance with its own database (see ``live.py``).
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.live import PHONE, browser_unavailable, launch_chromium, live_app


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here + os.sep):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    reason = browser_unavailable()
    if reason:
        if os.environ.get("REQUIRE_BROWSER"):  # set by .ci/run: CI runs everything
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live(browser):
    """The live app (requests ``browser`` first, so nothing starts when the tests skip)."""
    with live_app(os.environ.get("TEST_DATABASE_URL")) as live:
        yield live


class PageWatch:
    """Problems a page had that the user would not see as a failed step:
    script errors, console errors (CSP violations among them), failed subresources."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message):
        # failed loads are judged in _response, which knows the URL (a 409 page is expected)
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _response(self, response):
        request = response.request
        if request.resource_type != "document" and response.status >= 400:
            if not request.url.endswith("/favicon.ico"):
                self.problems.append(f"{response.status} {request.url}")


def _phone_page(browser, **options):
    context = browser.new_context(**PHONE, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page)
    return context, page


@pytest.fixture
def phone(browser, live):
    """A page in a fresh phone browser (its own cookies), JavaScript on."""
    context, page = _phone_page(browser)
    yield page
    context.close()


@pytest.fixture
def phone_without_js(browser, live):
    """A page in a fresh phone browser with JavaScript turned off."""
    context, page = _phone_page(browser, java_script_enabled=False)
    yield page
    context.close()
