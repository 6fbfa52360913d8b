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
