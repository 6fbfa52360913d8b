"""The report as a PDF for leaders: an administrative report under NĐ 30/2020/NĐ-CP (fpdf2).

Page 1 has the form of :mod:`.official` (issuing body, number, national motto,
place and date, "BÁO CÁO" and its subject, recipients), then:

I. the summary in sentences (:func:`~.summary.summary_sentences`);
II. the tables (:mod:`.pdf_tables`): the headline per agency with its one
    verdict, the SIPAS index and its elements as the explanation, the agencies
    without responses;
III. the two charts of the report page (agencies with their intervals and the
    90% line, and the funnel plot), drawn with fpdf2's own vector primitives
    (its SVG import ignores text) in the bundled DejaVu Sans;
IV. feedback handling and the one-stop indicators;
V. the method note;

and the signatures and "Nơi nhận:". Always Vietnamese (the locale is forced
while it is written): numbers with a decimal comma and a thousands dot, dates
dd/mm/yyyy, times in the service's time zone.

A reader's report (:func:`~.scope.scoped_report`) names its filter in a
sentence under the recipients, before the summary.
"""

from __future__ import annotations

import math
from datetime import datetime

from flask_babel import force_locale
from fpdf import FPDF

from ..core.time import now_utc
from . import official, pdf_tables, presentation
from .assembly import funnel
from .charts import TARGET_COLOUR, VERDICT_COLOURS, axis_range
from .labels import FUNNEL_NOTE, HEADLINE_VI, method_note, pct, rgb, vn_datetime
from .summary import summary_sentences
from .wording import period_title

NBSP = "\u00a0"
ROMAN = ("I", "II", "III", "IV", "V", "VI")


def report_pdf(report: dict) -> bytes:
    """The report as a PDF (see the module docstring).

    :param report: a report dict, its agency rows as the reader may see them,
        optionally with ``kpis``, ``scope`` and ``snapshot_published_at``
        (ISO, UTC).
    """
    with force_locale("vi"):
        return _report_pdf(report)


def _report_pdf(report: dict) -> bytes:
    who = official.issuer()
    pdf = official.OfficialPdf()
    period = period_title(report["period"], report.get("calendar_months"))
    subject = f"{official.SUBJECT}, {period.replace(' ', NBSP)}"  # the period on one line
    pdf.set_title(f"Báo cáo {subject[:1].lower()}{subject[1:]}")
    pdf.set_author(who.name)
    pdf.set_creator("Hài Lòng")
    pdf.add_page()
    official.heading_block(pdf, who)
    official.title_block(pdf, subject, who.recipients)
    scope = official.scope_line(report)
    if scope:
        official.paragraphs(pdf, [scope], style="BI")
    parts = iter(ROMAN)

    official.section(pdf, f"{next(parts)}. TÓM TẮT KẾT QUẢ")
    official.paragraphs(pdf, summary_sentences(report), dash=True)

    rows = report.get("agencies") or []
    quiet = report.get("agencies_without_responses") or []
    if not report.get("empty") and report.get("province"):
        official.section(pdf, f"{next(parts)}. KẾT QUẢ THEO CƠ QUAN")
        pdf_tables.agencies_table(pdf, report, rows, 1)
        pdf_tables.elements_table(pdf, report, rows, 2)
        pdf_tables.quiet_table(pdf, report, quiet, 3)
        if rows:
            _charts(pdf, report, rows, next(parts))

    if report.get("kpis"):
        official.section(pdf, f"{next(parts)}. PHẢN ÁNH, KIẾN NGHỊ VÀ CHỈ SỐ MỘT CỬA")
        pdf_tables.kpi_tables(pdf, report["kpis"], 1)

    official.section(pdf, f"{next(parts)}. GHI CHÚ PHƯƠNG PHÁP")
    official.paragraphs(pdf, [*method_note(report), _made(report)], size=12)
    official.signature_block(pdf, who)
    return bytes(pdf.output())


def _made(report: dict) -> str:
    """When the figures were computed (and published), in local time."""
    text = f"Báo cáo do hệ thống Hài Lòng lập lúc {vn_datetime(now_utc())} (giờ Việt Nam)"
    published = report.get("snapshot_published_at")
    if published:
        try:
            published = vn_datetime(datetime.fromisoformat(published))
        except ValueError:  # already written out
            pass
        text += f", theo số liệu đã công bố lúc {published}"
    return text + "."


def _charts(pdf: FPDF, report: dict, rows: list[dict], part: str) -> None:
    """Part III: the charts of the headline indicator, each under its heading (the
    functions below draw them)."""
    target = report["target"]
    headline = presentation.headline_of(report)
    blocks = [{"name": r["name"]} | presentation.block_of(r, headline) for r in rows]
    if pdf.get_y() + 5.2 * len(rows) + 50 > pdf.h - official.MARGINS["bottom"]:
        pdf.add_page()
    official.section(pdf, f"{part}. BIỂU ĐỒ")
    official.subsection(pdf, f"1. {HEADLINE_VI[headline]} và khoảng tin cậy 95\u00a0% theo cơ quan")
    _interval_chart(pdf, sorted(blocks, key=lambda r: -(r["ci_low"] or 0)), target)
    shape = funnel(rows, target, headline, "n_eff") if report.get("funnel") else None
    if shape:
        pdf.add_page()
        official.subsection(pdf, "2. Biểu đồ phễu")
        official.paragraphs(pdf, [FUNNEL_NOTE], size=11)
        _funnel_chart(pdf, shape, target)
    official.plain(pdf)


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
