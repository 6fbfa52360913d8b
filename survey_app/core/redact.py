"""Remove the personal data people write into free text before it is shown publicly.

One service for every public or masked surface: published answers and their
questions (``/feedback/answers``, Open311), report comments and masked exports.
It masks

- phone numbers as Vietnamese write them: ``0912 345 678``, ``(0912) 345 678``,
  ``09 12 34 56 78``, ``0912.345.678``, ``0912-345-678``, ``+84 912 345 678``,
  ``(+84) 912…``, ``84912345678``, landlines ``0220 3853 123``, old 11-digit
  mobiles, full-width digits, digits split by invisible characters;
- e-mail addresses, also written to dodge filters: ``an [at] gmail [dot] com``,
  ``an at gmail dot com``, ``an a còng gmail chấm com``, ``an @ gmail . com``;
- identity numbers (CMND 9 digits, CCCD 12 digits) and every other run of 9 or
  more digits (account numbers, dossier references), however grouped; sums of
  money written with their unit (``150.000.000 đồng``) and national procedure
  codes (``1.001193.000.00.00.H23``) are kept;
- names people introduce themselves with: ``tôi là Nguyễn Văn An``, ``tên tôi
  là …``, ``tôi tên là …``, ``em là …``, ``cháu là …``, ``họ tên: …``, ``người
  gửi: …``, with or without diacritics, capitalised or not (a lower-case name is
  recognised by its family name), and full names after ``ông``/``bà``/``anh``/
  ``chị``… (``ông Nguyễn Văn B``).

It errs on the side of masking: a published text loses a number now and then
rather than showing one person's phone. Staff see what the public will see
before they publish (the case page's preview) and write the public summary.

``redact(text) -> str`` is the API the other modules call; :func:`findings`
says what would be masked (the case page uses it to refuse a summary that still
holds personal data).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

#: What each kind of personal data is replaced with (Vietnamese: public pages are).
PHONE_MASK = "[số điện thoại]"
EMAIL_MASK = "[e-mail]"
NUMBER_MASK = "[số]"
NAME_MASK = "[họ tên]"

# -- normalisation ------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """NFC (so "Nguyễn" is one word, not letters and combining marks), without the
    invisible format characters (zero-width spaces, joiners, direction marks) that
    would otherwise split a phone number or a name in two."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _fold_char(ch: str) -> str:
    """One character, lower-case and without its diacritics (always one character)."""
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0].lower()
    return base if len(base) == 1 else ch


def _fold(text: str) -> str:
    """``text`` with every character folded: same length, same positions."""
    return "".join(_fold_char(ch) for ch in text)


# -- e-mail -------------------------------------------------------------------------------

_AT_WORDS = r"(?:at|a\s*còng|a\s*cong|acong)"
_DOT_WORDS = r"(?:dot|chấm|cham)"
_AT = rf"(?:\s*@\s*|\s*[\[(<{{]\s*{_AT_WORDS}\s*[\])>}}]\s*|\s+{_AT_WORDS}\s+)"
_DOT = rf"(?:\s?\.\s?|\s*[\[(<{{]\s*{_DOT_WORDS}\s*[\])>}}]\s*|\s+{_DOT_WORDS}\s+)"
# Possessive quantifiers and a start only where a word starts: linear time on any text.
_EMAIL = re.compile(
    rf"(?<![\w.+\-])[\w.+\-]++{_AT}(?P<domain>[\w\-]++(?:{_DOT}[\w\-]++)++)", re.IGNORECASE
)
_DOT_SPLIT = re.compile(rf"({_DOT})", re.IGNORECASE)
_TLD = re.compile(r"[a-zA-Z]{2,24}")


def _email_end(m: re.Match) -> int | None:
    """End of the address in an :data:`_EMAIL` match: its last label that can be a
    top-level domain ("gmail.com. Tôi" ends after "com"); None if there is none."""
    parts = _DOT_SPLIT.split(m.group("domain"))
    ends, pos = [], m.start("domain")
    for i, part in enumerate(parts):
        pos += len(part)
        if i % 2 == 0 and i >= 2 and _TLD.fullmatch(part):
            ends.append(pos)
    return ends[-1] if ends else None


# -- numbers ------------------------------------------------------------------------------

#: Between two groups of digits: one space, dot or dash, or a bracket with a space.
_SEP = r"(?:[ \u00a0]?[.\-][ \u00a0]?|[ \u00a0]|[ \u00a0]?\)[ \u00a0]?|[ \u00a0]?\([ \u00a0]?)"
_NUMBER = re.compile(rf"(?<!\d)(?:\(\s?)?(?:\+\s?)?\d+(?:{_SEP}\d+)*\)?")
#: Sums of money keep their digits when written with their unit.
_MONEY_AFTER = re.compile(
    r"\s?(?:đồng|đ\b|vnđ|vnd|dong\b|vn\s?d\b|triệu|nghìn|ngàn|tỷ|tỉ|usd|\$)", re.IGNORECASE
)
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,\s]\d{3})+")
#: National procedure codes: 1.001193, 1.001193.000.00.00.H23
_PROCEDURE_CODE = re.compile(r"\d\.\d{6}(?:\.\d{3}\.\d{2}\.\d{2})?")
#: Dates and periods: 15.12.2021, 15-12-2021 - 14-03-2022
_DATE = r"\d{1,2}[.\-]\d{1,2}[.\-]\d{4}"
_DATES = re.compile(rf"{_DATE}(?:\s?[\-–]\s?{_DATE})*")
#: The fewest digits that are masked: a 9-digit CMND; phones have 10 or more.
_MIN_DIGITS = 9


