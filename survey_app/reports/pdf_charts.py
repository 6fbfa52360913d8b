"""The report's charts in the PDF, drawn with fpdf2's vector primitives (its SVG import
ignores text), as on the report page (:mod:`.charts`): the same axis rule, marks,
legend and labels (:mod:`.chart_layout`), sized for A4 and readable printed in grey
scale (shapes, words and dashes carry everything colour does). Always Vietnamese,
like the rest of the PDF; every chart ends with its summary in a sentence.

Text is at least 8.5 pt. The caller has added the DejaVu font family.
"""

from __future__ import annotations

import math

from fpdf import FPDF

from .chart_layout import (
    COLOURS,
    HEADLINE_VI,
    MUTED_COLOUR,
    POSITION_STATUS,
    SHAPES,
    STATUS_ORDER,
    TARGET_COLOUR,
    TEXT_COLOUR,
    Box,
    bounds,
    count_text,
    funnel_position,
    log_ticks,
    low_reliability,
    place_labels,
    share_axis,
    share_text,
    short_name,
    status_of,
    thin,
    ticks,
    wrap,
)
from .labels import VERDICT_VI, rgb
from .svg import polygon_points

FONT = "DejaVu"
SIZE, SMALL, HEAD = 9.0, 8.5, 10.5
LOW_RELIABILITY = "Độ tin cậy thấp: dấu rỗng, khoảng nét đứt"
POSITION_VI = {
    "below": "Dưới giới hạn: kém hơn mục tiêu ngoài mức ngẫu nhiên",
    "inside": "Trong phễu: chưa khác rõ so với mục tiêu",
    "above": "Trên giới hạn: tốt hơn mục tiêu ngoài mức ngẫu nhiên",
}
MM_PER_PT = 25.4 / 72
#: Row heights (mm) of the interval chart, for a name on one and on two lines, and the
#: distance between those lines: 1.25 em, room for the marks above Vietnamese capitals.
ROW, ROW2, LINE = 5.4, 9.2, 1.25 * SIZE * MM_PER_PT


def _pct(value: float | None, digits: int | None = 1) -> str:
    return "—" if value is None else share_text(value, digits)


def target_label(target: float) -> str:
    """ "Mục tiêu 90 %"."""
    return f"Mục tiêu {_pct(target, None)}"


def _font(pdf: FPDF, size: float = SIZE, bold: bool = False, colour: str = TEXT_COLOUR) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*rgb(colour))


def _text(pdf: FPDF, x: float, y: float, text: str, anchor: str = "start") -> None:
    """``text`` with its baseline at ``y``, starting, centred or ending at ``x``."""
    w = pdf.get_string_width(text)
    pdf.text(x - (w if anchor == "end" else w / 2 if anchor == "middle" else 0), y, text)


def _marker(pdf: FPDF, status: str, x: float, y: float, r: float, hollow: bool = False) -> None:
    colour = rgb(COLOURS[status])
    pdf.set_draw_color(*colour)
    pdf.set_fill_color(*((255, 255, 255) if hollow else colour))
    pdf.set_line_width(0.35)
    pdf.polygon(polygon_points(SHAPES[status], x, y, r), style="DF")


def _hline(pdf: FPDF, x1, y1, x2, y2, colour: str, width: float, dash=None) -> None:
    with pdf.local_context():
        pdf.set_draw_color(*rgb(colour))
        pdf.set_line_width(width)
        if dash:
            pdf.set_dash_pattern(dash=dash[0], gap=dash[1])
        pdf.line(x1, y1, x2, y2)


def _legend(pdf: FPDF, items: list[tuple[str, tuple]], x: float, y: float, width: float) -> float:
    """The legend in rows from ``(x, y)``; keys as in :func:`.svg.legend`.
    :return: the height used."""
    _font(pdf, SMALL)
    row_h, key_w, gap = 5.0, 7.0, 5.0
    cx, cy = x, y + row_h / 2
    for label, key in items:
        w = key_w + 1.5 + pdf.get_string_width(label)
        if cx > x and cx + w > x + width:
            cx, cy = x, cy + row_h
        if key[0] == "marker":
            _marker(pdf, key[1], cx + key_w / 2, cy, 1.4, key[2])
        elif key[0] == "line":
            _hline(pdf, cx, cy, cx + key_w, cy, key[1], key[2], key[3])
        _font(pdf, SMALL)
        pdf.text(cx + key_w + 1.5, cy + 1.1, label)
        cx += w + gap
    return cy + row_h / 2 - y


