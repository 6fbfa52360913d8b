"""The report as a PDF for leaders, in Vietnamese (fpdf2).

The two charts of the report page (agencies with their intervals and the 90%
line, and the funnel plot) are drawn with fpdf2's own vector primitives (its
SVG import ignores text), with the bundled DejaVu Sans, which covers
Vietnamese.
"""

from __future__ import annotations

import math

from fpdf import FPDF
from fpdf.fonts import FontFace

from ..surveys.posters import FONT_DIR
from . import kpi_labels
from .charts import TARGET_COLOUR, VERDICT_COLOURS, axis_range
from .labels import FUNNEL_NOTE, KIND_VI, METHOD_NOTE, VERDICT_VI, pct, rgb, vn_date
from .scope import scope_note_vi


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
        f"Số liệu từ {vn_date(window['first_day'])} đến {vn_date(window['last_day'])}",
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
    if report.get("scope"):  # a scoped reader's report: the filter on the first page
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 12)
        note = scope_note_vi(report["scope"], empty=not report["agencies"] and not report["empty"])
        pdf.multi_cell(0, 7, note, new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    _heading(pdf, "1. Tóm tắt")
    if report["empty"]:
        _para(pdf, "Không có phiếu khảo sát nào trong kỳ này.")
        _kpi_tables(pdf, report.get("kpis"), 2)
        _method(pdf)
        return bytes(pdf.output())
    prov = report["province"]
    target = report["target"]
    _para(
        pdf,
        f"Chỉ số hài lòng toàn tỉnh: {pct(prov['index'])} (khoảng tin cậy 95%: "
        f"{pct(prov['ci_low'])} – {pct(prov['ci_high'])}) — {VERDICT_VI[prov['verdict']]} "
        f"so với mục tiêu {pct(target)}. Tỷ lệ người trả lời hài lòng chung (câu Q0): "
        f"{pct(prov['q0']['index'])} — {VERDICT_VI[prov['q0']['verdict']]}.",
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
                f"• {r['name']}: {pct(r['index'])} ({pct(r['ci_low'])} – "
                f"{pct(r['ci_high'])}), {r['n']} phiếu.",
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
                pct(r["index"]),
                f"{pct(r['ci_low'])} – {pct(r['ci_high'])}",
                VERDICT_VI[r["verdict"]],
            ]
            for r in rows
        ],
        [70, 18, 20, 36, 30],
    )
    _kpi_tables(pdf, report.get("kpis"), 6)
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


def _kpi_tables(pdf: FPDF, kpis: dict | None, number: int) -> None:
    """Feedback handling and the one-stop indicators per agency (:mod:`.kpis`), compact
    tables with their definitions; sections ``number`` and ``number + 1``."""
    if not kpis:
        return
    small, k = kpis["small_count"], kpi_labels
    _heading(pdf, f"{number}. {k.FEEDBACK_TITLE}")
    if kpis.get("empty"):
        _para(pdf, "Không có phản ánh, kiến nghị và không có câu trả lời về đi lại trong kỳ này.")
        return
    province = kpis.get("province")
    active = [r for r in kpis["agencies"] if k.has_cases(r["feedback"])]
    tables = (
        (
            k.FEEDBACK_HEADER,
            [[r["name"], *k.feedback_cells(r["feedback"], small)] for r in active]
            + (
                [[k.PROVINCE_FEEDBACK, *k.feedback_cells(province["feedback"], small)]]
                if province
                else []
            ),
            (44, 14, 15, 22, 20, 15, 13, 16, 15),
        ),
        (
            k.ONE_STOP_HEADER,
            [[r["name"], *k.one_stop_cells(r["one_stop"], small)] for r in kpis["agencies"]]
            + ([[k.PROVINCE, *k.one_stop_cells(province["one_stop"], small)]] if province else []),
            (56, 20, 40, 20, 38),
        ),
    )
    for t, (header, rows, widths) in enumerate(tables):
        if t:
            _heading(pdf, f"{number + 1}. {k.ONE_STOP_TITLE}")
        pdf.set_font("DejaVu", "", 7.5)
        with pdf.table(
            width=sum(widths),
            col_widths=widths,
            text_align=("LEFT",) + ("RIGHT",) * (len(widths) - 1),
            line_height=4,
            headings_style=FontFace(emphasis="BOLD", fill_color=(238, 243, 239)),
            repeat_headings=1,
        ) as table:
            for row in [header, *rows]:
                cells = table.row()
                for text in row:
                    cells.cell(text)
        pdf.ln(2)
        if not t and len(active) < len(kpis["agencies"]):
            quiet = len(kpis["agencies"]) - len(active)
            _para(pdf, f"{quiet} cơ quan khác không có phản ánh, kiến nghị nào trong kỳ này.")
    pdf.set_font("DejaVu", "", 8.5)
    for note in k.notes(kpis):
        pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


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
        pdf.text(x(v) - 3, top + height + 4, pct(v).replace(",0", ""))
    for i, r in enumerate(rows):
        y = top + i * row_h + row_h / 2
        name = r["name"]
        while pdf.get_string_width(name) > label_w - 3:
            name = name[:-2] + "…"
        pdf.set_text_color(0, 0, 0)
        pdf.text(pdf.l_margin, y + 1.2, name)
        colour = rgb(VERDICT_COLOURS.get(r["verdict"], "#777777"))
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
    pdf.text(x(target) - 3, top - 5, pct(target).replace(",0", ""))
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
        pdf.text(left - 10, y(v) + 1, pct(v).replace(",0", ""))
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
    pdf.set_draw_color(*rgb(TARGET_COLOUR))
    pdf.set_line_width(0.5)
    pdf.line(left, y(target), left + width, y(target))
    for p in points:
        colour = VERDICT_COLOURS["below_target"] if p["index"] < target else "#333333"
        pdf.set_fill_color(*rgb(colour))
        pdf.circle(x=x(p["n_eff"]), y=y(p["index"]), radius=0.9, style="F")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_y(top + height + 12)
