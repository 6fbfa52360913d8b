"""The report pages' charts as inline SVG: no JavaScript, no third-party assets.

Three charts, each readable without training: a headline saying what it shows,
a legend, the 90 % target as a bold labelled line, the status of each estimate
by shape and words as well as colour (:mod:`.layout`), values written in
the page's language, and a text alternative (``<title>`` and ``<desc>``, read
by screen readers) stating the result in sentences. The data of each chart is
in a table beside it on the page.

- :func:`interval_chart`: one row per agency, sorted by result: the result and
  its interval against the target, the value and the verdict in words.
- :func:`funnel_chart`: result against the effective number of responses,
  with the 95 % and 99.8 % control limits; the agencies outside them named.
- :func:`trend_chart`: one agency's result over the last periods, named as
  people say them.

The PDF draws the same charts with fpdf2 (:mod:`.pdf`, :mod:`.pdf_funnel`) and
the XLSX holds them as native Excel charts (:mod:`.xlsx`, :mod:`.xlsx_funnel`);
all of them take their axes, marks and words from :mod:`.layout` and place
their labels with :mod:`.placement`.
"""

from .agencies import interval_chart, interval_order, interval_summary
from .funnel import funnel_chart, funnel_table
from .trend import trend_chart

__all__ = [
    "funnel_chart",
    "funnel_table",
    "interval_chart",
    "interval_order",
    "interval_summary",
    "trend_chart",
]
