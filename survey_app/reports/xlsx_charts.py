"""The report's two charts as native Excel charts, each beside the table it is drawn
from (openpyxl, write-only sheets).

As on the page and in the PDF (:mod:`.chart_layout`): the headline indicator,
the value axis from a little below the lowest lower bound to 100 % with
percentage labels, the 90 % target as a labelled line in the legend, the verdict
by marker shape (Excel has no downward triangle: below the target is ✕) as well
as colour, low-reliability estimates hollow, chart and axis titles in
Vietnamese. The series read per-verdict helper columns, grouped and collapsed
beside the table (the chart plots hidden cells).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.legend import LegendEntry
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

from ..core.spreadsheet import xlsx_value
from .chart_layout import (
    COLOURS,
    HEADLINE_VI,
    POSITION_STATUS,
    STATUS_ORDER,
    TARGET_COLOUR,
    Box,
    bounds,
    funnel_position,
    low_reliability,
    place_labels,
    share_axis,
    short_name,
    status_of,
    text_width,
)
from .labels import VERDICT_VI

#: Excel's marker of each verdict (its symbols have no downward triangle).
SYMBOLS = {
    "above_target": "triangle",
    "below_target": "x",
    "inconclusive": "diamond",
    "insufficient_data": "square",
    "inside": "diamond",
}
POSITION_VI = {
    "below": "Dưới giới hạn (kém hơn mục tiêu ngoài mức ngẫu nhiên)",
    "inside": "Trong phễu (chưa khác rõ so với mục tiêu)",
    "above": "Trên giới hạn (tốt hơn mục tiêu ngoài mức ngẫu nhiên)",
}
PERCENT = "0.0%"
#: At most this many agencies outside the funnel are named on the chart (each is a series).
MAX_LABELS = 30
Header = Callable[[object, list[str]], None]


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


def _number(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = "#,##0.0"
    return cell


def _pct(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = PERCENT
    return cell


def _target_text(target: float) -> str:
    return f"Mục tiêu {100 * target:.0f} %"


def _rotated(degrees: int) -> RichText:
    """9 pt text turned by ``degrees`` (negative: reading upwards)."""
    return RichText(
        bodyPr=RichTextProperties(rot=degrees * 60000, vert="horz"),
        p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=900)), endParaRPr=None)],
    )


def _tint(colour: str, share: float = 0.3) -> str:
    """``colour`` mixed with white: ``share`` of the colour."""
    rgb = [int(colour.lstrip("#")[k : k + 2], 16) for k in (0, 2, 4)]
    return "".join(f"{round(255 - share * (255 - c)):02X}" for c in rgb)


def _markers_only(series, status: str, hollow: bool = False) -> None:
    """Markers of the verdict's shape, no line; ``hollow`` (low reliability): a pale
    inside (LibreOffice draws a white one without its outline)."""
    colour = _hex(COLOURS[status])
    series.marker = Marker(symbol=SYMBOLS[status], size=9 if hollow else 8)
    series.marker.graphicalProperties = GraphicalProperties(
        solidFill=_tint(COLOURS[status]) if hollow else colour
    )
    series.marker.graphicalProperties.line.solidFill = colour
    series.marker.graphicalProperties.line.width = 19050
    series.graphicalProperties.line.noFill = True
    series.smooth = False


def _line_only(series, colour: str, width: int = 19050, dash: str | None = None) -> None:
    series.marker = Marker(symbol="none")
    series.graphicalProperties.line.solidFill = _hex(colour)
    series.graphicalProperties.line.width = width
    if dash:
        series.graphicalProperties.line.dashStyle = dash
    series.smooth = False


def _ref(ws, col: int, first: int, last: int) -> str:
    letter = get_column_letter(col)
    return f"'{ws.title.replace(chr(39), chr(39) * 2)}'!${letter}${first}:${letter}${last}"


def _landscape(ws) -> None:
    """Printed on landscape pages one page wide: the table and its chart side by side."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _show_axes(chart) -> None:
    # openpyxl 3.1 writes <c:delete val="1"/> unless told: Excel would hide the axes
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _title(text: str, size: int = 1300) -> Title:
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
    _landscape(ws)
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
    head.append(_target_text(target))
    header(ws, head)
    for k, r in enumerate(data, start=1):
        low, high = r.get("ci_low"), r.get("ci_high")
        row = [
            k,
            xlsx_value(r["name"]),
            xlsx_value(short_name(r["name"])),
            _pct(ws, r["index"]),
            _pct(ws, low),
            _pct(ws, high),
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
    chart.title = _title(f"{HEADLINE_VI[headline]} theo cơ quan (khoảng tin cậy 95 %)")
    chart.style = 12
    chart.visible_cells_only = False
    chart.display_blanks = "gap"
    chart.x_axis.title = _title("Cơ quan, cao nhất bên trái", 1000)
    chart.y_axis.title = _title(HEADLINE_VI[headline], 1000)
    chart.y_axis.number_format = "0%"
    lo, hi, step = share_axis(bounds(data), target)
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = lo, hi
    chart.y_axis.majorUnit = step
    chart.x_axis.txPr = _rotated(-45)
    _show_axes(chart)
    # the target first, so that the marks are drawn over it
    goal = Series(
        Reference(ws, min_col=goal_col, min_row=2, max_row=last), title=_target_text(target)
    )
    _line_only(goal, TARGET_COLOUR, 38100)
    chart.series.append(goal)
    for j, (s, hollow) in enumerate(groups):
        col = helper + 3 * j
        series = Series(
            Reference(ws, min_col=col, min_row=2, max_row=last), title=_group_title(s, hollow)
        )
        _markers_only(series, s, hollow)
        bars = GraphicalProperties()
        bars.line.solidFill = _hex(COLOURS[s])
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


def funnel_sheet(ws, funnel: dict, target: float, header: Header) -> None:
    """The funnel plot's sheet: the agencies (outside the limits first: name, effective
    number of responses, result, position), the control limits on a grid of sizes,
    and a scatter chart with a logarithmic x axis, the target and the limits as lines,
    and the agencies outside the limits named beside their points.

    :param header: writes the sheet's bold, frozen header row.
    """
    ws.title = "Biểu đồ phễu"
    _landscape(ws)
    size = funnel.get("size", "n_eff")
    grid, limits = funnel[size], funnel["limits"]
    order = {"below": 0, "above": 1, "inside": 2}
    points = sorted(
        ((p, funnel_position(funnel, p)) for p in funnel["points"]),
        key=lambda t: (order[t[1][0]], t[0]["index"]),
    )
    for letter, w in {"A": 42, "B": 18, "C": 16, "D": 16, "E": 48, "G": 16}.items():
        ws.column_dimensions[letter].width = w
    for letter in "HIJKLM":
        ws.column_dimensions[letter].width = 15
    indicator = HEADLINE_VI.get(funnel.get("indicator"), "Kết quả")
    header(
        ws,
        [
            "Cơ quan",
            "Tên ngắn",
            "Số phiếu hiệu dụng (n_use)",
            indicator,
            "Vị trí",
            "",
            "Số phiếu hiệu dụng (lưới)",
            "Giới hạn dưới 95 %",
            "Giới hạn trên 95 %",
            "Giới hạn dưới 99,8 %",
            "Giới hạn trên 99,8 %",
            "Số phiếu (hai đầu trục)",
            _target_text(target),
        ],
    )
    x_min = 10 ** math.floor(math.log10(min(grid)))
    decade = 10 ** math.floor(math.log10(max(grid)))
    x_max = next(m * decade for m in (1, 2, 5, 10) if m * decade >= max(grid))
    sides = [("0.95", "lower"), ("0.95", "upper"), ("0.998", "lower"), ("0.998", "upper")]
    for k in range(max(len(points), len(grid), 2)):
        row: list = [None] * 13
        if k < len(points):
            p, (side, level) = points[k]
            words = POSITION_VI[side]
            if level:
                words += f", ngoài giới hạn {'99,8' if level == '0.998' else '95'} %"
            name = p.get("name", p["code"])
            row[0:5] = [
                xlsx_value(name),
                xlsx_value(short_name(name)),
                _number(ws, p[size]),
                _pct(ws, p["index"]),
                words,
            ]
        if k < len(grid):
            row[6] = _number(ws, grid[k])
            for j, (level, side) in enumerate(sides):
                row[7 + j] = _pct(ws, limits.get(level, {}).get(side, [None] * len(grid))[k])
        if k < 2:
            row[11], row[12] = (x_min, x_max)[k], _pct(ws, target)
        ws.append(row)
    if not points:
        return
    chart = ScatterChart()
    chart.title = _title("Biểu đồ phễu: kết quả theo số phiếu hiệu dụng")
    chart.style = 13
    chart.x_axis.title = _title("Số phiếu hiệu dụng (n_use), thang logarit", 1000)
    chart.x_axis.scaling.logBase = 10
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = x_min, x_max
    chart.x_axis.number_format = "#,##0"
    chart.y_axis.title = _title(indicator, 1000)
    chart.y_axis.number_format = "0%"
    lo, hi, step = share_axis([p["index"] for p, _pos in points], target)
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = lo, hi
    chart.y_axis.majorUnit = step
    _show_axes(chart)
    end_g = len(grid) + 1
    goal = Series(
        Reference(ws, min_col=13, min_row=2, max_row=3),
        Reference(ws, min_col=12, min_row=2, max_row=3),
        title=_target_text(target),
    )
    _line_only(goal, TARGET_COLOUR, 38100)
    chart.series.append(goal)
    xs = Reference(ws, min_col=7, min_row=2, max_row=end_g)
    for col, title, dash in (
        (8, "Giới hạn kiểm soát 95 %", "dash"),
        (9, "", "dash"),
        (10, "Giới hạn kiểm soát 99,8 %", "sysDot"),
        (11, "", "sysDot"),
    ):
        series = Series(Reference(ws, min_col=col, min_row=2, max_row=end_g), xs, title=title)
        _line_only(series, "#4D4D4D", 15875, dash)
        chart.series.append(series)
    unlisted = [2, 4]  # the upper limits: one legend entry per level is enough
    for side in ("below", "inside", "above"):
        rows = [k for k, (_p, pos) in enumerate(points) if pos[0] == side]
        if rows:
            a, b = 2 + rows[0], 2 + rows[-1]
            series = Series(
                Reference(ws, min_col=4, min_row=a, max_row=b),
                Reference(ws, min_col=3, min_row=a, max_row=b),
                title=POSITION_VI[side],
            )
            _markers_only(series, POSITION_STATUS[side])
            chart.series.append(series)
    outside = [(k, p) for k, (p, pos) in enumerate(points) if pos[0] != "inside"][:MAX_LABELS]
    sides = _label_sides(outside, [p for p, _pos in points], size, (lo, hi), (x_min, x_max))
    for k, p in outside:
        name = short_name(p.get("name", p["code"]))
        if name not in sides:
            continue  # no room beside its point: its row in the table says where it is
        r = 2 + k
        label = Series(
            Reference(ws, min_col=4, min_row=r, max_row=r),
            Reference(ws, min_col=3, min_row=r, max_row=r),
            title=name,
        )
        label.marker = Marker(symbol="none")
        label.graphicalProperties.line.noFill = True
        label.dLbls = DataLabelList(
            showSerName=True,
            showVal=False,
            showCatName=False,
            showLegendKey=False,
            showPercent=False,
            showBubbleSize=False,
            dLblPos=sides[name],
            txPr=_rotated(0),
        )
        unlisted.append(len(chart.series))
        chart.series.append(label)
    chart.legend.legendEntry = [LegendEntry(idx=i, delete=True) for i in unlisted]
    chart.legend.position = "t"
    chart.width, chart.height = 26, 16
    ws.add_chart(chart, "O2")


def _label_sides(
    outside, every: list[dict], size: str, y_range: tuple, x_range: tuple
) -> dict[str, str]:
    """Where Excel puts each name beside its point (``r``, ``l``, ``t`` or ``b``): the
    first side where it overlaps no other name and no point, on a plot of about the
    chart's size (22 × 10 cm, 9 pt text); names without such a side are left out."""
    width, height, text_h = 220.0, 100.0, 4.2
    (lo, hi), (x_min, x_max) = y_range, x_range
    span = math.log10(x_max) - math.log10(x_min)

    def at(p) -> tuple[float, float]:
        return (
            (math.log10(p[size]) - math.log10(x_min)) / span * width,
            (hi - p["index"]) / (hi - lo) * height,
        )

    anchors = [(*at(p), short_name(p.get("name", p["code"]))) for _k, p in outside]
    placed, _left = place_labels(
        anchors,
        lambda t: text_width(t, 9 * 25.4 / 72) * 1.1,
        text_h,
        Box(-5, -5, width + 5, height + 5),
        [Box(x - 1.5, y - 1.5, x + 1.5, y + 1.5) for x, y in map(at, every)],
        1.5,
        steps=(0,),
        directions=((1, 0), (-1, 0), (0, -1), (0, 1)),
    )
    sides = {(1, 0): "r", (-1, 0): "l", (0, -1): "t", (0, 1): "b"}
    return {lab.text: sides[lab.direction] for lab in placed}