def _number_kind(run: str, following: str) -> str | None:
    """``"phone"``, ``"number"`` or None (kept) for a run of digits and separators."""
    digits = "".join(str(unicodedata.digit(ch)) for ch in run if ch.isdigit())
    if len(digits) < _MIN_DIGITS:
        return None
    core = run.strip("() \u00a0+")
    if _MONEY_AFTER.match(following) and _THOUSANDS.fullmatch(core):
        return None
    if _PROCEDURE_CODE.fullmatch(core) or _DATES.fullmatch(core):
        return None
    if (digits[0] == "0" and len(digits) in (10, 11)) or (
        digits.startswith("84") and len(digits) in (11, 12)
    ):
        return "phone"
    return "number"


# -- names --------------------------------------------------------------------------------

_LATIN = [chr(c) for c in (*range(0x41, 0x250), *range(0x1E00, 0x1F00))]
_UPPER = "".join(ch for ch in _LATIN if ch.isupper() and ch.isalpha())
_CAP_WORD = rf"[{re.escape(_UPPER)}][^\W\d_]*"
_CAP_NAME = re.compile(rf"{_CAP_WORD}(?:[ \t\u00a0]+{_CAP_WORD}){{0,3}}")
_WORD = re.compile(r"[^\W\d_]+")
_NEXT_WORD = re.compile(r"[ \t\u00a0]+([^\W\d_]+)")

#: Family names, so that a name typed in lower case is recognised ("tôi là nguyễn văn an").
SURNAMES = frozenset(
    """nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đào đoàn
    vương trịnh trương đinh lâm lưu tô hà cao quách chu tạ thái lương kiều tăng hứa châu
    đàm lại mạc khúc tôn thân nông triệu diệp phùng từ lò lục mẫn hầu giáp""".split()
)
_SURNAMES_FOLDED = frozenset(_fold(s) for s in SURNAMES)
#: Words that end a lower-case name (what people write after their name).
_AFTER_NAME = frozenset(
    # (not "thị", "minh", "hiền", "chi", "tú"…: they are names too)
    """o song den co da muon xin va la tru so sdt dt dien thoai email mail nha xa phuong
    huyen tinh thon xom sinh can bo quay nguoi cua de ve khi ma nhung nay toi em chau
    gui phan kien nghi viec nop cccd cmnd dia lien he theo hien""".split()
)

