"""What the report's charts share on the page, in the PDF and in the XLSX: the status
marks, the axis rule, text widths and where labels go.

Pure functions (no Flask): the page's SVG charts are drawn with them, :mod:`.pdf`
draws with fpdf2 and :mod:`.xlsx` sets Excel's axes.

- **Status by shape and colour.** Each verdict has a marker shape (▲ above the
  target, ▼ below, ◆ inconclusive, ■ insufficient data) and a colour from the
  Okabe–Ito palette, darkened to 3:1 against white, so it reads in grey scale
  and for colour-blind readers. An estimate of low reliability (NCHS flags) is
  drawn hollow, its interval dashed.
- **Axis.** From a round value a little below the lowest lower bound (and the
  target) to 100 %, with ticks at 1, 2, 2.5, 5, 10 or 20 points.
- **Text widths** from the DejaVu Sans metrics (the PDF's font, and the first
  in the SVG's font list; Arial and Liberation Sans, the usual fallbacks, are
  narrower), so a label placed here does not overlap once drawn.
- **Labels** of funnel points are placed by :mod:`.placement`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache

#: Marker shape of each verdict (and of a funnel point inside the limits: the
#: inconclusive verdict's shape, in a muted grey so the points outside stand out).
SHAPES = {
    "above_target": "triangle-up",
    "below_target": "triangle-down",
    "inconclusive": "diamond",
    "insufficient_data": "square",
    "inside": "diamond",
}
#: Colour of each verdict: Okabe–Ito vermillion, bluish green and orange, darkened to a
#: contrast of at least 3:1 against white; grey for no verdict.
COLOURS = {
    "above_target": "#007756",
    "below_target": "#C03F00",
    "inconclusive": "#9A6700",
    "insufficient_data": "#6B6B6B",
    "inside": "#8A8A8A",
}
#: The headline indicators' names in the PDF and the XLSX (always Vietnamese).
HEADLINE_VI = {"q0": "Tỷ lệ hài lòng chung", "composite": "Chỉ số SIPAS (5 yếu tố)"}
#: The order of the verdicts in legends and summaries: what needs action first.
STATUS_ORDER = ("below_target", "inconclusive", "above_target", "insufficient_data")
TARGET_COLOUR = "#0B3C7A"
GRID_COLOUR = "#D9D9D9"
TEXT_COLOUR = "#1A1A1A"
MUTED_COLOUR = "#4D4D4D"
LOW_RELIABILITY_FLAGS = ("low_reliability_n", "low_reliability_df", "low_reliability_width")
#: Tick steps of a share axis, as fractions: each divides the 90 % target, so it is a tick.
STEPS = (0.01, 0.02, 0.025, 0.05, 0.1)


def status_of(b: dict) -> str:
    """A block's verdict, ``insufficient_data`` when it has none."""
    verdict = b.get("verdict")
    return verdict if verdict in STATUS_ORDER else "insufficient_data"


def low_reliability(b: dict) -> bool:
    """Whether an estimate meets one of the NCHS 2017 low-reliability flags."""
    return any(f in (b.get("flags") or ()) for f in LOW_RELIABILITY_FLAGS)


# -- axes ------------------------------------------------------------------------------


def nice_step(span: float, most: int = 7) -> float:
    """The smallest of :data:`STEPS` giving at most ``most`` intervals over ``span`` (10 %
    however many: the labels are thinned when they crowd)."""
    for step in STEPS:
        if span / step <= most + 1e-9:
            return step
    return STEPS[-1]


def share_axis(
    values: Iterable[float | None], target: float, pad: float = 0.015, most: int = 7
) -> tuple[float, float, float]:
    """A share axis ``(low, high, step)``: from a round value a little below the lowest
    of ``values`` and the target, to 100 %.

    The step is chosen first from the span (at most ``most`` intervals), then
    the low end is the multiple of the step at or below ``min − pad``.
    """
    lowest = min([v for v in values if v is not None and math.isfinite(v)] + [target])
    low = max(0.0, lowest - pad)
    step = nice_step(1.0 - low, most)
    low = max(0.0, math.floor(round(low / step, 9)) * step)
    return round(low, 6), 1.0, step


