"""The tables of the PDF report, in Vietnamese and in the form of :mod:`.official`.

- the headline indicator per agency: who it counts, the figure, its interval,
  the change since the previous period and the one verdict, with the
  low-reliability marks in words, then the province (and, in a reader's
  scope, what the rows add up to);
- the SIPAS index and its five elements per agency, as the explanation (a mark
  for low reliability, explained under the table);
- the agencies that handled dossiers or have a counter but got no response;
- feedback handling and the one-stop indicators (:mod:`.kpis`).

Must be called with the Vietnamese locale forced (:func:`~.pdf.report_pdf`
does): the reliability notes and names come from :mod:`.presentation`.
"""

from __future__ import annotations

import re
from contextlib import nullcontext

from fpdf import FPDF
from fpdf.enums import Align, CellBordersLayout, MethodReturnValue, TableBordersLayout
from fpdf.fonts import FontFace, TextEmphasis
from fpdf.util import Padding

from . import kpi_labels, presentation
from .labels import HEADLINE_VI, N_VI, VERDICT_VI, pct, pct_range, vn_number
from .official import SERIF, note, plain, subsection

HEAD_STYLE = FontFace(emphasis="BOLD", fill_color=(238, 243, 239))
TOTAL_STYLE = FontFace(emphasis="BOLD")
#: A figure of low reliability in the elements table.
MARK = "*"
_ALIGN = {"C": "CENTER", "L": "LEFT", "R": "RIGHT"}
#: Padding of a cell (mm): top and bottom, left and right.
PADDING = (0.8, 1.2)
_MARKERS = re.compile(r"(\*\*|__|--|~~)")


def escaped(text: str) -> str:
    """``text`` shown as it is in a table cell that reads markdown (``**``, ``__``…)."""
    return _MARKERS.sub(r"\\\1", text)


def table(
    pdf: FPDF,
    header: list[str],
    rows: list[list[str]],
    widths: tuple[float, ...],
    *,
    align: str = "",
    size: float = 10,
    totals: int = 0,
) -> None:
    """A bordered table across the text width, its header repeated on every page. The
    cells read markdown (``**bold**``, ``__italics__``): pass names through
    :func:`escaped`.

    Drawn as ``pdf.table(...)`` would draw it (same borders, fills, paddings, middle
    vertical alignment, page breaks, header repeated), but a cell is line-broken only
    when its text is wider than its column: fpdf2's table breaks every cell twice
    (height, then drawing), which took most of the time of the report of 500 agencies.
    A cell that fits on one line is drawn with :meth:`FPDF.cell` where the table's
    :meth:`FPDF.multi_cell` would have drawn it.

    :param align: one letter per column, ``C``, ``L`` or ``R`` (default: centred
        number, left-aligned name, the rest right-aligned).
    :param totals: how many of the last rows are totals (bold).
    """
    align = align or "CL" + "R" * (len(widths) - 2)
    plain(pdf)
    pdf.set_font(SERIF, "", size)
    _Table(pdf, widths, align, size * 0.46).draw(header, rows, totals)
    pdf.ln(2)