# Triggers are matched on the folded text (no diacritics, lower case).
#: A label: what follows is a name (one word is enough).
_LABEL = re.compile(
    r"(?<![^\W\d_])(?:"
    r"ho\s+(?:va\s+)?ten(?:\s+(?:la|cua\s+toi|nguoi\s+gui))?"
    r"|ten\s+(?:toi|em|chau|minh|con|cua\s+toi)(?:\s+la)?"
    r"|(?:toi|em|chau|minh|con)\s+ten(?:\s+la)?"
    r"|nguoi\s+(?:gui|phan\s+anh|kien\s+nghi|viet|lam\s+don)"
    r"|ky\s+ten|ky\s+boi"
    r")(?![^\W\d_])\s*[:\-–]?\s*"
)
#: "là": only what looks like a name (two capitalised words, or one followed by
#: punctuation, not a title; or a family name in lower case) is masked, so "tôi là
#: Cán bộ xã" and "thủ tục tên là Đăng ký khai sinh" stay.
_INTRO = re.compile(
    r"(?<![^\W\d_])(?:(?:toi|em|chau|minh|con)\s+la|ten\s+la|tran\s+trong\s*,?"
    r"|chu\s+ky\s*:?)(?![^\W\d_])\s*[:\-–]?\s*"
)
#: Honorifics (with their diacritics: "có", "chỉ" are not "cô", "chị"): a full name
#: after one, beginning with a family name, is masked ("ông Nguyễn Văn B"; not "chị Lan").
_HONORIFIC = re.compile(
    r"(?<![^\W\d_])(?:ông|bà|anh|chị|cô|chú|bác|cụ)(?![^\W\d_])[ \t]+", re.IGNORECASE
)
#: Capitalised words that begin a title or an office, not a name ("Tôi là Chủ tịch xã").
_TITLES = frozenset(
    # (not "Thanh", "Trung", "Công", "Chi", "Thư", "Văn": given names too)
    """chủ phó giám trưởng cán người nhân viên sinh học ban sở phòng ủy uỷ ubnd hđnd bộ
    đại hội tổ cục tòa toà viện bệnh trường quầy hộ bí kế chuyên kiểm thủ tổng cựu chiến
    thương cha mẹ chồng vợ con dân giáo bác kỹ luật đảng xã phường huyện tỉnh thôn xóm
    ấp""".split()
)
_WORD_FOLLOWS = re.compile(r"[ \t\u00a0]+[^\W\d_]")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text: where, and what kind."""

    start: int
    end: int
    #: ``phone``, ``email``, ``number`` or ``name``.
    kind: str


def _lower_case_name(text: str, folded: str, start: int, *, label: bool) -> int | None:
    """End of a lower-case (or unrecognised) name starting at ``start``, or None.

    After a label any 1–4 words count; after "tôi là" the first must be a family name.
    """
    m = _WORD.match(text, start)
    if m is None:
        return None
    if not (label or _is_surname(m.group(), folded[m.start() : m.end()])):
        return None
    end = m.end()
    for _ in range(3):
        m = _NEXT_WORD.match(text, end)
        if m is None or folded[m.start(1) : m.end(1)] in _AFTER_NAME:
            break
        end = m.end()
    return end


def _is_surname(word: str, folded: str) -> bool:
    """True for a family name, with its diacritics or typed without any."""
    word = word.lower()
    return word in SURNAMES or (word == folded and folded in _SURNAMES_FOLDED)


def _name_findings(text: str, folded: str) -> Iterator[Finding]:
    for trigger in _LABEL.finditer(folded):  # "họ tên:" — whatever follows is a name
        start = trigger.end()
        cap = _CAP_NAME.match(text, start)
        end = cap.end() if cap else _lower_case_name(text, folded, start, label=True)
        if end is not None:
            yield Finding(start, end, "name")
    for trigger in _INTRO.finditer(folded):  # "tôi là" — only what looks like a name
        start = trigger.end()
        cap = _CAP_NAME.match(text, start)
        if cap is not None:
            words = cap.group().split()
            alone = not _WORD_FOLLOWS.match(text, cap.end())
            if words[0].lower() not in _TITLES and (len(words) >= 2 or alone):
                yield Finding(start, cap.end(), "name")
                continue
        end = _lower_case_name(text, folded, start, label=False)
        if end is not None:
            yield Finding(start, end, "name")
    for trigger in _HONORIFIC.finditer(text):  # "ông Nguyễn Văn B": a full name
        cap = _CAP_NAME.match(text, trigger.end())
        if cap is not None and len(words := cap.group().split()) >= 2:
            first = words[0]
            if _is_surname(first, folded[cap.start() : cap.start() + len(first)]):
                yield Finding(trigger.end(), cap.end(), "name")


def _findings_in(text: str) -> list[Finding]:
    """Every finding of a normalised text, in order; overlapping ones are merged."""
    found: list[Finding] = []
    for m in _EMAIL.finditer(text):
        if (end := _email_end(m)) is not None:
            found.append(Finding(m.start(), end, "email"))
    for m in _NUMBER.finditer(text):
        kind = _number_kind(m.group(), text[m.end() : m.end() + 8])
        if kind is not None:
            start, end = m.start(), m.end()
            run = m.group()
            # a bracket opened before the number and not closed in it is the text's
            if run.startswith("(") and ")" not in run:
                start += 1
            if run.endswith(")") and "(" not in run:
                end -= 1
            found.append(Finding(start, end, kind))
    found.extend(_name_findings(text, _fold(text)))
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for f in found:
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            if f.end > last.end:
                merged[-1] = Finding(last.start, f.end, last.kind)
            continue
        merged.append(f)
    return merged


_MASKS = {"phone": PHONE_MASK, "email": EMAIL_MASK, "number": NUMBER_MASK, "name": NAME_MASK}


def _redact_normalised(text: str) -> str:
    out, pos = [], 0
    for f in _findings_in(text):
        out.append(text[pos : f.start])
        out.append(_MASKS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str | None) -> str:
    """``text`` with phone numbers, e-mail addresses, ID numbers (and other long
    numbers) and self-introduced names masked; "" for None or "".

    The result is what may be shown publicly. Redacting it again changes nothing.

    :param text: free text a citizen (or staff) wrote.
    :return: the text, normalised (NFC, no invisible format characters), with each
        piece of personal data replaced by :data:`PHONE_MASK`, :data:`EMAIL_MASK`,
        :data:`NUMBER_MASK` or :data:`NAME_MASK`.
    """
    if not text:
        return ""
    text = _normalise(text)
    # Repeat until nothing changes: masking can make a name's trigger meet its name
    # ("tôi là [số] Nguyễn…" does not happen, but "em là" after an e-mail could).
    for _ in range(3):
        redacted = _redact_normalised(text)
        if redacted == text:
            break
        text = redacted
    return text


def findings(text: str | None) -> list[Finding]:
    """What :func:`redact` would mask in ``text`` (positions in its normalised form).

    :param text: the text to examine.
    :return: the findings in order; empty when the text may be published as it is.
    """
    if not text:
        return []
    return _findings_in(_normalise(text))


def contains_personal_data(text: str | None) -> bool:
    """True when :func:`redact` would change ``text`` beyond normalising it."""
    if not text:
        return False
    return redact(text) != _normalise(text)
