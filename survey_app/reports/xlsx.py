"""The report as an XLSX workbook (openpyxl), in Vietnamese: the tables
(:mod:`.xlsx_tables`), feedback handling and the one-stop indicators, and the
report page's two charts as native Excel charts next to the data they are drawn
from."""

from __future__ import annotations

import io

from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..core.spreadsheet import xlsx_row
from . import kpi_labels, presentation, xlsx_tables
from .assembly import funnel
from .charts import xlsx as xlsx_charts
from .charts import xlsx_funnel
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
        _interval_sheet(wb.create_sheet(), rows, report["target"], headline)
    shape = funnel(rows, report["target"], headline, "n_use") if report.get("funnel") else None
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


def _interval_sheet(ws, rows: list[dict], target: float, headline: str = "q0") -> None:
    """The interval chart beside its table (:func:`.charts.xlsx.interval_sheet`)."""
    xlsx_charts.interval_sheet(ws, rows, target, headline, _header)


def _funnel_sheet(ws, funnel: dict, target: float) -> None:
    """The funnel plot beside its table (:func:`.charts.xlsx_funnel.funnel_sheet`)."""
    xlsx_funnel.funnel_sheet(ws, funnel, target, _header)