def bounds(blocks: Iterable[dict]) -> list[float | None]:
    """What an interval axis must hold: each estimate and its lower bound."""
    return [b.get(k) for b in blocks for k in ("ci_low", "index")]


def ticks(low: float, high: float, step: float) -> list[float]:
    """The tick values from ``low`` to ``high`` every ``step`` (rounded, no float dust)."""
    count = int(round((high - low) / step))
    return [round(low + k * step, 6) for k in range(count + 1)]


def log_ticks(low: float, high: float, most: int = 9) -> list[float]:
    """Ticks of a logarithmic axis: 1-2-5 in each decade (1-10 when there are too many)."""
    out: list[float] = []
    for series in ((1, 2, 5), (1, 3), (1,)):
        out = [
            m * 10**d
            for d in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
            for m in series
            if low <= m * 10**d <= high
        ]
        if len(out) <= most:
            break
    return out


def share_text(value: float, digits: int | None = None, lang: str = "vi") -> str:
    """A tick or point label: ``87,5 %`` (no-break space) in Vietnamese, ``87.5%`` in
    English; ``digits`` None gives as few digits as the value needs (up to one)."""
    percent = 100 * value
    if digits is None:
        digits = 0 if abs(percent - round(percent)) < 1e-6 else 1
    text = f"{percent:.{digits}f}"
    if lang == "vi":
        return text.replace(".", ",") + "\u00a0%"
    return text + "%"


def count_text(value: float, lang: str = "vi") -> str:
    """A count on an axis: ``1.000`` in Vietnamese, ``1,000`` in English."""
    text = f"{value:,.0f}"
    return text.replace(",", ".") if lang == "vi" else text


def thin(
    labels: list[tuple[float, str]], measure: Measure, gap: float, keep: int | None = None
) -> list[tuple[float, str]]:
    """Axis labels (``x``, text, each centred on its x) that do not overlap: every
    second, third… one kept until they fit, always including the ``keep``-th (the
    target's tick) when given, else the first."""
    for every in range(1, len(labels) + 1):
        offset = (keep or 0) % every
        kept = labels[offset::every]
        spans = [(x - measure(t) / 2, x + measure(t) / 2) for x, t in kept]
        if all(b[0] >= a[1] + gap for a, b in zip(spans, spans[1:], strict=False)):
            return kept
    return labels[keep or 0 : (keep or 0) + 1]


# -- text -------------------------------------------------------------------------------


