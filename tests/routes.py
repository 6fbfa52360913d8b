"""The app's routes, read once at collection time (no database needed), for the walks over
the URL map (access matrix, browser hardening)."""

from __future__ import annotations

from survey_app import create_app
from survey_app.config import TestConfig

MAP_APP = create_app(TestConfig)
#: Every route but the static files, in a stable order (test ids).
RULES = sorted(
    (r for r in MAP_APP.url_map.iter_rules() if r.endpoint != "static"),
    key=lambda r: (r.endpoint, r.rule),
)


def url_for_rule(rule, values: dict, missing: str = "") -> str:
    """A URL for ``rule``: the first choice of an ``any(…)`` part, ``json`` for ``fmt``,
    a kiosk's signed token on kiosk pages, a short link's id on its page, and ``values``
    for the rest.

    :param missing: what to add to the failure message when ``values`` lacks an argument.
    """
    import pytest
    from flask import url_for
    from werkzeug.routing import AnyConverter

    args = {}
    for name in rule.arguments:
        if name in (rule.defaults or {}):
            args[name] = rule.defaults[name]  # the rule gives it (e.g. the first screen)
        elif isinstance(rule._converters[name], AnyConverter):
            args[name] = sorted(rule._converters[name].items)[0]
        elif name == "fmt":
            args[name] = "json"
        elif name == "screen":
            args[name] = 2  # a screen of the survey's questionnaire after the first
        elif name == "token" and rule.endpoint.startswith("surveys.kiosk_"):
            args[name] = values["kiosk_token"]  # a kiosk's signed link, not a receipt's
        elif name == "token" and rule.endpoint == "surveys.short_link":
            args[name] = values.get("short_link", "7kq20x9d")  # 8 characters, or no route
        elif name in values:
            args[name] = values[name]
        else:
            pytest.fail(f"{rule.endpoint} ({rule.rule}): no test value for <{name}>{missing}")
    with MAP_APP.test_request_context():
        return url_for(rule.endpoint, **args)
