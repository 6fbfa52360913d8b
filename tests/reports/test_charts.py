"""The report page's SVG charts, measured: axis, label boxes, font sizes, legend, shapes and
the text alternative, on crowded synthetic data (40 agencies)."""

from __future__ import annotations

import itertools
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from survey_app.reports import charts
from survey_app.reports.charts import layout as chart_layout
from survey_app.reports.charts import svg
from survey_app.reports.charts.layout import SHAPES, funnel_position, short_name, text_width
from survey_app.reports.charts.placement import Box

NS = "{http://www.w3.org/2000/svg}"
STATUS_VI = {
    "above_target": "Đạt mục tiêu",
    "below_target": "Dưới mục tiêu",
    "inconclusive": "Chưa kết luận",
    "insufficient_data": "Chưa đủ dữ liệu",
}
LONG_NAMES = (
    "Sở Lao động - Thương binh và Xã hội",
    "Ban Quản lý các khu công nghiệp tỉnh",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Trung tâm Phục vụ hành chính công tỉnh",
)


@pytest.fixture
def vi(app):
    with app.test_request_context("/"):
        yield


def _agencies(n: int = 40, seed: int = 16) -> list[dict]:
    """Agencies with every verdict, long and short names, some of low reliability."""
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        name = LONG_NAMES[k % 4] + f" {k}" if k % 5 == 0 else f"UBND xã Số {k}"
        index = min(0.999, max(0.5, rng.gauss(0.9, 0.05)))
        half = rng.choice((0.02, 0.04, 0.12))
        low, high = max(0.0, index - half), min(1.0, index + half / 2)
        n_resp = rng.choice((6, 25, 80, 300))
        if n_resp < 10:
            verdict = "insufficient_data"
        elif high < 0.9:
            verdict = "below_target"
        elif low > 0.9:
            verdict = "above_target"
        else:
            verdict = "inconclusive"
        flags = ["low_reliability_n"] if n_resp < 30 else []
        rows.append(
            {
                "name": name,
                "index": index,
                "ci_low": low,
                "ci_high": high,
                "verdict": verdict,
                "flags": flags,
                "n": n_resp,
            }
        )
    return rows


def _content(t) -> str:
    """A <text>'s own words, without the <title> inside it."""
    return (t.text or "") + "".join(child.tail or "" for child in t)


def _texts(root) -> list[tuple[str, float, float, float, str, bool]]:
    return [
        (
            _content(t),
            float(t.get("x")),
            float(t.get("y")),
            float(t.get("font-size")),
            t.get("text-anchor", "start"),
            t.get("font-weight") == "bold",
        )
        for t in root.iter(f"{NS}text")
    ]


def _box(text, x, y, size, anchor, bold) -> Box:
    w = text_width(text, size, bold)
    left = x - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
    return Box(left, y - 0.93 * size, left + w, y + 0.24 * size)


def _assert_no_overlap(root) -> list:
    boxes = [(t[0], _box(*t)) for t in _texts(root) if t[0].strip()]
    width = float(root.get("viewBox").split()[2])
    for text, box in boxes:
        assert 0 <= box.x0 and box.x1 <= width, f"{text!r} runs off the chart"
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    return boxes


def _assert_readable(root) -> None:
    """At the narrowest the page draws a chart (760 px, the phone layout 320 px), every
    text is 11 px or more."""
    width = float(root.get("viewBox").split()[2])
    narrow = "narrow" in root.get("class").split()
    least = svg.NARROW_MIN_RENDERED_WIDTH if narrow else svg.MIN_RENDERED_WIDTH
    sizes = [float(t.get("font-size")) for t in root.iter(f"{NS}text")]
    assert sizes and min(sizes) * least / width >= 11
    css = Path(__file__).parents[2].joinpath("survey_app/static/staff.css").read_text()
    selector = r"figure\.chart svg\.chart\.narrow" if narrow else r"figure\.chart svg\.chart"
    rule = re.search(selector + r"\{([^}]*)\}", css).group(1)
    assert f"min-width:{least / 16:g}rem" in rule


def _corners(polygon) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]


def _shape(polygon) -> str:
    """What a marker looks like, from its corners."""
    pts = _corners(polygon)
    if len(pts) == 3:
        apex = min(pts, key=lambda p: sum(abs(p[1] - q[1]) < 1e-6 for q in pts))
        return "▲" if apex[1] < sum(p[1] for p in pts) / 3 else "▼"
    xs = {round(p[0], 3) for p in pts}
    return "■" if len(xs) == 2 else "◆"


def _centre(polygon) -> tuple[float, float]:
    pts = _corners(polygon)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _x_axis(root):
    """value ← x, from the interval chart's tick labels ("85 %")."""
    ticks = sorted(
        {
            (x, float(text.replace("\u00a0%", "").replace(",", ".")) / 100)
            for text, x, _y, _s, _a, bold in _texts(root)
            if re.fullmatch(r"\d+(,\d)?\u00a0%", text) and not bold
        }
    )
    (x0, v0), (x1, v1) = ticks[0], ticks[-1]
    return (lambda x: v0 + (x - x0) / (x1 - x0) * (v1 - v0)), v0, v1


