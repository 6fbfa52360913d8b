"""Numbers and periods as people write them, in the current language.

- Shares: ``87,2 %`` in Vietnamese (decimal comma, a no-break space before
  the sign, as the leaders' report is to be written), ``87.2%`` in English;
  intervals ``82,2–99,4 %``;
  differences in percentage points, never ``-0,0``.
- Periods: "Tháng 11/2022 (15/10–14/11/2022)", "Quý I/2022", "6 tháng đầu năm
  2022", "Năm 2022"; "November 2022 (15 Oct – 14 Nov 2022)", "Q1 2022", "First
  half of 2022", "Year 2022". The days are given whenever the period is not
  made of whole calendar months (the plan's 15th → 14th cut-off), because
  "Tháng 11" alone would be read as 1–30 November.

Like the date patterns of :mod:`survey_app.core.i18n`, these are forms of the
language, one table per language, not sentences to translate.
"""

from __future__ import annotations

from datetime import date

from flask_babel import format_date

from ..core.i18n import current_language, number
from .periods import Period

_ROMAN = ("I", "II", "III", "IV")


def share(value: float | None, digits: int = 1) -> str:
    """A share as a percentage: ``87,2 %`` in Vietnamese (no-break space), ``87.2%`` in English."""
    if value is None:
        return "—"
    sign = "\u00a0%" if current_language() == "vi" else "%"
    return number(100 * value, digits) + sign


def share_range(low: float | None, high: float | None) -> str:
    """An interval: ``82,2–99,4 %``."""
    if low is None or high is None:
        return "—"
    sign = "\u00a0%" if current_language() == "vi" else "%"
    return f"{number(100 * low, 1)}–{number(100 * high, 1)}{sign}"


def points(difference: float | None) -> str:
    """A difference of two shares in percentage points: ``+2,3``, ``0,0`` (never ``-0,0``)."""
    if difference is None:
        return "—"
    value = round(100 * difference, 1)
    return number(0.0, 1) if value == 0 else number(value, 1, signed=True)


def period_name(period: Period | str, lang: str | None = None) -> str:
    """A period as people say it: "Tháng 11/2022", "Quý I/2022", "6 tháng đầu năm 2022",
    "Năm 2022"; "November 2022", "Q1 2022", "First half of 2022", "Year 2022"."""
    if isinstance(period, str):
        period = Period.parse(period)
    lang = lang or current_language()
    y, n = period.year, period.number
    if lang == "vi":
        if period.kind == "month":
            return f"Tháng {n}/{y}"
        if period.kind == "quarter":
            return f"Quý {_ROMAN[n - 1]}/{y}"
        if period.kind == "half":
            return f"6 tháng {'đầu' if n == 1 else 'cuối'} năm {y}"
        return f"Năm {y}"
    if period.kind == "month":
        return format_date(date(y, n, 1), "LLLL yyyy")
    if period.kind == "quarter":
        return f"Q{n} {y}"
    if period.kind == "half":
        return f"{'First' if n == 1 else 'Second'} half of {y}"
    return f"Year {y}"


def period_span(first: date, last: date, lang: str | None = None) -> str:
    """Two days as a span: "15/10–14/11/2022", "15/12/2021–14/03/2022"; "15 Oct – 14 Nov 2022"."""
    lang = lang or current_language()
    if lang == "vi":
        head = "dd/MM" if first.year == last.year else "dd/MM/yyyy"
        return f"{format_date(first, head)}–{format_date(last, 'dd/MM/yyyy')}"
    head = "d MMM" if first.year == last.year else "d MMM yyyy"
    return f"{format_date(first, head)} – {format_date(last, 'd MMM yyyy')}"


def period_title(period: Period | str, calendar: bool | None = None) -> str:
    """:func:`period_name` with the days it covers when they are not its calendar months:
    "Tháng 11/2022 (15/10–14/11/2022)"."""
    if isinstance(period, str):
        period = Period.parse(period)
    name = period_name(period)
    first, last = period.local_days(calendar)
    if first.day == 1 and last.month == period.last_month:
        return name
    return f"{name} ({period_span(first, last)})"
