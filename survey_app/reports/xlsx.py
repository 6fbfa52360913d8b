"""The report as an XLSX workbook (openpyxl), in Vietnamese: the tables
(:mod:`.xlsx_tables`), feedback handling and the one-stop indicators, and the
report page's two charts as native Excel charts next to the data they are drawn
from."""

from __future__ import annotations

import io

from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.styles import Font, PatternFill

from ..core.spreadsheet import xlsx_row
from . import kpi_labels, presentation, xlsx_tables
from .assembly import funnel
from .charts import axis_range
from .xlsx_cells import write_table


def report_xlsx(report: dict) -> bytes:
    """Every table of the report in one workbook: "Tóm tắt" (what the report is, its
    summary in sentences, the province's figures), agencies, elements, items,
    coverage, data-quality flags, counters, feedback and one-stop, then the two
    charts of the headline indicator (native Excel charts beside their data).

    Written in openpyxl's write-only mode (rows streamed out, no cell objects
    kept): column widths and frozen panes are set before the first row. Every
    text goes through :func:`~survey_app.core.spreadsheet.xlsx_row`: agency and
    counter names are text, never formulas.

    :param report: as for :func:`~.pdf.report_pdf` (``scope``,
        ``snapshot_published_at`` and ``kpis`` optional).
    """
    with force_locale("vi"):
        return _report_xlsx(report)


