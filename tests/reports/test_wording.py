"""How reports read: periods as people say them, shares, reliability and the weakest element.

Pure functions of a report dict and the language; no database.
"""

from __future__ import annotations

import pytest

from survey_app.reports import presentation, wording
from survey_app.reports.periods import Period

NBSP = "\u00a0"


@pytest.fixture
def vi(app):
    with app.test_request_context("/?lang=vi"):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context("/?lang=en"):
        yield


@pytest.mark.parametrize(
    "label, name, title",
    [
        ("2022-11", "Tháng 11/2022", "Tháng 11/2022 (15/10–14/11/2022)"),
        ("2022-01", "Tháng 1/2022", "Tháng 1/2022 (15/12/2021–14/01/2022)"),
        ("2022-Q1", "Quý I/2022", "Quý I/2022 (15/12/2021–14/03/2022)"),
        ("2022-Q4", "Quý IV/2022", "Quý IV/2022 (15/09–14/12/2022)"),
        ("2022-H1", "6 tháng đầu năm 2022", "6 tháng đầu năm 2022 (15/12/2021–14/06/2022)"),
        ("2022-H2", "6 tháng cuối năm 2022", "6 tháng cuối năm 2022 (15/06–14/12/2022)"),
        ("2022", "Năm 2022", "Năm 2022 (15/12/2021–14/12/2022)"),
    ],
)
def test_periods_in_vietnamese(vi, label, name, title):
    period = Period.parse(label)
    assert wording.period_name(period) == name
    assert wording.period_title(period) == title


@pytest.mark.parametrize(
    "label, name, title",
    [
        ("2022-11", "November 2022", "November 2022 (15 Oct – 14 Nov 2022)"),
        ("2022-Q1", "Q1 2022", "Q1 2022 (15 Dec 2021 – 14 Mar 2022)"),
        ("2022-H1", "First half of 2022", "First half of 2022 (15 Dec 2021 – 14 Jun 2022)"),
        ("2022-H2", "Second half of 2022", "Second half of 2022 (15 Jun – 14 Dec 2022)"),
        ("2022", "Year 2022", "Year 2022 (15 Dec 2021 – 14 Dec 2022)"),
    ],
)
def test_periods_in_english(en, label, name, title):
    period = Period.parse(label)
    assert wording.period_name(period) == name
    assert wording.period_title(period) == title


def test_calendar_months_need_no_days(vi):
    """With REPORT_CALENDAR_MONTHS the name says it all."""
    assert wording.period_title(Period.parse("2022-11"), calendar=True) == "Tháng 11/2022"
    assert wording.period_title(Period.parse("2022-Q1"), calendar=True) == "Quý I/2022"


def test_shares_as_each_language_writes_them(vi):
    assert wording.share(0.8723) == f"87,2{NBSP}%"
    assert wording.share(0.9, 0) == f"90{NBSP}%"
    assert wording.share(None) == "—"
    assert wording.share_range(0.822, 0.994) == f"82,2–99,4{NBSP}%"
    assert wording.points(0.023) == "+2,3"
    assert wording.points(-0.0004) == "0,0"  # never "-0,0"
    assert wording.points(-0.017) == "-1,7"


def test_shares_in_english(en):
    assert wording.share(0.8723) == "87.2%"
    assert wording.share_range(0.822, 0.994) == "82.2–99.4%"


def _block(index, low, high, n=50, verdict="inconclusive", **extra):
    return {
        "n": n,
        "index": index,
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict,
        "flags": [],
        "n_use": n,
        "df": n - 1,
    } | extra


def _row(elements: dict, items: dict, n=60) -> dict:
    return {"n": n, "elements": elements, "items": items}


REPORT = {"questionnaire": "sipas-2023.1", "min_n": 10, "headline_indicator": "q0"}


def test_the_weakest_element_is_named_when_its_interval_lies_below_the_best(vi):
    row = _row(
        {
            "A": _block(0.78, 0.70, 0.85),
            "B": _block(0.95, 0.90, 0.98),
            "C": _block(0.93, 0.88, 0.97),
        },
        {
            "A1": _block(0.90, 0.8, 0.95),
            "A2": _block(0.64, 0.5, 0.75),
            "A3": _block(0.80, 0.7, 0.9),
            "A4": _block(0.20, 0.0, 0.7, n=4, verdict="insufficient_data"),  # too few: not named
        },
    )
    assert presentation.weakest_element(REPORT, row) == (
        f"Yếu nhất: Tiếp cận dịch vụ (78,0{NBSP}%), chủ yếu do “đủ chỗ ngồi chờ, bàn viết” "
        f"(64,0{NBSP}%)."
    )


