"""The form of an administrative report (NĐ 30/2020/NĐ-CP, Phụ lục I) for the PDF.

What the decree fixes and this module draws, in fpdf2 on A4 (margins: top and
bottom 20 mm, left 30 mm, right 15 mm):

- top left, the issuing body: its parent (``REPORT_ISSUER_PARENT``, upper
  case) and itself (``REPORT_ISSUER``, upper case, bold, a short rule under
  it), then the number "Số: …/BC-<code>" (``REPORT_ISSUER_CODE``) left for
  the clerk;
- top right, the national motto, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" (bold)
  and "Độc lập - Tự do - Hạnh phúc" (bold, a rule as long as the line under
  it), then "<REPORT_PLACE>, ngày … tháng … năm …" in italics, left for the
  signer;
- centred, the kind "BÁO CÁO" (bold) and the subject (bold, a short rule
  under it), then "Kính gửi:" the recipients (``REPORT_RECIPIENTS``);
- at the end, the signatures ("NGƯỜI LẬP BÁO CÁO", ``REPORT_SIGNER_TITLE``)
  with room to sign, and "Nơi nhận:" (bold italic) with its list
  (``REPORT_DISTRIBUTION``), each line opened by a dash and closed by a
  semicolon, the last by a full stop;
- page numbers centred at the top of every page but the first.

The decree asks for Times New Roman; the bundled Liberation Serif (SIL OFL,
``fonts/LiberationSerif-LICENSE.txt``) has its metrics and every Vietnamese
letter. List settings take ``;`` between items.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from fpdf import FPDF

from ..surveys.posters import FONT_DIR
from .scope import scope_note_vi

SERIF = "Serif"
#: Page margins in mm (NĐ 30/2020, Phụ lục I, section I.5).
MARGINS = {"top": 20.0, "bottom": 20.0, "left": 30.0, "right": 15.0}
#: Body text: 13 pt, justified, first line indented 1 cm, 6 pt between paragraphs.
BODY_SIZE = 13
INDENT = 10.0
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
KIND = "BÁO CÁO"
SUBJECT = (
    "Kết quả khảo sát mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan "
    "hành chính nhà nước"
)
PREPARER = "NGƯỜI LẬP BÁO CÁO"

#: The settings and their defaults (the demo's province, Hải Dương, in 2022).
DEFAULTS = {
    "REPORT_ISSUER_PARENT": "UBND TỈNH HẢI DƯƠNG",
    "REPORT_ISSUER": "SỞ NỘI VỤ",
    "REPORT_ISSUER_CODE": "SNV",
    "REPORT_PLACE": "Hải Dương",
    "REPORT_RECIPIENTS": "Ủy ban nhân dân tỉnh Hải Dương",
    "REPORT_DISTRIBUTION": "Như trên;Lưu: VT",
    "REPORT_SIGNER_TITLE": "THỦ TRƯỞNG CƠ QUAN",
}


@dataclass(frozen=True)
class Issuer:
    """Who issues the report and to whom (the ``REPORT_*`` settings of :data:`DEFAULTS`)."""

    parent: str
    name: str
    code: str
    place: str
    recipients: tuple[str, ...]
    distribution: tuple[str, ...]
    signer_title: str

    @property
    def number(self) -> str:
        """The number left for the clerk: "Số:      /BC-SNV"."""
        return f"Số:        /BC-{self.code or '…'}"

    @property
    def place_date(self) -> str:
        """The place and a date left for the signer: "Hải Dương, ngày … tháng … năm 20…"."""
        return f"{self.place}, ngày      tháng      năm 20…"


def _items(value) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        items = value
    else:
        items = str(value or "").split(";")
    return tuple(s.strip().rstrip(";.").strip() for s in items if s and s.strip())


def issuer() -> Issuer:
    """The issuing body from the settings (defaults for any that is not set)."""
    config = current_app.config

    def get(name: str) -> str:
        value = config.get(name)
        return DEFAULTS[name] if value is None else value

    return Issuer(
        parent=str(get("REPORT_ISSUER_PARENT")).strip().upper(),
        name=str(get("REPORT_ISSUER")).strip().upper(),
        code=str(get("REPORT_ISSUER_CODE")).strip().upper(),
        place=str(get("REPORT_PLACE")).strip(),
        recipients=_items(get("REPORT_RECIPIENTS")),
        distribution=_items(get("REPORT_DISTRIBUTION")),
        signer_title=str(get("REPORT_SIGNER_TITLE")).strip().upper(),
    )


def scope_line(report: dict) -> str:
    """The filter of a reader's report (``scope``, :mod:`.scope`) in a sentence; empty for
    the whole province."""
    empty = not report.get("agencies") and not report.get("empty")
    return scope_note_vi(report.get("scope"), empty=empty)


# -- the page ---------------------------------------------------------------------------


class OfficialPdf(FPDF):
    """A4 with the decree's margins and its page numbers (top centre, not on page 1)."""

    def __init__(self):
        super().__init__(unit="mm", format="A4")
        for style, suffix in (
            ("", "Regular"),
            ("B", "Bold"),
            ("I", "Italic"),
            ("BI", "BoldItalic"),
        ):
            self.add_font(SERIF, style, str(FONT_DIR / f"LiberationSerif-{suffix}.ttf"))
        # the charts draw with DejaVu Sans (survey_app/reports/pdf.py)
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGINS["left"], MARGINS["top"], MARGINS["right"])
        self.set_auto_page_break(True, margin=MARGINS["bottom"])

    def header(self):
        if self.page_no() > 1:
            self.set_y(9)
            self.set_font(SERIF, "", 13)
            self.set_text_color(0, 0, 0)
            self.cell(0, 6, str(self.page_no()), align="C")
            self.set_y(MARGINS["top"])