class _Table:
    """One table of :func:`table`, laid out as fpdf2's ``FPDF.table`` lays it out."""

    def __init__(self, pdf: FPDF, widths, align: str, line_height: float):
        self.pdf = pdf
        self.line_height = line_height
        self.padding = Padding.new(PADDING)
        total = sum(widths)
        self.widths = [w / total * pdf.epw for w in widths]
        self.aligns = [Align.coerce(_ALIGN[a]) for a in align]
        self.initial = pdf.font_face()
        self.styles = {
            "head": FontFace.combine(self.initial, HEAD_STYLE),
            "body": FontFace.combine(self.initial, None),
            "total": FontFace.combine(self.initial, TOTAL_STYLE),
        }
        self._fits: dict[tuple, bool] = {}
        self._lines: dict[tuple, list[str]] = {}

    def draw(self, header: list[str], rows: list[list[str]], totals: int) -> None:
        pdf = self.pdf
        lines = [
            ("head", [escaped(t) for t in header], [Align.C] * len(header)),
            *(
                ("total" if k >= len(rows) - totals else "body", r, self.aligns)
                for k, r in enumerate(rows)
            ),
        ]
        self.count = len(lines)
        prev_l_margin = pdf.l_margin
        if pdf.x != pdf.l_margin:
            pdf.l_margin = pdf.x
        xs = [pdf.l_margin]
        for w in self.widths:
            xs.append(xs[-1] + w)
        self.xs = xs
        with pdf._disable_writing():  # measuring, as fpdf2's table does: nothing drawn
            heights = [self._heights(style, texts, aligns) for style, texts, aligns in lines]
        if len(lines) > 1:  # never the header alone at the foot of a page
            pdf._perform_page_break_if_need_be(heights[0][0] + heights[1][0])
        for i, line in enumerate(lines):
            if pdf._perform_page_break_if_need_be(heights[i][0]) and i >= 1:
                self._row(0, lines[0], heights[0])  # the header again on the new page
            self._row(i, line, heights[i])
        pdf.l_margin = prev_l_margin
        pdf.x = pdf.l_margin

    def _fits_one_line(self, style: str, text: str, width: float) -> bool:
        key = (style, text, width)
        fits = self._fits.get(key)
        if fits is None:
            pad = self.padding
            with self.pdf.use_font_face(self.styles[style]):
                measured = self.pdf.get_string_width(text, markdown=_markdown(text))
            fits = "\n" not in text and measured < width - pad.left - pad.right - 0.01
            self._fits[key] = fits
        return fits

    def _heights(self, style: str, texts: list[str], aligns) -> tuple[float, list]:
        """The row's height and each cell's (0 when empty); the lines of the cells that
        wrap, broken as :meth:`FPDF.multi_cell` breaks them, kept for :meth:`_row`."""
        pdf, pad, lh = self.pdf, self.padding, self.line_height
        cells = []
        for text, width, cell_align in zip(texts, self.widths, aligns, strict=True):
            if not text:
                cells.append(0.0)
            elif self._fits_one_line(style, text, width):
                cells.append(lh + pad.top + pad.bottom)
            else:
                with pdf.use_font_face(self.styles[style]):
                    lines, height = pdf.multi_cell(  # (in this order)
                        w=width,
                        h=lh,
                        text=text,
                        max_line_height=lh,
                        align=cell_align,
                        new_x="RIGHT",
                        new_y="TOP",
                        markdown=True,
                        dry_run=True,
                        output=MethodReturnValue.HEIGHT | MethodReturnValue.LINES,
                        padding=pad,
                    )
                self._lines[(style, text, width)] = lines
                cells.append(height)
        return (max(cells) or lh), cells

    def _row(self, i: int, line, heights) -> None:
        pdf, pad, lh = self.pdf, self.padding, self.line_height
        style_name, texts, aligns = line
        style = self.styles[style_name]
        height, cells = heights
        y = pdf.y
        c = pdf.c_margin
        for j, (text, width, cell_align) in enumerate(zip(texts, self.widths, aligns, strict=True)):
            x = self.xs[j]
            pdf.set_x(x)
            _BORDERS.draw_cell_border(pdf, x, y, x + width, y + height, fill_color=style.fill_color)
            if not text:
                continue
            dy = (height - cells[j]) / 2
            lines = self._lines.get((style_name, text, width))
            if lines and "\\" in text:  # escaped markers: as the table drew them, exactly
                with pdf.use_font_face(style):
                    pdf.set_xy(x, y + dy)
                    pdf.multi_cell(
                        w=width,
                        h=lh,
                        text=text,
                        max_line_height=lh,
                        align=cell_align,
                        new_x="RIGHT",
                        new_y="TOP",
                        markdown=True,
                        padding=pad,
                    )
                continue
            face = style
            if lines:  # each line carries its emphasis in markdown (``**`` for bold…)
                face = style.replace(emphasis=TextEmphasis.NONE)
            else:
                lines = [text]
            # body rows are in the table's own font already: no switching for them
            with nullcontext() if face is self.styles["body"] else pdf.use_font_face(face):
                for k, part in enumerate(lines):
                    # where multi_cell draws each line: inside the padding, without the
                    # cell margin that cell() adds on each side
                    pdf.set_xy(x + pad.left - c, y + dy + pad.top + k * lh)
                    pdf.cell(
                        w=width - pad.left - pad.right + 2 * c,
                        h=lh,
                        text=part.rstrip(" "),  # the line without the space it broke at
                        align=cell_align,
                        markdown=_markdown(part),
                    )
        pdf.set_y(y)
        pdf.ln(height)


