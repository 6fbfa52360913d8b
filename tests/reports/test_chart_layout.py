"""What the charts share: the axis rule, tick labels, names, and labels that never overlap."""

from __future__ import annotations

import itertools
import random

import pytest

from survey_app.reports.charts import layout as L
from survey_app.reports.charts import placement as P


@pytest.mark.parametrize(
    ("values", "low", "step"),
    [
        ([0.395, 0.8, 0.97], 0.3, 0.1),  # a wide interval: the axis goes down to it
        ([0.86, 0.93], 0.825, 0.025),  # all close to the target: a focused axis
        ([0.91, 0.99], 0.88, 0.02),  # all above: the target is still on the axis
        ([0.02], 0.0, 0.1),
    ],
)
def test_the_axis_runs_from_a_little_below_the_lowest_value_and_the_target_to_100(
    values, low, step
):
    lo, hi, s = L.share_axis(values, 0.90)
    assert (lo, hi, s) == (pytest.approx(low), 1.0, step)
    assert lo <= min(values + [0.90]) and hi == 1.0
    ticks = L.ticks(lo, hi, s)
    assert ticks[0] == pytest.approx(lo) and ticks[-1] == pytest.approx(1.0)
    assert 0.9 in [round(t, 6) for t in ticks] and len(ticks) <= 11
    # never the old fixed 10–100 % axis when the data are close to the target
    assert L.share_axis([0.85], 0.9)[0] > 0.8
    # a lower bound of 0 is a lower bound (not "missing")
    assert L.share_axis(L.bounds([{"ci_low": 0.0, "index": 0.3}]), 0.9)[0] == 0.0


def test_ticks_are_written_as_people_write_percentages():
    assert L.share_text(0.872) == "87,2\u00a0%"
    assert L.share_text(0.85, None) == "85\u00a0%" and L.share_text(0.875, None) == "87,5\u00a0%"
    assert L.share_text(0.872, lang="en") == "87.2%"
    assert L.count_text(1000) == "1.000" and L.count_text(1000, "en") == "1,000"
    assert L.log_ticks(5, 400) == [5, 10, 20, 50, 100, 200]


def test_crowded_tick_labels_are_thinned_keeping_the_targets():
    labels = [(k * 20.0, f"{80 + k} %") for k in range(21)]

    def width(text):
        return L.text_width(text, 13)

    kept = L.thin(labels, width, 4, keep=10)
    assert (200.0, "90 %") in kept and len(kept) < len(labels)
    spans = [(x - width(t) / 2, x + width(t) / 2) for x, t in kept]
    assert all(b[0] >= a[1] + 4 for a, b in itertools.pairwise(spans))


def test_names_wrap_on_two_balanced_lines_or_are_cut():
    def measure(text):
        return L.text_width(text, 14)

    lines = L.wrap("Sở Nông nghiệp và Phát triển nông thôn", 180, measure)
    assert len(lines) == 2 and all(measure(line) <= 180 for line in lines)
    assert " ".join(lines) == "Sở Nông nghiệp và Phát triển nông thôn"
    assert L.wrap("Sở Y tế", 180, measure) == ["Sở Y tế"]
    cut = L.wrap("Trungtâmkhôngcódấucách" * 3, 100, measure)
    assert cut[-1].endswith("…") and all(measure(line) <= 100 for line in cut)


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("UBND huyện Thanh Hà", "H. Thanh Hà"),
        ("UBND thành phố Chí Linh", "TP. Chí Linh"),
        ("UBND thị xã Kinh Môn", "TX. Kinh Môn"),
        ("UBND xã Nam Hồng", "X. Nam Hồng"),
        ("Sở Lao động - Thương binh và Xã hội", "Sở LĐ-TB&XH"),
        ("Sở Tài nguyên và Môi trường", "Sở TN&MT"),
        ("Sở Y tế", "Sở Y tế"),
        ("Ban Quản lý các khu công nghiệp tỉnh", "BQL các KCN"),
    ],
)
def test_short_names_use_the_administrative_abbreviations(name, short):
    assert L.short_name(name) == short


def test_text_widths_follow_the_font():
    assert L.text_width("WWW", 10) > L.text_width("iii", 10) > 0
    assert L.text_width("Mục tiêu", 20) == pytest.approx(2 * L.text_width("Mục tiêu", 10))
    assert L.text_width("Mục tiêu", 10, bold=True) > L.text_width("Mục tiêu", 10)


def test_forty_crowded_labels_never_overlap_each_other_or_a_marker():
    rng = random.Random(16)
    points = [
        (300 + rng.gauss(0, 30), 200 + rng.gauss(0, 25), f"Cơ quan số {k}") for k in range(40)
    ]
    markers = [P.Box(x - 6, y - 6, x + 6, y + 6) for x, y, _t in points]
    area = P.Box(0, 0, 800, 420)
    placed, left_out = P.place_labels(points, lambda t: L.text_width(t, 13), 16, area, markers, 6)
    assert len(placed) + len(left_out) == 40 and len(placed) >= 30
    for a, b in itertools.combinations(placed, 2):
        assert not a.box.overlaps(b.box), (a.text, b.text)
    for label in placed:
        assert label.box.inside(area)
        assert not any(label.box.overlaps(m) for m in markers)
    # a label that is not level with its point is drawn with a line to it
    assert any(label.leader for label in placed)


def _funnel(points):
    grid = [5.0, 10.0, 50.0, 100.0, 500.0]
    return {
        "size": "n_use",
        "n_use": grid,
        "points": points,
        "limits": {
            "0.95": {"lower": [0.64, 0.71, 0.82, 0.84, 0.87], "upper": [1, 1, 0.98, 0.96, 0.93]},
            "0.998": {"lower": [0.52, 0.62, 0.78, 0.81, 0.86], "upper": [1, 1, 1, 0.99, 0.94]},
        },
    }


def test_funnel_positions_read_the_limits_at_the_points_size():
    funnel = _funnel([])
    assert L.funnel_position(funnel, {"n_use": 100, "index": 0.80}) == ("below", "0.998")
    assert L.funnel_position(funnel, {"n_use": 100, "index": 0.83}) == ("below", "0.95")
    assert L.funnel_position(funnel, {"n_use": 100, "index": 0.90}) == ("inside", None)
    assert L.funnel_position(funnel, {"n_use": 100, "index": 0.97}) == ("above", "0.95")
    # between two grid sizes the limit is interpolated on the log scale
    assert L.funnel_position(funnel, {"n_use": 7, "index": 0.66}) == ("below", "0.95")
    assert L.funnel_position(funnel, {"n_use": 5, "index": 1.0}) == ("inside", None)
