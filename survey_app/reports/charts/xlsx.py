"""The agencies chart as a native Excel chart beside the table it is drawn from
(openpyxl, write-only sheets), and the pieces the XLSX's charts share; the funnel
plot is in :mod:`.xlsx_funnel`.

As on the page and in the PDF (:mod:`.layout`): the headline indicator,
the value axis from a little below the lowest lower bound to 100 % with
percentage labels, the 90 % target as a labelled line in the legend, the verdict
by marker shape (Excel has no downward triangle: below the target is ✕) as well
as colour, low-reliability estimates hollow, chart and axis titles in
Vietnamese. The series read per-verdict helper columns, grouped and collapsed
beside the table (the chart plots hidden cells).
"""

from __future__ import annotations

from collections.abc import Callable

from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.chart.marker import Marker
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
    RichTextProperties,
)
from openpyxl.utils import get_column_letter

from ...core.spreadsheet import xlsx_value
from ..labels import VERDICT_VI
from .layout import (
    COLOURS,
    HEADLINE_VI,
    STATUS_ORDER,
    TARGET_COLOUR,
    bounds,
    low_reliability,
    share_axis,
    short_name,
    status_of,
)

#: Excel's marker of each verdict (its symbols have no downward triangle).
SYMBOLS = {
    "above_target": "triangle",
    "below_target": "x",
    "inconclusive": "diamond",
    "insufficient_data": "square",
    "inside": "diamond",
}
PERCENT = "0.0%"
Header = Callable[[object, list[str]], None]


def hex_colour(colour: str) -> str:
    return colour.lstrip("#").upper()


def number_cell(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = "#,##0.0"
    return cell


def pct_cell(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = PERCENT
    return cell


def target_text(target: float) -> str:
    return f"Mục tiêu {100 * target:.0f} %"


def rotated(degrees: int) -> RichText:
    """9 pt text turned by ``degrees`` (negative: reading upwards)."""
    return RichText(
        bodyPr=RichTextProperties(rot=degrees * 60000, vert="horz"),
        p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=900)), endParaRPr=None)],
    )


def tint(colour: str, share: float = 0.3) -> str:
    """``colour`` mixed with white: ``share`` of the colour."""
    rgb = [int(colour.lstrip("#")[k : k + 2], 16) for k in (0, 2, 4)]
    return "".join(f"{round(255 - share * (255 - c)):02X}" for c in rgb)


def markers_only(series, status: str, hollow: bool = False) -> None:
    """Markers of the verdict's shape, no line; ``hollow`` (low reliability): a pale
    inside (LibreOffice draws a white one without its outline)."""
    colour = hex_colour(COLOURS[status])
    series.marker = Marker(symbol=SYMBOLS[status], size=9 if hollow else 8)
    series.marker.graphicalProperties = GraphicalProperties(
        solidFill=tint(COLOURS[status]) if hollow else colour
    )
    series.marker.graphicalProperties.line.solidFill = colour
    series.marker.graphicalProperties.line.width = 19050
    series.graphicalProperties.line.noFill = True
    series.smooth = False


def line_only(series, colour: str, width: int = 19050, dash: str | None = None) -> None:
    series.marker = Marker(symbol="none")
    series.graphicalProperties.line.solidFill = hex_colour(colour)
    series.graphicalProperties.line.width = width
    if dash:
        series.graphicalProperties.line.dashStyle = dash
    series.smooth = False


def _ref(ws, col: int, first: int, last: int) -> str:
    letter = get_column_letter(col)
    return f"'{ws.title.replace(chr(39), chr(39) * 2)}'!${letter}${first}:${letter}${last}"


