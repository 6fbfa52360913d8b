"""The report as a PDF for leaders, in Vietnamese (fpdf2).

The two charts of the report page (agencies with their intervals and the 90%
line, and the funnel plot) are drawn with fpdf2's own vector primitives (its
SVG import ignores text), with the bundled DejaVu Sans, which covers
Vietnamese.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from ..surveys.posters import FONT_DIR
from . import kpi_labels
from .charts import pdf as pdf_charts
from .charts import pdf_funnel
from .labels import FUNNEL_NOTE, KIND_VI, METHOD_NOTE, VERDICT_VI, pct, vn_date
from .presentation import headline_of


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

    if pdf.get_y() + pdf_charts.interval_height(pdf, rows) > pdf.h - 16:
        pdf.add_page()
    _heading(pdf, "3. Biểu đồ chỉ số và khoảng tin cậy")
    _interval_chart(pdf, rows, target, headline_of(report))

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


def _interval_chart(pdf: FPDF, rows: list[dict], target: float, headline: str = "q0") -> None:
    """The agencies' ``headline`` indicator with its interval against the target, best
    first (:func:`.charts.pdf.interval_chart`)."""
    pdf_charts.interval_chart(pdf, rows, target, headline)


def _funnel_chart(pdf: FPDF, funnel: dict, target: float) -> None:
    """The funnel plot of the report's funnel (:func:`.charts.pdf_funnel.funnel_chart`)."""
    pdf_funnel.funnel_chart(pdf, funnel, target)
