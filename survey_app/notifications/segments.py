"""SMS encodings and segment counts.

An SMS carries 140 bytes. In the GSM 03.38 alphabet (GSM-7) that is 160 characters,
or 153 per part when the text is split (the rest of each part holds the header that
joins them); characters of the extension table (``{ } [ ] ~ \\ | ^ €``) take two.
Vietnamese with its diacritics is not in GSM-7: it goes as UCS-2, 70 characters, or
67 per part (characters outside the Basic Multilingual Plane, e.g. emoji, take two).

``SMS_ENCODING`` says which one the service uses, and nothing else decides it:

- ``ucs2`` (default): texts keep their diacritics; a text that happens to be all GSM-7
  characters goes as GSM-7 (same characters, cheaper), any other as UCS-2.
- ``gsm7``: diacritics are removed before sending (``Hồ sơ`` → ``Ho so``), on purpose
  and for every SMS, so each part holds 160/153 characters. The citizen reads the
  text without accents; the outbox row stores the text as sent.

The segment count is computed when the message is queued and stored in the outbox.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

ENCODINGS = ("ucs2", "gsm7")

#: Letters that NFKD does not take apart into a base letter and its marks.
_FOLD = {"đ": "d", "Đ": "D", "ơ": "o", "Ơ": "O", "ư": "u", "Ư": "U"}
#: Typographic characters people paste, with their GSM-7 equivalents.
_PUNCTUATION = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
}


@dataclass(frozen=True)
class SmsText:
    """A text as it will be sent: the characters, their encoding and how many parts."""

    text: str
    encoding: str  #: ``gsm7`` or ``ucs2``
    segments: int
    length: int  #: in the encoding's units (septets or UTF-16 code units)


def is_gsm7(text: str) -> bool:
    """True if every character of ``text`` is in the GSM-7 alphabet (basic or extension)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def strip_diacritics(text: str) -> str:
    """``text`` with Vietnamese diacritics removed and typographic punctuation made plain
    (``Phản ánh – “đã nhận”`` → ``Phan anh - "da nhan"``); other characters that GSM-7
    lacks become ``?``. Only used when ``SMS_ENCODING=gsm7``."""
    out = []
    for ch in text:
        ch = _PUNCTUATION.get(ch, _FOLD.get(ch, ch))
        if len(ch) > 1 or is_gsm7(ch):
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        base = "".join(_FOLD.get(c, c) for c in base)
        out.append(base if base and is_gsm7(base) else "?")
    return "".join(out)


def gsm7_length(text: str) -> int:
    """Septets: two for an extension-table character."""
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def ucs2_length(text: str) -> int:
    """UTF-16 code units: two for a character outside the Basic Multilingual Plane."""
    return len(text.encode("utf-16-le")) // 2


def segments_for(length: int, single: int, part: int) -> int:
    """Parts needed for ``length`` units: 1 up to ``single``, else ``ceil(length/part)``."""
    if length <= single:
        return 1
    return math.ceil(length / part)


def prepare(text: str, encoding: str = "ucs2") -> SmsText:
    """The text as sent under ``SMS_ENCODING`` = ``encoding``, with its segment count.

    :raises ValueError: for an unknown encoding.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"SMS_ENCODING must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    if encoding == "gsm7":
        text = strip_diacritics(text)
    if is_gsm7(text):
        length = gsm7_length(text)
        return SmsText(text, "gsm7", segments_for(length, 160, 153), length)
    length = ucs2_length(text)
    return SmsText(text, "ucs2", segments_for(length, 70, 67), length)


def fit(text: str, encoding: str, max_segments: int) -> SmsText:
    """:func:`prepare`, cut with ``...`` to at most ``max_segments``
    parts. Templates are written to fit (tests check them with the longest values);
    this is the guard for a value longer than foreseen, never a silent loss of the start."""
    prepared = prepare(text, encoding)
    if prepared.segments <= max_segments:
        return prepared
    ellipsis = "..."  # (an "…" would turn a GSM-7 text into UCS-2)
    cut = prepared.text
    while cut and prepare(cut + ellipsis, encoding).segments > max_segments:
        cut = cut[: max(len(cut) - 8, 0)] if len(cut) > 200 else cut[:-1]
    return prepare(cut.rstrip() + ellipsis, encoding)
