"""Helpers shared by HTTP tests."""

from __future__ import annotations

import re

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def logged_in(app, email: str, password: str = PASSWORD):
    """A new test client logged in as ``email`` (fails the test if the login does not succeed)."""
    client = app.test_client()
    assert login(client, email, password).status_code == 303
    return client
