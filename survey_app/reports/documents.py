"""The report as documents for leaders: a PDF in Vietnamese (fpdf2) and an XLSX (openpyxl).

The PDF is written for the province's leaders and is always Vietnamese; the
charts are drawn with fpdf2's own vector primitives (its SVG import ignores
text), with the bundled DejaVu Sans, which covers Vietnamese.
"""

from __future__ import annotations

import io
from datetime import date

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..surveys.posters import FONT_DIR
from .charts import VERDICT_COLOURS, axis_range

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
    """The report as a PDF: cover, summary, agencies below target, chart, table, method note."""
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

    _heading(pdf, "4. Bảng chỉ số theo cơ quan")
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


# -- XLSX -----------------------------------------------------------------------------------


def report_xlsx(report: dict) -> bytes:
    """Every table of the report in one workbook: summary, agencies, elements, items,
    coverage, data-quality flags, counters."""
    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF3EF")

    def sheet(title: str, header: list[str], rows: list[list], first: bool = False):
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        for col, name in zip(ws.columns, header, strict=False):
            ws.column_dimensions[col[0].column_letter].width = max(12, min(45, len(name) + 4))
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
    sheet("Tổng hợp", ["Mục", "Giá trị"], summary, first=True)
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
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
