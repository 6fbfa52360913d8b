"""The agencies chart in the PDF, and the drawing pieces the PDF's charts share.

Drawn with fpdf2's vector primitives (its SVG import ignores text), as on the
report page: the same axis rule, marks, legend and words (:mod:`.layout`),
sized for A4 and readable printed in grey scale (shapes, words and dashes
carry everything colour does). Always Vietnamese, like the rest of the PDF;
every chart ends with its summary in a sentence. The funnel plot is in
:mod:`.pdf_funnel`.

Text is at least 8.5 pt. The caller has added the DejaVu font family.
"""

from __future__ import annotations

from fpdf import FPDF

from ..labels import VERDICT_VI, rgb
from .layout import (
    COLOURS,
    HEADLINE_VI,
    MUTED_COLOUR,
    SHAPES,
    STATUS_ORDER,
    TARGET_COLOUR,
    TEXT_COLOUR,
    bounds,
    low_reliability,
    share_axis,
    share_text,
    status_of,
    thin,
    ticks,
    wrap,
)
from .svg import polygon_points

FONT = "DejaVu"
SIZE, SMALL, HEAD = 9.0, 8.5, 10.5
LOW_RELIABILITY = "Độ tin cậy thấp: dấu rỗng, khoảng nét đứt"
MM_PER_PT = 25.4 / 72
#: Row heights (mm) of the interval chart, for a name on one and on two lines, and the
#: distance between those lines: 1.25 em, room for the marks above Vietnamese capitals.
ROW, ROW2, LINE = 5.4, 9.2, 1.25 * SIZE * MM_PER_PT


def pct(value: float | None, digits: int | None = 1) -> str:
    return "—" if value is None else share_text(value, digits)


def target_label(target: float) -> str:
    """ "Mục tiêu 90 %"."""
    return f"Mục tiêu {pct(target, None)}"


def font(pdf: FPDF, size: float = SIZE, bold: bool = False, colour: str = TEXT_COLOUR) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*rgb(colour))


def write(pdf: FPDF, x: float, y: float, text: str, anchor: str = "start") -> None:
    """``text`` with its baseline at ``y``, starting, centred or ending at ``x``."""
    w = pdf.get_string_width(text)
    pdf.text(x - (w if anchor == "end" else w / 2 if anchor == "middle" else 0), y, text)


def mark(pdf: FPDF, status: str, x: float, y: float, r: float, hollow: bool = False) -> None:
    colour = rgb(COLOURS[status])
    pdf.set_draw_color(*colour)
    pdf.set_fill_color(*((255, 255, 255) if hollow else colour))
    pdf.set_line_width(0.35)
    pdf.polygon(polygon_points(SHAPES[status], x, y, r), style="DF")


def rule(pdf: FPDF, x1, y1, x2, y2, colour: str, width: float, dash=None) -> None:
    with pdf.local_context():
        pdf.set_draw_color(*rgb(colour))
        pdf.set_line_width(width)
        if dash:
            pdf.set_dash_pattern(dash=dash[0], gap=dash[1])
        pdf.line(x1, y1, x2, y2)


def legend(pdf: FPDF, items: list[tuple[str, tuple]], x: float, y: float, width: float) -> float:
    """The legend in rows from ``(x, y)``; keys as in :func:`.svg.legend`.
    :return: the height used."""
    font(pdf, SMALL)
    row_h, key_w, gap = 5.0, 7.0, 5.0
    cx, cy = x, y + row_h / 2
    for label, key in items:
        w = key_w + 1.5 + pdf.get_string_width(label)
        if cx > x and cx + w > x + width:
            cx, cy = x, cy + row_h
        if key[0] == "marker":
            mark(pdf, key[1], cx + key_w / 2, cy, 1.4, key[2])
        elif key[0] == "line":
            rule(pdf, cx, cy, cx + key_w, cy, key[1], key[2], key[3])
        font(pdf, SMALL)
        pdf.text(cx + key_w + 1.5, cy + 1.1, label)
        cx += w + gap
    return cy + row_h / 2 - y


def summary(pdf: FPDF, text: str) -> None:
    font(pdf, SIZE)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, 4.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)


def block_of(row: dict, headline: str) -> dict:
    return (row.get("q0") or {}) if headline == "q0" else row


def interval_height(pdf: FPDF, rows: list[dict], headline: str = "q0") -> float:
    """About how tall (mm) :func:`interval_chart` draws ``rows``: to decide on a new page
    before the chart's section heading."""
    font(pdf, SIZE)
    names = [wrap(r["name"], 56.0, pdf.get_string_width) for r in rows]
    return 50 + sum(ROW if len(n) == 1 else ROW2 for n in names)


# -- agencies and their intervals -----------------------------------------------------------


