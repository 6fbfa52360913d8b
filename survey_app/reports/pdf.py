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

from datetime import datetime

from flask_babel import force_locale
from fpdf import FPDF

from ..core.time import now_utc
from . import official, pdf_tables, presentation
from .assembly import funnel
from .charts import pdf as pdf_charts
from .charts import pdf_funnel
from .labels import FUNNEL_NOTE, HEADLINE_VI, method_note, vn_datetime
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
    height = pdf_charts.interval_height(pdf, rows, headline)
    if pdf.get_y() + min(height, 120) + 20 > pdf.h - official.MARGINS["bottom"]:
        pdf.add_page()
    official.section(pdf, f"{part}. BIỂU ĐỒ")
    official.subsection(pdf, f"1. {HEADLINE_VI[headline]} và khoảng tin cậy 95\u00a0% theo cơ quan")
    _interval_chart(pdf, rows, target, headline)  # best first, continued on the next page
    shape = funnel(rows, target, headline, "n_use") if report.get("funnel") else None
    if shape:
        pdf.add_page()
        official.subsection(pdf, "2. Biểu đồ phễu")
        official.paragraphs(pdf, [FUNNEL_NOTE], size=11)
        _funnel_chart(pdf, shape, target)
    official.plain(pdf)


def _interval_chart(pdf: FPDF, rows: list[dict], target: float, headline: str = "q0") -> None:
    """The agencies' ``headline`` indicator with its interval against the target, best
    first (:func:`.charts.pdf.interval_chart`)."""
    pdf_charts.interval_chart(pdf, rows, target, headline)


def _funnel_chart(pdf: FPDF, funnel: dict, target: float) -> None:
    """The funnel plot of the report's funnel (:func:`.charts.pdf_funnel.funnel_chart`)."""
    pdf_funnel.funnel_chart(pdf, funnel, target)
