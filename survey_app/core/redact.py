"""Remove the personal data people write into free text before it is shown publicly."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(\+?84|0)[\s.\-]?\d{2,3}([\s.\-]?\d{3}){2}\d?(?!\d)")
#: 9- or 12-digit identity numbers (CMND, CCCD) and long account numbers.
_ID = re.compile(r"(?<!\d)\d{9,16}(?!\d)")


def redact(text: str | None) -> str:
    """Mask e-mail addresses, phone numbers and ID numbers in ``text``."""
    if not text:
        return ""
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[số điện thoại]", text)
    return _ID.sub("[số]", text)
