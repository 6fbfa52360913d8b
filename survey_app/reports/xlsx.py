"""The report as an XLSX workbook (openpyxl), with the report page's two charts
as native Excel charts next to the data they are drawn from."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..core.spreadsheet import xlsx_row
from . import kpi_labels
from .charts import xlsx as xlsx_charts
from .charts import xlsx_funnel
from .labels import QUALITY_VI, VERDICT_VI
from .presentation import headline_of


def report_xlsx(report: dict) -> bytes:
    """Every table of the report in one workbook: summary, agencies, elements, items,
    coverage, data-quality flags, counters, then the two charts (native Excel charts
    beside their data).

    Written in openpyxl's write-only mode (rows streamed out, no cell objects
    kept): column widths and frozen panes are set before the first row. Every
    row goes through :func:`~survey_app.core.spreadsheet.xlsx_row`: agency and
    counter names are text, never formulas."""
    wb = Workbook(write_only=True)

    def sheet(title: str, header: list[str], rows: list[list]):
        ws = wb.create_sheet(title)
        for k, name in enumerate(header, start=1):
            ws.column_dimensions[get_column_letter(k)].width = max(12, min(45, len(name) + 4))
        _header(ws, header)
        for row in rows:
            ws.append(xlsx_row(ws, row))
        return ws

    prov = report.get("province") or {}
    weighting = report.get("weighting", {})
    summary = [
        ["Kỳ báo cáo", report["period"]],
        ["Từ ngày", report["window"]["first_day"]],
        ["Đến ngày", report["window"]["last_day"]],
        ["Số phiếu", report["n_responses"]],
        ["Gia quyền theo số hồ sơ", "có" if weighting.get("used") else "không"],
        ["Mục tiêu", report["target"]],
    ]
    if prov:
        summary += [
            ["Chỉ số toàn tỉnh", prov["index"]],
            ["Cận dưới", prov["ci_low"]],
            ["Cận trên", prov["ci_high"]],
            ["Kết luận", VERDICT_VI[prov["verdict"]]],
            ["Tỷ lệ hài lòng chung (Q0)", prov["q0"]["index"]],
        ]
    sheet("Tổng hợp", ["Mục", "Giá trị"], summary)
    rows = report["agencies"]
    sheet(
        "Cơ quan",
        [
            "Mã",
            "Cơ quan",
            "n",
            "Chỉ số",
            "Cận dưới",
            "Cận trên",
            "Kết luận",
            "n hiệu dụng",
            "Q0 hài lòng",
            "Thay đổi so với kỳ trước",
        ],
        [
            [
                r["code"],
                r["name"],
                r["n"],
                r["index"],
                r["ci_low"],
                r["ci_high"],
                VERDICT_VI[r["verdict"]],
                r["n_eff"],
                r["q0"]["index"],
                r["change"]["difference"] if r.get("change") else None,
            ]
            for r in rows
        ],
    )
    sheet(
        "Yếu tố",
        [
            "Mã",
            "Cơ quan",
            "Yếu tố",
            "n",
            "Chỉ số",
            "Cận dưới",
            "Cận trên",
            "Kết luận",
            "Cronbach alpha",
        ],
        [
            [
                r["code"],
                r["name"],
                e,
                b["n"],
                b["index"],
                b["ci_low"],
                b["ci_high"],
                VERDICT_VI[b["verdict"]],
                r["alpha"].get(e),
            ]
            for r in rows
            for e, b in r["elements"].items()
        ],
    )
    sheet(
        "Câu hỏi",
        ["Mã", "Cơ quan", "Câu hỏi", "n", "Chỉ số", "Cận dưới", "Cận trên", "Kết luận"],
        [
            [
                r["code"],
                r["name"],
                i,
                b["n"],
                b["index"],
                b["ci_low"],
                b["ci_high"],
                VERDICT_VI[b["verdict"]],
            ]
            for r in rows
            for i, b in r["items"].items()
        ],
    )
    sheet(
        "Độ bao phủ",
        ["Mã", "Cơ quan", "Số phiếu", "Số hồ sơ", "Độ bao phủ"],
        [[r["code"], r["name"], r["responses"], r["dossiers"], r["coverage"]] for r in rows],
    )
    sheet(
        "Chất lượng dữ liệu",
        ["Mã", "Cơ quan", *QUALITY_VI.values()],
        [[r["code"], r["name"], *(r["quality"].get(k, 0) for k in QUALITY_VI)] for r in rows],
    )
    sheet(
        "Quầy",
        ["Mã cơ quan", "Cơ quan", "Quầy", "n", "Chỉ số", "Cận dưới", "Cận trên", "Kết luận"],
        [
            [
                r["code"],
                r["name"],
                c["name"],
                c["n"],
                c["index"],
                c["ci_low"],
                c["ci_high"],
                VERDICT_VI[c["verdict"]],
            ]
            for r in rows
            for c in r["counters"]
        ],
    )
    _kpi_sheet(wb, report.get("kpis"))
    if rows:
        _interval_sheet(wb.create_sheet(), rows, report["target"], headline_of(report))
    if report.get("funnel"):
        _funnel_sheet(wb.create_sheet(), report["funnel"], report["target"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _kpi_sheet(wb, kpis: dict | None) -> None:
    """Feedback handling and the one-stop indicators per agency (:mod:`.kpis`): one row per
    agency (then the province), shares as percentages (empty under ``small_count``
    answers, whose counts are beside them), and the definitions below the table."""
    if not kpis:
        return
    ws = wb.create_sheet("PAKN và chỉ số một cửa")
    k, small = kpi_labels, kpis["small_count"]

    def share_columns(asked: str, title: str) -> list[str]:
        return [
            asked,
            f"{title} (số người)",
            f"{title} (tỷ lệ)",
            "Cận dưới",
            "Cận trên",
            "Ghi chú",
        ]

    header = [
        "Mã",
        *k.FEEDBACK_HEADER[:4],
        "Tỷ lệ trả lời đúng hạn",
        *k.FEEDBACK_HEADER[4:],
        *share_columns(k.ONE_STOP_HEADER[1], k.ONE_STOP_HEADER[2]),
        *share_columns(k.ONE_STOP_HEADER[3], k.ONE_STOP_HEADER[4]),
    ]
    percent = {5, 13, 14, 15, 19, 20, 21}  # 0-based columns holding shares
    for c, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(c)].width = (
            45 if c == 2 else max(12, min(30, len(name) // 2 + 4))
        )
    _header(ws, header)

    def pct_cell(value):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "0.0%"
        return cell

    def share_values(s: dict) -> list:
        note = k.TOO_FEW if s["too_few"] and s["n"] else ""
        if s["low_reliability"]:
            note = "độ tin cậy thấp: " + "; ".join(k.RELIABILITY_VI[f] for f in s["flags"])
        shown = s["share"] if s["n"] >= small else None
        return [s["n"], s["x"], shown, s["ci_low"], s["ci_high"], note]

    def line(code: str, name: str, f: dict, o: dict) -> list:
        values = [
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
        return [pct_cell(v) if j in percent else v for j, v in enumerate(values)]

    for r in kpis["agencies"]:
        ws.append(xlsx_row(ws, line(r["code"], r["name"], r["feedback"], r["one_stop"])))
    if kpis.get("province"):
        p = kpis["province"]
        ws.append(xlsx_row(ws, line("", k.PROVINCE_FEEDBACK, p["feedback"], p["one_stop"])))
    ws.append([])
    ws.append(["Ghi chú"])
    for note in k.notes(kpis):
        ws.append(xlsx_row(ws, [note]))


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