LAYOUTS = pytest.mark.parametrize("narrow", [None, True], ids=["wide", "phone"])


@LAYOUTS
def test_interval_chart_axis_holds_every_interval_and_the_target(vi, narrow):
    rows = _agencies()
    root = ET.fromstring(charts.interval_chart(rows, 0.90, narrow=narrow))
    value_of, low, high = _x_axis(root)
    assert high == 1.0 and low <= min(r["ci_low"] for r in rows) < low + 0.1
    assert low <= 0.9
    by_name = {r["name"]: r for r in rows}
    marks = [p for p in root.iter(f"{NS}polygon") if p.find(f"{NS}title") is not None]
    assert len(marks) == 40
    for mark in marks:
        row = by_name[mark.find(f"{NS}title").text.split(":")[0]]
        assert value_of(_centre(mark)[0]) == pytest.approx(row["index"], abs=0.002)
    bars = [
        line
        for line in root.iter(f"{NS}line")
        if line.get("stroke-width") == "3" and line.get("stroke-linecap") == "round"
    ]
    assert len(bars) == 40
    ends = sorted(value_of(float(b.get(k))) for b in bars for k in ("x1", "x2"))
    assert ends[0] == pytest.approx(min(r["ci_low"] for r in rows), abs=0.002)
    assert ends[-1] == pytest.approx(max(r["ci_high"] for r in rows), abs=0.002)
    # the target: a bold line, labelled in words
    texts = [t[0] for t in _texts(root)]
    assert "Mục tiêu 90\u00a0%" in texts
    assert any(
        line.get("stroke") == chart_layout.TARGET_COLOUR and line.get("stroke-width") == "3"
        for line in root.iter(f"{NS}line")
    )


@LAYOUTS
def test_interval_chart_labels_are_readable_and_never_overlap(vi, narrow):
    rows = _agencies()
    root = ET.fromstring(charts.interval_chart(rows, 0.90, narrow=narrow))
    _assert_readable(root)
    boxes = _assert_no_overlap(root)
    # every agency is named (long names on two lines or cut, the full name in a tooltip)
    named = " ".join(text for text, _b in boxes)
    tooltips = {t.text for t in root.iter(f"{NS}title")}
    for r in rows:
        first_word_run = " ".join(r["name"].split()[:2])
        assert first_word_run in named and any(r["name"] in (tip or "") for tip in tooltips)


