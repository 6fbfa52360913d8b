"""Cells for the CSV and XLSX files the service writes: text that never runs as a formula.

Excel, LibreOffice and Google Sheets take a cell that begins with ``=``,
``+``, ``-`` or ``@`` (or a tab or carriage return) for a formula, so a
citizen, an agency or a counter named ``=HYPERLINK("http://…")`` would become
a live formula in the spreadsheet a coordinator opens (CSV or formula
injection). Following OWASP's guidance, every text cell of every export goes
through this module, and a text that would start a formula gets a leading
``'`` (the spreadsheet shows it as text, and so does a reader of the raw
file). Numbers stay numbers: only ``str`` values are touched, so the columns
``python -m analysis`` reads as numbers are written as before.

A CSV file has one more way in: a spreadsheet set to another list separator
(Vietnamese Windows uses ``;``) starts a cell after every ``;``, and a line
break inside a quoted field then starts a new row. So in CSV text a ``'`` is
also put after a ``,``, ``;``, tab or line break that a formula character
follows. An XLSX cell has no separators: there only its beginning matters,
and its type is set to text explicitly.

- :func:`safe_text`: one text neutralised (the beginning of the cell).
- :func:`csv_writer`: a :func:`csv.writer` whose rows are neutralised.
- :func:`xlsx_row`: write-only XLSX cells, text typed as text.
- :func:`csv_document`, :func:`xlsx_document`: a whole file of one table.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: Characters that make a spreadsheet read a cell as a formula (OWASP), with their
#: full-width forms, which Excel also accepts in East Asian locales.
FORMULA_CHARS = "=+-@\uff1d\uff0b\uff0d\uff20"
#: A cell that starts a formula: a tab or carriage return, or a formula character
#: after any blanks and double quotes (which spreadsheets skip or strip).
_FORMULA_START = re.compile(rf"[\t\r]|[\s\"]*[{re.escape(FORMULA_CHARS)}]")
#: In CSV text, a separator or line break followed by a formula start: where a
#: spreadsheet with another list separator would begin a new cell.
_CSV_CELL_BREAK = re.compile(rf"([,;\t\r\n])(?={_FORMULA_START.pattern})")


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet cell shows it but never evaluates it.

    :param text: any text (names, codes, free text).
    :return: ``text`` with a leading ``'`` when it would start a formula
        (begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return,
        possibly after blanks or quotes); ``text`` unchanged otherwise.
    """
    return "'" + text if _FORMULA_START.match(text) else text


def csv_text(text: str) -> str:
    """``text`` for a CSV cell: :func:`safe_text`, and a ``'`` after every separator
    or line break that a formula character follows (see the module's docstring)."""
    return csv_cell(text)


def csv_cell(value: Any) -> Any:
    """A value for :mod:`csv`: text neutralised, ``None`` empty, numbers unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    if _CSV_CELL_BREAK.search(text) is not None:
        text = _CSV_CELL_BREAK.sub(r"\1'", text)
    return "'" + text if _FORMULA_START.match(text) else text


class _SafeWriter:
    """A :func:`csv.writer` that neutralises every cell it writes."""

    def __init__(self, out: TextIO, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]):
        cell = csv_cell
        return self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO, **kwargs) -> _SafeWriter:
    """A CSV writer for exports: like :func:`csv.writer` (same arguments), but each
    text cell goes through :func:`csv_text` and ``None`` is written empty.

    :param out: a text stream opened with ``newline=""``.
    """
    return _SafeWriter(out, **kwargs)


def xlsx_value(value: Any) -> Any:
    """A value for an XLSX cell: text neutralised and without the control characters
    the format cannot hold; anything else (numbers, dates, ``None``) unchanged."""
    if isinstance(value, str):
        return safe_text(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def xlsx_row(ws, values: Iterable[Any], **style) -> list:
    """A row for ``ws.append`` (a write-only sheet): text typed as text, never as a
    formula, whatever it begins with.

    Without ``style`` the values themselves, neutralised: openpyxl types a ``str``
    as a formula only when it begins with ``=``, which :func:`xlsx_value` never
    returns, so they are written as text; this spares a cell object per value
    (the XLSX of 24,000 cases took half as long again with them). With
    ``style``, cells typed as text explicitly.

    :param style: cell attributes set on every cell (``font``, ``fill``…).
    """
    if not style:
        return [xlsx_value(value) for value in values]
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=xlsx_value(value))
        if isinstance(value, str):
            cell.data_type = "s"
        for name, attribute in style.items():
            setattr(cell, name, attribute)
        cells.append(cell)
    return cells


def csv_document(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = False) -> str:
    """A whole CSV file, every cell neutralised.

    :param bom: start with a byte-order mark, so Excel reads the file as UTF-8.
    """
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "") + out.getvalue()


def xlsx_document(title: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A workbook of one sheet (written row by row), every text cell typed as text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(xlsx_row(sheet, header))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
