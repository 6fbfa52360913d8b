"""The workbook's layout, written in write-only mode: bold shaded wrapped headers, frozen
header rows (and names), column widths fitted to the content within bounds, every row of
every table."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from survey_app.extensions import db
from survey_app.reports import documents, services
from survey_app.reports.periods import Period
from survey_app.reports.xlsx_cells import MAX_WIDTH, MIN_WIDTH, wrapped_lines
from tests import factories
from tests.reports.conftest import respond


def test_every_sheet_has_its_styled_frozen_header_and_widths(app_ctx):
    long_name = "Ban Quản lý các khu công nghiệp và khu kinh tế tỉnh " * 2
    for k in range(3):
        agency = factories.agency(long_name.strip() if k == 2 else f"Sở thử {k}")
        for j in range(2):
            counter = factories.counter(agency, f"Quầy {j}")
            for i in range(20):
                respond(counter, 5 if (i + k) % 4 else 2, {"A1": 4, "C1": 5 if i % 3 else 1})
    db.session.commit()
    report = services.compute_report(Period.parse("2022-03"))
    wb = load_workbook(io.BytesIO(documents.report_xlsx(report)))
    assert len(wb.sheetnames) == 9 and wb.sheetnames[0] == "Tóm tắt"
    for ws in wb.worksheets:
        assert ws.freeze_panes in ("A2", "C2", "D2"), ws.title
        header = [c for c in ws[1] if c.value is not None]
        assert header and all(c.font.bold for c in header), ws.title
        assert all(c.fill.fgColor.rgb.endswith("EEF3EF") for c in header), ws.title
    agencies = wb["Cơ quan"]
    assert agencies.freeze_panes == "C2"  # the header row and the names stay in view
    assert agencies.column_dimensions["A"].width == len("Mã cơ quan") + 2
    assert agencies.column_dimensions["B"].width == MAX_WIDTH  # a very long name: bounded
    assert agencies.column_dimensions["C"].width == 18 + 2  # a long header wraps
    assert agencies.column_dimensions["P"].width == MIN_WIDTH + 2  # "Số phiếu", small counts
    lines = wrapped_lines("Số người trả lời câu hỏi hài lòng chung", 18)
    assert lines == 3 and agencies.row_dimensions[1].height >= 15 * lines
    assert agencies.max_row == 1 + 3 + 1  # three agencies, then the province
    assert wb["Quầy"].max_row == 1 + 6
    assert [r[2] for r in wb["Quầy"].iter_rows(min_row=2, values_only=True)] == [
        "Quầy 0",
        "Quầy 1",
    ] * 3
    assert wb["Câu hỏi"].max_row == 1 + 4 * len(report["items"])
    assert wb["Câu hỏi"].column_dimensions["D"].width == 60  # the questions' texts
    assert wb["Tóm tắt"].column_dimensions["B"].width == 110
    assert wb["Biểu đồ khoảng tin cậy"].column_dimensions["B"].width == 42
    assert wb["Biểu đồ phễu"].column_dimensions["A"].width == 42


def test_wrapped_lines_counts_like_a_typist():
    assert wrapped_lines("Số phiếu", 18) == 1
    assert wrapped_lines("Tỷ lệ phiếu trên hồ sơ", 10) == 3
    assert wrapped_lines("", 10) == 1