@cache
def _metrics(bold: bool) -> tuple[dict[int, int], float]:
    from fontTools.ttLib import TTFont

    from ...surveys.posters import FONT_DIR

    font = TTFont(FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"), lazy=True)
    advances = font["hmtx"].metrics
    widths = {code: advances[name][0] for code, name in font.getBestCmap().items()}
    return widths, float(font["head"].unitsPerEm)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` at font ``size`` (any unit: the result is in the same one),
    from the DejaVu Sans advance widths."""
    widths, em = _metrics(bold)
    fallback = widths.get(ord("M"), em * 0.8)
    return sum(widths.get(ord(ch), fallback) for ch in unicodedata.normalize("NFC", text)) * (
        size / em
    )


Measure = Callable[[str], float]


def fit(text: str, width: float, measure: Measure) -> str:
    """``text``, cut with an ellipsis to fit ``width``."""
    if measure(text) <= width:
        return text
    while text and measure(text + "…") > width:
        text = text[:-1]
    return text.rstrip(" ,-") + "…"


def wrap(text: str, width: float, measure: Measure, lines: int = 2) -> list[str]:
    """``text`` in one line of ``width`` if it fits, else in two balanced lines broken
    between words (the narrowest widest line), the second cut with an ellipsis when
    no break fits. ``lines=1`` only cuts."""
    if measure(text) <= width or lines < 2:
        return [fit(text, width, measure)]
    words = text.split()
    best = None
    for k in range(1, len(words)):
        first, second = " ".join(words[:k]), " ".join(words[k:])
        widest = max(measure(first), measure(second))
        if measure(first) <= width and (best is None or widest < best[0]):
            best = (widest, first, second)
    if best is None:
        return [fit(text, width, measure)]
    return [best[1], fit(best[2], width, measure)]


_LEVELS = (
    ("UBND thành phố ", "TP. "),
    ("UBND thị xã ", "TX. "),
    ("UBND thị trấn ", "TT. "),
    ("UBND huyện ", "H. "),
    ("UBND phường ", "P. "),
    ("UBND xã ", "X. "),
    ("UBND tỉnh ", "Tỉnh "),
)


def short_name(name: str, longest: int = 18) -> str:
    """An agency's name short enough to label a point: "H. Thanh Hà" for "UBND huyện
    Thanh Hà", "Sở LĐ-TB&XH" for "Sở Lao động - Thương binh và Xã hội"; the Vietnamese
    administrative abbreviations. Names already short are kept."""
    for long, short in _LEVELS:
        if name.startswith(long):
            return short + name[len(long) :]
    if len(name) <= longest:
        return name
    head, _, rest = name.partition(" ")
    heads = {"Sở": "Sở", "Ban": "Ban", "Cục": "Cục", "Chi": "CC", "Văn": "VP", "Trung": "Trung tâm"}
    if head not in heads:
        return name[: longest - 1] + "…"
    head = heads[head]
    if head in {"VP", "Trung tâm", "CC"}:
        rest = rest.partition(" ")[2]  # "phòng", "tâm", "cục"
    if head == "Ban" and rest.startswith("Quản lý "):
        head, rest = "BQL", rest[len("Quản lý ") :]
    if rest.endswith(" tỉnh"):
        rest = rest[: -len(" tỉnh")]
    words = []
    for token in re.split(r"(\s+-\s+|,\s+|\s+và\s+|\s+)", rest):
        token = token.strip()
        if token == "-":
            words.append("-")
        elif token == "và":
            words.append("&")
        elif token in {"các", "UBND", "HĐND"} or token.isupper():
            words.append(f" {token} ")
        elif token and token != ",":
            words.append(token[0].upper())
    return f"{head} " + re.sub(r"\s+", " ", "".join(words)).strip()
    return name[: longest - 1] + "…"


# -- funnel ---------------------------------------------------------------------------------


def _interpolate(grid: list[float], values: list[float], n: float) -> float:
    """``values`` (on ``grid``) at ``n``, linear in log n, held flat beyond the ends."""
    if n <= grid[0]:
        return values[0]
    if n >= grid[-1]:
        return values[-1]
    k = next(i for i in range(1, len(grid)) if grid[i] >= n)
    t = (math.log(n) - math.log(grid[k - 1])) / (math.log(grid[k]) - math.log(grid[k - 1]))
    return values[k - 1] + t * (values[k] - values[k - 1])


def funnel_position(funnel: dict, point: dict) -> tuple[str, str | None]:
    """Where a funnel point lies: ``("below" | "inside" | "above", level)``, ``level``
    the widest limit it is outside (``"0.998"`` or ``"0.95"``), None inside."""
    size = funnel.get("size", "n_eff")
    grid = funnel[size]
    n, value = point[size], point["index"]
    for level in ("0.998", "0.95"):
        lim = funnel["limits"].get(level)
        if not lim:
            continue
        if value < _interpolate(grid, lim["lower"], n) - 1e-12:
            return "below", level
        if value > _interpolate(grid, lim["upper"], n) + 1e-12:
            return "above", level
    return "inside", None


#: The verdict shape and colour a funnel position is drawn with.
POSITION_STATUS = {
    "below": "below_target",
    "inside": "inside",
    "above": "above_target",
}
