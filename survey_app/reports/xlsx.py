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
from .labels import HEADLINE_VI
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
    _dossier_sheets(wb, report.get("kpis"), presentation.headline_of(report))
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


def _dossier_sheets(wb, kpis: dict | None, headline: str) -> None:
    """ "Hồ sơ đúng hạn": the on-time rate per agency beside its satisfaction (the rate
    empty under ``small_count`` dossiers, whose counts are beside it), and "Kênh khảo
    sát": the channel mix as counts and shares (:mod:`.kpis`). Reports published before
    these were kept have neither."""
    if not kpis:
        return
    province = kpis.get("province")
    rows = [r for r in kpis["agencies"] if "dossiers" in r]
    if not rows and not (province and "dossiers" in province):
        return
    k, small = kpi_labels, kpis["small_count"]
    target = kpis.get("on_time_target") or 0.95
    columns = [
        ("Mã cơ quan", "text"),
        ("Cơ quan", "text"),
        (HEADLINE_VI[headline], "pct"),
        ("Số người trả lời", "int"),
        *((h, "int") for h in k.DOSSIER_COUNTS[:4]),
        ("Hồ sơ đã giải quyết có phân loại đúng hạn, quá hạn", "int"),
        (k.DOSSIER_COUNTS[4], "pct"),
        ("Mục tiêu", "pct"),
        (f"So với mục tiêu {k.target_label(kpis)}", "text"),
    ]

    def line(code: str, name: str, r: dict) -> list:
        d, sat = r["dossiers"], r.get("satisfaction") or {}
        verdict = k.dossier_verdict(d).strip("*")
        return [
            code,
            name,
            sat.get("index"),
            sat.get("n"),
            d["received"],
            d["resolved"],
            d["on_time"] if d["timed"] else None,
            d["late"] if d["timed"] else None,
            d["timed"],
            d["on_time_share"] if d["timed"] >= small else None,
            target,
            verdict if d["timed"] else k.NOT_REPORTED,
        ]

    listed = [r for r in rows if r["dossiers"]["received"] or r["dossiers"]["timed"]]
    table = [line(r["code"], r["name"], r) for r in listed]
    if province and "dossiers" in province:
        table.append(line("", k.PROVINCE, province))
    write_table(
        wb,
        "Hồ sơ đúng hạn",
        columns,
        table,
        totals=1 if province and "dossiers" in province else 0,
        notes=["Ghi chú", k.dossier_notes(kpis)[0]],
    )

    mixes = (
        ("survey", tuple(k.SURVEY_CHANNEL_VI), k.SURVEY_CHANNEL_VI, "Phiếu"),
        ("returned", ("counter", "online", "post", "unknown"), k.RETURN_CHANNEL_VI, "Phiếu: trả"),
        ("dossiers", ("counter", "online", "post", "all"), k.RETURN_CHANNEL_VI, "Hồ sơ"),
    )
    columns = [
        ("Mã cơ quan", "text"),
        ("Cơ quan", "text"),
        ("Số phiếu", "int"),
        ("Hồ sơ tiếp nhận", "int"),
    ]
    for _key, names, vi, prefix in mixes:
        for n in names:
            columns += [
                (f"{prefix} {vi[n].lower()} (số)", "int"),
                (f"{prefix} {vi[n].lower()} (tỷ lệ)", "pct"),
            ]

    def mix_line(code: str, name: str, c: dict) -> list:
        out = [code, name, c["survey"]["total"], c["dossiers"]["total"]]
        for key, names, _vi, _prefix in mixes:
            m = c[key]
            for n in names:
                out += [m["counts"][n], m["shares"][n] if m["total"] >= small else None]
        return out

    table = [
        mix_line(r["code"], r["name"], r["channels"])
        for r in rows
        if r["channels"]["survey"]["total"] or r["channels"]["dossiers"]["total"]
    ]
    if province and "channels" in province:
        table.append(mix_line("", k.PROVINCE, province["channels"]))
    write_table(
        wb,
        "Kênh khảo sát",
        columns,
        table,
        totals=1 if province and "channels" in province else 0,
        notes=["Ghi chú", k.dossier_notes(kpis)[1]],
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
