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
#: The smallest QR side on A5, in mm: still read from a metre away.
MIN_QR_MM = 50.0


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
    pdf.multi_cell(pdf.w - 2 * margin, size * 0.5, text, align="C")
    return pdf.get_y()


def _height(pdf: FPDF, text: str, size: float, style: str = "", margin: float = 12) -> float:
    """How tall :func:`_centered` would write ``text``."""
    pdf.set_font("DejaVu", style, size)
    return pdf.multi_cell(
        pdf.w - 2 * margin, size * 0.5, text, align="C", dry_run=True, output="HEIGHT"
    )


def _poster_page(pdf: FPDF, counter: Counter, width: float, height: float, scale: float) -> None:
    """One poster: the band, the names, the QR, how to use it, the counter code, privacy.

    Every text is measured first. The QR takes the height left between the
    names and the texts below it (at most 10 cm on A5), so long names make it
    smaller, never overlapping; names so long that it would drop under 5 cm
    are set smaller instead.
    """
    pdf.add_page()
    margin = 12 * scale
    # a green band at the top, so the poster is recognisable across the hall
    pdf.set_fill_color(0, 105, 62)
    pdf.rect(0, 0, width, 26 * scale, style="F")
    pdf.set_text_color(255, 255, 255)
    _centered(pdf, 8 * scale, TITLE, 20 * scale, "B", margin)
    pdf.set_text_color(0, 0, 0)

    label = counter.name + (f" — {counter.location}" if counter.location else "")
    url = counter_url(counter.code)
    code_line = f"Mã quầy: {counter.code}"
    footer_y = height - 8 * scale - _height(pdf, ANONYMOUS, 8.5 * scale, "", margin)
    below_qr = (
        _height(pdf, INSTRUCTION, 12 * scale, "B", margin)
        + 3 * scale
        + _height(pdf, TYPE_URL, 10 * scale, "", margin)
        + 1
        + _height(pdf, url, 11 * scale, "B", margin)
        + 3 * scale
        + _height(pdf, code_line, 10 * scale, "", margin)
    )
    qr_bottom = footer_y - 4 * scale - below_qr - 4 * scale  # where the QR must end
    # very long names are set smaller, so that the QR keeps a readable size
    for shrink in (1.0, 0.9, 0.8, 0.7, 0.6):
        agency_size, label_size = 14 * scale * shrink, 12 * scale * shrink
        names = _height(pdf, counter.agency.name, agency_size, "B", margin) + _height(
            pdf, label, label_size, "", margin
        )
        room = qr_bottom - (32 + 2 + 6) * scale - names
        if room >= MIN_QR_MM * scale:
            break
    y = _centered(pdf, 32 * scale, counter.agency.name, agency_size, "B", margin)
    y = _centered(pdf, y + 2 * scale, label, label_size, "", margin)
    y0 = y + 6 * scale
    side = max(min(width - 2 * margin, 100 * scale, room), MIN_QR_MM * scale)
    _draw_qr(pdf, make_qr(url).matrix, (width - side) / 2, y0, side)

    y = _centered(pdf, y0 + side + 4 * scale, INSTRUCTION, 12 * scale, "B", margin)
    y = _centered(pdf, y + 3 * scale, TYPE_URL, 10 * scale, "", margin)
    y = _centered(pdf, y + 1, url, 11 * scale, "B", margin)
    _centered(pdf, y + 3 * scale, code_line, 10 * scale, "", margin)
    pdf.set_text_color(90, 90, 90)
    _centered(pdf, footer_y, ANONYMOUS, 8.5 * scale, "", margin)
    pdf.set_text_color(0, 0, 0)


def _draw_qr(pdf: FPDF, matrix, x0: float, y0: float, side: float) -> None:
    """The QR as filled rectangles, one per horizontal run of dark modules."""
    modules = len(matrix) + 8  # with a 4-module quiet zone on each side
    cell = side / modules
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        col = 0
        while col < len(row):
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
