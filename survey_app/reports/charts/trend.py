"""One agency's result over the last periods, named as people say them
("Tháng 11/2022", or "T11" with the year under it when twelve do not fit)."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from ...core.i18n import current_language, number
from ..periods import Period
from ..wording import period_name, share, share_range
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
)
from .layout import share_text as _tick
from .placement import Box
from .svg import (
    LARGE,
    NORMAL,
    SMALL,
    STATUS_LABELS,
    WIDTH,
    legend,
    line,
    low_key,
    marker,
    svg,
    target_key,
    target_label,
    text,
)

# -- one agency over time ----------------------------------------------------------------------


def period_ticks(labels: list[str], width: float) -> list[tuple[str, str | None]]:
    """The x labels of a trend: each period's full name when they all fit in ``width``,
    else a short form with the year below it where the year starts (and first)."""
    lang = current_language()
    periods = [Period.parse(label) for label in labels]
    full = [period_name(p) for p in periods]
    if all(text_width(t, SMALL) <= width - 6 for t in full):
        return [(t, None) for t in full]

    def mid(p: Period, short: bool) -> str:
        if p.kind == "month":
            if lang == "vi":
                return f"T{p.number}" if short else f"Tháng {p.number}"
            return format_date(date(p.year, p.number, 1), "MMM")
        if p.kind == "quarter":
            return (
                f"Quý {('I', 'II', 'III', 'IV')[p.number - 1]}" if lang == "vi" else f"Q{p.number}"
            )
        if p.kind == "half":
            if lang == "vi":
                return (
                    ("6T đầu" if short else "6 tháng đầu")
                    if p.number == 1
                    else ("6T cuối" if short else "6 tháng cuối")
                )
            return f"H{p.number}"
        return str(p.year)

    for short in (False, True):
        heads = [mid(p, short) for p in periods]
        if all(text_width(t, SMALL) <= width - 4 for t in heads) or short:
            out = []
            for k, (p, head) in enumerate(zip(periods, heads, strict=True)):
                year = (
                    str(p.year)
                    if p.kind != "year" and (k == 0 or periods[k - 1].year != p.year)
                    else None
                )
                out.append((head, year))
            return out
    return []  # pragma: no cover


def trend_summary(points: list[dict], target: float) -> str:
    """The trend in sentences: lowest, highest and latest result, the latest verdict."""
    shown = [p for p in points if p.get("index") is not None]
    if not shown:
        return _("No result in these periods.")
    low = min(shown, key=lambda p: p["index"])
    high = max(shown, key=lambda p: p["index"])
    last = shown[-1]
    return _(
        "From %(first)s to %(last)s: lowest %(low)s (%(low_period)s), highest %(high)s "
        "(%(high_period)s); latest %(latest)s, %(verdict)s.",
        first=period_name(points[0]["period"]),
        last=period_name(points[-1]["period"]),
        low=share(low["index"]),
        low_period=period_name(low["period"]),
        high=share(high["index"]),
        high_period=period_name(high["period"]),
        latest=share(last["index"]),
        verdict=str(STATUS_LABELS[status_of(last)]).lower(),
    )


def trend_chart(
    points: list[dict], target: float = 0.90, title: str = "", ident: str = "chart-trend"
) -> str:
    """Result with its interval per period (oldest left), the verdict's mark, the value
    above it, and the target line; periods named as people say them."""
    lang = current_language()
    desc = trend_summary(points, target)
    shown = [p for p in points if p.get("index") is not None]
    items = [
        (str(STATUS_LABELS[s]), ("marker", s, False))
        for s in STATUS_ORDER
        if any(status_of(p) == s for p in shown)
    ]
    if any(low_reliability(p) for p in shown):
        items.append(low_key())
    items.append(target_key(target_label(target)))
    body = []
    if shown:
        last = shown[-1]
        verdict = STATUS_LABELS[status_of(last)]
        headline = f"{period_name(last['period'])}: {share(last['index'])} · {verdict}"
        body.append(text(8, 8 + LARGE, headline, size=LARGE, bold=True))
    parts, used = legend(items, 8, 36, WIDTH - 16)
    body += parts
    left, right = 70, WIDTH - 8 - 74
    top = 36 + used + 36  # room above 100 % for the values of the highest points
    bottom = top + 240
    lo, hi, step = share_axis(bounds(points), target)
    slot = (right - left) / max(len(points), 1)

    def x(i: int) -> float:
        return left + slot * (i + 0.5)

    def y(v: float) -> float:
        return top + (hi - min(max(v, lo), hi)) / (hi - lo) * (bottom - top)

    for v in ticks(lo, hi, step):
        body.append(line(left, y(v), right, y(v), GRID_COLOUR))
        body.append(
            text(left - 8, y(v) + SMALL * 0.36, _tick(v, lang=lang), "end", SMALL, MUTED_COLOUR)
        )
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
    for i, (head, year) in enumerate(period_ticks([p["period"] for p in points], slot)):
        body.append(
            text(
                x(i),
                bottom + 6 + SMALL,
                head,
                "middle",
                SMALL,
                MUTED_COLOUR,
                tooltip=period_name(points[i]["period"]),
            )
        )
        if year:
            body.append(
                text(x(i), bottom + 10 + 2 * SMALL, year, "middle", SMALL, MUTED_COLOUR, bold=True)
            )
    previous = None
    marks, values, taken = [], [], []
    for i, p in enumerate(points):
        if p.get("index") is None:
            body.append(
                text(x(i), bottom - 8, "—", "middle", SMALL, MUTED_COLOUR, tooltip=_("No result"))
            )
            previous = None
            continue
        status, hollow = status_of(p), low_reliability(p)
        low_y = y(p["ci_low"]) if p.get("ci_low") is not None else y(p["index"])
        high_y = y(p["ci_high"]) if p.get("ci_high") is not None else y(p["index"])
        if p.get("ci_low") is not None:
            body.append(
                line(
                    x(i),
                    low_y,
                    x(i),
                    high_y,
                    COLOURS[status],
                    3,
                    "6,4" if hollow else None,
                    "round",
                )
            )
        if previous is not None:
            body.append(line(x(previous[0]), y(previous[1]), x(i), y(p["index"]), "#8C8C8C", 1.5))
        interval = share_range(p.get("ci_low"), p.get("ci_high"))
        tooltip = (
            f"{period_name(p['period'])}: {share(p['index'])} ({interval}), "
            f"n = {number(p.get('n') or 0)}"
        )
        marks.append(marker(status, x(i), y(p["index"]), 6.5, hollow, tooltip))
        value = share(p["index"])
        w, h = text_width(value, SMALL), SMALL * 1.2
        for cy in (high_y - 8 - h / 2, low_y + 8 + h / 2):
            box = Box(x(i) - w / 2, cy - h / 2, x(i) + w / 2, cy + h / 2)
            if (
                box.y0 >= top - 34
                and box.y1 <= bottom - 2
                and not any(box.overlaps(b, 2) for b in taken)
            ):
                taken.append(box)
                values.append(
                    text(
                        x(i),
                        box.y1 - SMALL * 0.25,
                        value,
                        "middle",
                        SMALL,
                        bold=i == len(points) - 1,
                        halo=True,
                    )
                )
                break
        previous = (i, p["index"])
    body += marks + values
    height = bottom + 14 + 2 * SMALL + 8
    return svg(WIDTH, height, ident, title or desc, desc, body)
