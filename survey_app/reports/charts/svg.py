"""SVG pieces for the report's charts: markers by shape, text, lines, the legend and
the words every chart uses (the verdicts, the target).

The staff pages' CSP (``style-src 'self'``) forbids ``style=""`` attributes and
``<style>`` elements, so everything is drawn with presentation attributes
(``fill``, ``stroke``, ``font-size``…); the size on the page comes from the
``chart`` class in ``staff.css``. Text goes through
:func:`xml.sax.saxutils.escape`.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..wording import share
from .layout import COLOURS, SHAPES, TARGET_COLOUR, TEXT_COLOUR, text_width
from .layout import thin as thin_labels

FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
#: Font sizes in the charts' units. The charts are 880 units wide and never drawn
#: narrower than 760 px (``staff.css``), so 13 units are at least 11.2 px on screen.
SMALL, NORMAL, LARGE = 13, 14, 16
WIDTH = 880
MIN_RENDERED_WIDTH = 760
#: The agencies chart's phone layout (``narrow``): 400 units, drawn at least 320 px
#: wide, its text at least 14 units, so 11.2 px.
NARROW_WIDTH = 400
NARROW_MIN_RENDERED_WIDTH = 320


STATUS_LABELS = {
    "above_target": _l("Above target"),
    "below_target": _l("Below target"),
    "inconclusive": _l("Inconclusive"),
    "insufficient_data": _l("Insufficient data"),
}
POSITION_LABELS = {
    "below": _l("Below the limits: worse than the target by more than chance"),
    "inside": _l("Inside the funnel: not clearly different from the target"),
    "above": _l("Above the limits: better than the target by more than chance"),
}


def target_label(target: float) -> str:
    """The target line's label: "Mục tiêu 90 %"."""
    return _("Target %(target)s", target=share(target, 0))


def low_key() -> tuple[str, tuple]:
    """The legend entry of an estimate of low reliability."""
    return _("Low reliability: hollow mark, dashed interval"), ("marker", "inconclusive", True)


def join_names(items: list[str]) -> str:
    """Names in a sentence."""
    return ", ".join(items)


def thin(
    labels: list[tuple[float, str]], size: float, gap: float = 10, keep: int | None = None
) -> list[tuple]:
    """Tick labels at font ``size`` that do not overlap (:func:`.layout.thin`)."""
    return thin_labels(labels, lambda t: text_width(t, size), gap, keep)


def svg(
    width: float,
    height: float,
    ident: str,
    title: str,
    desc: str,
    body: list[str],
    variant: str | None = None,
) -> str:
    """The chart: ``role="img"`` named by its ``<title>`` and described by its ``<desc>``
    (the text alternative: what the chart shows, in sentences); ``variant`` (``wide``
    or ``narrow``) when the chart comes in two layouts, the stylesheet showing one."""
    classes = f"chart {variant}" if variant else "chart"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{classes}" id="{ident}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
        f'font-family="{FONT}" font-size="{NORMAL}" fill="{TEXT_COLOUR}">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: float = NORMAL,
    fill: str = TEXT_COLOUR,
    bold: bool = False,
    halo: bool = False,
    tooltip: str | None = None,
) -> str:
    """A line of text, ``y`` its baseline; ``halo`` draws a white outline under it so it
    stays readable over lines; ``tooltip`` (the full text of a shortened label)."""
    extra = ' font-weight="bold"' if bold else ""
    if halo:
        extra += ' stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
    inner = escape(content)
    if tooltip and tooltip != content:
        inner = f"<title>{escape(tooltip)}</title>{inner}"
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{extra}>{inner}</text>'
    )


def line(x1, y1, x2, y2, stroke="#999999", width=1.0, dash=None, cap=None) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    if cap:
        extra += f' stroke-linecap="{cap}"'
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{stroke}" stroke-width="{width}"{extra}/>'
    )


def rect(x, y, w, h, fill) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"/>'


def polygon_points(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]]:
    """The corners of a marker of ``shape`` centred on ``(x, y)``, ``r`` its half-size
    (also used by the PDF)."""
    if shape == "triangle-up":
        return [(x, y - r * 1.15), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
    if shape == "triangle-down":
        return [(x, y + r * 1.15), (x + r * 1.1, y - r * 0.8), (x - r * 1.1, y - r * 0.8)]
    if shape == "diamond":
        return [(x, y - r * 1.2), (x + r * 1.2, y), (x, y + r * 1.2), (x - r * 1.2, y)]
    return [(x - r * 0.9, y - r * 0.9), (x + r * 0.9, y - r * 0.9), (x + r * 0.9, y + r * 0.9)] + [
        (x - r * 0.9, y + r * 0.9)
    ]


def marker(
    status: str, x: float, y: float, r: float = 6.5, hollow: bool = False, tooltip: str = ""
) -> str:
    """The verdict's shape (▲ ▼ ◆ ■) in its colour; hollow (white inside) when the
    estimate is of low reliability."""
    colour = COLOURS[status]
    corners = " ".join(f"{px:.1f},{py:.1f}" for px, py in polygon_points(SHAPES[status], x, y, r))
    fill = "#ffffff" if hollow else colour
    inner = f"<title>{escape(tooltip)}</title>" if tooltip else ""
    return (
        f'<polygon points="{corners}" fill="{fill}" stroke={quoteattr(colour)} '
        f'stroke-width="2" stroke-linejoin="round" data-status="{status}"'
        f"{' data-hollow=' + quoteattr('1') if hollow else ''}>{inner}</polygon>"
    )


def legend(items: list[tuple[str, tuple]], x: float, y: float, width: float) -> tuple[list, float]:
    """A legend from ``items`` (label, key), laid out in rows within ``width`` from
    ``(x, y)`` (the top of the first row).

    Keys: ``("marker", status, hollow)``, ``("line", colour, width, dash)``,
    ``("band", fill)``. :return: the SVG parts and the height used.
    """
    parts: list[str] = ['<g class="legend">']
    row_h, key_w, gap = NORMAL * 1.7, 26, 22
    cx, cy = x, y + row_h / 2
    for label, key in items:
        w = key_w + 6 + text_width(label, NORMAL)
        if cx > x and cx + w > x + width:
            cx, cy = x, cy + row_h
        if key[0] == "marker":
            parts.append(marker(key[1], cx + key_w / 2, cy, 6, key[2]))
        elif key[0] == "line":
            parts.append(line(cx, cy, cx + key_w, cy, key[1], key[2], key[3]))
        elif key[0] == "interval":
            parts.append(line(cx, cy, cx + key_w, cy, key[1], 3, key[2], "round"))
        elif key[0] == "band":
            parts.append(rect(cx, cy - 7, key_w, 14, key[1]))
        parts.append(text(cx + key_w + 6, cy + NORMAL * 0.36, label))
        cx += w + gap
    parts.append("</g>")
    return parts, cy + row_h / 2 - y


def target_key(label: str) -> tuple[str, tuple]:
    return label, ("line", TARGET_COLOUR, 3, None)