@LAYOUTS
def test_interval_chart_status_by_shape_words_and_a_legend(vi, narrow):
    rows = _agencies()
    root = ET.fromstring(charts.interval_chart(rows, 0.90, narrow=narrow))
    legend = root.find(f"{NS}g[@class='legend']")
    legend_texts = [_content(t) for t in legend.iter(f"{NS}text")]
    for status in SHAPES.keys() - {"inside"}:
        assert STATUS_VI[status] in legend_texts
    assert "Mục tiêu 90\u00a0%" in legend_texts
    assert any("Độ tin cậy thấp" in t for t in legend_texts)
    shapes = {}
    for polygon in root.iter(f"{NS}polygon"):
        if polygon.get("data-status"):
            shapes.setdefault(polygon.get("data-status"), set()).add(_shape(polygon))
    assert {s: v for s, v in shapes.items()} == {
        "above_target": {"▲"},
        "below_target": {"▼"},
        "inconclusive": {"◆"},
        "insufficient_data": {"■"},
    }
    # the verdict also in words on each row, and low reliability hollow on a dashed bar
    words = [t[0] for t in _texts(root)]
    for r in rows:
        assert words.count(STATUS_VI[r["verdict"]]) >= 1
    hollow = [p for p in root.iter(f"{NS}polygon") if p.get("data-hollow")]
    assert len(hollow) == sum(1 for r in rows if r["flags"]) + 1  # + the legend's
    assert all(p.get("fill") == "#ffffff" for p in hollow)
    dashed = [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray") == "6,4"]
    assert len(dashed) == sum(1 for r in rows if r["flags"])


def test_interval_chart_text_alternative_names_the_agencies_below(vi):
    rows = _agencies()
    below = [r["name"] for r in charts.interval_order(rows) if r["verdict"] == "below_target"]
    assert below
    root = ET.fromstring(charts.interval_chart(rows, 0.90, ident="chart-test"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-test-title"
    assert root.get("aria-describedby") == "chart-test-desc"
    desc = root.find(f"{NS}desc").text
    assert f"{len(below)} cơ quan dưới mục tiêu: {', '.join(below)}." in desc
    assert root.find(f"{NS}title").get("id") == "chart-test-title"
    # the visible headline says the same in short
    assert f"{len(below)} trên 40 cơ quan dưới mục tiêu 90\u00a0%" in [t[0] for t in _texts(root)]
    none_below = [dict(r, verdict="inconclusive") for r in rows]
    assert (
        "Không cơ quan nào"
        in ET.fromstring(charts.interval_chart(none_below)).find(f"{NS}desc").text
    )


def _crowded_funnel(n: int = 40, seed: int = 7) -> dict:
    """40 agencies of similar size, most of them below the limits, a few above."""
    import numpy as np

    import analysis

    rng = random.Random(seed)
    points = []
    for k in range(n):
        name = LONG_NAMES[k % 4] + f" {k}" if k % 3 == 0 else f"UBND huyện Số {k}"
        above = k % 8 == 0
        points.append(
            {
                "agency_id": k,
                "code": f"A{k}",
                "name": name,
                "n_use": rng.uniform(120, 260),
                "index": rng.uniform(0.97, 0.99) if above else rng.uniform(0.70, 0.80),
            }
        )
    grid = np.geomspace(5, 300, 40)
    limits = analysis.funnel_limits(grid, p0=0.9)
    return {
        "indicator": "q0",
        "size": "n_use",
        "points": points,
        "n_use": grid.tolist(),
        "limits": {
            str(level): {"lower": lo.tolist(), "upper": hi.tolist()}
            for level, (lo, hi) in limits.items()
        },
    }


def test_funnel_names_every_agency_outside_the_limits_without_overlap(vi):
    funnel = _crowded_funnel()
    root = ET.fromstring(charts.funnel_chart(funnel, 0.90, axis_label="n_use"))
    _assert_readable(root)
    boxes = _assert_no_overlap(root)
    outside = [p for p in funnel["points"] if funnel_position(funnel, p)[0] != "inside"]
    assert len(outside) >= 35
    texts = [t for t, _b in boxes]
    also = next((t for t in texts if t.startswith("Cũng nằm ngoài giới hạn: ")), "")
    for p in outside:
        assert short_name(p["name"]) in texts or short_name(p["name"]) in also
    assert sum(short_name(p["name"]) in texts for p in outside) >= 25
    # no name covers a point
    points = [_corners(m) for m in root.iter(f"{NS}polygon") if m.get("data-status")]
    point_boxes = [
        Box(min(x for x, _ in c), min(y for _, y in c), max(x for x, _ in c), max(y for _, y in c))
        for c in points
    ]
    labels = [b for t, b in boxes if t in {short_name(p["name"]) for p in outside}]
    assert labels
    for label in labels:
        assert not any(label.overlaps(p) for p in point_boxes)


def test_funnel_legend_shapes_limits_and_text_alternative(vi):
    funnel = _crowded_funnel()
    root = ET.fromstring(charts.funnel_chart(funnel, 0.90, axis_label="n_use"))
    legend = [_content(t) for t in root.find(f"{NS}g[@class='legend']").iter(f"{NS}text")]
    assert "Mục tiêu 90\u00a0%" in legend
    assert any(t.startswith("Giới hạn kiểm soát 95\u00a0%") for t in legend)
    assert "Giới hạn kiểm soát 99,8\u00a0%" in legend
    assert any(t.startswith("Dưới giới hạn") for t in legend)
    dashes = {p.get("stroke-dasharray") for p in root.iter(f"{NS}polyline")}
    assert dashes == {"7,4", "2,3"}
    desc = root.find(f"{NS}desc").text
    below = [p for p in funnel["points"] if funnel_position(funnel, p)[0] == "below"]
    assert desc.startswith("Ngoài phễu:") and all(p["name"] in desc for p in below)
    # the grid's ticks in Vietnamese numbers, the x axis a log scale
    assert {"10", "100"} <= {t[0] for t in _texts(root)}


def test_trend_names_the_periods_as_people_say_them(vi):
    periods = ["2021-12"] + [f"2022-{m:02d}" for m in range(1, 12)]
    points = [
        {
            "period": p,
            "index": 0.9 + 0.005 * k if k != 3 else None,
            "ci_low": 0.86 + 0.005 * k if k != 3 else None,
            "ci_high": 0.97,
            "verdict": "inconclusive" if k != 3 else None,
            "flags": ["low_reliability_n"] if k == 5 else [],
            "n": 40,
        }
        for k, p in enumerate(periods)
    ]
    root = ET.fromstring(charts.trend_chart(points, 0.90))
    _assert_readable(root)
    _assert_no_overlap(root)
    texts = [t[0] for t in _texts(root)]
    tooltips = [t.text for t in root.iter(f"{NS}title")]
    assert "Tháng 11/2022" in tooltips and "Tháng 12/2021" in tooltips
    labels = [t for t in texts if re.fullmatch(r"(T|Tháng )\d{1,2}(/\d{4})?", t)]
    assert len(labels) == 12
    assert texts.count("2021") == 1 and texts.count("2022") == 1  # the year where it starts
    assert "Mục tiêu" in texts and "Mục tiêu 90\u00a0%" in texts  # line label and legend
    desc = root.find(f"{NS}desc").text
    assert desc.startswith("Từ Tháng 12/2021 đến Tháng 11/2022")
    quarters = [dict(points[0], period=f"2022-Q{q}") for q in range(1, 5)]
    qroot = ET.fromstring(charts.trend_chart(quarters, 0.90))
    assert {"Quý I/2022", "Quý IV/2022"} <= {t[0] for t in _texts(qroot)}