def landscape(ws) -> None:
    """Printed on landscape pages one page wide: the table and its chart side by side."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def show_axes(chart) -> None:
    # openpyxl 3.1 writes <c:delete val="1"/> unless told: Excel would hide the axes
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def title_of(text: str, size: int = 1300) -> Title:
    """A chart or axis title at ``size`` hundredths of a point, bold."""
    props = CharacterProperties(sz=size, b=True)
    paragraph = Paragraph(
        pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)]
    )
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def interval_sheet(ws, rows: list[dict], target: float, headline: str, header: Header) -> None:
    """The interval chart's sheet: the table (agencies best first: result, interval,
    verdict, reliability, respondents) and a line chart of markers only: one series
    per verdict (and per verdict of low reliability, hollow), its interval as error
    bars, the target as a line.

    :param rows: the report's agency rows; :param headline: the indicator plotted;
    :param header: writes the sheet's bold, frozen header row.
    """
    ws.title = "Biểu đồ khoảng tin cậy"
    landscape(ws)
    data = [{"name": r["name"]} | ((r.get("q0") or {}) if headline == "q0" else r) for r in rows]
    data = [r for r in data if r.get("index") is not None]
    data.sort(key=lambda r: (status_of(r) == "insufficient_data", -r["index"], r["name"]))
    groups = [
        (s, hollow)
        for s in STATUS_ORDER
        for hollow in (False, True)
        if any(status_of(r) == s and low_reliability(r) == hollow for r in data)
    ]
    widths = {"A": 8, "B": 42, "C": 18, "D": 16, "E": 15, "F": 15, "G": 18, "H": 16, "I": 16}
    for letter, w in widths.items():
        ws.column_dimensions[letter].width = w
    helper = 11  # column K: the chart's series, three columns per group, then the target
    goal_col = helper + 3 * len(groups)
    ws.column_dimensions.group(
        get_column_letter(helper), get_column_letter(goal_col), hidden=True, outline_level=1
    )
    head = [
        "Thứ tự",
        "Cơ quan",
        "Tên ngắn",
        HEADLINE_VI[headline],
        "Cận dưới 95 %",
        "Cận trên 95 %",
        "Kết luận",
        "Độ tin cậy thấp",
        "Số người trả lời",
        "",
    ]
    for s, hollow in groups:
        head += [_group_title(s, hollow), "khoảng dưới", "khoảng trên"]
    head.append(target_text(target))
    header(ws, head)
    for k, r in enumerate(data, start=1):
        low, high = r.get("ci_low"), r.get("ci_high")
        row = [
            k,
            xlsx_value(r["name"]),
            xlsx_value(short_name(r["name"])),
            pct_cell(ws, r["index"]),
            pct_cell(ws, low),
            pct_cell(ws, high),
            VERDICT_VI[status_of(r)],
            "có" if low_reliability(r) else "",
            r.get("n"),
            None,
        ]
        for group in groups:
            if group == (status_of(r), low_reliability(r)):
                row += [
                    r["index"],
                    None if low is None else r["index"] - low,
                    None if high is None else high - r["index"],
                ]
            else:
                row += [None, None, None]
        row.append(target)
        ws.append(row)
    if not data:
        return
    last = len(data) + 1
    chart = LineChart()
    chart.title = title_of(f"{HEADLINE_VI[headline]} theo cơ quan (khoảng tin cậy 95 %)")
    chart.style = 12
    chart.visible_cells_only = False
    chart.display_blanks = "gap"
    chart.x_axis.title = title_of("Cơ quan, cao nhất bên trái", 1000)
    chart.y_axis.title = title_of(HEADLINE_VI[headline], 1000)
    chart.y_axis.number_format = "0%"
    lo, hi, step = share_axis(bounds(data), target)
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = lo, hi
    chart.y_axis.majorUnit = step
    chart.x_axis.txPr = rotated(-45)
    show_axes(chart)
    # the target first, so that the marks are drawn over it
    goal = Series(
        Reference(ws, min_col=goal_col, min_row=2, max_row=last), title=target_text(target)
    )
    line_only(goal, TARGET_COLOUR, 38100)
    chart.series.append(goal)
    for j, (s, hollow) in enumerate(groups):
        col = helper + 3 * j
        series = Series(
            Reference(ws, min_col=col, min_row=2, max_row=last), title=_group_title(s, hollow)
        )
        markers_only(series, s, hollow)
        bars = GraphicalProperties()
        bars.line.solidFill = hex_colour(COLOURS[s])
        bars.line.width = 22225
        if hollow:
            bars.line.prstDash = "dash"
        series.errBars = ErrorBars(
            errDir="y",
            errBarType="both",
            errValType="cust",
            noEndCap=True,
            minus=NumDataSource(numRef=NumRef(f=_ref(ws, col + 1, 2, last))),
            plus=NumDataSource(numRef=NumRef(f=_ref(ws, col + 2, 2, last))),
            spPr=bars,
        )
        chart.series.append(series)
    chart.set_categories(Reference(ws, min_col=3, min_row=2, max_row=last))
    chart.legend.position = "t"
    chart.width, chart.height = max(24, 0.75 * len(data)), 15
    ws.add_chart(chart, f"{get_column_letter(goal_col + 2)}2")


def _group_title(status: str, hollow: bool) -> str:
    return VERDICT_VI[status] + (", độ tin cậy thấp (dấu nhạt, khoảng nét đứt)" if hollow else "")