def _report_xlsx(report: dict) -> bytes:
    wb = Workbook(write_only=True)
    rows = report.get("agencies") or []
    quiet = report.get("agencies_without_responses") or []
    xlsx_tables.summary_sheet(wb, report)
    xlsx_tables.agencies_sheet(wb, report, rows, quiet)
    xlsx_tables.elements_sheet(wb, report, rows)
    xlsx_tables.items_sheet(wb, report, rows)
    xlsx_tables.coverage_sheet(wb, report, rows, quiet)
    xlsx_tables.quality_sheet(wb, rows)
    xlsx_tables.counters_sheet(wb, report, rows)
    _kpi_sheet(wb, report.get("kpis"))
    headline = presentation.headline_of(report)
    if rows:  # the charts of the headline indicator, as on the report page
        blocks = [{"name": r["name"]} | presentation.block_of(r, headline) for r in rows]
        _interval_sheet(wb.create_sheet(), blocks, report["target"])
    shape = funnel(rows, report["target"], headline, "n_eff") if report.get("funnel") else None
    if shape:
        _funnel_sheet(wb.create_sheet(), shape, report["target"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _kpi_sheet(wb, kpis: dict | None) -> None:
    """Feedback handling and the one-stop indicators per agency (:mod:`.kpis`): one row per
    agency (then the province), shares as percentages (empty under ``small_count``
    answers, whose counts are beside them), and the definitions below the table."""
    if not kpis:
        return
    k, small = kpi_labels, kpis["small_count"]

    def share_columns(asked: str, title: str) -> list[tuple[str, str]]:
        return [
            (asked, "int"),
            (f"{title} (số người)", "int"),
            (f"{title} (tỷ lệ)", "pct"),
            (f"{title}: cận dưới (khoảng tin cậy 95 %)", "pct"),
            (f"{title}: cận trên (khoảng tin cậy 95 %)", "pct"),
            (f"{title}: ghi chú", "text"),
        ]

    columns = [
        ("Mã cơ quan", "text"),
        (k.FEEDBACK_HEADER[0], "text"),
        *((h, "int") for h in k.FEEDBACK_HEADER[1:4]),
        ("Tỷ lệ trả lời đúng hạn", "pct"),
        (k.FEEDBACK_HEADER[4], "num"),
        *((h, "int") for h in k.FEEDBACK_HEADER[5:]),
        *share_columns(k.ONE_STOP_HEADER[1], k.ONE_STOP_HEADER[2]),
        *share_columns(k.ONE_STOP_HEADER[3], k.ONE_STOP_HEADER[4]),
    ]

    def share_values(s: dict) -> list:
        note = k.TOO_FEW if s["too_few"] and s["n"] else None
        if s["low_reliability"]:
            note = "độ tin cậy thấp: " + "; ".join(k.RELIABILITY_VI[f] for f in s["flags"])
        shown = s["share"] if s["n"] >= small else None
        return [s["n"], s["x"], shown, s["ci_low"], s["ci_high"], note]

    def line(code: str, name: str, f: dict, o: dict) -> list:
        return [
            code,
            name,
            f["received"],
            f["answered"],
            f["on_time"],
            f["on_time_share"] if f["answered"] >= small else None,
            f["median_days"],
            f["overdue"],
            f["reopened"],
            f["transferred_away"],
            f["misrouting_days"],
            *share_values(o["one_trip"]),
            *share_values(o["one_agency"]),
        ]

    rows = [line(r["code"], r["name"], r["feedback"], r["one_stop"]) for r in kpis["agencies"]]
    if kpis.get("province"):
        p = kpis["province"]
        rows.append(line("", k.PROVINCE_FEEDBACK, p["feedback"], p["one_stop"]))
    write_table(
        wb,
        "PAKN và chỉ số một cửa",
        columns,
        rows,
        totals=1 if kpis.get("province") else 0,
        notes=["Ghi chú", *k.notes(kpis)],
    )


def _header(ws, header: list[str]) -> None:
    """The bold, shaded first row, frozen (a write-only sheet: before any other row)."""
    ws.freeze_panes = "A2"
    ws.append(
        xlsx_row(ws, header, font=Font(bold=True), fill=PatternFill("solid", fgColor="EEF3EF"))
    )


def _points_only(series, colour: str) -> None:
    series.marker.symbol = "circle"
    series.marker.size = 6
    series.marker.graphicalProperties.solidFill = colour
    series.marker.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.noFill = True


def _line_only(series, colour: str, dash: str | None = None) -> None:
    series.marker.symbol = "none"
    series.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.width = 19050
    if dash:
        series.graphicalProperties.line.dashStyle = dash
    series.smooth = False


def _interval_sheet(ws, rows: list[dict], target: float) -> None:
    """The interval chart: its data (agencies by lower bound) and a native scatter chart
    of the indices with their intervals as error bars and the target as a line."""
    ws.title = "Biểu đồ khoảng tin cậy"
    rows = [r for r in rows if r["index"] is not None and r["ci_low"] is not None]
    rows = sorted(rows, key=lambda r: -r["ci_low"])
    ws.column_dimensions["B"].width = 45
    # the lengths of the error bars (headed "−" and "+" before: "+" starts a formula)
    _header(
        ws,
        [
            "Thứ tự",
            "Cơ quan",
            "Chỉ số",
            "Cận dưới",
            "Cận trên",
            "Khoảng dưới",
            "Khoảng trên",
            "Mục tiêu",
        ],
    )
    for k, r in enumerate(rows, start=1):
        ws.append(
            xlsx_row(
                ws,
                [
                    k,
                    r["name"],
                    r["index"],
                    r["ci_low"],
                    r["ci_high"],
                    r["index"] - r["ci_low"],
                    r["ci_high"] - r["index"],
                    target,
                ],
            )
        )
    last = len(rows) + 1
    if not rows:
        return
    chart = ScatterChart()
    chart.title = "Chỉ số và khoảng tin cậy 95% theo cơ quan"
    chart.style = 13
    chart.x_axis.title = "Cơ quan (theo thứ tự ở cột A)"
    chart.y_axis.title = "Chỉ số"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.max = 1.0
    chart.y_axis.scaling.min = axis_range(rows, target)[0]
    xs = Reference(ws, min_col=1, min_row=2, max_row=last)
    index = Series(Reference(ws, min_col=3, min_row=1, max_row=last), xs, title_from_data=True)
    _points_only(index, "0B5CAD")
    index.errBars = ErrorBars(
        errDir="y",
        errBarType="both",
        errValType="cust",
        noEndCap=False,
        minus=NumDataSource(numRef=NumRef(f=f"{_quoted(ws)}!$F$2:$F${last}")),
        plus=NumDataSource(numRef=NumRef(f=f"{_quoted(ws)}!$G$2:$G${last}")),
    )
    goal = Series(Reference(ws, min_col=8, min_row=1, max_row=last), xs, title_from_data=True)
    _line_only(goal, "C62828", "dash")
    chart.series += [index, goal]
    chart.width, chart.height = 24, 12
    ws.add_chart(chart, "J2")


def _funnel_sheet(ws, funnel: dict, target: float) -> None:
    """The funnel plot: its data (agencies, and the control limits on a grid of effective
    sizes) and a native scatter chart with a logarithmic x axis."""
    ws.title = "Biểu đồ phễu"
    for letter in "ABCEFGHIJ":
        ws.column_dimensions[letter].width = 16
    _header(
        ws,
        [
            "Mã cơ quan",
            "n hiệu dụng",
            "Chỉ số",
            "",
            "n hiệu dụng (lưới)",
            "Giới hạn dưới 95%",
            "Giới hạn trên 95%",
            "Giới hạn dưới 99,8%",
            "Giới hạn trên 99,8%",
            "Mục tiêu",
        ],
    )
    points, grid = funnel["points"], funnel["n_eff"]
    limits = funnel["limits"]
    for k in range(max(len(points), len(grid))):
        row: list = [None] * 10
        if k < len(points):
            p = points[k]
            row[0:3] = [p["code"], p["n_eff"], p["index"]]
        if k < len(grid):
            row[4] = grid[k]
            for j, (level, side) in enumerate(
                (("0.95", "lower"), ("0.95", "upper"), ("0.998", "lower"), ("0.998", "upper"))
            ):
                row[5 + j] = limits.get(level, {}).get(side, [None] * len(grid))[k]
            row[9] = target
        ws.append(xlsx_row(ws, row))
    chart = ScatterChart()
    chart.title = "Biểu đồ phễu: chỉ số theo cỡ mẫu hiệu dụng"
    chart.style = 13
    chart.x_axis.title = "Cỡ mẫu hiệu dụng (thang logarit)"
    chart.x_axis.scaling.logBase = 10
    chart.y_axis.title = "Chỉ số"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.max = 1.0
    end_p, end_g = len(points) + 1, len(grid) + 1
    agencies = Series(
        Reference(ws, min_col=3, min_row=1, max_row=end_p),
        Reference(ws, min_col=2, min_row=2, max_row=end_p),
        title_from_data=True,
    )
    _points_only(agencies, "333333")
    chart.series.append(agencies)
    xs = Reference(ws, min_col=5, min_row=2, max_row=end_g)
    for col, dash in ((6, "dash"), (7, "dash"), (8, "sysDot"), (9, "sysDot"), (10, None)):
        series = Series(
            Reference(ws, min_col=col, min_row=1, max_row=end_g), xs, title_from_data=True
        )
        _line_only(series, "0B5CAD" if dash is None else "666666", dash)
        chart.series.append(series)
    chart.width, chart.height = 24, 14
    ws.add_chart(chart, "L2")


def _quoted(ws) -> str:
    return "'" + ws.title.replace("'", "''") + "'"
