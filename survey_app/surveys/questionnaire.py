"""The questionnaire, read from its versioned data file.

Files live in ``surveys/questionnaires/<version>.json``; a response records the
version it answered, and a file is never edited once responses point at it:
the checksum kept in the database catches that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

QUESTIONNAIRE_DIR = Path(__file__).resolve().parent / "questionnaires"
DEFAULT_VERSION = "sipas-2023.1"


@dataclass(frozen=True)
class Option:
    value: Any
    text: dict[str, str]


@dataclass(frozen=True)
class Question:
    code: str
    text: dict[str, str]
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Element:
    code: str
    text: dict[str, str]
    weight: float
    items: tuple[Question, ...]


@dataclass(frozen=True, eq=False)  # identity: one object per version (see load_questionnaire)
class Questionnaire:
    version: str
    checksum: str
    definition: dict[str, Any] = field(repr=False)
    title: dict[str, str]
    scale: tuple[Option, ...]
    not_applicable: dict[str, str]
    satisfied_values: frozenset[int]
    overall: Question
    elements: tuple[Element, ...]
    factual: tuple[Question, ...]
    profile: tuple[Question, ...]

    @property
    def items(self) -> tuple[Question, ...]:
        """The rated items of the five elements, in order (Q0 not included)."""
        return tuple(item for element in self.elements for item in element.items)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def element_of(self, item_code: str) -> Element:
        for element in self.elements:
            if any(item.code == item_code for item in element.items):
                return element
        raise KeyError(item_code)

    def factual_question(self, code: str) -> Question:
        return next(q for q in self.factual + self.profile if q.code == code)


def _options(raw: list[dict[str, Any]]) -> tuple[Option, ...]:
    return tuple(Option(o["value"], {k: v for k, v in o.items() if k != "value"}) for o in raw)


def _question(raw: dict[str, Any]) -> Question:
    return Question(
        code=raw["code"],
        text={"vi": raw["vi"], "en": raw["en"]},
        options=_options(raw.get("options", [])),
    )


def parse_questionnaire(text: str) -> Questionnaire:
    """Build a :class:`Questionnaire` from the JSON text of a questionnaire file.

    :raises ValueError: if the file is inconsistent (duplicate item codes,
        a scale other than 1–5, an element without items).
    """
    raw = json.loads(text)
    elements = tuple(
        Element(
            code=e["code"],
            text={"vi": e["vi"], "en": e["en"]},
            weight=float(e.get("weight", 1)),
            items=tuple(_question(i) for i in e["items"]),
        )
        for e in raw["elements"]
    )
    q = Questionnaire(
        version=raw["version"],
        checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        definition=raw,
        title=raw["title"],
        scale=_options(raw["scale"]),
        not_applicable=raw["not_applicable"],
        satisfied_values=frozenset(raw["satisfied_values"]),
        overall=_question(raw["overall"]),
        elements=elements,
        factual=tuple(_question(f) for f in raw.get("factual", [])),
        profile=tuple(_question(p) for p in raw.get("profile", [])),
    )
    codes = [q.overall.code, *q.item_codes]
    if len(codes) != len(set(codes)):
        raise ValueError(f"questionnaire {q.version}: duplicate item codes")
    if [o.value for o in q.scale] != [1, 2, 3, 4, 5]:
        raise ValueError(f"questionnaire {q.version}: the scale must be 1–5")
    if any(not e.items for e in elements) or not elements:
        raise ValueError(f"questionnaire {q.version}: every element needs items")
    if any(e.weight <= 0 for e in elements):
        raise ValueError(f"questionnaire {q.version}: element weights must be positive")
    return q


@cache
def load_questionnaire(version: str = DEFAULT_VERSION) -> Questionnaire:
    """Load (once per process) the questionnaire file of ``version``."""
    path = QUESTIONNAIRE_DIR / f"{version}.json"
    if not path.is_file() or path.parent != QUESTIONNAIRE_DIR:
        raise LookupError(f"no questionnaire file for version {version!r}")
    q = parse_questionnaire(path.read_text(encoding="utf-8"))
    if q.version != version:
        raise ValueError(f"{path.name} declares version {q.version!r}")
    return q


def available_versions() -> list[str]:
    return sorted(p.stem for p in QUESTIONNAIRE_DIR.glob("*.json"))
