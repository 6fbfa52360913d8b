"""The agencies chart of the report page: one row per agency, best result first, its
result (the verdict's mark) and interval against the bold target line, then the
value and the verdict in words; a headline sentence, a legend, the text
alternative naming the agencies below the target."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from ...core.i18n import current_language
from ..wording import share, share_range
from .layout import (
    COLOURS,
    GRID_COLOUR,
    MUTED_COLOUR,
    STATUS_ORDER,
    TARGET_COLOUR,
    bounds,
    low_reliability,
    share_axis,
    status_of,
    text_width,
    ticks,
    wrap,
)
from .layout import share_text as _tick
from .svg import (
    LARGE,
    NARROW_WIDTH,
    NORMAL,
    SMALL,
    STATUS_LABELS,
    WIDTH,
    join_names,
    legend,
    line,
    low_key,
    marker,
    rect,
    svg,
    target_key,
    target_label,
    text,
    thin,
)

# -- agencies and their intervals -------------------------------------------------------


def interval_order(rows: list[dict]) -> list[dict]:
    """The chart's rows, best result first; those without a verdict, then without a
    result, last."""

    def key(r):
        none = r.get("index") is None
        return (none, status_of(r) == "insufficient_data", -(r.get("index") or 0), r["name"])

    return sorted(rows, key=key)


def interval_summary(rows: list[dict], target: float) -> tuple[str, str]:
    """The chart's headline and its text alternative: how many agencies are below the
    target, named, and how many in each other status."""
    counts = {s: [r["name"] for r in rows if status_of(r) == s] for s in STATUS_ORDER}
    below = counts["below_target"]
    if below:
        headline = _(
            "%(below)s of %(total)s agencies below the %(target)s target",
            below=len(below),
            total=len(rows),
            target=share(target, 0),
        )
        first = ngettext(
            "%(num)d agency below the target: %(names)s.",
            "%(num)d agencies below the target: %(names)s.",
            len(below),
            names=join_names(below),
        )
    else:
        headline = _("No agency clearly below the %(target)s target", target=share(target, 0))
        first = _("No agency is clearly below the target.")
    rest = "; ".join(f"{STATUS_LABELS[s]}: {len(counts[s])}" for s in STATUS_ORDER[1:] if counts[s])
    desc = f"{first} {rest}." if rest else first
    return headline, desc


def interval_chart(
    rows: list[dict],
    target: float = 0.90,
    title: str = "",
    ident: str = "chart-agencies",
    axis_title: str = "",
    narrow: bool | None = None,
) -> str:
    """One row per agency: its result (the verdict's mark) and interval against the
    target line, then the value and the verdict in words.

    :param rows: dicts with ``name`` and the headline's block (``index, ci_low,
        ci_high, verdict, flags``), in any order: the chart sorts them.
    :param narrow: the phone layout (400 units wide: the name on its own line,
        the value and verdict under it, then the interval); ``True`` or
        ``False`` marks the SVG as that variant of a pair (the stylesheet shows
        the one that fits the screen), ``None`` draws the wide layout alone.
    """
    lang = current_language()
    rows = interval_order(rows)
    headline, desc = interval_summary(rows, target)
    present = {status_of(r) for r in rows}
    width = NARROW_WIDTH if narrow else WIDTH
    small, normal, large = (14, 15, 17) if narrow else (SMALL, NORMAL, LARGE)
    value_w = text_width(share(1.0), normal, True)
    status_w = max(text_width(str(STATUS_LABELS[s]), normal) for s in present | {"below_target"})
    name_w = width - 16 if narrow else 250
    edge = text_width(_tick(1.0, lang=lang), small) / 2 + 4  # room for "100 %" at the ends
    x0, x1 = (
        (8 + edge, width - 8 - edge)
        if narrow
        else (8 + name_w + 14, width - 8 - status_w - 34 - value_w)
    )
    lo, hi, step = share_axis(bounds(rows), target)

    def x(v: float) -> float:
        return x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    def measure(t: str) -> float:
        return text_width(t, normal)

    body = []
    y = 8.0
    for part in wrap(headline, width - 16, lambda t: text_width(t, large, True)):
        body.append(text(8, y + large, part, size=large, bold=True))
        y += large * 1.3
    items = [(str(STATUS_LABELS[s]), ("marker", s, False)) for s in STATUS_ORDER if s in present]
    if any(low_reliability(r) for r in rows if r.get("index") is not None):
        items.append(low_key())
    items.append(target_key(target_label(target)))
    parts, used = legend(items, 8, y + 10, width - 16)
    body += parts
    y += 10 + used + 10
    label_w = text_width(target_label(target), normal, True)
    cx = min(max(x(target), 8 + label_w / 2), width - 8 - label_w / 2)
    body.append(text(cx, y + normal, target_label(target), "middle", normal, TARGET_COLOUR, True))
    if not narrow:
        body.append(text(x1 + 18 + value_w, y + normal, _("Result"), "end", small, MUTED_COLOUR))
        body.append(
            text(width - 8 - status_w, y + normal, _("Verdict"), "start", small, MUTED_COLOUR)
        )
    y += normal + 10
    values = ticks(lo, hi, step)
    keep = next((k for k, v in enumerate(values) if abs(v - target) < 1e-9), None)
    tick_labels = thin([(x(v), _tick(v, lang=lang)) for v in values], small, keep=keep)
    if len(rows) > 12 or narrow:
        body += [text(tx, y + small, t, "middle", small, MUTED_COLOUR) for tx, t in tick_labels]
        y += small + 8
    top = y
    bands, grid, marks = [], [], []
    for k, r in enumerate(rows):
        names = wrap(r["name"], name_w, measure)
        status = status_of(r)
        colour, hollow = COLOURS[status], low_reliability(r)
        value = share(r.get("index"))
        if narrow:
            # the name, then "87,2 % Dưới mục tiêu", then the interval on its own line
            h = 6 + len(names) * normal * 1.25 + normal * 1.3 + 26
            for j, part in enumerate(names):
                marks.append(text(8, y + 4 + normal + j * normal * 1.25, part, "start", normal))
            base = y + 4 + normal + len(names) * normal * 1.25
            marks.append(text(8, base, value, "start", normal, bold=True))
            marks.append(
                text(8 + value_w + 8, base, str(STATUS_LABELS[status]), "start", normal, colour)
            )
            mid = base + 16
            grid += [line(tx, mid - 9, tx, mid + 9, GRID_COLOUR) for tx, _t in tick_labels]
            grid.append(line(x(target), mid - 11, x(target), mid + 11, TARGET_COLOUR, 3))
        else:
            h = 26 if len(names) == 1 else 46
            mid = y + h / 2
            for j, part in enumerate(names):
                base = mid + normal * 0.36 + (j - (len(names) - 1) / 2) * normal * 1.25
                marks.append(text(8 + name_w, base, part, "end", normal, tooltip=r["name"]))
            base = mid + normal * 0.36
            marks.append(text(x1 + 18 + value_w, base, value, "end", normal, bold=True))
            marks.append(
                text(
                    width - 8 - status_w, base, str(STATUS_LABELS[status]), "start", normal, colour
                )
            )
        if k % 2 == 0:
            bands.append(rect(4, y, width - 8, h, "#F3F3F3"))
        if r.get("index") is not None:
            if r.get("ci_low") is not None and r.get("ci_high") is not None:
                dash = "6,4" if hollow else None
                marks.append(
                    line(x(r["ci_low"]), mid, x(r["ci_high"]), mid, colour, 3, dash, "round")
                )
            interval = share_range(r.get("ci_low"), r.get("ci_high"))
            tooltip = f"{r['name']}: {share(r['index'])} ({interval}), {STATUS_LABELS[status]}"
            marks.append(marker(status, x(r["index"]), mid, 6.5, hollow, tooltip))
        y += h
    bottom = y
    # bands under the grid, the grid under the target line, the marks on top
    body += bands
    if not narrow:
        grid = [line(tx, top, tx, bottom, GRID_COLOUR) for tx, _t in tick_labels]
        grid.append(line(x(target), top - 6, x(target), bottom, TARGET_COLOUR, 3))
    body += grid + marks
    body += [
        text(tx, bottom + 6 + small, t, "middle", small, MUTED_COLOUR) for tx, t in tick_labels
    ]
    height = bottom + 14 + small
    if axis_title:
        for part in wrap(axis_title, width - 16, lambda t: text_width(t, normal)):
            height += normal * 1.4
            body.append(text((x0 + x1) / 2, height, part, "middle", normal, MUTED_COLOUR))
    variant = None if narrow is None else ("narrow" if narrow else "wide")
    return svg(width, height + 10, ident, title or headline, f"{headline}. {desc}", body, variant)
