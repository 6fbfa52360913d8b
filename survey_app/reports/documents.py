"""The report as documents for leaders: a PDF in Vietnamese (fpdf2) and an XLSX (openpyxl).

The PDF is written for the province's leaders and is always Vietnamese; the
two charts of the report page (agencies with their intervals and the 90%
line, and the funnel plot) are drawn with fpdf2's own vector primitives (its
SVG import ignores text), with the bundled DejaVu Sans, which covers
Vietnamese. The XLSX has the same two charts as native Excel charts, next to
the data they are drawn from.
"""

from __future__ import annotations

import io
import math
from datetime import date

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..core.spreadsheet import xlsx_row
from ..surveys.posters import FONT_DIR
from .charts import TARGET_COLOUR, VERDICT_COLOURS, axis_range

VERDICT_VI = {
    "above_target": "Đạt mục tiêu",
    "below_target": "Dưới mục tiêu",
    "inconclusive": "Chưa kết luận",
    "insufficient_data": "Chưa đủ dữ liệu",
}
QUALITY_VI = {
    "burst": "Dồn dập từ một quầy",
    "too_fast": "Trả lời quá nhanh",
    "straight_lining": "Chọn cùng một mức cho mọi câu",
    "outside_hours": "Ngoài giờ làm việc",
    "counter_differs": "Quầy khác biệt với cơ quan",
}
KIND_VI = {"month": "tháng", "quarter": "quý", "half": "6 tháng", "year": "năm"}
METHOD_NOTE = (
    "Chỉ số hài lòng là tỷ lệ người được hỏi đánh giá hài lòng (mức 4 hoặc 5), tính theo "
    "phương pháp SIPAS: trung bình các câu hỏi trong từng yếu tố, rồi bình quân gia quyền các "
    "yếu tố. Khi có số hồ sơ đã giải quyết của kỳ, các phiếu được gia quyền (hậu phân tầng) "
    "theo số hồ sơ của từng cơ quan (và lĩnh vực, khi mọi phiếu của cơ quan biết lĩnh vực), để "
    "chỉ số phản ánh đúng cơ cấu giao dịch thực tế thay vì chỉ những người sẵn lòng trả lời. "
    "Khoảng tin cậy 95% tính theo phương pháp Korn–Graubard với cỡ mẫu hiệu dụng. Kết luận: "
    "“Đạt mục tiêu” khi cận dưới lớn hơn 90%; “Dưới mục tiêu” khi cận trên nhỏ hơn 90%; "
    "“Chưa kết luận” khi khoảng tin cậy chứa 90%; “Chưa đủ dữ liệu” khi có dưới 30 phiếu. "
    "Các phiếu gửi từ trình duyệt của cán bộ đang đăng nhập không được tính."
)


FUNNEL_NOTE = (
    "Chỉ số của từng cơ quan theo cỡ mẫu hiệu dụng (thang logarit). Đường liền: mục tiêu 90%; "
    "đường gạch: giới hạn kiểm soát 95%; đường chấm: 99,8%. Cơ quan nằm ngoài phễu khác mục "
    "tiêu nhiều hơn mức có thể do ngẫu nhiên; điểm đỏ là cơ quan có chỉ số dưới mục tiêu."
)


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%".replace(".", ",")