def _summary(pdf: FPDF, text: str) -> None:
    _font(pdf, SIZE)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, 4.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)


def _block(row: dict, headline: str) -> dict:
    return (row.get("q0") or {}) if headline == "q0" else row


def interval_height(pdf: FPDF, rows: list[dict], headline: str = "q0") -> float:
    """About how tall (mm) :func:`interval_chart` draws ``rows``: to decide on a new page
    before the chart's section heading."""
    _font(pdf, SIZE)
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
    data = [{"name": r["name"]} | _block(r, headline) for r in rows]
    data.sort(
        key=lambda r: (
            r.get("index") is None,
            status_of(r) == "insufficient_data",
            -(r.get("index") or 0),
            r["name"],
        )
    )
    if not any(r.get("index") is not None for r in data):
        _summary(pdf, "Không có cơ quan nào có kết quả để vẽ biểu đồ.")
        return
    left, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    _font(pdf, SIZE)
    name_w, value_w = 56.0, pdf.get_string_width("100,0 %") + 1
    status_w = max(pdf.get_string_width(VERDICT_VI[s]) for s in STATUS_ORDER)
    x0 = left + name_w + 3
    x1 = left + width - status_w - 3 - value_w - 4
    lo, hi, step = share_axis(bounds(data), target)

    def x(v: float) -> float:
        return x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    below = [r["name"] for r in data if status_of(r) == "below_target"]
    heading = (
        f"{len(below)} trên {len(data)} cơ quan dưới mục tiêu {_pct(target, None)}"
        if below
        else f"Không cơ quan nào dưới mục tiêu {_pct(target, None)} một cách rõ ràng"
    )
    present = {status_of(r) for r in data}
    items = [(VERDICT_VI[s], ("marker", s, False)) for s in STATUS_ORDER if s in present]
    if any(low_reliability(r) for r in data if r.get("index") is not None):
        items.append((LOW_RELIABILITY, ("marker", "inconclusive", True)))
    items.append((target_label(target), ("line", TARGET_COLOUR, 0.8, None)))
    tick_values = ticks(lo, hi, step)

    _font(pdf, SMALL)
    keep = next((k for k, v in enumerate(tick_values) if abs(v - target) < 1e-9), None)
    labels = [(x(v), _pct(v, None)) for v in tick_values]
    tick_labels = thin(labels, pdf.get_string_width, 2.0, keep)

    def axis_labels(y: float) -> None:
        _font(pdf, SMALL, colour=MUTED_COLOUR)
        for tx, label in tick_labels:
            _text(pdf, tx, y, label, "middle")

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
            _font(pdf, HEAD, True)
            pdf.text(left, y + 4, heading)
            y += 7
            y += _legend(pdf, items, left, y, width) + 2
        _font(pdf, SIZE, True, TARGET_COLOUR)
        _text(pdf, x(target), y + 3.5, target_label(target), "middle")
        _font(pdf, SMALL, colour=MUTED_COLOUR)
        _text(pdf, x1 + 4 + value_w, y + 3.5, "Kết quả", "end")
        pdf.text(left + width - status_w, y + 3.5, "Kết luận")
        y += 5.5
        axis_labels(y + 3)
        y += 5
        top = y
        end = pdf.h - pdf.b_margin - 14
        chunk = []
        while k < len(data):
            _font(pdf, SIZE)
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
            _hline(pdf, tx, top, tx, bottom, "#D0D0D0", 0.2)
        _hline(pdf, x(target), top - 1.5, x(target), bottom, TARGET_COLOUR, 0.8)
        for r, names, ry, h in chunk:
            mid = ry + h / 2
            _font(pdf, SIZE)
            for j, part in enumerate(names):
                _text(
                    pdf, left + name_w, mid + 1.1 + (j - (len(names) - 1) / 2) * LINE, part, "end"
                )
            status, hollow = status_of(r), low_reliability(r)
            if r.get("index") is not None:
                if r.get("ci_low") is not None and r.get("ci_high") is not None:
                    dash = (1.2, 0.8) if hollow else None
                    _hline(
                        pdf, x(r["ci_low"]), mid, x(r["ci_high"]), mid, COLOURS[status], 0.7, dash
                    )
                _marker(pdf, status, x(r["index"]), mid, 1.5, hollow)
            _font(pdf, SIZE, True)
            _text(pdf, x1 + 4 + value_w, mid + 1.1, _pct(r.get("index")), "end")
            _font(pdf, SIZE, colour=COLOURS[status])
            pdf.text(left + width - status_w, mid + 1.1, VERDICT_VI[status])
        axis_labels(bottom + 4)
        _font(pdf, SMALL, colour=MUTED_COLOUR)
        _text(
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
    _summary(pdf, f"{lead} {rest}." if rest else lead)


# -- funnel plot ---------------------------------------------------------------------------------


def funnel_chart(pdf: FPDF, funnel: dict, target: float) -> None:
    """The funnel plot: each agency's result against its effective number of responses
    (log scale), the target, the 95 % band and limits (dashed) and the 99.8 % limits
    (dotted); the agencies outside the limits named beside their points, without
    overlap; the legend above and the summary below."""
    size = funnel.get("size", "n_eff")
    grid, points, limits = funnel[size], funnel["points"], funnel["limits"]
    left, width = pdf.l_margin + 13, pdf.w - pdf.l_margin - pdf.r_margin - 13 - 16
    right = left + width
    placed_side = [(p, *funnel_position(funnel, p)) for p in points]
    outside = sorted(
        [(p, s) for p, s, _lvl in placed_side if s != "inside"],
        key=lambda o: (o[1] != "below", -abs(o[0]["index"] - target)),
    )
    below = [p for p, s in outside if s == "below"]
    heading = (
        f"Ngoài phễu: {len(below)} cơ quan dưới, {len(outside) - len(below)} cơ quan trên "
        f"mục tiêu {_pct(target, None)}"
        if outside
        else f"Mọi cơ quan đều nằm trong phễu quanh mục tiêu {_pct(target, None)}"
    )
    sides = {s for _p, s, _l in placed_side}
    items = [
        (POSITION_VI[s], ("marker", POSITION_STATUS[s], False))
        for s in ("below", "inside", "above")
        if s in sides
    ]
    items += [
        (target_label(target), ("line", TARGET_COLOUR, 0.8, None)),
        ("Giới hạn kiểm soát 95 % (vùng tô: bên trong)", ("line", "#4D4D4D", 0.35, (1.5, 1.0))),
        ("Giới hạn kiểm soát 99,8 %", ("line", "#4D4D4D", 0.35, (0.4, 0.8))),
    ]
    y = pdf.get_y() + 2
    if y + 130 > pdf.h - pdf.b_margin:
        pdf.add_page()
        y = pdf.get_y() + 2
    _font(pdf, HEAD, True)
    pdf.text(pdf.l_margin, y + 4, heading)
    y += 7
    y += _legend(pdf, items, pdf.l_margin, y, pdf.w - pdf.l_margin - pdf.r_margin) + 3
    top, height = y, 95.0
    bottom = top + height
    lo, hi, step = share_axis([p["index"] for p in points], target)
    n_lo, n_hi = min(grid), max(grid)
    span = (math.log10(n_hi) - math.log10(n_lo)) or 1

    def x(n: float) -> float:
        return left + (math.log10(min(max(n, n_lo), n_hi)) - math.log10(n_lo)) / span * width

    def yv(v: float) -> float:
        return top + (hi - v) / (hi - lo) * height

    _font(pdf, SMALL, colour=MUTED_COLOUR)
    for v in ticks(lo, hi, step):
        _hline(pdf, left, yv(v), right, yv(v), "#D0D0D0", 0.2)
        _text(pdf, left - 1.5, yv(v) + 1.1, _pct(v, None), "end")
    for n in log_ticks(n_lo, n_hi):
        _hline(pdf, x(n), top, x(n), bottom, "#D0D0D0", 0.2)
        _font(pdf, SMALL, colour=MUTED_COLOUR)
        _text(pdf, x(n), bottom + 4, count_text(n), "middle")
    _text(
        pdf,
        (left + right) / 2,
        bottom + 9,
        "Số phiếu hiệu dụng, không quá số người trả lời (n_use), thang logarit",
        "middle",
    )
    with pdf.rect_clip(left, top, width, height):
        if "0.95" in limits:
            ring = [(x(n), yv(v)) for n, v in zip(grid, limits["0.95"]["upper"], strict=True)]
            ring += [
                (x(n), yv(v))
                for n, v in reversed(list(zip(grid, limits["0.95"]["lower"], strict=True)))
            ]
            with pdf.local_context():
                pdf.set_fill_color(232, 238, 245)
                pdf.polygon(ring, style="F")
        for level, dash in (("0.95", (1.5, 1.0)), ("0.998", (0.4, 0.8))):
            if level not in limits:
                continue
            for side in ("lower", "upper"):
                with pdf.local_context():
                    pdf.set_draw_color(77, 77, 77)
                    pdf.set_line_width(0.35)
                    pdf.set_dash_pattern(dash=dash[0], gap=dash[1])
                    pdf.polyline(
                        [(x(n), yv(v)) for n, v in zip(grid, limits[level][side], strict=True)]
                    )
    _hline(pdf, left, yv(target), right, yv(target), TARGET_COLOUR, 0.8)
    _font(pdf, SIZE, True, TARGET_COLOUR)
    pdf.text(right + 1.5, yv(target) - 0.8, "Mục tiêu")
    pdf.text(right + 1.5, yv(target) + 3.2, _pct(target, None))
    r = 1.4
    obstacles = [
        Box(
            x(p[size]) - r * 1.2,
            yv(p["index"]) - r * 1.2,
            x(p[size]) + r * 1.2,
            yv(p["index"]) + r * 1.2,
        )
        for p in points
    ]
    _font(pdf, SMALL)
    placed, left_out = place_labels(
        [(x(p[size]), yv(p["index"]), short_name(p.get("name", p["code"]))) for p, _s in outside],
        pdf.get_string_width,
        SMALL * MM_PER_PT * 1.25,
        Box(left + 0.5, top - 2, right - 0.5, bottom - 0.5),
        obstacles,
        r * 1.2,
    )
    for lab in placed:
        if lab.leader or not lab.box.y0 <= lab.y <= lab.box.y1:
            cx = min(max(lab.x, lab.box.x0), lab.box.x1)
            cy = min(max(lab.y, lab.box.y0), lab.box.y1)
            _hline(pdf, lab.x, lab.y, cx, cy, "#7A7A7A", 0.25)
    for p, side, _lvl in placed_side:
        _marker(pdf, POSITION_STATUS[side], x(p[size]), yv(p["index"]), r)
    for lab in placed:
        with pdf.local_context():
            pdf.set_fill_color(255, 255, 255)
            pdf.rect(
                lab.box.x0,
                lab.box.y0 + 0.3,
                lab.box.x1 - lab.box.x0,
                lab.box.y1 - lab.box.y0 - 0.6,
                style="F",
            )
        _font(pdf, SMALL)
        _text(pdf, (lab.box.x0 + lab.box.x1) / 2, lab.box.y1 - 1.0, lab.text, "middle")
    pdf.set_y(bottom + 12)
    sentences = []
    for side, words in (
        ("below", "Dưới giới hạn, kém hơn mục tiêu ngoài mức ngẫu nhiên"),
        ("above", "Trên giới hạn, tốt hơn mục tiêu ngoài mức ngẫu nhiên"),
    ):
        named = [
            f"{p.get('name', p['code'])} ({_pct(p['index'])}, "
            f"{count_text(p[size])} phiếu hiệu dụng)"
            for p, s in outside
            if s == side
        ]
        if named:
            sentences.append(f"{words}: {', '.join(named)}.")
    sentences.append(
        f"{len(points) - len(outside)} cơ quan nằm trong phễu, chưa khác rõ so với mục tiêu."
    )
    if left_out:
        sentences.append(f"Không đủ chỗ ghi tên trên biểu đồ: {', '.join(left_out)}.")
    _summary(pdf, " ".join(sentences))
