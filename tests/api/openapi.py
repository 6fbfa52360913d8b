"""Validate API responses against docs/openapi.json."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@cache
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def _operation(path: str, method: str) -> dict:
    for template, item in spec()["paths"].items():
        pattern = (
            "^"
            + re.sub(
                r"\{[^}]+\}", r"[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            )
            + "$"
        )
        if re.match(pattern, path):
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not documented in docs/openapi.json")


def check(response, path: str, method: str = "GET") -> None:
    """Fail unless the status is documented for the operation and the body matches its schema."""
    responses = _operation(path.split("?")[0], method)["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path} → {status} is not documented"
    schema = responses[status]["content"]["application/json"]["schema"]
    document = {**schema, "components": spec()["components"]}
    Draft202012Validator(document, format_checker=FormatChecker()).validate(response.get_json())