def _vn_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class _Pdf(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(100, 100, 100)
        self.cell(0, 6, f"Hài Lòng · trang {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def report_pdf(report: dict) -> bytes:
    """The report as a PDF: cover, summary, agencies below target, the interval chart, the
    funnel plot, the table and the method note."""
    pdf = _Pdf(unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Báo cáo sự hài lòng {report['period']}")
    pdf.set_creator("Hài Lòng")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(18, 18, 18)
    period_vi = f"{KIND_VI.get(report['kind'], '')} {report['period']}".strip()
    window = report["window"]

    # cover
    pdf.add_page()
    pdf.set_fill_color(0, 105, 62)
    pdf.rect(0, 0, pdf.w, 60, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("DejaVu", "B", 22)
    pdf.set_xy(18, 20)
    pdf.multi_cell(pdf.w - 36, 10, "BÁO CÁO SỰ HÀI LÒNG CỦA NGƯỜI DÂN, DOANH NGHIỆP")
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(18, 72)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, f"Kỳ báo cáo: {period_vi}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 12)
    pdf.cell(
        0,
        8,
        f"Số liệu từ {_vn_date(window['first_day'])} đến {_vn_date(window['last_day'])}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 8, f"Số phiếu: {report['n_responses']}", new_x="LMARGIN", new_y="NEXT")
    if report.get("snapshot_published_at"):
        pdf.cell(
            0,
            8,
            f"Bản đã công bố: {report['snapshot_published_at']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    pdf.add_page()
    _heading(pdf, "1. Tóm tắt")
    if report["empty"]:
        _para(pdf, "Không có phiếu khảo sát nào trong kỳ này.")
        _method(pdf)
        return bytes(pdf.output())
    prov = report["province"]
    target = report["target"]
    _para(
        pdf,
        f"Chỉ số hài lòng toàn tỉnh: {_pct(prov['index'])} (khoảng tin cậy 95%: "
        f"{_pct(prov['ci_low'])} – {_pct(prov['ci_high'])}) — {VERDICT_VI[prov['verdict']]} "
        f"so với mục tiêu {_pct(target)}. Tỷ lệ người trả lời hài lòng chung (câu Q0): "
        f"{_pct(prov['q0']['index'])} — {VERDICT_VI[prov['q0']['verdict']]}.",
    )
    if report["weighting"].get("used"):
        _para(pdf, "Kết quả đã được gia quyền theo số hồ sơ giải quyết trong kỳ.")
    else:
        _para(pdf, "Kết quả chưa gia quyền: thiếu số hồ sơ giải quyết của kỳ.")
    if prov.get("change"):
        ch = prov["change"]
        sig = "có ý nghĩa thống kê" if ch["significant"] else "không có ý nghĩa thống kê"
        _para(pdf, f"So với kỳ trước: {100 * ch['difference']:+.1f} điểm phần trăm ({sig}).")
    rows = report["agencies"]
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICT_VI}
    _para(
        pdf,
        "Số cơ quan: " + "; ".join(f"{VERDICT_VI[v]}: {n}" for v, n in counts.items()) + ".",
    )

    _heading(pdf, "2. Cơ quan dưới mục tiêu")
    below = [r for r in rows if r["verdict"] == "below_target"]
    if below:
        for r in sorted(below, key=lambda r: r["index"]):
            _para(
                pdf,
                f"• {r['name']}: {_pct(r['index'])} ({_pct(r['ci_low'])} – "
                f"{_pct(r['ci_high'])}), {r['n']} phiếu.",
            )
    else:
        _para(pdf, "Không có cơ quan nào dưới mục tiêu một cách chắc chắn.")

    if pdf.get_y() + 5.2 * len(rows) + 30 > pdf.h - 16:
        pdf.add_page()
    _heading(pdf, "3. Biểu đồ chỉ số và khoảng tin cậy")
    _interval_chart(pdf, sorted(rows, key=lambda r: -(r["ci_low"] or 0)), target)

    if report.get("funnel"):
        pdf.add_page()
        _heading(pdf, "4. Biểu đồ phễu")
        _para(pdf, FUNNEL_NOTE)
        _funnel_chart(pdf, report["funnel"], target)

    _heading(pdf, "5. Bảng chỉ số theo cơ quan")
    _table(
        pdf,
        ["Cơ quan", "Số phiếu", "Chỉ số", "Khoảng tin cậy", "Kết luận"],
        [
            [
                r["name"],
                str(r["n"]),
                _pct(r["index"]),
                f"{_pct(r['ci_low'])} – {_pct(r['ci_high'])}",
                VERDICT_VI[r["verdict"]],
            ]
            for r in rows
        ],
        [70, 18, 20, 36, 30],
    )
    _method(pdf)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10.5)


def _para(pdf: FPDF, text: str) -> None:
    pdf.set_font("DejaVu", "", 10.5)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _method(pdf: FPDF) -> None:
    _heading(pdf, "Ghi chú phương pháp")
    _para(pdf, METHOD_NOTE)


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    def head():
        pdf.set_font("DejaVu", "B", 9)
        pdf.set_fill_color(238, 243, 239)
        for text, w in zip(header, widths, strict=True):
            pdf.cell(w, 7, text, border=1, fill=True)
        pdf.ln()
        pdf.set_font("DejaVu", "", 9)

    head()
    for row in rows:
        if pdf.get_y() > pdf.h - 26:
            pdf.add_page()
            head()
        for k, (text, w) in enumerate(zip(row, widths, strict=True)):
            if k == 0 and pdf.get_string_width(text) > w - 2:
                while pdf.get_string_width(text + "…") > w - 2:
                    text = text[:-1]
                text += "…"
            pdf.cell(w, 6.5, text, border=1, align="L" if k == 0 or k == 4 else "R")
        pdf.ln()


def _interval_chart(pdf: FPDF, rows: list[dict], target: float) -> None:
    """Dots and interval bars per agency, the target as a dashed line (vector drawing)."""
    label_w, plot_w, row_h = 62, 105, 5.2
    lo, hi = axis_range(rows, target)
    x0 = pdf.l_margin + label_w

    def x(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * plot_w

    top = pdf.get_y() + 6
    height = row_h * len(rows)
    if top + height + 10 > pdf.h - 16:
        pdf.add_page()
        top = pdf.get_y() + 6
    pdf.set_font("DejaVu", "", 7)
    steps = round((hi - lo) / 0.05)
    pdf.set_draw_color(225, 225, 225)
    pdf.set_line_width(0.2)
    for k in range(steps + 1):
        v = lo + k * 0.05
        pdf.line(x(v), top - 2, x(v), top + height)
        pdf.text(x(v) - 3, top + height + 4, _pct(v).replace(",0", ""))
    for i, r in enumerate(rows):
        y = top + i * row_h + row_h / 2
        name = r["name"]
        while pdf.get_string_width(name) > label_w - 3:
            name = name[:-2] + "…"
        pdf.set_text_color(0, 0, 0)
        pdf.text(pdf.l_margin, y + 1.2, name)
        colour = _rgb(VERDICT_COLOURS.get(r["verdict"], "#777777"))
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        if r["ci_low"] is not None and r["ci_high"] is not None:
            pdf.set_line_width(0.8)
            pdf.line(x(r["ci_low"]), y, x(r["ci_high"]), y)
        if r["index"] is not None:
            pdf.circle(x=x(r["index"]), y=y, radius=1.1, style="F")
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(0.5)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=1.5, gap=1)
        pdf.line(x(target), top - 4, x(target), top + height)
    pdf.set_text_color(11, 92, 173)
    pdf.text(x(target) - 3, top - 5, _pct(target).replace(",0", ""))
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_y(top + height + 8)


def _funnel_chart(pdf: FPDF, funnel: dict, target: float) -> None:
    """Index against effective sample size (log scale) with the target and the 95% / 99.8%
    control limits, as in :func:`~survey_app.reports.charts.funnel_chart` (vector drawing)."""
    left, width, height = pdf.l_margin + 12, pdf.w - pdf.l_margin - pdf.r_margin - 14, 110
    top = pdf.get_y() + 4
    if top + height + 14 > pdf.h - 16:
        pdf.add_page()
        top = pdf.get_y() + 4
    grid, points = funnel["n_eff"], funnel["points"]
    y_values = [p["index"] for p in points]
    for level in funnel["limits"].values():
        y_values += level["lower"]
    y_lo = max(0.0, math.floor(min([*y_values, target - 0.1]) * 20) / 20)
    x_lo, x_hi = math.log10(min(grid)), math.log10(max(grid))

    def x(n: float) -> float:
        n = min(max(n, 10**x_lo), 10**x_hi)
        return left + (math.log10(n) - x_lo) / (x_hi - x_lo or 1) * width

    def y(v: float) -> float:
        return top + (1.0 - min(max(v, y_lo), 1.0)) / (1.0 - y_lo) * height

    pdf.set_font("DejaVu", "", 7)
    pdf.set_text_color(80, 80, 80)
    pdf.set_draw_color(225, 225, 225)
    pdf.set_line_width(0.2)
    steps = round((1.0 - y_lo) / 0.05)
    for k in range(steps + 1):
        v = y_lo + k * 0.05
        pdf.line(left, y(v), left + width, y(v))
        pdf.text(left - 10, y(v) + 1, _pct(v).replace(",0", ""))
    for decade in range(math.floor(x_lo), math.ceil(x_hi) + 1):
        for m in (1, 2, 5):
            n = m * 10**decade
            if 10**x_lo <= n <= 10**x_hi:
                pdf.line(x(n), top, x(n), top + height)
                pdf.text(x(n) - 2, top + height + 4, f"{n:g}")
    pdf.text(left + width / 2 - 8, top + height + 9, "cỡ mẫu hiệu dụng")
    pdf.set_draw_color(100, 100, 100)
    pdf.set_line_width(0.35)
    for level, dash in (("0.95", (1.5, 1.0)), ("0.998", (0.4, 1.0))):
        lim = funnel["limits"].get(level)
        if not lim:
            continue
        with pdf.local_context():
            pdf.set_dash_pattern(dash=dash[0], gap=dash[1])
            for side in ("lower", "upper"):
                coords = [(x(n), y(v)) for n, v in zip(grid, lim[side], strict=True)]
                pdf.polyline(coords)
    pdf.set_draw_color(*_rgb(TARGET_COLOUR))
    pdf.set_line_width(0.5)
    pdf.line(left, y(target), left + width, y(target))
    for p in points:
        colour = VERDICT_COLOURS["below_target"] if p["index"] < target else "#333333"
        pdf.set_fill_color(*_rgb(colour))
        pdf.circle(x=x(p["n_eff"]), y=y(p["index"]), radius=0.9, style="F")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_y(top + height + 12)


# -- XLSX -----------------------------------------------------------------------------------


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
    if rows:
        _interval_sheet(wb.create_sheet(), rows, report["target"])
    if report.get("funnel"):
        _funnel_sheet(wb.create_sheet(), report["funnel"], report["target"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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
