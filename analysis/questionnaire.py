"""The questionnaire structure the indices need: items, elements, weights.

Read from the versioned questionnaire JSON by path, so ``analysis`` never
imports the web application.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The questionnaire shipped with the application.
DEFAULT_QUESTIONNAIRE = (
    Path(__file__).resolve().parents[1] / "survey_app/surveys/questionnaires/sipas-2023.1.json"
)


@dataclass(frozen=True)
class Element:
    """One SIPAS element: its code, its weight in the composite, its item codes."""

    code: str
    weight: float
    items: tuple[str, ...]


@dataclass(frozen=True)
class Questionnaire:
    """Item → element map of one questionnaire version.

    :ivar version: e.g. ``"sipas-2023.1"``.
    :ivar overall: code of the one-tap overall item (``"Q0"``); it is an item
        in the output but not part of the composite index.
    :ivar elements: the elements in questionnaire order.
    :ivar satisfied_values: answers counted as satisfied (4 and 5).
    """

    version: str
    overall: str
    elements: tuple[Element, ...]
    satisfied_values: tuple[int, ...] = (4, 5)

    @property
    def composite_items(self) -> tuple[str, ...]:
        """Codes of the items that enter the composite index, in order."""
        return tuple(code for element in self.elements for code in element.items)

    @property
    def item_codes(self) -> tuple[str, ...]:
        """All item codes reported: the overall item first, then the composite items."""
        return (self.overall, *self.composite_items)

    @property
    def element_codes(self) -> tuple[str, ...]:
        return tuple(element.code for element in self.elements)

    def element_matrix(self) -> np.ndarray:
        """``(n_elements, n_items)`` 0/1 membership over :attr:`item_codes` (Q0 in none)."""
        codes = self.item_codes
        member = np.zeros((len(self.elements), len(codes)), dtype=bool)
        for e, element in enumerate(self.elements):
            for item in element.items:
                member[e, codes.index(item)] = True
        return member

    def element_weights(self) -> np.ndarray:
        """Element weights ``c_e`` normalised to sum to 1."""
        weights = np.array([element.weight for element in self.elements], dtype=np.float64)
        if np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("element weights must be non-negative and not all zero")
        return weights / weights.sum()


def load_questionnaire(path: str | Path | None = None) -> Questionnaire:
    """Read a questionnaire JSON file.

    :param path: the file; default :data:`DEFAULT_QUESTIONNAIRE`.
    :return: its :class:`Questionnaire`.
    """
    data = json.loads(Path(path or DEFAULT_QUESTIONNAIRE).read_text(encoding="utf-8"))
    elements = tuple(
        Element(
            code=element["code"],
            weight=float(element.get("weight", 1)),
            items=tuple(item["code"] for item in element["items"]),
        )
        for element in data["elements"]
    )
    return Questionnaire(
        version=data["version"],
        overall=data["overall"]["code"],
        elements=elements,
        satisfied_values=tuple(int(v) for v in data.get("satisfied_values", (4, 5))),
    )
