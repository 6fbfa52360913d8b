"""Click parameter types for the ``flask`` commands: what the web forms check, the
shell checks too, so a typo gives a usage error instead of a database traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from email_validator import EmailNotValidError, validate_email

from .params import CONTROL_CHARS


class Text(click.ParamType):
    """A non-blank, stripped, single-line string of at most ``max_length`` characters."""

    name = "text"

    def __init__(self, max_length: int = 255) -> None:
        self.max_length = max_length

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not text:
            self.fail("must not be blank", param, ctx)
        if len(text) > self.max_length:
            self.fail(f"at most {self.max_length} characters, got {len(text)}", param, ctx)
        if CONTROL_CHARS.search(text) or any(c in text for c in "\t\n\r"):  # one line
            self.fail("contains a control character", param, ctx)
        return text


class Day(click.DateTime):
    """A day written YYYY-MM-DD in the years ``first_year`` to ``last_year`` (the
    years reports are asked for: a day in year 1 or 9999 has no day around it)."""

    name = "day"

    def __init__(self, first_year: int = 2000, last_year: int = 2100) -> None:
        super().__init__(formats=["%Y-%m-%d"])
        self.first_year, self.last_year = first_year, last_year

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        day = super().convert(value, param, ctx)
        if not self.first_year <= day.year <= self.last_year:
            self.fail(
                f"{day:%Y-%m-%d} is outside the years {self.first_year}–{self.last_year}",
                param,
                ctx,
            )
        return day


class EmailAddress(click.ParamType):
    """An e-mail address as the staff form accepts it (without a DNS look-up), lower-cased."""

    name = "email"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if len(text) > 255:
            self.fail(f"at most 255 characters, got {len(text)}", param, ctx)
        try:
            return validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            self.fail(f"{text!r} is not a valid e-mail address: {exc}", param, ctx)


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Turn an :class:`OSError` raised while writing ``path`` (no such folder, no
    permission, disk full) into a :class:`click.ClickException` naming the path."""
    try:
        yield
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
