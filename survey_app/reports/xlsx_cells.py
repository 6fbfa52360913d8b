"""Cells and tables of the report workbook (write-only openpyxl): text through
:func:`~survey_app.core.spreadsheet.xlsx_row` (never a formula), numbers and dates typed
with the number format of their column's kind, bold shaded wrapped headers as high as
their longest one, frozen panes, and column widths fitted to the content within
bounds (:mod:`.xlsx_tables` lays out the sheets with them).
"""

from __future__ import annotations

from datetime import datetime

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..core.spreadsheet import xlsx_row
from ..core.time import local_tz, now_utc

#: Number formats by kind of column (``text`` cells have none).
FORMATS = {
    "int": "#,##0",
    "num": "#,##0.0",
    "num2": "0.00",
    "pct": "0.0%",
    "pct2": "0.00%",
    "points": "+0.0;-0.0;0.0",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}
#: How wide a value of each kind shows (characters), for the column widths.
SHOWN = {"pct": 7, "pct2": 8, "points": 6, "date": 11, "datetime": 17, "num2": 6}
MIN_WIDTH, MAX_WIDTH, HEADER_LINE = 8, 60, 18
#: Points per line of a wrapped header (Calibri 11).
LINE_HEIGHT = 15
HEADER_FILL = PatternFill("solid", fgColor="EEF3EF")
BOLD = Font(bold=True)
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _width(kind: str, value) -> int:
    if value is None:
        return 0
    if kind in SHOWN:
        return SHOWN[kind]
    if kind == "int":
        return len(f"{value:,}")
    if kind == "num":
        return len(f"{value:,.1f}")
    return max(len(line) for line in str(value).split("\n"))


def wrapped_lines(text: str, width: int) -> int:
    """How many lines ``text`` takes wrapped at ``width`` characters (greedy, by words)."""
    count, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            count, used = count + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return count


def write_table(
    wb,
    title: str,
    columns: list[tuple[str, str]],
    rows: list[list],
    *,
    freeze: str = "C2",
    totals: int = 0,
    widths: dict[int, int] | None = None,
    notes: list[str] = (),
):
    """A sheet of one table.

    :param columns: ``(header, kind)`` per column, kinds of :data:`FORMATS` or ``text``.
    :param totals: how many of the last rows are totals (bold).
    :param widths: fixed widths by column index, instead of fitting.
    :param notes: sentences under the table (after an empty row).
    """
    ws = wb.create_sheet(title)
    lines = 1
    for k, (header, kind) in enumerate(columns):
        head = max(min(len(header), HEADER_LINE), *(len(word) for word in header.split()))
        fitted = max([head] + [_width(kind, row[k]) for row in rows])
        width = (widths or {}).get(k) or max(MIN_WIDTH, min(MAX_WIDTH, fitted + 2))
        ws.column_dimensions[get_column_letter(k + 1)].width = width
        lines = max(lines, wrapped_lines(header, width - 2))
    ws.row_dimensions[1].height = LINE_HEIGHT * min(lines, 8)
    ws.freeze_panes = freeze
    ws.append(
        xlsx_row(ws, [c[0] for c in columns], font=BOLD, fill=HEADER_FILL, alignment=HEADER_ALIGN)
    )
    kinds = [kind for _, kind in columns]
    for k, row in enumerate(rows):
        ws.append(cells(ws, row, kinds, bold=k >= len(rows) - totals))
    if notes:
        ws.append([])
        for text in notes:
            ws.append(xlsx_row(ws, [text]))
    return ws


def cells(ws, values: list, kinds: list[str], bold: bool = False, **style) -> list:
    """A row's cells: text through :func:`xlsx_row` (typed as text, never a formula),
    numbers and dates typed with the format of their column's kind."""
    if bold:
        style["font"] = BOLD
    out = []
    for value, kind in zip(values, kinds, strict=True):
        if value is None or isinstance(value, str):
            if value is not None and style:
                out.append(xlsx_row(ws, [value], **style)[0])
            else:
                out.append(xlsx_row(ws, [value])[0])
            continue
        cell = WriteOnlyCell(ws, value=value)
        if kind in FORMATS:
            cell.number_format = FORMATS[kind]
        for name, attribute in style.items():
            setattr(cell, name, attribute)
        out.append(cell)
    return out


def local_now() -> datetime:
    """Now in the service's time zone, without the zone (Excel has none)."""
    return now_utc().astimezone(local_tz()).replace(tzinfo=None)


def local_datetime(iso: str | None) -> datetime | str | None:
    """An ISO date-time as a local one for Excel (a text that is not ISO as it is)."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).astimezone(local_tz()).replace(tzinfo=None)
    except ValueError:
        return iso
