"""Reading what requests carry: ids, and text fit to store.

Ids: ASCII digits within the range of an id column, or nothing.

``str.isdigit()`` is true for "¹" and "٣" and for numbers no id column holds,
so ``int(x) if x.isdigit()`` turns odd input into a server error (or a
database error on PostgreSQL). Every id that comes from a request goes
through :func:`parse_id` or the ``int`` URL converter below.

Text: NUL and the other C0 control characters (but tab and line breaks), and
lone UTF-16 surrogates that JSON can smuggle in, mean nothing in a citizen's
text and cannot be stored in PostgreSQL; :func:`clean_text` drops them, and
text is NFC-normalised so the same word is always stored the same way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from werkzeug.routing import IntegerConverter

#: The largest value of a 32-bit id column (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(value: object) -> int | None:
    """``value`` as a positive id if it is one (ASCII digits, at most :data:`MAX_ID`), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


class IdConverter(IntegerConverter):
    """``<int:…>`` in routes: ASCII digits up to :data:`MAX_ID`; anything else is a 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


#: No listing has this many pages; a larger number would only overflow the OFFSET.
MAX_PAGE = 100_000


def page_number(value: object) -> int:
    """``?page=`` as 1…:data:`MAX_PAGE`; anything else is the first page."""
    if isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        return min(max(int(value), 1), MAX_PAGE)
    return 1


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: Control characters other than tab and line breaks, C1 included: what an import or a
#: command refuses (rather than removes) in a name or a value.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """``value`` without control characters (tab and line breaks kept) or lone surrogates, NFC."""
    return unicodedata.normalize("NFC", _UNSTORABLE.sub("", value))


def form_text(name: str) -> str:
    """The request's form field ``name`` cleaned as :func:`clean_text` and stripped
    (empty if absent), for views that read a text without a WTForms form."""
    from flask import request

    value = request.form.get(name)
    return clean_text(value).strip() if value else ""


def clean_json(value: Any) -> Any:
    """A parsed JSON body with :func:`clean_text` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    return value


def json_body() -> Any:
    """The request's JSON body, cleaned as :func:`clean_json`; ``None`` if it is not
    JSON, or is nested deeper than Python reads (``[[[[…`` thousands deep)."""
    from flask import request

    try:
        return clean_json(request.get_json(silent=True))
    except RecursionError:
        return None
