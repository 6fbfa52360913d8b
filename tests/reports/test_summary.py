"""The report in sentences (reports/summary.py), on crafted report dicts and on a computed
report: the headline with its interval and verdict, the agencies below by name, the counts,
the clearest changes, the explanation, feedback handling and what the figures rest on."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.reports import services
from survey_app.reports.periods import Period
from survey_app.reports.summary import summary_sentences
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import respond

NB = "\u00a0"


def block(index, low, high, verdict, n=100, flags=(), change=None, n_use=None, df=None):
    return {
        "n": n,
        "n_eff": n_use or n,
        "n_use": n_use or n,
        "df": df or n - 1,
        "index": index,
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict,
        "flags": list(flags),
        "change": change,
    }


def change(difference, significant, previous=0.85):
    return {
        "previous": previous,
        "difference": difference,
        "se": 0.02,
        "p_value": 0.01 if significant else 0.5,
        "significant": significant,
    }


def row(name, q0, composite=None, code=None):
    composite = composite or block(0.85, 0.80, 0.89, "below_target", n=40)
    return {
        "agency_id": abs(hash(name)) % 10**6,
        "code": code or name[:6],
        "name": name,
        "path": f"/1/{name}/",
        **composite,
        "q0": q0,
        "elements": {},
        "items": {},
    }


def report(rows, province_q0=None, **extra):
    province = block(0.872, 0.858, 0.885, "below_target", n=805) | {
        "q0": province_q0 or block(0.929, 0.918, 0.939, "above_target", n=2326),
        "elements": {
            "A": block(0.81, 0.79, 0.83, "below_target", n=805),
            "B": block(0.93, 0.91, 0.95, "above_target", n=805),
        },
        "items": {},
    }
    out = {
        "period": "2022-03",
        "kind": "month",
        "window": {"first_day": "2022-02-15", "last_day": "2022-03-14"},
        "target": 0.9,
        "headline_indicator": "q0",
        "min_n": 10,
        "questionnaire": "sipas-2023.1",
        "empty": False,
        "n_responses": 2326,
        "weighting": {"used": True, "method": "poststratify"},
        "coverage": {"responses": 2326, "dossiers": 52000},
        "province": province,
        "agencies": rows,
        "agencies_without_responses": [],
        "change_basis": {"period": "2022-02", "published_snapshot": None},
    }
    return out | extra


@pytest.fixture
def vi(app):
    with app.test_request_context("/"), force_locale("vi"):
        yield


def test_the_headline_with_its_interval_verdict_and_change_in_words(vi):
    province_q0 = block(
        0.929, 0.918, 0.939, "above_target", n=2326, change=change(0.0022, False, 0.927)
    )
    rows = [row("Sở A", block(0.95, 0.91, 0.98, "above_target"))]
    first = summary_sentences(report(rows, province_q0))[0]
    assert first == (
        f"Tỷ lệ người dân, tổ chức hài lòng chung toàn tỉnh là 92,9{NB}% (khoảng tin cậy "
        f"95{NB}%: 91,8–93,9{NB}%): đạt mục tiêu 90{NB}%, vì cả khoảng tin cậy nằm trên mục "
        "tiêu. So với tháng 2/2022, tăng 0,2 điểm phần trăm, chưa rõ rệt (trong phạm vi ngẫu "
        "nhiên)."
    )
    assert "92.9" not in first and "." not in first.split("%")[0].replace("92,9", "")


def test_none_below_target_names_the_lowest(vi):
    rows = [
        row("Sở A", block(0.95, 0.91, 0.98, "above_target")),
        row("Sở B", block(0.88, 0.80, 0.93, "inconclusive")),
        row("Sở C", block(0.91, 0.85, 0.95, "inconclusive")),
        row("Sở D", block(0.60, 0.20, 0.90, "insufficient_data", n=5)),
    ]
    lines = summary_sentences(report(rows))
    assert lines[1] == (
        "Không có cơ quan nào dưới mục tiêu một cách rõ ràng; thấp nhất: Sở B (88,0\u00a0%); "
        "Sở C (91,0\u00a0%); Sở A (95,0\u00a0%)."
    )
    assert lines[2].startswith(
        "Trong 4 cơ quan có phiếu: 1 cơ quan đạt mục tiêu; 2 cơ quan chưa kết luận được "
        f"(khoảng tin cậy chứa 90{NB}%); 1 cơ quan chưa đủ dữ liệu (dưới 10 người trả lời"
    )


def test_several_below_target_are_named_the_clearest_first(vi):
    rows = [
        row("UBND huyện Thanh Hà", block(0.792, 0.725, 0.849, "below_target", n=178)),
        row("Sở Giao thông vận tải", block(0.836, 0.765, 0.890, "below_target", n=39)),
        row("Sở Xây dựng", block(0.70, 0.55, 0.82, "below_target", n=30)),
        row("Sở Tư pháp", block(0.97, 0.93, 0.99, "above_target")),
    ]
    lines = summary_sentences(report(rows))
    assert lines[1] == (
        f"3 cơ quan dưới mục tiêu: Sở Xây dựng (70,0{NB}%); UBND huyện Thanh Hà (79,2{NB}%); "
        f"Sở Giao thông vận tải (83,6{NB}%)."
    )
    assert "Trong 4 cơ quan có phiếu: 1 cơ quan đạt mục tiêu; 0 cơ quan chưa kết luận" in lines[2]


def test_the_clearest_improvement_and_decline_since_the_previous_period(vi):
    rows = [
        row("Sở A", block(0.95, 0.91, 0.98, "above_target", change=change(0.081, True, 0.869))),
        row("Sở B", block(0.93, 0.90, 0.96, "inconclusive", change=change(0.05, True))),
        row("Sở C", block(0.80, 0.75, 0.85, "below_target", change=change(-0.063, True, 0.863))),
        row("Sở D", block(0.90, 0.85, 0.95, "inconclusive", change=change(-0.20, False))),
    ]
    text = " ".join(summary_sentences(report(rows)))
    assert (
        f"Cải thiện rõ nhất so với tháng 2/2022: Sở A, tăng 8,1 điểm phần trăm (từ 86,9{NB}% lên "
        f"95,0{NB}%). Ngoài ra 1 cơ quan khác cũng cải thiện rõ rệt." in text
    )
    # the larger change of Sở D is within chance: Sở C is the clearest decline
    assert (
        f"Giảm rõ nhất so với tháng 2/2022: Sở C, giảm 6,3 điểm phần trăm (từ 86,3{NB}% xuống "
        f"80,0{NB}%)." in text
    )
    assert "Sở D, giảm" not in text


def test_no_clear_change_and_no_previous_figures(vi):
    steady = [row("Sở A", block(0.95, 0.91, 0.98, "above_target", change=change(0.01, False)))]
    assert (
        "Không cơ quan nào thay đổi rõ rệt so với tháng 2/2022 (lớn hơn mức ngẫu nhiên có thể "
        "tạo ra)." in summary_sentences(report(steady))
    )
    new = [row("Sở A", block(0.95, 0.91, 0.98, "above_target"))]
    quarter = report(new, period="2022-Q1", change_basis=None)
    assert "Không có số liệu quý IV/2021 để so sánh." in summary_sentences(quarter)


def test_an_empty_period_says_so_with_its_dossiers_and_feedback(vi):
    empty = report([], empty=True, province=None, n_responses=0)
    empty["coverage"] = {"responses": 0, "dossiers": 1234}
    empty["kpis"] = {
        "as_of": "2022-03-20",
        "answer_days": 15,
        "small_count": 10,
        "province": {
            "feedback": {
                "received": 7,
                "answered": 5,
                "on_time": 4,
                "median_days": 11.0,
                "overdue": 3,
                "reopened": 1,
                "transferred_away": 1,
                "misrouting_days": 3,
            },
            "one_stop": {"one_trip": {"n": 0, "x": 0, "share": None}},
        },
        "agencies": [],
    }
    assert summary_sentences(empty) == [
        "Không người dân nào trả lời khảo sát từ 15/02/2022 đến 14/03/2022, nên tháng 3/2022 "
        "không có số liệu về sự hài lòng.",
        "Hệ thống một cửa ghi nhận 1.234 hồ sơ đã giải quyết trong kỳ, nhưng không có phiếu "
        "khảo sát nào.",
        "Phản ánh, kiến nghị: trong kỳ tiếp nhận 7, trả lời 5, trong đó 4 trả lời đúng hạn 15 "
        "ngày làm việc (một nửa được trả lời trong vòng 11 ngày làm việc); 3 ca quá hạn tại ngày "
        "20/03/2022.",
    ]


def test_agencies_without_responses_reliability_and_what_the_figures_rest_on(vi):
    shaky = block(0.94, 0.70, 0.99, "inconclusive", n=17, flags=["low_reliability_n"], n_use=17)
    rows = [row("Sở A", shaky), row("Sở B", block(0.95, 0.91, 0.98, "above_target"))]
    few = [{"name": f"UBND xã {k}", "dossiers": 100, "counters": 0} for k in range(3)]
    lines = summary_sentences(
        report(rows, agencies_without_responses=few, weighting={"used": False})
    )
    text = " ".join(lines)
    assert (
        "1 kết quả có độ tin cậy thấp (ít phiếu hiệu dụng hoặc khoảng tin cậy rộng), lý do ghi "
        "trong bảng." in text
    )
    assert (
        "3 cơ quan có hồ sơ hoặc có quầy khảo sát nhưng không có phiếu nào: UBND xã 0; UBND xã "
        "1; UBND xã 2." in text
    )
    assert lines[-1] == (
        "Số liệu dựa trên 2.326 phiếu trả lời từ ngày 15/02/2022 đến ngày 14/03/2022 (trong đó "
        "805 người trả lời thêm bộ câu hỏi 5 yếu tố). Kết quả chưa được gia quyền: chưa có số "
        "hồ sơ của kỳ này."
    )
    many = [{"name": f"UBND xã {k}", "dossiers": 100, "counters": 0} for k in range(9)]
    text = " ".join(summary_sentences(report(rows, agencies_without_responses=many)))
    assert "9 cơ quan có hồ sơ hoặc có quầy khảo sát nhưng không có phiếu nào, được liệt kê" in text
    assert "UBND xã 8" not in text
    assert "được gia quyền theo 52.000 hồ sơ" in text


def test_the_composite_headline_and_the_explanation(vi):
    rows = [row("Sở A", block(0.95, 0.91, 0.98, "above_target"))]
    lines = summary_sentences(report(rows, headline_indicator="composite"))
    assert lines[0].startswith(
        f"Chỉ số hài lòng SIPAS (5 yếu tố) toàn tỉnh là 87,2{NB}% (khoảng tin cậy 95{NB}%: "
        f"85,8–88,5{NB}%): dưới mục tiêu 90{NB}%"
    )
    # the composite of the only agency is below: it is named, by its composite
    assert lines[1] == f"1 cơ quan dưới mục tiêu: Sở A (85,0{NB}%)."
    explanation = next(line for line in lines if "giải thích" in line)
    assert explanation.startswith(
        f"Tỷ lệ người dân, tổ chức hài lòng chung, dùng để giải thích nguyên nhân (không kết "
        f"luận riêng), là 92,9{NB}% (khoảng tin cậy 95{NB}%: 91,8–93,9{NB}%), tính trên 2.326 "
        "người trả lời. Yếu nhất: Tiếp cận dịch vụ (81,0"
    )


def test_a_scope_without_agencies(vi):
    assert "Không cơ quan nào trong báo cáo này có quầy khảo sát hoặc có hồ sơ trong kỳ." in (
        summary_sentences(report([]))
    )


def test_the_same_sentences_in_english(app):
    rows = [row("Sở A", block(0.80, 0.72, 0.86, "below_target"))]
    with app.test_request_context("/?lang=en"), force_locale("en"):
        lines = summary_sentences(report(rows))
    assert lines[0].startswith(
        "The share of people and organisations satisfied overall across the province is 92.9% "
        "(95% interval 91.8–93.9%): above the 90% target"
    )
    assert lines[1] == "1 agency is below the target: Sở A (80.0%)."


def test_a_computed_report_in_sentences(app_ctx):
    """On a report computed from responses (SQLite and PostgreSQL alike)."""
    good = factories.counter(factories.agency("Sở Tốt"))
    bad = factories.counter(factories.agency("Sở Kém"))
    for k in range(80):
        respond(good, 5 if k else 3)
        respond(bad, 5 if k % 2 else 2)
    db.session.commit()
    computed = services.compute_report(Period.parse("2022-03"))
    with force_locale("vi"):
        lines = summary_sentences(computed)
    assert lines[1].startswith("1 cơ quan dưới mục tiêu: Sở Kém (50,0\u00a0%)")
    assert lines[2].startswith("Trong 2 cơ quan có phiếu: 1 cơ quan đạt mục tiêu;")
    assert "Không có số liệu tháng 2/2022 để so sánh." in lines
    assert lines[-1].startswith("Số liệu dựa trên 160 phiếu trả lời từ ngày 15/02/2022")


def test_the_report_page_opens_with_the_summary(app):
    with app.app_context():
        counter = factories.counter(factories.agency("Sở Kém"))
        for k in range(40):
            respond(counter, 5 if k % 2 else 2)
        email = factories.user(Role.coordinator).email
        db.session.commit()
    client = logged_in(app, email)
    html = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    section = html[html.index('id="summary"') :].split("</section>")[0]
    assert "<h2>Tóm tắt</h2>" in section
    assert "<li>1 cơ quan dưới mục tiêu: Sở Kém (50,0\u00a0%).</li>" in section
    assert "Số liệu dựa trên 40 phiếu trả lời" in section
    assert section.index("Tỷ lệ người dân") < section.index("1 cơ quan dưới mục tiêu")
    english = client.get("/staff/reports/?period=2022-03&lang=en").get_data(as_text=True)
    section = english[english.index('id="summary"') :].split("</section>")[0]
    assert "<h2>In brief</h2>" in section and "1 agency is below the target: Sở Kém (50.0%)." in (
        section
    )
