"""The funnel plot in the XLSX: the agencies (outside the limits first) and the limits
on a grid of sizes, and a native scatter chart beside them with a logarithmic x
axis, the target and the limits as lines, and the agencies outside the limits
named where their name fits (:mod:`.placement`, on a plot of the chart's size)."""

from __future__ import annotations

import math

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.marker import Marker

from ...core.spreadsheet import xlsx_value
from .layout import (
    HEADLINE_VI,
    POSITION_STATUS,
    TARGET_COLOUR,
    funnel_position,
    share_axis,
    short_name,
    text_width,
)
from .placement import Box, place_labels
from .xlsx import (
    Header,
    landscape,
    line_only,
    markers_only,
    number_cell,
    pct_cell,
    rotated,
    show_axes,
    target_text,
    title_of,
)

POSITION_VI = {
    "below": "Dưới giới hạn (kém hơn mục tiêu ngoài mức ngẫu nhiên)",
    "inside": "Trong phễu (chưa khác rõ so với mục tiêu)",
    "above": "Trên giới hạn (tốt hơn mục tiêu ngoài mức ngẫu nhiên)",
}

#: At most this many agencies outside the funnel are named on the chart (each is a series).
MAX_LABELS = 30


def funnel_sheet(ws, funnel: dict, target: float, header: Header) -> None:
    """The funnel plot's sheet: the agencies (outside the limits first: name, effective
    number of responses, result, position), the control limits on a grid of sizes,
    and a scatter chart with a logarithmic x axis, the target and the limits as lines,
    and the agencies outside the limits named beside their points.

    :param header: writes the sheet's bold, frozen header row.
    """
    ws.title = "Biểu đồ phễu"
    landscape(ws)
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
            target_text(target),
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
                number_cell(ws, p[size]),
                pct_cell(ws, p["index"]),
                words,
            ]
        if k < len(grid):
            row[6] = number_cell(ws, grid[k])
            for j, (level, side) in enumerate(sides):
                row[7 + j] = pct_cell(ws, limits.get(level, {}).get(side, [None] * len(grid))[k])
        if k < 2:
            row[11], row[12] = (x_min, x_max)[k], pct_cell(ws, target)
        ws.append(row)
    if not points:
        return
    chart = ScatterChart()
    chart.title = title_of("Biểu đồ phễu: kết quả theo số phiếu hiệu dụng")
    chart.style = 13
    chart.x_axis.title = title_of("Số phiếu hiệu dụng (n_use), thang logarit", 1000)
    chart.x_axis.scaling.logBase = 10
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = x_min, x_max
    chart.x_axis.number_format = "#,##0"
    chart.y_axis.title = title_of(indicator, 1000)
    chart.y_axis.number_format = "0%"
    lo, hi, step = share_axis([p["index"] for p, _pos in points], target)
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = lo, hi
    chart.y_axis.majorUnit = step
    show_axes(chart)
    end_g = len(grid) + 1
    goal = Series(
        Reference(ws, min_col=13, min_row=2, max_row=3),
        Reference(ws, min_col=12, min_row=2, max_row=3),
        title=target_text(target),
    )
    line_only(goal, TARGET_COLOUR, 38100)
    chart.series.append(goal)
    xs = Reference(ws, min_col=7, min_row=2, max_row=end_g)
    for col, title, dash in (
        (8, "Giới hạn kiểm soát 95 %", "dash"),
        (9, "", "dash"),
        (10, "Giới hạn kiểm soát 99,8 %", "sysDot"),
        (11, "", "sysDot"),
    ):
        series = Series(Reference(ws, min_col=col, min_row=2, max_row=end_g), xs, title=title)
        line_only(series, "#4D4D4D", 15875, dash)
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
            markers_only(series, POSITION_STATUS[side])
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
            txPr=rotated(0),
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
