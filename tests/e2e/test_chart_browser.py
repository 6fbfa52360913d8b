"""The report's SVG charts drawn by Chromium with the staff stylesheet: on a phone and on
a desktop, every word is at least 11 px on screen and no two words' boxes overlap
(measured on the glyphs the browser laid out, not on the server's estimate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.reports import charts
from tests.e2e.live import PHONE
from tests.reports.test_charts import _agencies, _crowded_funnel

MEASURE = """
() => Array.from(document.querySelectorAll('svg.chart'))
  .filter(svg => svg.getBoundingClientRect().width > 0)
  .map(svg => {
  const scale = svg.getScreenCTM().a;
  const texts = Array.from(svg.querySelectorAll('text'))
    .filter(t => t.textContent.trim())
    .map(t => {
      const r = t.getBoundingClientRect();
      const own = Array.from(t.childNodes).filter(n => n.nodeType === 3)
        .map(n => n.textContent).join('');
      return {text: own, px: parseFloat(getComputedStyle(t).fontSize) * scale,
              x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
    });
  const overlaps = [];
  for (let i = 0; i < texts.length; i++)
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i], b = texts[j];
      if (a.x0 < b.x1 - 0.5 && b.x0 < a.x1 - 0.5 && a.y0 < b.y1 - 0.5 && b.y0 < a.y1 - 0.5)
        overlaps.push(a.text + ' / ' + b.text);
    }
  return {id: svg.id, smallest: Math.min(...texts.map(t => t.px)), count: texts.length,
          width: svg.getBoundingClientRect().width, overlaps};
})
"""


def _trend():
    periods = ["2021-12"] + [f"2022-{m:02d}" for m in range(1, 12)]
    return [
        {
            "period": p,
            "index": 0.88 + 0.008 * k,
            "ci_low": 0.80 + 0.008 * k,
            "ci_high": min(1.0, 0.95 + 0.005 * k),
            "verdict": "inconclusive" if k < 8 else "above_target",
            "flags": ["low_reliability_n"] if k == 2 else [],
            "n": 30 + k,
        }
        for k, p in enumerate(periods)
    ]


@pytest.mark.parametrize(
    ("device", "agencies", "least"),
    [
        (PHONE, "c-agencies-narrow", 320),
        ({"viewport": {"width": 1280, "height": 900}, "locale": "vi-VN"}, "c-agencies", 760),
    ],
    ids=["phone", "desktop"],
)
def test_chart_text_is_large_enough_and_never_overlaps_in_chromium(
    browser, live, device, agencies, least
):
    with live.app.test_request_context("/"):
        figures = [
            charts.interval_chart(_agencies(), 0.90, ident="c-agencies", narrow=False)
            + charts.interval_chart(_agencies(), 0.90, ident="c-agencies-narrow", narrow=True),
            charts.funnel_chart(_crowded_funnel(), 0.90, axis_label="n_use", ident="c-funnel"),
            charts.trend_chart(_trend(), 0.90, ident="c-trend"),
        ]
    css = (Path(__file__).parents[2] / "survey_app/static/staff.css").read_text()
    html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{css}</style></head><body><main>"
        + "".join(f'<figure class="chart">{svg}</figure>' for svg in figures)
        + "</main></body></html>"
    )
    context = browser.new_context(**device)
    try:
        page = context.new_page()
        page.set_content(html)
        measured = page.evaluate(MEASURE)
    finally:
        context.close()
    # on a phone the agencies chart is drawn in its phone layout, the wide one hidden
    assert [m["id"] for m in measured] == [agencies, "c-funnel", "c-trend"]
    for m in measured:
        assert m["count"] > 20, m["id"]
        assert m["smallest"] >= 11, m
        assert m["overlaps"] == [], m["id"]
    # the phone layout fits a phone; the wide charts scroll sideways rather than shrink
    assert measured[0]["width"] >= least - 1
    assert PHONE["viewport"]["width"] >= 320 and all(m["width"] >= 759 for m in measured[1:])
