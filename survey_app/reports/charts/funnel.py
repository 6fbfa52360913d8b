"""The funnel plot of the report page: each agency's result against its effective
number of responses, with the target and the 95 % and 99.8 % control limits.

An office with few responses can be far from the target by chance alone, so
the limits are wide on the left; the agencies outside them are named beside
their points (short names, placed so that no two labels overlap, the others
listed under the chart), and the points inside are grey.
"""

from __future__ import annotations

import math

from flask_babel import gettext as _
from flask_babel import ngettext

from ...core.i18n import current_language, number
from ..wording import share
from .layout import (
    GRID_COLOUR,
    MUTED_COLOUR,
    POSITION_STATUS,
    TARGET_COLOUR,
    funnel_position,
    log_ticks,
    share_axis,
    short_name,
    text_width,
    ticks,
)
from .layout import count_text as _count
from .layout import share_text as _tick
from .placement import Box, place_labels
from .svg import (
    LARGE,
    NORMAL,
    POSITION_LABELS,
    SMALL,
    WIDTH,
    join_names,
    legend,
    line,
    marker,
    svg,
    target_key,
    target_label,
    text,
    thin,
)

# -- funnel plot --------------------------------------------------------------------------


def funnel_summary(funnel: dict, target: float) -> tuple[str, str, list[tuple[dict, str]]]:
    """The funnel's headline, its text alternative, and the points outside the limits
    with their side (``below`` first, most extreme first)."""
    size = funnel.get("size", "n_eff")
    outside = []
    for p in funnel["points"]:
        side, level = funnel_position(funnel, p)
        if side != "inside":
            outside.append((p, side, level))
    outside.sort(key=lambda o: (o[1] != "below", abs(o[0]["index"] - target) * -1))
    sentences = []
    for side in ("below", "above"):
        named = [
            f"{p.get('name', p['code'])} ({share(p['index'])}, {number(p[size])})"
            for p, s, _level in outside
            if s == side
        ]
        if named and side == "below":
            sentences.append(
                _(
                    "Below the limits, worse than the target by more than chance: %(names)s.",
                    names=join_names(named),
                )
            )
        elif named:
            sentences.append(
                _(
                    "Above the limits, better than the target by more than chance: %(names)s.",
                    names=join_names(named),
                )
            )
    inside = len(funnel["points"]) - len(outside)
    sentences.append(
        ngettext(
            "%(num)d agency inside the funnel, not clearly different from the target.",
            "%(num)d agencies inside the funnel, not clearly different from the target.",
            inside,
        )
    )
    below = sum(1 for o in outside if o[1] == "below")
    if outside:
        headline = _(
            "Outside the funnel: %(below)s below, %(above)s above the %(target)s target",
            below=below,
            above=len(outside) - below,
            target=share(target, 0),
        )
    else:
        headline = _(
            "Every agency is inside the funnel around the %(target)s target",
            target=share(target, 0),
        )
    return headline, " ".join(sentences), [(p, s) for p, s, _level in outside]