def _markdown(text: str) -> bool:
    """Whether ``text`` has anything markdown would read (a marker or an escape): the
    others are drawn as plain text, the same, without parsing them character by character."""
    return any(c in text for c in "*_-~\\")


#: The borders of every cell (all four sides), as fpdf2's tables draw them.
_BORDERS = TableBordersLayout.ALL.cell_style_getter(
    row_idx=0, col_idx=0, col_pos=0, num_heading_rows=1, num_rows=1, num_col_idx=1, num_col_pos=1
).override_cell_border(CellBordersLayout.INHERIT)


def _change(b: dict) -> str:
    change = b.get("change")
    if not change or change.get("difference") is None:
        return "—"
    value = round(100 * change["difference"], 1)
    text = "0,0" if value == 0 else ("+" if value > 0 else "−") + vn_number(abs(value), 1)
    return text + (" (rõ rệt)" if change.get("significant") else "")


def _verdict(b: dict, min_n: int | None) -> str:
    """The verdict in words (bold when below the target), and why there is none."""
    if b.get("index") is None and not b.get("n"):
        return "Không có người trả lời"
    verdict = b.get("verdict")
    text = VERDICT_VI.get(verdict, "—")
    if verdict == "below_target":
        return f"**{text}**"
    if verdict == "insufficient_data":
        n = b.get("n") or 0
        if min_n and 0 < n < min_n:
            text += f" (chỉ {vn_number(n)} người trả lời)"
        elif presentation.insufficient_reason(b, min_n):
            text += f" ({presentation.insufficient_reason(b, min_n)})"
    return text


def _named(name: str, b: dict) -> str:
    """An agency's name, and under it, in italics, why its figure is of low reliability."""
    notes = presentation.reliability_notes(b)
    if not notes:
        return escaped(name)
    return f"{escaped(name)}\n__Độ tin cậy thấp: {escaped('; '.join(notes))}__"


def agencies_table(pdf: FPDF, report: dict, rows: list[dict], number: int) -> None:
    """The headline per agency (ordered as the chart: by lower bound), then the province."""
    headline = presentation.headline_of(report)
    subsection(pdf, f"{number}. {HEADLINE_VI[headline]} theo cơ quan")
    if not rows:
        note(pdf, "Không có cơ quan nào có phiếu khảo sát trong kỳ này.")
        return
    min_n = report.get("min_n")
    body = []
    for k, r in enumerate(presentation.sorted_rows(rows, "lower", headline), start=1):
        b = presentation.block_of(r, headline)
        body.append(
            [
                str(k),
                _named(r["name"], b),
                vn_number(b.get("n") or 0),
                pct(b.get("index")),
                pct_range(b.get("ci_low"), b.get("ci_high")),
                _change(b),
                _verdict(b, min_n),
            ]
        )
    province = presentation.block_of(report["province"], headline)
    listed = sum(presentation.block_of(r, headline).get("n") or 0 for r in rows)
    totals = []
    if listed != (province.get("n") or 0):  # a reader's scope: what the rows add up to
        totals.append(["", f"Cộng {len(rows)} cơ quan trong bảng", vn_number(listed)] + [""] * 4)
    totals.append(
        [
            "",
            "Toàn tỉnh",
            vn_number(province.get("n") or 0),
            pct(province.get("index")),
            pct_range(province.get("ci_low"), province.get("ci_high")),
            _change(province),
            _verdict(province, min_n),
        ]
    )
    table(
        pdf,
        [
            "STT",
            "Cơ quan",
            N_VI[headline],
            "Kết quả",
            "Khoảng tin cậy 95\u00a0%",
            "Thay đổi so với kỳ trước (điểm %)",
            f"Kết luận so với mục tiêu {pct(report.get('target', 0.9), 0)}",
        ],
        body + totals,
        (10, 56, 19, 15, 24, 16, 25),
        align="CLRRRRL",
        totals=len(totals),
    )
    note(
        pdf,
        f"Cột “{N_VI[headline]}” đếm mọi người trả lời của cơ quan; tổng của các cơ quan "
        "bằng số của toàn tỉnh. Kết luận chỉ dựa vào chỉ tiêu này; thay đổi “rõ rệt” là lớn "
        "hơn mức ngẫu nhiên có thể tạo ra.",
    )


