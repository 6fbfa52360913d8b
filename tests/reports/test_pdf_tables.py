"""The PDF report's tables (:func:`survey_app.reports.pdf_tables.table`) draw exactly
what fpdf2's ``FPDF.table`` drew before they were drawn row by row for speed: the same
pages, pixel for pixel, with cells that wrap, markdown bold and italics, totals in bold
and a table long enough to cross pages (its header repeated on each)."""

from __future__ import annotations

import numpy as np
import pypdfium2
from fpdf import FPDF

from survey_app.reports import pdf_tables
from survey_app.reports.official import SERIF, OfficialPdf, plain
from survey_app.reports.pdf_tables import HEAD_STYLE, TOTAL_STYLE, escaped

ALIGN = {"C": "CENTER", "L": "LEFT", "R": "RIGHT"}
WIDTHS = (10, 56, 19, 15, 24, 16, 25)
HEADER = [
    "STT",
    "Cơ quan",
    "Số người trả lời",
    "Kết quả",
    "Khoảng tin cậy 95\u00a0%",
    "Thay đổi",
    "Kết luận",
]


def _fpdf_table(pdf: FPDF, header, rows, widths, align, size, totals) -> None:
    """The table as ``pdf_tables.table`` drew it with fpdf2's own table (the reference)."""
    plain(pdf)
    pdf.set_font(SERIF, "", size)
    with pdf.table(
        width=pdf.epw,
        align="LEFT",
        col_widths=widths,
        text_align=tuple(ALIGN[a] for a in align),
        line_height=size * 0.46,
        headings_style=HEAD_STYLE,
        repeat_headings=1,
        padding=pdf_tables.PADDING,
        markdown=True,
    ) as t:
        head = t.row()
        for text in header:
            head.cell(escaped(text), align="CENTER")
        for k, row in enumerate(rows):
            cells = t.row(style=TOTAL_STYLE if k >= len(rows) - totals else None)
            for text in row:
                cells.cell(text)
    pdf.ln(2)


def _rows(count: int) -> list[list[str]]:
    rows = []
    for k in range(1, count + 1):
        name = f"Cơ quan thử nghiệm số {k:03d}"
        if k % 3 == 0:  # a long name that wraps
            name = f"Ban quản lý các khu công nghiệp và khu kinh tế cửa khẩu tỉnh, số {k:03d}"
        if k % 4 == 0:  # the italic reliability note under the name
            name += "\n__Độ tin cậy thấp: dưới 30 phiếu hiệu dụng; khoảng tin cậy rộng__"
        verdict = "**Dưới mục tiêu**" if k % 5 == 0 else "Đạt mục tiêu"
        if k % 7 == 0:
            verdict = "Chưa đủ dữ liệu để kết luận (chỉ 7 người trả lời)"
        rows.append(
            [
                str(k),
                escaped(name) if k % 11 == 0 else name,
                f"{k * 37:,}".replace(",", "."),
                "87,2 %",
                "85,0–89,4 %",
                "" if k % 6 == 0 else "+1,2 (rõ rệt)",
                verdict,
            ]
        )
    rows.append(["", "Toàn tỉnh", "1.000.000", "90,2 %", "90,2–90,3 %", "0,0", "Đạt mục tiêu"])
    return rows


def _pages(draw) -> list[np.ndarray]:
    pdf = OfficialPdf()
    pdf.add_page()
    plain(pdf)
    pdf.multi_cell(0, 5, "Bảng thử", new_x="LMARGIN", new_y="NEXT")
    draw(pdf)
    pdf.multi_cell(0, 5, "Sau bảng", new_x="LMARGIN", new_y="NEXT")
    document = pypdfium2.PdfDocument(bytes(pdf.output()))
    return [np.asarray(page.render(scale=1.5, grayscale=True).to_pil()) for page in document]


def test_table_draws_what_fpdf2_table_drew_across_pages():
    rows = _rows(60)
    args = (HEADER, rows, WIDTHS, "CLRRRRL", 10, 1)
    ours = _pages(
        lambda pdf: pdf_tables.table(pdf, *args[:3], align=args[3], size=args[4], totals=args[5])
    )
    reference = _pages(lambda pdf: _fpdf_table(pdf, *args))
    assert len(ours) == len(reference) >= 3  # the table crosses pages
    for mine, theirs in zip(ours, reference, strict=True):
        assert mine.shape == theirs.shape
        assert np.array_equal(mine, theirs)


def test_header_repeated_and_cells_wrapped():
    pdf = OfficialPdf()
    pdf.add_page()
    pdf_tables.table(pdf, HEADER, _rows(60), WIDTHS, align="CLRRRRL")
    import io

    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(bytes(pdf.output()))).pages]
    assert len(pages) >= 3
    assert all("Kết luận" in text and "STT" in text for text in pages)  # header on every page
    # a long name wraps in its cell, under it the italic note, both kept whole
    assert "Ban quản lý các khu công nghiệp" in pages[0]
    assert "Độ tin cậy thấp" in pages[0]


def test_cells_wider_than_their_column_wrap_and_raise_the_row():
    pdf = OfficialPdf()
    pdf.add_page()
    start = pdf.get_y()
    pdf_tables.table(pdf, ["A", "B"], [["ngắn", "ngắn"]], (20, 20), align="LL")
    one_line = pdf.get_y() - start
    start = pdf.get_y()
    pdf_tables.table(
        pdf, ["A", "B"], [["ngắn", "một câu dài hơn hẳn cột của nó " * 3]], (20, 20), align="LL"
    )
    assert pdf.get_y() - start >= one_line + 10 * 0.46  # at least one more line
