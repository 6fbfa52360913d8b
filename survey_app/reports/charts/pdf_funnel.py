"""The funnel plot in the PDF (fpdf2), as on the report page: the target, the 95 %
band and limits and the 99.8 % limits, the points by their position, the agencies
outside the limits named without overlap (:mod:`.placement`), the legend above and
the summary in sentences below."""

from __future__ import annotations

import math

from fpdf import FPDF

from .layout import (
    MUTED_COLOUR,
    POSITION_STATUS,
    TARGET_COLOUR,
    count_text,
    funnel_position,
    log_ticks,
    share_axis,
    short_name,
    ticks,
)
from .pdf import (
    HEAD,
    MM_PER_PT,
    SIZE,
    SMALL,
    font,
    legend,
    mark,
    pct,
    rule,
    summary,
    target_label,
    write,
)
from .placement import Box, place_labels

POSITION_VI = {
    "below": "Dưới giới hạn: kém hơn mục tiêu ngoài mức ngẫu nhiên",
    "inside": "Trong phễu: chưa khác rõ so với mục tiêu",
    "above": "Trên giới hạn: tốt hơn mục tiêu ngoài mức ngẫu nhiên",
}


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
        f"mục tiêu {pct(target, None)}"
        if outside
        else f"Mọi cơ quan đều nằm trong phễu quanh mục tiêu {pct(target, None)}"
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
    font(pdf, HEAD, True)
    pdf.text(pdf.l_margin, y + 4, heading)
    y += 7
    y += legend(pdf, items, pdf.l_margin, y, pdf.w - pdf.l_margin - pdf.r_margin) + 3
    top, height = y, 95.0
    bottom = top + height
    lo, hi, step = share_axis([p["index"] for p in points], target)
    n_lo, n_hi = min(grid), max(grid)
    span = (math.log10(n_hi) - math.log10(n_lo)) or 1

    def x(n: float) -> float:
        return left + (math.log10(min(max(n, n_lo), n_hi)) - math.log10(n_lo)) / span * width

    def yv(v: float) -> float:
        return top + (hi - v) / (hi - lo) * height

    font(pdf, SMALL, colour=MUTED_COLOUR)
    for v in ticks(lo, hi, step):
        rule(pdf, left, yv(v), right, yv(v), "#D0D0D0", 0.2)
        write(pdf, left - 1.5, yv(v) + 1.1, pct(v, None), "end")
    for n in log_ticks(n_lo, n_hi):
        rule(pdf, x(n), top, x(n), bottom, "#D0D0D0", 0.2)
        font(pdf, SMALL, colour=MUTED_COLOUR)
        write(pdf, x(n), bottom + 4, count_text(n), "middle")
    write(
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
    rule(pdf, left, yv(target), right, yv(target), TARGET_COLOUR, 0.8)
    font(pdf, SIZE, True, TARGET_COLOUR)
    pdf.text(right + 1.5, yv(target) - 0.8, "Mục tiêu")
    pdf.text(right + 1.5, yv(target) + 3.2, pct(target, None))
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
    font(pdf, SMALL)
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
            rule(pdf, lab.x, lab.y, cx, cy, "#7A7A7A", 0.25)
    for p, side, _lvl in placed_side:
        mark(pdf, POSITION_STATUS[side], x(p[size]), yv(p["index"]), r)
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
        font(pdf, SMALL)
        write(pdf, (lab.box.x0 + lab.box.x1) / 2, lab.box.y1 - 1.0, lab.text, "middle")
    pdf.set_y(bottom + 12)
    sentences = []
    for side, words in (
        ("below", "Dưới giới hạn, kém hơn mục tiêu ngoài mức ngẫu nhiên"),
        ("above", "Trên giới hạn, tốt hơn mục tiêu ngoài mức ngẫu nhiên"),
    ):
        named = [
            f"{p.get('name', p['code'])} ({pct(p['index'])}, {count_text(p[size])} phiếu hiệu dụng)"
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
    summary(pdf, " ".join(sentences))