def _marked(b: dict | None) -> str:
    if not b or b.get("index") is None:
        return "—"
    return pct(b["index"]) + (MARK if presentation.reliability_notes(b) else "")


def elements_table(pdf: FPDF, report: dict, rows: list[dict], number: int) -> None:
    """The SIPAS index and its elements per agency, the explanation (no verdicts)."""
    subsection(pdf, f"{number}. Chỉ số SIPAS và 5 yếu tố theo cơ quan (giải thích nguyên nhân)")
    if not rows:
        return
    elements = list(report.get("elements") or [])
    header = [
        "STT",
        "Cơ quan",
        N_VI["composite"],
        "Chỉ số SIPAS",
        *(presentation.element_name(report, e) for e in elements),
    ]
    body = [
        [
            str(k),
            escaped(r["name"]),
            vn_number(r.get("n") or 0),
            _marked(r),
            *(_marked((r.get("elements") or {}).get(e)) for e in elements),
        ]
        for k, r in enumerate(
            presentation.sorted_rows(rows, "lower", presentation.headline_of(report)), start=1
        )
    ]
    prov = report["province"]
    body.append(
        [
            "",
            "Toàn tỉnh",
            vn_number(prov.get("n") or 0),
            _marked(prov),
            *(_marked((prov.get("elements") or {}).get(e)) for e in elements),
        ]
    )
    rest = max(165 - 10 - 42 - 18 - 16, 40) / max(len(elements), 1)
    table(pdf, header, body, (10, 42, 18, 16, *([rest] * len(elements))), size=9.5, totals=1)
    note(
        pdf,
        f"({MARK}) Độ tin cậy thấp: dưới 30 phiếu hiệu dụng, dưới 8 bậc tự do hoặc khoảng tin "
        "cậy rộng từ 30 điểm phần trăm trở lên. “—”: không ai trả lời các câu của yếu tố. "
        "Chỉ số SIPAS là trung bình 5 yếu tố, tính trên những người trả lời bộ câu hỏi; các "
        "cơ quan theo thứ tự của bảng 1. Toàn tỉnh: " + presentation.weakest_element(report, prov),
    )


def quiet_table(pdf: FPDF, report: dict, quiet: list[dict], number: int) -> None:
    """The agencies without any response in the period, never dropped."""
    subsection(pdf, f"{number}. Cơ quan không có phiếu khảo sát trong kỳ")
    if not quiet:
        note(pdf, "Mọi cơ quan có hồ sơ hoặc có quầy khảo sát đều có phiếu trong kỳ này.")
        return
    body = [
        [
            str(k),
            escaped(r["name"]),
            vn_number(r.get("dossiers") or 0),
            "có quầy khảo sát" if r.get("counters") else "chưa có quầy khảo sát",
        ]
        for k, r in enumerate(quiet, start=1)
    ]
    table(
        pdf,
        ["STT", "Cơ quan", "Số hồ sơ đã giải quyết", "Ghi chú"],
        body,
        (10, 80, 35, 40),
        align="CLRL",
    )