def plain(pdf: FPDF) -> None:
    """Black text and lines, white fill, body font: the state after a chart drew in colour."""
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.2)
    pdf.set_font(SERIF, "", BODY_SIZE)


def _rule(pdf: FPDF, centre: float, y: float, length: float) -> None:
    pdf.set_line_width(0.3)
    pdf.set_draw_color(0, 0, 0)
    pdf.line(centre - length / 2, y, centre + length / 2, y)


def heading_block(pdf: FPDF, who: Issuer) -> None:
    """The issuing body, the number, the motto and the place and date (page 1's top)."""
    left_w, right_w = 68.0, pdf.epw - 68.0
    x_left, x_right = pdf.l_margin, pdf.l_margin + left_w
    top = pdf.t_margin

    # left: parent body, issuing body (bold, rule under it), number
    pdf.set_xy(x_left, top)
    pdf.set_font(SERIF, "", 12.5)
    if who.parent:
        pdf.multi_cell(left_w, 5.6, who.parent, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(SERIF, "B", 12.5)
    pdf.multi_cell(left_w, 5.6, who.name, align="C", new_x="LEFT", new_y="NEXT")
    width = min(pdf.get_string_width(who.name), left_w)
    _rule(pdf, x_left + left_w / 2, pdf.get_y() + 0.6, max(width / 2.5, 15))
    pdf.set_xy(x_left, pdf.get_y() + 4)
    pdf.set_font(SERIF, "", 13)
    pdf.multi_cell(left_w, 6, who.number, align="C", new_x="LEFT", new_y="NEXT")
    left_bottom = pdf.get_y()

    # right: the national motto, its rule, the place and date in italics
    pdf.set_xy(x_right, top)
    pdf.set_font(SERIF, "B", 12.5)
    pdf.multi_cell(right_w, 5.6, MOTTO, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(SERIF, "B", 13.5)
    pdf.multi_cell(right_w, 6, MOTTO_2, align="C", new_x="LEFT", new_y="NEXT")
    _rule(pdf, x_right + right_w / 2, pdf.get_y() + 0.4, pdf.get_string_width(MOTTO_2))
    pdf.set_xy(x_right, pdf.get_y() + 4)
    pdf.set_font(SERIF, "I", 13)
    pdf.multi_cell(right_w, 6, who.place_date, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 8)


def title_block(pdf: FPDF, subject: str, recipients: tuple[str, ...]) -> None:
    """The kind "BÁO CÁO", its subject (a short rule under it) and "Kính gửi:"."""
    pdf.set_font(SERIF, "B", 14)
    pdf.multi_cell(0, 7, KIND, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(SERIF, "B", 13.5)
    # the subject on lines of at most ~130 mm, centred, as a typist would break it
    pdf.set_x(pdf.l_margin + 15)
    pdf.multi_cell(pdf.epw - 30, 6.5, subject, align="C", new_x="LMARGIN", new_y="NEXT")
    _rule(pdf, pdf.l_margin + pdf.epw / 2, pdf.get_y() + 1.2, 45)
    pdf.ln(7)
    if not recipients:
        return
    pdf.set_font(SERIF, "", BODY_SIZE)
    label = "Kính gửi: "
    label_w = pdf.get_string_width(label)
    if len(recipients) == 1:
        text = label + recipients[0] + "."
        width = min(pdf.get_string_width(text) + 2, pdf.epw)
        pdf.set_x(pdf.l_margin + (pdf.epw - width) / 2)
        pdf.multi_cell(width, 6.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
    else:
        x = pdf.l_margin + 25
        pdf.set_x(x)
        pdf.cell(label_w, 6.5, label)
        for k, name in enumerate(recipients):
            end = "." if k == len(recipients) - 1 else ";"
            pdf.set_x(x + label_w)
            pdf.multi_cell(
                pdf.epw - 25 - label_w, 6.5, f"- {name}{end}", new_x="LMARGIN", new_y="NEXT"
            )
    pdf.ln(3)


def section(pdf: FPDF, text: str) -> None:
    """A part of the report: "I. TÓM TẮT KẾT QUẢ" (bold, upper case), kept with what
    follows it."""
    if pdf.get_y() > pdf.h - MARGINS["bottom"] - 50:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(SERIF, "B", BODY_SIZE)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def subsection(pdf: FPDF, text: str) -> None:
    """A numbered heading inside a part: "1. …" (bold), kept with what follows it."""
    if pdf.get_y() > pdf.h - MARGINS["bottom"] - 40:
        pdf.add_page()
    pdf.ln(1)
    pdf.set_font(SERIF, "B", BODY_SIZE)
    pdf.set_x(pdf.l_margin + INDENT)
    pdf.multi_cell(pdf.epw - INDENT, 6.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def paragraphs(
    pdf: FPDF, texts: list[str], size: float = BODY_SIZE, style: str = "", dash: bool = False
) -> None:
    """Body paragraphs: justified, first line indented, 6 pt apart (``dash``: each opened
    by "- ", as the points of a summary are written)."""
    if not texts:
        return
    pdf.set_font(SERIF, style, size)
    with pdf.text_columns(text_align="J", line_height=1.15) as columns:
        for text in texts:
            with columns.paragraph(first_line_indent=INDENT, bottom_margin=2.1) as paragraph:
                paragraph.write(("- " if dash else "") + text)
    pdf.set_x(pdf.l_margin)


def note(pdf: FPDF, text: str, size: float = 10.5) -> None:
    """A note under a table: smaller, in italics, left aligned."""
    pdf.set_font(SERIF, "I", size)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def signature_block(pdf: FPDF, who: Issuer) -> None:
    """The two signatures with room to sign, then "Nơi nhận:" and its list, kept on one page."""
    height = 58 + 5 * len(who.distribution)
    if pdf.get_y() + height > pdf.h - MARGINS["bottom"]:
        pdf.add_page()
    pdf.ln(6)
    half = pdf.epw / 2
    top = pdf.get_y()
    for k, (title, hint) in enumerate(
        (
            (PREPARER, "(Ký, ghi rõ họ tên)"),
            (who.signer_title, "(Ký tên, đóng dấu)"),
        )
    ):
        pdf.set_xy(pdf.l_margin + k * half, top)
        pdf.set_font(SERIF, "B", 13)
        pdf.multi_cell(half, 6, title, align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(SERIF, "I", 12)
        pdf.multi_cell(half, 6, hint, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, top + 40)  # room to sign (and to stamp)
    if not who.distribution:
        return
    pdf.set_font(SERIF, "BI", 12)
    pdf.cell(0, 6, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(SERIF, "", 11)
    for k, line in enumerate(who.distribution):
        end = "." if k == len(who.distribution) - 1 else ";"
        pdf.multi_cell(half, 5, f"- {line}{end}", new_x="LMARGIN", new_y="NEXT")