def interval_chart(pdf: FPDF, rows: list[dict], target: float, headline: str = "q0") -> None:
    """One row per agency, best result first: the name, the result's mark and interval
    against the bold target line, the value and the verdict in words; the legend above,
    the summary below. Continues on the next page (axis repeated) when long.

    :param rows: the report's agency rows; :param headline: ``"q0"`` or
        ``"composite"``, the indicator plotted.
    """
    data = [{"name": r["name"]} | block_of(r, headline) for r in rows]
    data.sort(
        key=lambda r: (
            r.get("index") is None,
            status_of(r) == "insufficient_data",
            -(r.get("index") or 0),
            r["name"],
        )
    )
    if not any(r.get("index") is not None for r in data):
        summary(pdf, "Không có cơ quan nào có kết quả để vẽ biểu đồ.")
        return
    left, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    font(pdf, SIZE)
    name_w, value_w = 56.0, pdf.get_string_width("100,0 %") + 1
    status_w = max(pdf.get_string_width(VERDICT_VI[s]) for s in STATUS_ORDER)
    x0 = left + name_w + 3
    x1 = left + width - status_w - 3 - value_w - 4
    lo, hi, step = share_axis(bounds(data), target)

    def x(v: float) -> float:
        return x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    below = [r["name"] for r in data if status_of(r) == "below_target"]
    heading = (
        f"{len(below)} trên {len(data)} cơ quan dưới mục tiêu {pct(target, None)}"
        if below
        else f"Không cơ quan nào dưới mục tiêu {pct(target, None)} một cách rõ ràng"
    )
    present = {status_of(r) for r in data}
    items = [(VERDICT_VI[s], ("marker", s, False)) for s in STATUS_ORDER if s in present]
    if any(low_reliability(r) for r in data if r.get("index") is not None):
        items.append((LOW_RELIABILITY, ("marker", "inconclusive", True)))
    items.append((target_label(target), ("line", TARGET_COLOUR, 0.8, None)))
    tick_values = ticks(lo, hi, step)

    font(pdf, SMALL)
    keep = next((k for k, v in enumerate(tick_values) if abs(v - target) < 1e-9), None)
    labels = [(x(v), pct(v, None)) for v in tick_values]
    tick_labels = thin(labels, pdf.get_string_width, 2.0, keep)

    def axis_labels(y: float) -> None:
        font(pdf, SMALL, colour=MUTED_COLOUR)
        for tx, label in tick_labels:
            write(pdf, tx, y, label, "middle")

    def measure(t: str) -> float:
        return pdf.get_string_width(t)

    needed = interval_height(pdf, rows, headline) - 14
    usable = pdf.h - pdf.t_margin - pdf.b_margin
    if pdf.get_y() + needed > pdf.h - pdf.b_margin and needed <= usable:
        pdf.add_page()  # the whole chart on one page rather than split

    k = 0
    first = True
    while k < len(data) or first:
        y = pdf.get_y() + 2
        if first:
            if y + 40 > pdf.h - pdf.b_margin:
                pdf.add_page()
                y = pdf.get_y() + 2
            font(pdf, HEAD, True)
            pdf.text(left, y + 4, heading)
            y += 7
            y += legend(pdf, items, left, y, width) + 2
        font(pdf, SIZE, True, TARGET_COLOUR)
        write(pdf, x(target), y + 3.5, target_label(target), "middle")
        font(pdf, SMALL, colour=MUTED_COLOUR)
        write(pdf, x1 + 4 + value_w, y + 3.5, "Kết quả", "end")
        pdf.text(left + width - status_w, y + 3.5, "Kết luận")
        y += 5.5
        axis_labels(y + 3)
        y += 5
        top = y
        end = pdf.h - pdf.b_margin - 14
        chunk = []
        while k < len(data):
            font(pdf, SIZE)
            names = wrap(data[k]["name"], name_w, measure)
            h = ROW if len(names) == 1 else ROW2
            if y + h > end and chunk:
                break
            chunk.append((data[k], names, y, h))
            y += h
            k += 1
        bottom = y
        with pdf.local_context():
            pdf.set_fill_color(243, 243, 243)
            for j, (_r, _n, ry, h) in enumerate(chunk):
                if j % 2 == 0:
                    pdf.rect(left, ry, width, h, style="F")
        for tx, _label in tick_labels:
            rule(pdf, tx, top, tx, bottom, "#D0D0D0", 0.2)
        rule(pdf, x(target), top - 1.5, x(target), bottom, TARGET_COLOUR, 0.8)
        for r, names, ry, h in chunk:
            mid = ry + h / 2
            font(pdf, SIZE)
            for j, part in enumerate(names):
                write(
                    pdf, left + name_w, mid + 1.1 + (j - (len(names) - 1) / 2) * LINE, part, "end"
                )
            status, hollow = status_of(r), low_reliability(r)
            if r.get("index") is not None:
                if r.get("ci_low") is not None and r.get("ci_high") is not None:
                    dash = (1.2, 0.8) if hollow else None
                    rule(pdf, x(r["ci_low"]), mid, x(r["ci_high"]), mid, COLOURS[status], 0.7, dash)
                mark(pdf, status, x(r["index"]), mid, 1.5, hollow)
            font(pdf, SIZE, True)
            write(pdf, x1 + 4 + value_w, mid + 1.1, pct(r.get("index")), "end")
            font(pdf, SIZE, colour=COLOURS[status])
            pdf.text(left + width - status_w, mid + 1.1, VERDICT_VI[status])
        axis_labels(bottom + 4)
        font(pdf, SMALL, colour=MUTED_COLOUR)
        write(
            pdf,
            (x0 + x1) / 2,
            bottom + 8.5,
            f"{HEADLINE_VI[headline]}, khoảng tin cậy 95 %",
            "middle",
        )
        pdf.set_y(bottom + 11)
        first = False
        if k < len(data):
            pdf.add_page()
    rest = "; ".join(
        f"{VERDICT_VI[s]}: {sum(1 for r in data if status_of(r) == s)}"
        for s in STATUS_ORDER[1:]
        if s in present
    )
    lead = (
        f"{len(below)} cơ quan dưới mục tiêu: {', '.join(below)}."
        if below
        else "Không cơ quan nào dưới mục tiêu một cách rõ ràng."
    )
    summary(pdf, f"{lead} {rest}." if rest else lead)
