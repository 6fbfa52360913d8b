"""CSV importers (interface; the full implementation follows)."""

from __future__ import annotations

from dataclasses import dataclass, field


class ImportFailed(Exception):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


IMPORTERS: dict = {}
