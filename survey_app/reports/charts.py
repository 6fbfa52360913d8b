"""Charts as SVG strings built by hand: no JavaScript, no third-party assets.

The staff pages' CSP (``style-src 'self'``) forbids ``style=""`` attributes,
so everything is drawn with presentation attributes (``fill``, ``stroke``…).
Text goes through :func:`xml.sax.saxutils.escape`.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

#: Colour of each verdict (also used in the PDF).
VERDICT_COLOURS = {
    "above_target": "#1a7f37",
    "below_target": "#c62828",
    "inconclusive": "#8a6d00",
    "insufficient_data": "#777777",
}
TARGET_COLOUR = "#0b5cad"
FONT = "DejaVu Sans, Arial, sans-serif"


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" font-family="{FONT}" '
        f'font-size="12"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _text(x, y, text, anchor="start", size=12, fill="#222", weight=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{extra}>{escape(str(text))}</text>'
    )


def _line(x1, y1, x2, y2, stroke="#999", width=1, dash=None) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{stroke}" stroke-width="{width}"{d}/>'
    )


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def axis_range(rows: list[dict], target: float) -> tuple[float, float]:
    """x range of the interval chart: from a round value below every lower bound to 100%."""
    lows = [r["ci_low"] for r in rows if r.get("ci_low") is not None]
    lows += [r["index"] for r in rows if r.get("index") is not None]
    low = min([target - 0.1, *lows])
    return max(0.0, math.floor(low * 20) / 20), 1.0


def interval_chart(rows: list[dict], target: float = 0.90, title: str = "") -> str:
    """One line per agency: its index (dot) and interval (bar) against the target line.

    :param rows: dicts with ``name, index, ci_low, ci_high, verdict``.
    """
    label_w, plot_w, row_h, top = 230, 420, 22, 28
    width = label_w + plot_w + 60
    height = top + row_h * max(len(rows), 1) + 30
    lo, hi = axis_range(rows, target)

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    body = []
    steps = round((hi - lo) / 0.05)
    for k in range(steps + 1):
        v = lo + k * 0.05
        body.append(_line(x(v), top - 6, x(v), height - 24, "#e3e3e3"))
        body.append(_text(x(v), height - 8, _percent(v), "middle", 10, "#555"))
    for i, row in enumerate(rows):
        y = top + i * row_h + row_h / 2
        name = row["name"] if len(row["name"]) <= 34 else row["name"][:33] + "…"
        body.append(_text(label_w - 8, y + 4, name, "end", 11))
        colour = VERDICT_COLOURS.get(row.get("verdict"), "#777")
        if row.get("ci_low") is not None and row.get("ci_high") is not None:
            body.append(_line(x(row["ci_low"]), y, x(row["ci_high"]), y, colour, 3))
        if row.get("index") is not None:
            body.append(
                f'<circle cx="{x(row["index"]):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">'
                f"<title>{escape(row['name'])}: {_percent(row['index'])}</title></circle>"
            )
    body.append(_line(x(target), top - 10, x(target), height - 24, TARGET_COLOUR, 2, "5,3"))
    body.append(_text(x(target), top - 14, _percent(target), "middle", 11, TARGET_COLOUR, "bold"))
    return _svg(width, height, title, body)


def funnel_chart(
    funnel: dict | None, target: float = 0.90, title: str = "", axis_label: str = "n_eff"
) -> str:
    """Index against effective size (log scale), the target line and the 95% / 99.8% limits.

    The size is the funnel's ``size`` key (``n_use`` or ``n_eff``; ``n_eff``
    in funnels stored before it was named).
    """
    width, height, left, right, top, bottom = 700, 380, 56, 20, 20, 44
    if not funnel:
        return _svg(width, 60, title, [_text(10, 30, "—")])
    size = funnel.get("size", "n_eff")
    grid = funnel[size]
    points = funnel["points"]
    y_values = [p["index"] for p in points]
    for level in funnel["limits"].values():
        y_values += level["lower"]
    y_lo = max(0.0, math.floor(min(y_values + [target - 0.1]) * 20) / 20)
    y_hi = 1.0
    x_lo, x_hi = math.log10(min(grid)), math.log10(max(grid))

    def x(n: float) -> float:
        n = min(max(n, 10**x_lo), 10**x_hi)
        return left + (math.log10(n) - x_lo) / (x_hi - x_lo or 1) * (width - left - right)

    def y(v: float) -> float:
        return top + (y_hi - v) / (y_hi - y_lo) * (height - top - bottom)

    body = []
    v = y_lo
    while v <= y_hi + 1e-9:
        body.append(_line(left, y(v), width - right, y(v), "#e3e3e3"))
        body.append(_text(left - 6, y(v) + 4, _percent(v), "end", 10, "#555"))
        v += 0.05
    for decade in range(math.floor(x_lo), math.ceil(x_hi) + 1):
        for m in (1, 2, 5):
            n = m * 10**decade
            if 10**x_lo <= n <= 10**x_hi:
                body.append(_line(x(n), top, x(n), height - bottom, "#eeeeee"))
                body.append(_text(x(n), height - bottom + 14, f"{n:g}", "middle", 10, "#555"))
    for level, dash in (("0.95", "4,3"), ("0.998", "1,3")):
        lim = funnel["limits"].get(level)
        if not lim:
            continue
        for side in ("lower", "upper"):
            coords = " ".join(
                f"{x(n):.1f},{y(min(max(v, y_lo), y_hi)):.1f}"
                for n, v in zip(grid, lim[side], strict=True)
            )
            body.append(
                f'<polyline points="{coords}" fill="none" stroke="#666" stroke-width="1.2" '
                f'stroke-dasharray="{dash}"/>'
            )
    body.append(_line(left, y(target), width - right, y(target), TARGET_COLOUR, 2))
    for p in points:
        colour = VERDICT_COLOURS["below_target"] if p["index"] < target else "#333"
        body.append(
            f'<circle cx="{x(p[size]):.1f}" cy="{y(max(p["index"], y_lo)):.1f}" r="4" '
            f'fill="{colour}" fill-opacity="0.8"><title>{escape(p["code"])}: '
            f"{_percent(p['index'])}, {size} {p[size]:.0f}</title></circle>"
        )
    body.append(_text((left + width - right) / 2, height - 6, axis_label, "middle", 11, "#333"))
    return _svg(width, height, title, body)


def trend_chart(points: list[dict], target: float = 0.90, title: str = "") -> str:
    """Index with its interval per period (oldest left) and the target line."""
    width, height, left, right, top, bottom = 700, 260, 50, 16, 16, 40
    values = [p[k] for p in points for k in ("ci_low", "index") if p.get(k) is not None]
    y_lo = max(0.0, math.floor(min(values + [target - 0.1]) * 20) / 20)
    step = (width - left - right) / max(len(points), 1)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(v: float) -> float:
        return top + (1.0 - v) / (1.0 - y_lo) * (height - top - bottom)

    body = []
    v = y_lo
    while v <= 1.0 + 1e-9:
        body.append(_line(left, y(v), width - right, y(v), "#e3e3e3"))
        body.append(_text(left - 6, y(v) + 4, _percent(v), "end", 10, "#555"))
        v += 0.05
    body.append(_line(left, y(target), width - right, y(target), TARGET_COLOUR, 2, "5,3"))
    previous = None
    for i, p in enumerate(points):
        body.append(_text(x(i), height - bottom + 16, p["period"], "middle", 9, "#555"))
        if p.get("index") is None:
            previous = None
            continue
        colour = VERDICT_COLOURS.get(p.get("verdict"), "#777")
        if p.get("ci_low") is not None and p.get("ci_high") is not None:
            body.append(_line(x(i), y(p["ci_low"]), x(i), y(p["ci_high"]), colour, 3))
        if previous is not None:
            body.append(_line(x(previous[0]), y(previous[1]), x(i), y(p["index"]), "#444", 1))
        body.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p["index"]):.1f}" r="4" fill={quoteattr(colour)}>'
            f"<title>{escape(p['period'])}: {_percent(p['index'])} (n={p['n']})</title></circle>"
        )
        previous = (i, p["index"])
    return _svg(width, height, title, body)