def funnel_chart(
    funnel: dict | None,
    target: float = 0.90,
    title: str = "",
    axis_label: str = "n_eff",
    ident: str = "chart-funnel",
) -> str:
    """Result against the effective number of responses (log scale), the target and
    the 95 % (band, dashed) and 99.8 % (dotted) control limits; the agencies outside
    the limits named beside their points (short names, never overlapping).

    The size is the funnel's ``size`` key (``n_use``, or ``n_eff`` in funnels
    stored before it was named); points may carry ``name``.
    """
    lang = current_language()
    if not funnel or not funnel.get("points"):
        return svg(
            WIDTH, 40, ident, title or _("Funnel plot"), _("No agency to plot."), [text(8, 26, "—")]
        )
    size = funnel.get("size", "n_eff")
    grid, points = funnel[size], funnel["points"]
    headline, desc, outside = funnel_summary(funnel, target)
    body = [text(8, 8 + LARGE, headline, size=LARGE, bold=True)]
    sides = {funnel_position(funnel, p)[0] for p in points}
    items = [
        (str(POSITION_LABELS[s]), ("marker", POSITION_STATUS[s], False))
        for s in ("below", "inside", "above")
        if s in sides
    ]
    items += [
        target_key(target_label(target)),
        (
            _("%(level)s control limits (shaded: inside)", level=share(0.95, 0)),
            ("line", "#4D4D4D", 1.5, "7,4"),
        ),
        (_("%(level)s control limits", level=share(0.998)), ("line", "#4D4D4D", 1.5, "2,3")),
    ]
    parts, used = legend(items, 8, 36, WIDTH - 16)
    body += parts
    left, right = 78, WIDTH - 8 - 74
    top = 36 + used + 14
    bottom = top + 330
    lo, hi, step = share_axis([p["index"] for p in points], target)
    n_lo, n_hi = min(grid), max(grid)

    def x(n: float) -> float:
        n = min(max(n, n_lo), n_hi)
        return left + (math.log10(n) - math.log10(n_lo)) / (
            (math.log10(n_hi) - math.log10(n_lo)) or 1
        ) * (right - left)

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * (bottom - top)

    clip = f"{ident}-clip"
    body.append(
        f'<clipPath id="{clip}"><rect x="{left}" y="{top - 8}" width="{right - left}" '
        f'height="{bottom - top + 8}"/></clipPath>'
    )
    for v in ticks(lo, hi, step):
        body.append(line(left, y(v), right, y(v), GRID_COLOUR))
    for v, t in [(v, _tick(v, lang=lang)) for v in ticks(lo, hi, step)]:
        body.append(text(left - 8, y(v) + SMALL * 0.36, t, "end", SMALL, MUTED_COLOUR))
    x_ticks = thin([(x(n), _count(n, lang)) for n in log_ticks(n_lo, n_hi)], SMALL)
    for tx, t in x_ticks:
        body.append(line(tx, top, tx, bottom, GRID_COLOUR))
        body.append(text(tx, bottom + 6 + SMALL, t, "middle", SMALL, MUTED_COLOUR))
    body.append(
        text((left + right) / 2, bottom + 30 + NORMAL, axis_label, "middle", NORMAL, MUTED_COLOUR)
    )
    limits = funnel["limits"]
    inner = [f'<g clip-path="url(#{clip})">']
    if "0.95" in limits:
        ring = [(x(n), y(v)) for n, v in zip(grid, limits["0.95"]["upper"], strict=True)]
        ring += [
            (x(n), y(v)) for n, v in reversed(list(zip(grid, limits["0.95"]["lower"], strict=True)))
        ]
        inner.append(
            '<polygon points="'
            + " ".join(f"{a:.1f},{b:.1f}" for a, b in ring)
            + '" fill="#E8EEF5"/>'
        )
    for level, dash in (("0.95", "7,4"), ("0.998", "2,3")):
        for side in ("lower", "upper"):
            if level in limits:
                coords = " ".join(
                    f"{x(n):.1f},{y(v):.1f}" for n, v in zip(grid, limits[level][side], strict=True)
                )
                inner.append(
                    f'<polyline points="{coords}" fill="none" stroke="#4D4D4D" '
                    f'stroke-width="1.5" stroke-dasharray="{dash}"/>'
                )
    inner.append("</g>")
    body += inner
    body.append(line(left, y(target), right, y(target), TARGET_COLOUR, 3))
    body.append(text(right + 8, y(target) - 3, _("Target"), "start", NORMAL, TARGET_COLOUR, True))
    body.append(
        text(
            right + 8,
            y(target) + NORMAL + 1,
            share(target, 0),
            "start",
            NORMAL,
            TARGET_COLOUR,
            True,
        )
    )
    r = 6.0
    obstacles, marks = [], []
    for p in points:
        side = funnel_position(funnel, p)[0]
        px, py = x(p[size]), y(p["index"])
        obstacles.append(Box(px - r * 1.2, py - r * 1.2, px + r * 1.2, py + r * 1.2))
        name = p.get("name", p["code"])
        tooltip = f"{name}: {share(p['index'])}, {axis_label} {number(p[size], 1)}"
        marks.append(marker(POSITION_STATUS[side], px, py, r, False, tooltip))
    labels = [
        (x(p[size]), y(p["index"]), short_name(p.get("name", p["code"]))) for p, _s in outside
    ]
    placed, left_out = place_labels(
        labels,
        lambda t: text_width(t, SMALL),
        SMALL * 1.25,
        Box(left + 2, top - 6, right - 2, bottom - 2),
        obstacles,
        r * 1.2,
    )
    for lab in placed:
        # a label level with its point is read as its own; any other gets a line to it
        if lab.leader or not lab.box.y0 <= lab.y <= lab.box.y1:
            cx = min(max(lab.x, lab.box.x0), lab.box.x1)
            cy = min(max(lab.y, lab.box.y0), lab.box.y1)
            body.append(line(lab.x, lab.y, cx, cy, "#7A7A7A", 1))
    body += marks
    full = {short_name(p.get("name", p["code"])): p.get("name", p["code"]) for p, _s in outside}
    for lab in placed:
        b = lab.box
        body.append(
            text(
                (b.x0 + b.x1) / 2,
                b.y1 - SMALL * 0.3,
                lab.text,
                "middle",
                SMALL,
                halo=True,
                tooltip=full.get(lab.text),
            )
        )
    height = bottom + 30 + NORMAL + 12
    if left_out:
        body.append(
            text(
                8,
                height + NORMAL,
                _("Also outside the limits: %(names)s", names=join_names(left_out)),
                size=SMALL,
            )
        )
        height += NORMAL + 12
    return svg(WIDTH, height, ident, title or headline, f"{headline}. {desc}", body)


def funnel_table(funnel: dict | None) -> list[dict]:
    """The funnel's points as the rows of its data table: ``name``, ``size`` (the
    effective number of responses), ``index`` and ``position`` (words), outside the
    limits first."""
    if not funnel:
        return []
    size = funnel.get("size", "n_eff")
    rows = []
    for p in funnel["points"]:
        side, level = funnel_position(funnel, p)
        rows.append(
            {
                "name": p.get("name", p["code"]),
                "size": p[size],
                "index": p["index"],
                "side": side,
                "status": POSITION_STATUS[side],
                "position": _position_words(side, level),
            }
        )
    order = {"below": 0, "above": 1, "inside": 2}
    return sorted(rows, key=lambda r: (order[r["side"]], r["index"]))


def _position_words(side: str, level: str | None) -> str:
    if side == "inside":
        return _("inside the funnel")
    limit = share(float(level), 1 if level == "0.998" else 0)
    if side == "below":
        return _("below the %(level)s limit", level=limit)
    return _("above the %(level)s limit", level=limit)
