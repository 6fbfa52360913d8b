"""The charts in the PDF and the XLSX: drawn (the pages rendered), labelled (the text
layer, its label boxes measured), native Excel charts with their axes and titles."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pypdfium2
import pytest
from fpdf import FPDF
from openpyxl import load_workbook
from pypdf import PdfReader

from survey_app.demo.data import load_demo
from survey_app.extensions import db
from survey_app.reports import documents, services
from survey_app.reports.charts import layout as chart_layout
from survey_app.reports.charts import pdf as pdf_charts
from survey_app.reports.charts import pdf_funnel
from survey_app.reports.charts.layout import funnel_position, share_axis, short_name, text_width
from survey_app.reports.charts.placement import Box
from survey_app.reports.periods import Period
from survey_app.surveys.posters import FONT_DIR
from tests.reports.test_charts import _agencies, _crowded_funnel

LEGEND_WORDS = (
    "Dưới mục tiêu",
    "Chưa kết luận",
    "Đạt mục tiêu",
    "Độ tin cậy thấp: dấu rỗng, khoảng nét đứt",
    "Mục tiêu 90 %",
)


def _pdf() -> FPDF:
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    return pdf


def _runs(page) -> list[tuple[str, Box, float]]:
    """The text runs of a page with their boxes (points, y downwards) and sizes."""
    runs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            bold = "Bold" in str((font or {}).get("/BaseFont", ""))
            w = text_width(text, size, bold)
            x, y = tm[4], float(page.mediabox.height) - tm[5]
            runs.append((text, Box(x, y - 0.93 * size, x + w, y + 0.24 * size), size))

    page.extract_text(visitor_text=visit)
    return runs


def _words(page) -> str:
    """A page's text, blanks (the no-break space before %) made single spaces."""
    return " ".join(page.extract_text().replace("\u00a0", " ").split())


def _not_blank(pdf_bytes: bytes, k: int) -> np.ndarray:
    image = pypdfium2.PdfDocument(pdf_bytes)[k].render(scale=1.5, grayscale=True).to_pil()
    grey = np.asarray(image.convert("L"))
    assert (grey < 200).sum() > 5000  # marks, lines and words, not an empty page
    return grey


def test_pdf_interval_chart_of_40_agencies_is_labelled_without_overlap(app):
    rows = _agencies()
    pdf = _pdf()
    with app.app_context():
        pdf_charts.interval_chart(pdf, [{"q0": r, "name": r["name"]} for r in rows], 0.90)
    body = bytes(pdf.output())
    pages = PdfReader(io.BytesIO(body)).pages
    assert len(pages) == 2  # 40 agencies do not fit on one A4 page: the axis is repeated
    text = " ".join(_words(p) for p in pages)
    for word in LEGEND_WORDS:
        assert word in text
    assert text.count("Mục tiêu 90 % Kết quả Kết luận") == 2
    below = [
        r["name"] for r in sorted(rows, key=lambda r: -r["index"]) if r["verdict"] == "below_target"
    ]
    assert f"{len(below)} cơ quan dưới mục tiêu: {', '.join(below)}." in text
    for k, page in enumerate(pages):
        runs = _runs(page)
        assert min(size for _t, _b, size in runs) >= 8.5
        for (a, box_a, _s), (b, box_b, _t) in itertools.combinations(runs, 2):
            assert not box_a.overlaps(box_b), f"page {k + 1}: {a!r} overlaps {b!r}"
        _not_blank(body, k)


def test_pdf_interval_chart_without_an_agency_says_so(app):
    pdf = _pdf()
    with app.app_context():
        pdf_charts.interval_chart(pdf, [], 0.90)
    (page,) = PdfReader(io.BytesIO(bytes(pdf.output()))).pages
    assert "Không có cơ quan nào có kết quả để vẽ biểu đồ." in _words(page)


