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
    assert "giới hạn kiểm soát 95%" in PdfReader(io.BytesIO(pdf)).pages[k].extract_text()
    image = np.asarray(pypdfium2.PdfDocument(pdf)[k].render(scale=2).to_pil().convert("RGB"))
    r, g, b = (image[..., i].astype(int) for i in range(3))
    # agencies below target are red dots (#c62828), the others dark grey
    red = (r > 150) & (g < 80) & (b < 80)
    dark = (r < 90) & (g < 90) & (b < 90)
    blue = (b > 140) & (r < 40)  # the target line (#0b5cad)
    assert red.sum() > 50 and dark.sum() > 300 and blue.sum() > 500
    below = sum(1 for p in year_report["funnel"]["points"] if p["index"] < 0.9)
    assert below >= 1
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
    assert [r[3] for r in intervals] == sorted((r["ci_low"] for r in rows), reverse=True)
    first = next(r for r in rows if r["name"] == intervals[0][1])
    assert intervals[0][2] == pytest.approx(first["index"])
    assert intervals[0][5] == pytest.approx(first["index"] - first["ci_low"])
    funnel = list(wb["Biểu đồ phễu"].iter_rows(min_row=2, values_only=True))
    points = year_report["funnel"]["points"]
    assert [(r[0], r[2]) for r in funnel[: len(points)]] == [
        (p["code"], pytest.approx(p["index"])) for p in points
    ]
    assert [r[4] for r in funnel[: len(year_report["funnel"]["n_eff"])]] == pytest.approx(
        year_report["funnel"]["n_eff"]
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