def kpi_tables(pdf: FPDF, kpis: dict | None, number: int) -> None:
    """Feedback handling and the one-stop indicators per agency (:mod:`.kpis`), with their
    definitions; subsections ``number`` and ``number + 1``."""
    if not kpis:
        return
    small, k = kpis["small_count"], kpi_labels
    subsection(pdf, f"{number}. {k.FEEDBACK_TITLE}")
    if kpis.get("empty"):
        note(pdf, "Không có phản ánh, kiến nghị và không có câu trả lời về đi lại trong kỳ này.")
        return
    province = kpis.get("province")
    active = [r for r in kpis["agencies"] if k.has_cases(r["feedback"])]
    feedback = [[r["name"], *k.feedback_cells(r["feedback"], small)] for r in active]
    if province:
        feedback.append([k.PROVINCE_FEEDBACK, *k.feedback_cells(province["feedback"], small)])
    one_stop = [[r["name"], *k.one_stop_cells(r["one_stop"], small)] for r in kpis["agencies"]]
    if province:
        one_stop.append([k.PROVINCE, *k.one_stop_cells(province["one_stop"], small)])
    if feedback:
        _kpi_table(pdf, k.FEEDBACK_HEADER, feedback, (40, 14, 14, 20, 20, 15, 12, 16, 14))
    quiet = len(kpis["agencies"]) - len(active)
    if quiet:
        note(pdf, f"{quiet} cơ quan khác không có phản ánh, kiến nghị nào trong kỳ này.")
    subsection(pdf, f"{number + 1}. {k.ONE_STOP_TITLE}")
    _kpi_table(pdf, k.ONE_STOP_HEADER, one_stop, (50, 20, 40, 20, 35))
    pdf.set_font(SERIF, "I", 10)
    for line in k.notes(kpis):
        pdf.multi_cell(0, 4.6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    dossier_tables(pdf, kpis, number + 2)


def dossier_tables(pdf: FPDF, kpis: dict, number: int) -> None:
    """The on-time rate per agency beside its satisfaction, and the channel mix
    (:mod:`.kpis`); subsections ``number`` and ``number + 1``. Reports published before
    they were kept have neither."""
    province = kpis.get("province")
    rows = [r for r in kpis["agencies"] if "dossiers" in r]
    if not rows and not (province and "dossiers" in province):
        return
    small, k = kpis["small_count"], kpi_labels
    headline = (next((r["satisfaction"] for r in rows if r.get("satisfaction")), None) or {}).get(
        "indicator", "q0"
    )
    subsection(pdf, f"{number}. {k.DOSSIER_TITLE} (mục tiêu từ {k.target_label(kpis)} trở lên)")
    listed = [r for r in rows if r["dossiers"]["received"] or r["dossiers"]["timed"]]
    table_rows = [[escaped(r["name"]), *k.dossier_cells(r, small)] for r in listed]
    if province and "dossiers" in province:
        table_rows.append([k.PROVINCE, *k.dossier_cells(province, small)])
    if listed:
        _kpi_table(
            pdf,
            k.dossier_header(HEADLINE_VI[headline], kpis),
            table_rows,
            (34, 24, 16, 16, 16, 14, 26, 24),
            markdown=True,
        )
    else:
        note(pdf, "Hệ thống một cửa chưa gửi số liệu hồ sơ cho kỳ này.")
    subsection(pdf, f"{number + 1}. {k.CHANNEL_TITLE}")
    survey = tuple(k.SURVEY_CHANNEL_VI)
    returned = ("counter", "online", "post", "unknown")
    dossiers = ("counter", "online", "post", "all")
    mixed = [
        r for r in rows if r["channels"]["survey"]["total"] or r["channels"]["dossiers"]["total"]
    ]
    if province:
        mixed = [*mixed, dict(province, name=k.PROVINCE)]
    header = [
        "Cơ quan",
        "Số phiếu",
        *(k.SURVEY_CHANNEL_VI[c] for c in survey),
        *(f"Phiếu: trả {k.RETURN_CHANNEL_VI[c].lower()}" for c in returned),
    ]
    _kpi_table(
        pdf,
        header,
        [
            [
                r["name"],
                vn_number(r["channels"]["survey"]["total"]),
                *k.mix_cells(r["channels"]["survey"], survey, small),
                *k.mix_cells(r["channels"]["returned"], returned, small),
            ]
            for r in mixed
        ],
        (24, 10, 15, 15, 15, 14, 14, 15, 15, 15, 15),
    )
    _kpi_table(
        pdf,
        [
            "Cơ quan",
            "Hồ sơ tiếp nhận",
            *(f"Hồ sơ: {k.RETURN_CHANNEL_VI[c].lower()}" for c in dossiers),
        ],
        [
            [
                r["name"],
                vn_number(r["channels"]["dossiers"]["total"]),
                *k.mix_cells(r["channels"]["dossiers"], dossiers, small),
            ]
            for r in mixed
        ],
        (50, 24, 24, 24, 24, 24),
    )
    pdf.set_font(SERIF, "I", 10)
    for line in k.dossier_notes(kpis):
        pdf.multi_cell(0, 4.6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _kpi_table(pdf: FPDF, header, rows, widths, markdown: bool = False) -> None:
    plain(pdf)
    pdf.set_font(SERIF, "", 8.5)
    with pdf.table(
        markdown=markdown,
        width=pdf.epw,
        align="LEFT",
        col_widths=widths,
        text_align=("LEFT",) + ("RIGHT",) * (len(widths) - 1),
        line_height=4,
        headings_style=HEAD_STYLE,
        repeat_headings=1,
    ) as t:
        for row in [header, *rows]:
            cells = t.row()
            for text in row:
                cells.cell(text)
    pdf.ln(2)
