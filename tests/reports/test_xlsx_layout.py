"""The workbook's layout, written in write-only mode: bold shaded headers, frozen first
rows, column widths, every row of every table."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from survey_app.extensions import db
from survey_app.reports import documents, services
from survey_app.reports.periods import Period
from tests import factories
from tests.reports.conftest import respond


def test_every_sheet_has_its_styled_frozen_header_and_widths(app_ctx):
    for k in range(3):
        agency = factories.agency(f"Sở thử {k}")
        for j in range(2):
            counter = factories.counter(agency, f"Quầy {j}")
            for i in range(20):
                respond(counter, 5 if (i + k) % 4 else 2, {"A1": 4, "C1": 5 if i % 3 else 1})
    db.session.commit()
    report = services.compute_report(Period.parse("2022-03"))
    wb = load_workbook(io.BytesIO(documents.report_xlsx(report)))
    assert len(wb.sheetnames) == 9
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        header = [c for c in ws[1] if c.value is not None]
        assert header and all(c.font.bold for c in header), ws.title
        assert all(c.fill.fgColor.rgb.endswith("EEF3EF") for c in header), ws.title
    agencies = wb["Cơ quan"]
    assert agencies.column_dimensions["A"].width == 12  # short names: the minimum
    assert agencies.column_dimensions["J"].width == len("Thay đổi so với kỳ trước") + 4
    assert agencies.max_row == 4
    assert wb["Quầy"].max_row == 1 + 6
    assert [r[2] for r in wb["Quầy"].iter_rows(min_row=2, values_only=True)] == [
        "Quầy 0",
        "Quầy 1",
    ] * 3
    assert wb["Câu hỏi"].max_row == 1 + 3 * len(report["items"])
    assert wb["Biểu đồ khoảng tin cậy"].column_dimensions["B"].width == 42
    assert wb["Biểu đồ phễu"].column_dimensions["A"].width == 42
