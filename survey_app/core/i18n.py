"""Language and time zone selection, and template helpers for both."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header


def select_locale() -> str:
    """``?lang=`` → the session → Accept-Language → Vietnamese (also outside requests)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    requested = request.args.get("lang") if request.args else None
    if requested in languages:
        if session.get("lang") != requested:
            session["lang"] = requested
        return requested
    if session.get("lang") in languages:
        return session["lang"]
    return (
        _best_language(request.headers.get("Accept-Language", ""), tuple(languages))
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


@lru_cache(maxsize=512)
def _best_language(accept_language: str, languages: tuple[str, ...]) -> str | None:
    """The best of ``languages`` for an ``Accept-Language`` header, parsed once per distinct
    header (phones send a handful of different ones)."""
    return parse_accept_header(accept_language, LanguageAccept).best_match(languages)


@cache
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


def babel_locale() -> Locale:
    """:func:`select_locale` as a ``babel.Locale``, parsed once per language (Flask-Babel's
    selector: ``Locale.parse`` looks for the locale's data file on disk every time)."""
    return _babel_locale(select_locale())


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def pick(texts: dict[str, Any], lang: str | None = None) -> str:
    """The text of a bilingual data entry (``{"vi": …, "en": …}``) in the current language."""
    lang = lang or current_language()
    return texts.get(lang) or texts.get("vi") or ""


def url_with(**changes: Any) -> str:
    """The current URL with some query parameters replaced (links keep the filters)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    return f"{request.path}?{urlencode(args)}"


def url_with_lang(lang: str) -> str:
    """The current URL with ``?lang=`` set, for the visible language switch."""
    return url_with(lang=lang)


#: Dates as Vietnamese offices write them (27/11/2026); in English, with the month's
#: name, so that 11/12 cannot be read either way.
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"vi": "HH:mm dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}


def local_date(value: date | str | None, fmt: str | None = None) -> str:
    """A date (or an ISO date string) in the current language's way of writing dates."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, fmt or DATE_PATTERNS.get(current_language(), "medium"))


def local_datetime(value: datetime | None, fmt: str | None = None) -> str:
    """A UTC datetime shown in the configured time zone and the current language."""
    if value is None:
        return ""
    return format_datetime(value, fmt or DATETIME_PATTERNS.get(current_language(), "short"))


def number(value: float | int | None, digits: int = 0, signed: bool = False) -> str:
    """A number with the current language's separators (25.654 and 86,7 in Vietnamese)."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, pattern)


def percent(value: float | None, digits: int = 1, signed: bool = False) -> str:
    """A share (0.867) as a percentage in the current language (86,7% in Vietnamese)."""
    return "—" if value is None else number(100 * value, digits, signed) + "%"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        pick=pick,
        url_with=url_with,
        url_with_lang=url_with_lang,
        current_language=current_language,
        pct=percent,
        number=number,
    )
    app.jinja_env.filters.update(
        local_datetime=local_datetime,
        dateformat=local_date,  # (Flask-Babel's, in the house pattern)
        number=number,
    )
