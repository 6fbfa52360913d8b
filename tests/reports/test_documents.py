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
