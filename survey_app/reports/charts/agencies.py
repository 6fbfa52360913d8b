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
) -> str:
    """One row per agency: its result (the verdict's mark) and interval against the
    target line, then the value and the verdict in words.

    :param rows: dicts with ``name`` and the headline's block (``index, ci_low,
        ci_high, verdict, flags``), in any order: the chart sorts them.
    """
    lang = current_language()
    rows = interval_order(rows)
    headline, desc = interval_summary(rows, target)
    present = {status_of(r) for r in rows}
    value_w = text_width(share(1.0), NORMAL, True)
    status_w = max(text_width(str(STATUS_LABELS[s]), NORMAL) for s in present | {"below_target"})
    name_w = 250
    x0, x1 = 8 + name_w + 14, WIDTH - 8 - status_w - 16 - value_w - 18
    lo, hi, step = share_axis(bounds(rows), target)

    def x(v: float) -> float:
        return x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    body = [text(8, 8 + LARGE, headline, size=LARGE, bold=True)]
    items = [(str(STATUS_LABELS[s]), ("marker", s, False)) for s in STATUS_ORDER if s in present]
    if any(low_reliability(r) for r in rows if r.get("index") is not None):
        items.append(low_key())
    items.append(target_key(target_label(target)))
    parts, used = legend(items, 8, 36, WIDTH - 16)
    body += parts
    y = 36 + used + 10
    body.append(
        text(x(target), y + NORMAL, target_label(target), "middle", NORMAL, TARGET_COLOUR, True)
    )
    body.append(text(x1 + 18 + value_w, y + NORMAL, _("Result"), "end", SMALL, MUTED_COLOUR))
    body.append(text(WIDTH - 8 - status_w, y + NORMAL, _("Verdict"), "start", SMALL, MUTED_COLOUR))
    y += 24
    values = ticks(lo, hi, step)
    keep = next((k for k, v in enumerate(values) if abs(v - target) < 1e-9), None)
    tick_labels = thin([(x(v), _tick(v, lang=lang)) for v in values], SMALL, keep=keep)
    if len(rows) > 12:
        body += [text(tx, y + SMALL, t, "middle", SMALL, MUTED_COLOUR) for tx, t in tick_labels]
        y += 22
    top = y
    rows_svg = []
    for k, r in enumerate(rows):
        names = wrap(r["name"], name_w, lambda t: text_width(t, NORMAL))
        h = 26 if len(names) == 1 else 46
        mid = y + h / 2
        if k % 2 == 0:
            rows_svg.append(rect(4, y, WIDTH - 8, h, "#F3F3F3"))
        for j, part in enumerate(names):
            base = mid + NORMAL * 0.36 + (j - (len(names) - 1) / 2) * NORMAL * 1.25
            rows_svg.append(text(8 + name_w, base, part, "end", NORMAL, tooltip=r["name"]))
        status = status_of(r)
        colour, hollow = COLOURS[status], low_reliability(r)
        if r.get("index") is not None:
            if r.get("ci_low") is not None and r.get("ci_high") is not None:
                rows_svg.append(
                    line(
                        x(r["ci_low"]),
                        mid,
                        x(r["ci_high"]),
                        mid,
                        colour,
                        3,
                        "6,4" if hollow else None,
                        "round",
                    )
                )
            interval = share_range(r.get("ci_low"), r.get("ci_high"))
            tooltip = f"{r['name']}: {share(r['index'])} ({interval}), {STATUS_LABELS[status]}"
            rows_svg.append(marker(status, x(r["index"]), mid, 6.5, hollow, tooltip))
        rows_svg.append(
            text(
                x1 + 18 + value_w,
                mid + NORMAL * 0.36,
                share(r.get("index")),
                "end",
                NORMAL,
                bold=True,
            )
        )
        rows_svg.append(
            text(
                WIDTH - 8 - status_w,
                mid + NORMAL * 0.36,
                str(STATUS_LABELS[status]),
                "start",
                NORMAL,
                colour,
            )
        )
        y += h
    bottom = y
    # bands under the grid, the grid under the target line, the marks on top
    body += [p for p in rows_svg if p.startswith("<rect")]
    body += [line(tx, top, tx, bottom, GRID_COLOUR) for tx, _t in tick_labels]
    body.append(line(x(target), top - 6, x(target), bottom, TARGET_COLOUR, 3))
    body += [p for p in rows_svg if not p.startswith("<rect")]
    body += [
        text(tx, bottom + 6 + SMALL, t, "middle", SMALL, MUTED_COLOUR) for tx, t in tick_labels
    ]
    height = bottom + 28
    if axis_title:
        body.append(
            text((x0 + x1) / 2, bottom + 28 + NORMAL, axis_title, "middle", NORMAL, MUTED_COLOUR)
        )
        height += 24
    return svg(WIDTH, height + 6, ident, title or headline, f"{headline}. {desc}", body)
