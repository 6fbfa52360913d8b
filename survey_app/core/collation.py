"""Vietnamese alphabetical order, for menus and lists of agencies and counters.

Python's ``sorted`` compares code points: "Đ" (U+0110) comes after "Z", "Ă" after
"Y", and "á" after "b". A Vietnamese reader expects the alphabet
``a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y``, with the tones
(huyền, sắc, hỏi, ngã, nặng) ignored at first and only breaking ties, in that
order after the level tone; upper and lower case break the remaining ties. That
is what ICU's Vietnamese collation does; PyICU is a heavy compiled dependency for
one sort key, so this module builds the key from the Unicode decomposition.

Digits sort before letters and a run of digits compares by its value
("Quầy số 2" before "Quầy số 10"); spaces and punctuation before both, so a
shorter word comes first ("Sở Y" before "Sở Yên").

- :func:`vi_key`: the sort key of a text.
- :func:`vi_sorted`: a list sorted by a text attribute.
- :func:`tree_sorted`: agencies in tree order, siblings in Vietnamese order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

#: The letters in alphabetical order, as base letter + vowel mark (after decomposition).
_ALPHABET = [
    "a",
    "a\u0306",  # ă
    "a\u0302",  # â
    "b",
    "c",
    "d",
    "đ",
    "e",
    "e\u0302",  # ê
    "f",  # (foreign words and names: where the Latin alphabet puts them)
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "o\u0302",  # ô
    "o\u031b",  # ơ
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "u\u031b",  # ư
    "v",
    "w",
    "x",
    "y",
    "z",
]
_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
#: The vowel marks that make a letter of its own (breve, circumflex, horn).
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
#: The tones, in dictionary order after the level tone (0): huyền, sắc, hỏi, ngã, nặng.
_TONES = {"\u0300": 1, "\u0301": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}
_TOKEN = re.compile(r"\d+|\s+|.", re.S)

#: Primary weights: blanks < other symbols < numbers < letters.
_BLANK, _SYMBOL, _NUMBER, _LETTER = 0, 1, 2, 3


def _letters(text: str) -> list[tuple[str, int, bool]]:
    """``text`` as (letter, tone, upper case) per base character, marks folded in."""
    out: list[tuple[str, int, bool]] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out:
            base, tone, upper = out[-1]
            if ch in _LETTER_MARKS:
                out[-1] = (base + ch, tone, upper)
            elif ch in _TONES:
                out[-1] = (base, _TONES[ch], upper)
            continue  # any other mark: ignored, as ICU does at the first level
        out.append((ch.lower(), 0, ch != ch.lower()))
    return out


def vi_key(text: str | None) -> tuple:
    """A sort key putting ``text`` in Vietnamese alphabetical order.

    Three levels, as a collation has: the letters (with "đ" after "d", "ă" and "â"
    after "a"…), then the tones, then the case.

    :param text: any text (None sorts as empty).
    :return: a tuple to give ``sorted(..., key=...)``.
    """
    primary: list[tuple] = []
    tones: list[int] = []
    cases: list[bool] = []
    # composed first, so that a letter and its marks stay in one token
    for token in _TOKEN.findall(unicodedata.normalize("NFC", text or "")):
        if token.isdigit():
            primary.append((_NUMBER, int(token)))
            continue
        if token.isspace():
            primary.append((_BLANK,))
            continue
        for letter, tone, upper in _letters(token):
            if letter in _RANK:
                primary.append((_LETTER, _RANK[letter]))
            elif letter.isalpha():  # another script: after the Vietnamese letters
                primary.append((_LETTER, len(_RANK), letter))
            else:
                primary.append((_SYMBOL, letter))
            tones.append(tone)
            cases.append(upper)
    # upper case after lower case at the third level, as ICU's default
    return (tuple(primary), tuple(tones), tuple(cases), text or "")


def vi_sorted(items: Iterable[T], key: Callable[[T], str | None] = lambda x: x) -> list[T]:
    """``items`` sorted by ``key(item)`` in Vietnamese alphabetical order."""
    return sorted(items, key=lambda item: vi_key(key(item)))


def tree_sorted(agencies: Iterable[T]) -> list[T]:
    """Agencies (with ``id``, ``name``, ``path`` as ``/1/4/``) in tree order: each agency
    followed by the agencies below it, siblings in Vietnamese alphabetical order.

    An agency whose parent is not in ``agencies`` (outside a user's scope) is placed as
    a root.
    """
    items = list(agencies)
    by_id = {a.id: a for a in items}
    children: dict[int | None, list[T]] = {}
    for a in items:
        ids = [int(p) for p in a.path.strip("/").split("/") if p]
        parent = ids[-2] if len(ids) >= 2 else None
        children.setdefault(parent if parent in by_id else None, []).append(a)
    out: list[T] = []

    def walk(parent: int | None) -> None:
        for a in vi_sorted(children.get(parent, ()), key=lambda a: a.name):
            out.append(a)
            walk(a.id)

    walk(None)
    return out
