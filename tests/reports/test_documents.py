"""The PDF and XLSX reports: opened with pypdf, pypdfium2 and openpyxl; the CLI writes both."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from survey_app.demo.data import load_demo
from survey_app.extensions import db
from survey_app.reports import documents, services
from survey_app.reports.charts import layout as chart_layout
from survey_app.reports.periods import Period


@pytest.fixture
def year_report(app_ctx):
    load_demo(scale=0.3)
    db.session.commit()
    return services.compute_report(Period.parse("2022"))


def test_pdf_names_agencies_and_verdicts_and_is_not_blank(year_report):
    pdf = documents.report_pdf(year_report)
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "BÁO CÁO SỰ HÀI LÒNG" in text
    assert "UBND huyện Thanh Hà" in text and "Dưới mục tiêu" in text
    assert "Ghi chú phương pháp" in text and "Korn–Graubard" in text
    page = pypdfium2.PdfDocument(pdf)[2]
    image = page.render(scale=1).to_pil().convert("L")
    dark = int((np.asarray(image) < 200).sum())
    assert dark > 2000  # the chart and the table are drawn


def _page_with(pdf: bytes, text: str) -> int:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return next(k for k, page in enumerate(pages) if text in page.extract_text())


def test_pdf_has_the_funnel_plot(year_report):
    pdf = documents.report_pdf(year_report)
    k = _page_with(pdf, "Biểu đồ phễu")
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[k].extract_text().split())
    assert "Giới hạn kiểm soát 95" in text and "Mục tiêu 90" in text
    image = np.asarray(pypdfium2.PdfDocument(pdf)[k].render(scale=2).to_pil().convert("RGB"))
    r, g, b = (image[..., i].astype(int) for i in range(3))
    # the target line (#0B3C7A) and the grey points inside the funnel
    blue = (b > 100) & (r < 40) & (g < 80)
    grey = (abs(r - 138) < 12) & (abs(g - 138) < 12) & (abs(b - 138) < 12)
    assert blue.sum() > 500 and grey.sum() > 100
    # the funnel is the headline's (Q0) against n_use, and the agencies outside it are named
    funnel = year_report["funnel"]
    assert funnel["indicator"] == "q0" and funnel["size"] == "n_use"
    below = [p for p in funnel["points"] if chart_layout.funnel_position(funnel, p)[0] == "below"]
    assert below and all(
        chart_layout.short_name(p["name"]) in text or p["name"] in text for p in below
    )
    # without a funnel (e.g. a scope with no agency) the page is left out
    assert "Biểu đồ phễu" not in " ".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(documents.report_pdf(dict(year_report, funnel=None)))).pages
    )


def test_xlsx_has_both_charts_beside_their_data(year_report):
    import zipfile

    body = documents.report_xlsx(year_report)
    wb = load_workbook(io.BytesIO(body))
    intervals = list(wb["Biểu đồ khoảng tin cậy"].iter_rows(min_row=2, values_only=True))
    rows = year_report["agencies"]
    assert len(intervals) == len(rows)
    # the headline (Q0), best first, agencies without a verdict last
    q0 = {r["name"]: r["q0"] for r in rows}
    first = q0[intervals[0][1]]
    assert intervals[0][3] == pytest.approx(first["index"])
    assert intervals[0][4] == pytest.approx(first["ci_low"])
    with_verdict = [r[3] for r in intervals if r[6] != "Chưa đủ dữ liệu"]
    assert with_verdict == sorted(with_verdict, reverse=True)
    funnel = list(wb["Biểu đồ phễu"].iter_rows(min_row=2, values_only=True))
    points = year_report["funnel"]["points"]
    assert sorted((r[0], round(r[3], 9)) for r in funnel[: len(points)]) == sorted(
        (p["name"], round(p["index"], 9)) for p in points
    )
    assert [r[6] for r in funnel[: len(year_report["funnel"]["n_use"])]] == pytest.approx(
        year_report["funnel"]["n_use"]
    )
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode() for n in charts]
    assert len(charts) == 2
    assert "errBars" in xml[0] and "Biểu đồ khoảng tin cậy" in xml[0]
    assert '<logBase val="10"' in xml[1] and "Biểu đồ phễu" in xml[1]


def test_xlsx_tables_match_the_report(year_report):
    wb = load_workbook(io.BytesIO(documents.report_xlsx(year_report)))
    assert wb.sheetnames == [
        "Tổng hợp",
        "Cơ quan",
        "Yếu tố",
        "Câu hỏi",
        "Độ bao phủ",
        "Chất lượng dữ liệu",
        "Quầy",
        "Biểu đồ khoảng tin cậy",
        "Biểu đồ phễu",
    ]
    rows = {r[0]: r for r in wb["Cơ quan"].iter_rows(min_row=2, values_only=True)}
    thanh_ha = next(r for r in year_report["agencies"] if r["code"] == "H-THANHHA")
    assert rows["H-THANHHA"][2] == thanh_ha["n"]
    assert rows["H-THANHHA"][3] == pytest.approx(thanh_ha["index"])
    assert rows["H-THANHHA"][6] == "Dưới mục tiêu"
    coverage = {r[0]: r for r in wb["Độ bao phủ"].iter_rows(min_row=2, values_only=True)}
    assert coverage["H-THANHHA"][3] == thanh_ha["dossiers"]
    elements = list(wb["Yếu tố"].iter_rows(min_row=2, values_only=True))
    assert len(elements) == len(year_report["agencies"]) * len(year_report["elements"])


def test_empty_period_documents(app_ctx):
    report = services.compute_report(Period.parse("2019-03"))
    text = PdfReader(io.BytesIO(documents.report_pdf(report))).pages[1].extract_text()
    assert "Không có phiếu" in text
    assert load_workbook(io.BytesIO(documents.report_xlsx(report)))["Cơ quan"].max_row == 1


def test_cli_writes_both_files(app, runner, tmp_path):
    with app.app_context():
        load_demo(scale=0.1)
        db.session.commit()
    result = runner.invoke(
        args=["report", "monthly", "--period", "2022-03", "--output-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bao-cao-hai-long-2022-03.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "bao-cao-hai-long-2022-03.xlsx").exists()
    result = runner.invoke(
        args=["report", "quarterly", "--period", "2022-03", "--output-dir", str(tmp_path)]
    )
    assert result.exit_code != 0 and "not a quarter" in result.output
    result = runner.invoke(args=["report", "yearly", "--period", "20x2"])
    assert result.exit_code != 0 and "not a period" in result.output
