"""Vietnamese mobile numbers: the forms people write them in, and the forms gateways want.

People write ``0912 345 678``, ``0912.345.678``, ``(091) 234-5678``, ``+84 912 345 678``
or ``84912345678``; all are the same number, kept as ``0912345678`` (the national form
staff read) and sent as ``84912345678`` (what SMS gateways and Zalo's API take).

Mobile numbers have ten digits and start 03, 05, 07, 08 or 09 since the 2018
renumbering (the old 11-digit 01x numbers moved to 03x, 07x, 08x and 05x).
Landlines (02x) cannot receive SMS or Zalo messages and are not mobile numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app

#: What people put between digits.
_SEPARATORS = re.compile(r"[\s.\-()/]")
#: A mobile number in national form once the separators are gone.
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")
#: First digits of mobile numbers (after the leading 0).
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")


def normalise(value: str | None) -> str | None:
    """``value`` as a national mobile number ``0xxxxxxxxx``, or None if it is not one.

    :param value: as typed: spaces, dots, dashes, brackets, ``+84`` or ``84`` allowed.
    :return: ten digits starting 03, 05, 07, 08 or 09; None for anything else (a
        landline, too few or too many digits, letters).
    """
    if not value:
        return None
    digits = _SEPARATORS.sub("", value.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if digits.startswith("00"):  # "+84 0912…": the national 0 kept after the country code
        digits = digits[1:]
    return digits if _MOBILE.fullmatch(digits) else None


def is_landline(value: str | None) -> bool:
    """True for a Vietnamese landline (``02x`` and 11 digits): a real number that no
    SMS or Zalo message reaches."""
    digits = _SEPARATORS.sub("", (value or "").strip())
    for prefix in ("+84", "0084", "84"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 10:
            digits = "0" + digits[len(prefix) :]
            break
    return bool(_LANDLINE.fullmatch(digits))


def is_mobile(value: str | None) -> bool:
    """True if ``value`` is a Vietnamese mobile number in any of the usual forms."""
    return normalise(value) is not None


def international(value: str) -> str:
    """``84xxxxxxxxx`` (no plus): the form Zalo's API and most gateways take.

    :raises ValueError: if ``value`` is not a mobile number.
    """
    national = normalise(value)
    if national is None:
        raise ValueError("not a Vietnamese mobile number")
    return "84" + national[1:]


def mask(value: str | None) -> str:
    """``091****678``: enough for staff to tell numbers apart, not to call them."""
    national = normalise(value) or (value or "")
    if len(national) < 7:
        return "***"
    return national[:3] + "*" * (len(national) - 6) + national[-3:]


def keyed_hash(value: str) -> str:
    """An HMAC-SHA256 of the national form, keyed with the app's secret: the same
    number always gives the same hash (an opt-out can be matched), but the number
    cannot be read back from it, nor found by hashing all 10⁹ numbers without the key.
    """
    national = normalise(value) or value
    key = hashlib.sha256(("phone-hash:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, national.encode(), hashlib.sha256).hexdigest()


class MobilePhone:
    """WTForms validator: the field holds a Vietnamese mobile number (empty is left to
    ``Optional``/``DataRequired``). The data stays as typed, so a form shown again shows
    what the citizen wrote; it is stored in its national form ``0xxxxxxxxx``.

    It stops the field's validation with its message, so a form's older, looser
    ``validate_<field>`` check does not add a second message.
    """

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field) -> None:
        from wtforms.validators import StopValidation

        if not field.data:
            return
        national = normalise(field.data)
        if national is None:
            from ..feedback.services import phone_problem

            raise StopValidation(str(self.message or phone_problem(field.data)))