def test_pdf_funnel_names_the_agencies_outside_without_overlap(app):
    funnel = _crowded_funnel()
    pdf = _pdf()
    with app.app_context():
        pdf_funnel.funnel_chart(pdf, funnel, 0.90)
    body = bytes(pdf.output())
    (page,) = PdfReader(io.BytesIO(body)).pages
    text = _words(page)
    for word in ("Mục tiêu 90 %", "Giới hạn kiểm soát 95 %", "Giới hạn kiểm soát 99,8 %"):
        assert word in text
    assert "Dưới giới hạn: kém hơn mục tiêu ngoài mức ngẫu nhiên" in text
    outside = [p for p in funnel["points"] if funnel_position(funnel, p)[0] != "inside"]
    runs = _runs(page)
    labels = {t for t, _b, _s in runs}
    on_chart = [p for p in outside if short_name(p["name"]) in labels]
    assert len(on_chart) >= 20
    # those without room are named under the chart; every one is in the summary
    assert all(p["name"] in text for p in outside)
    for (a, box_a, _s), (b, box_b, _t) in itertools.combinations(runs, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    _not_blank(body, 0)


@pytest.fixture
def month_report(app_ctx):
    load_demo(scale=0.3)
    db.session.commit()
    report = services.compute_report(Period.parse("2022-11"))
    return dict(report, funnel=services.funnel(report["agencies"]))


def test_the_reports_pdf_charts_plot_the_headline_and_read_in_grey(month_report):
    body = documents.report_pdf(month_report)
    pages = PdfReader(io.BytesIO(body)).pages
    k = next(k for k, p in enumerate(pages) if "Độ tin cậy thấp: dấu rỗng" in p.extract_text())
    text = _words(pages[k])
    for word in ("Mục tiêu 90 %", "Kết quả", "Kết luận", "Tỷ lệ hài lòng chung"):
        assert word in text
    q0 = {r["name"]: r["q0"] for r in month_report["agencies"]}
    below = [n for n, b in q0.items() if b["verdict"] == "below_target"]
    assert below and all(name in text for name in below)
    # the values are the headline's (Q0), written the Vietnamese way
    best = max(
        (b for b in q0.values() if b["verdict"] != "insufficient_data"), key=lambda b: b["index"]
    )
    assert chart_layout.share_text(best["index"], 1).replace("\u00a0", " ") in text
    grey = _not_blank(body, k)
    assert ((grey > 60) & (grey < 200)).sum() > 2000  # shapes and bands in greys, not only black
    f = next(k for k, p in enumerate(pages) if "Giới hạn kiểm soát 99,8" in p.extract_text())
    _not_blank(body, f)


def _title(obj) -> str:
    return "".join(run.t for p in obj.tx.rich.p for run in (p.r or []))


def test_the_xlsx_charts_have_titles_axes_bounds_and_the_target(month_report):
    wb = load_workbook(io.BytesIO(documents.report_xlsx(month_report)))
    ws = wb["Biểu đồ khoảng tin cậy"]
    (chart,) = ws._charts
    rows = [{"name": r["name"]} | r["q0"] for r in month_report["agencies"]]
    low, high, step = share_axis([r["ci_low"] for r in rows if r["index"] is not None], 0.9)
    assert "Tỷ lệ hài lòng chung" in _title(chart.title)
    assert _title(chart.x_axis.title) and _title(chart.y_axis.title) == "Tỷ lệ hài lòng chung"
    assert chart.y_axis.scaling.min == pytest.approx(low) and chart.y_axis.scaling.max == high
    assert chart.y_axis.majorUnit == pytest.approx(step)
    assert chart.y_axis.number_format.formatCode == "0%" and chart.y_axis.delete is False
    titles = [s.tx.v for s in chart.series]
    assert titles[0] == "Mục tiêu 90 %"
    assert all(any(t.startswith(s) for t in titles) for s in ("Dưới mục tiêu", "Chưa kết luận"))
    assert any("độ tin cậy thấp" in t for t in titles)
    assert all(s.errBars is not None for s in chart.series[1:])
    # the data beside it: percentages, best first
    assert ws["D2"].number_format == "0.0%" and ws["E2"].number_format == "0.0%"
    assert ws["D1"].value == "Tỷ lệ hài lòng chung" and ws["G1"].value == "Kết luận"

    ws = wb["Biểu đồ phễu"]
    (funnel_chart,) = ws._charts
    assert funnel_chart.x_axis.scaling.logBase == 10
    assert _title(funnel_chart.x_axis.title).startswith("Số phiếu hiệu dụng (n_use)")
    points = month_report["funnel"]["points"]
    low = share_axis([p["index"] for p in points], 0.9)[0]
    assert funnel_chart.y_axis.scaling.min == pytest.approx(low)
    assert (
        funnel_chart.y_axis.scaling.max == 1.0
        and funnel_chart.y_axis.number_format.formatCode == "0%"
    )
    titles = [s.tx.v for s in funnel_chart.series if s.tx is not None]
    assert "Mục tiêu 90 %" in titles and "Giới hạn kiểm soát 99,8 %" in titles
    outside = [p for p in points if funnel_position(month_report["funnel"], p)[0] != "inside"]
    labels = [s for s in funnel_chart.series if s.dLbls is not None]
    assert labels and {s.tx.v for s in labels} <= {short_name(p["name"]) for p in outside}
    assert all(s.dLbls.showSerName and s.dLbls.dLblPos in "rltb" for s in labels)
    assert ws["D2"].number_format == "0.0%" and ws["C2"].number_format == "#,##0.0"