def test_the_weakest_element_in_english(en):
    row = _row(
        {"A": _block(0.78, 0.70, 0.85), "D": _block(0.97, 0.92, 0.99)},
        {"A2": _block(0.64, 0.5, 0.75)},
    )
    assert presentation.weakest_element(REPORT, row) == (
        "Weakest: Access to the service (78.0%), mainly because of “enough seats and desks "
        "while waiting” (64.0%)."
    )


def test_elements_whose_intervals_overlap_do_not_differ_clearly(vi):
    row = _row(
        {
            "A": _block(0.86, 0.78, 0.92),
            "B": _block(0.93, 0.86, 0.97),
            "E": _block(0.50, 0.10, 0.90, n=5, verdict="insufficient_data"),  # not compared
        },
        {"A2": _block(0.64, 0.5, 0.75)},
    )
    sentence = presentation.weakest_element(REPORT, row)
    assert sentence.startswith("Các yếu tố không khác nhau rõ rệt")
    assert f"Tiếp cận dịch vụ (86,0{NBSP}%)" in sentence
    assert f"Thủ tục hành chính (93,0{NBSP}%)" in sentence
    assert "Yếu nhất" not in sentence and "Tiếp nhận, xử lý góp ý" not in sentence


def test_too_few_answers_to_compare_the_elements(vi):
    row = _row(
        {"A": _block(0.5, 0.1, 0.9, n=3, verdict="insufficient_data"), "B": _block(0.9, 0.6, 1)},
        {},
        n=3,
    )
    assert presentation.weakest_element(REPORT, row) == (
        "Quá ít người trả lời bộ câu hỏi (3 người) để so sánh các yếu tố."
    )


def test_low_reliability_reasons_in_words(vi):
    b = _block(0.95, 0.62, 0.99, n=6, verdict="insufficient_data")
    b["n_use"], b["df"] = 5.6, 5
    b["flags"] = ["small_n", "low_reliability_n", "low_reliability_df", "low_reliability_width"]
    assert presentation.reliability_notes(b) == [
        "chỉ 5,6 phiếu hiệu dụng",
        "chỉ 5 bậc tự do",
        "khoảng tin cậy rộng 37 điểm",
    ]
    assert (
        presentation.insufficient_reason(b, 10) == "6 người trả lời, chưa đủ 10 người để kết luận"
    )
    assert presentation.reliability_notes(_block(0.9, 0.85, 0.94)) == []
    # a report published before n_use was kept still says why
    old = {"index": 0.9, "ci_low": 0.8, "ci_high": 0.95, "flags": ["low_reliability_n"]}
    assert presentation.reliability_notes(old) == ["dưới 30 phiếu hiệu dụng"]


def test_no_interval_is_the_other_reason_for_no_verdict(vi):
    b = _block(1.0, None, None, n=12, verdict="insufficient_data", flags=["low_df"])
    assert presentation.insufficient_reason(b, 10) == "không tính được khoảng tin cậy"
    assert presentation.insufficient_reason(_block(0.9, 0.8, 0.95), 10) is None


def test_names_come_from_the_questionnaire_file(vi):
    assert presentation.element_name(REPORT, "C") == "Công chức tiếp nhận, giải quyết"
    assert presentation.item_name(REPORT, "D3") == (
        "Nhận kết quả đúng hẹn (trễ hẹn thì có thư xin lỗi)"
    )
    # a report of a version whose file is gone still gets names (the default file's)
    assert presentation.element_name({"questionnaire": "sipas-1999"}, "A") == "Tiếp cận dịch vụ"


def test_headline_of_reports_old_and_new():
    assert presentation.headline_of({"headline_indicator": "q0"}) == "q0"
    assert presentation.headline_of({"headline_indicator": "composite"}) == "composite"
    # published before the setting existed: they led with the composite
    assert presentation.headline_of({"headline": "Q0"}) == "composite"
    row = {"index": 0.8, "q0": {"index": 0.9}}
    assert presentation.block_of(row, "q0") == {"index": 0.9}
    assert presentation.block_of(row, "composite") is row
    assert presentation.block_of({"index": 0.8}, "q0") == {}
