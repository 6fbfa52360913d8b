"""Printable QR posters for counters, as PDF (fpdf2), A5 or A4, one counter per page.

The QR is drawn module by module as vector rectangles, so it prints sharp at
any size; the text uses the bundled DejaVu Sans, which covers Vietnamese.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from ..agencies.models import Counter
from .qr import counter_url, make_qr

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
#: Page width and height in millimetres.
SIZES = {"A5": (148.0, 210.0), "A4": (210.0, 297.0)}

TITLE = "ĐÁNH GIÁ SỰ HÀI LÒNG"
INSTRUCTION = "Quét mã QR bằng điện thoại để đánh giá sự phục vụ — chỉ mất 10 giây."
ANONYMOUS = "Ý kiến của Ông/Bà được giữ bí mật, không cần cung cấp thông tin cá nhân."
TYPE_URL = "Hoặc nhập địa chỉ:"


def render_posters(counters: Sequence[Counter], size: str = "A5") -> bytes:
    """A PDF with one poster page per counter.

    :param counters: counters to print, in page order.
    :param size: ``"A5"`` or ``"A4"``.
    :return: the PDF document.
    """
    width, height = SIZES[size]
    scale = width / SIZES["A5"][0]  # lay out for A5, scale for A4
    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Áp phích khảo sát sự hài lòng")
    pdf.set_creator("Hài Lòng")
    for counter in counters:
        _poster_page(pdf, counter, width, height, scale)
    return bytes(pdf.output())


def _centered(
    pdf: FPDF, y: float, text: str, size: float, style: str = "", margin: float = 12
) -> float:
    """Write wrapped, centred text starting at ``y``; return the y below it."""
    pdf.set_font("DejaVu", style, size)
    pdf.set_xy(margin, y)
    line_height = size * 0.5
    pdf.multi_cell(pdf.w - 2 * margin, line_height, text, align="C")
    return pdf.get_y()


def _poster_page(pdf: FPDF, counter: Counter, width: float, height: float, scale: float) -> None:
    pdf.add_page()
    margin = 12 * scale
    # a green band at the top, so the poster is recognisable across the hall
    pdf.set_fill_color(0, 105, 62)
    pdf.rect(0, 0, width, 26 * scale, style="F")
    pdf.set_text_color(255, 255, 255)
    _centered(pdf, 8 * scale, TITLE, 20 * scale, "B", margin)
    pdf.set_text_color(0, 0, 0)

    y = _centered(pdf, 32 * scale, counter.agency.name, 14 * scale, "B", margin)
    label = counter.name + (f" — {counter.location}" if counter.location else "")
    y = _centered(pdf, y + 2 * scale, label, 12 * scale, "", margin)

    url = counter_url(counter.code)
    qr = make_qr(url)
    side = min(width - 2 * margin, 100 * scale)
    x0 = (width - side) / 2
    y0 = y + 6 * scale
    modules = len(qr.matrix) + 8  # with a 4-module quiet zone on each side
    cell = side / modules
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(qr.matrix):
        col = 0
        while col < len(row):  # one rectangle per horizontal run of dark modules
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                pdf.rect(
                    x0 + (4 + start) * cell,
                    y0 + (4 + row_index) * cell,
                    (col - start) * cell,
                    cell,
                    style="F",
                )
            else:
                col += 1
    y = y0 + side + 4 * scale

    y = _centered(pdf, y, INSTRUCTION, 12 * scale, "B", margin)
    y = _centered(pdf, y + 3 * scale, TYPE_URL, 10 * scale, "", margin)
    y = _centered(pdf, y + 1, url, 11 * scale, "B", margin)
    _centered(pdf, y + 3 * scale, f"Mã quầy: {counter.code}", 10 * scale, "", margin)
    pdf.set_text_color(90, 90, 90)
    _centered(pdf, height - 16 * scale, ANONYMOUS, 8.5 * scale, "", margin)
    pdf.set_text_color(0, 0, 0)
