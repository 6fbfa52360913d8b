"""The leaders' report pages: one headline, reliability in words, names, periods, publishing.

Issue 16, points 2 (presentation), 3, 5 and 9, and its bad inputs.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.agencies.models import DossierVolume
from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.reports import presentation, services
from survey_app.reports.models import ReportSnapshot
from survey_app.reports.periods import Period
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")
IN_FEBRUARY = datetime(2022, 2, 1, 9, tzinfo=VN)
NBSP = "\u00a0"
ITEMS = ("A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "C5", "C6")
ITEMS += ("D1", "D2", "D3", "E1", "E2", "E3", "E4")


@pytest.fixture
def setting(app):
    """Change a setting for one test (the report cache is keyed by it)."""
    saved = {}

    def change(name, value):
        saved.setdefault(name, app.config.get(name))
        app.config[name] = value

    yield change
    app.config.update(saved)


def _section(html: str, marker: str) -> str:
    start = html.index(marker)
    return html[start : html.index("</section>", start)]


def _table(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]


def _happy_but_unhappy_with_the_details(when=None, n=60):
    """Everyone taps "very satisfied"; the questionnaire says otherwise (issue 16's
    two headline figures with opposite verdicts)."""
    agency = factories.agency("Sở Tư pháp")
    counter = factories.counter(agency, "Quầy Hộ tịch")
    for i in range(n):
        value = 4 if i % 4 == 0 else 2
        respond(counter, 5, dict.fromkeys(ITEMS, value), when)
    return agency


def _admin(app) -> str:
    with app.app_context():
        email = factories.user(Role.admin).email
        db.session.commit()
    return email


def _as_published_before_december_2026(report: dict) -> dict:
    """A report as the previous version of the service froze it: no headline setting,
    no n_use, df or deff, no change of Q0, counters without Q0, no silent agencies."""

    def old(b):
        return {k: v for k, v in b.items() if k not in ("n_use", "df", "deff")}

    results = {
        k: v
        for k, v in report.items()
        if k not in ("headline_indicator", "min_n", "questionnaire", "agencies_without_responses")
    }
    results["province"] = old(report["province"]) | {
        "q0": {k: v for k, v in old(report["province"]["q0"]).items() if k != "change"},
        "elements": {e: old(b) for e, b in report["province"]["elements"].items()},
        "items": {i: old(b) for i, b in report["province"]["items"].items()},
    }
    results["agencies"] = [
        old(r)
        | {
            "q0": {k: v for k, v in old(r["q0"]).items() if k != "change"},
            "elements": {e: old(b) for e, b in r["elements"].items()},
            "items": {i: old(b) for i, b in r["items"].items()},
            "counters": [{k: v for k, v in old(c).items() if k != "q0"} for c in r["counters"]],
        }
        for r in report["agencies"]
    ]
    return results


# -- point 3: one headline -------------------------------------------------------------


def test_the_share_satisfied_overall_carries_the_only_verdict_by_default(app):
    with app.app_context():
        _happy_but_unhappy_with_the_details()
        db.session.commit()
        report = services.compute_report(MARCH)
    assert report["headline_indicator"] == "q0" and report["headline"] == "Q0"
    province = report["province"]
    assert (province["q0"]["verdict"], province["verdict"]) == ("above_target", "below_target")
    client = logged_in(app, _admin(app))
    html = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    overview = _section(html, 'id="overview"')
    assert overview.count('class="verdict ') == 1
    assert "Tỷ lệ hài lòng chung:" in overview and "Đạt mục tiêu" in overview
    assert "Dưới mục tiêu" not in overview
    # the composite is there, as the explanation, without a verdict
    explanation = overview[overview.index('class="is-explanation"') :]
    assert "Chỉ số SIPAS (5 yếu tố)" in explanation and "để giải thích" in explanation
    assert f"25,0{NBSP}%" in explanation
    # the agencies table: the headline's verdict, the composite as a plain figure
    table = _table(html, "agencies")
    assert "Đạt mục tiêu" in table and "Dưới mục tiêu" not in table


def test_the_composite_can_be_the_headline_and_a_snapshot_remembers_its_own(app, setting):
    with app.app_context():
        _happy_but_unhappy_with_the_details()
        db.session.commit()
    client = logged_in(app, _admin(app))
    page = client.get("/staff/reports/publish?period=2022-03").get_data(as_text=True)
    client.post("/staff/reports/publish", data={"period": "2022-03", "csrf_token": csrf_from(page)})
    with app.app_context():
        snapshot = db.session.scalars(select(ReportSnapshot)).one()
        assert snapshot.results["headline_indicator"] == "q0"
        snapshot_id = snapshot.id

    setting("REPORT_HEADLINE", "composite")
    live = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    overview = _section(live, 'id="overview"')
    assert overview.count('class="verdict ') == 1
    assert "Chỉ số SIPAS (5 yếu tố):" in overview and "Dưới mục tiêu" in overview
    assert "Đạt mục tiêu" not in overview
    # the published report still leads with what it was published with
    frozen = client.get(f"/staff/reports/snapshots/{snapshot_id}").get_data(as_text=True)
    overview = _section(frozen, 'id="overview"')
    assert "Tỷ lệ hài lòng chung:" in overview and "Đạt mục tiêu" in overview
    assert overview.count('class="verdict ') == 1


def test_a_snapshot_published_before_the_headline_setting_still_reads(app):
    """Old snapshots lack the new keys: they are read as they were shown, composite first."""
    with app.app_context():
        agency = _happy_but_unhappy_with_the_details()
        db.session.commit()
        results = _as_published_before_december_2026(services.compute_report(MARCH))
        snapshot = ReportSnapshot(
            period="2022-03",
            kind="month",
            published_at=now_utc(),
            fingerprint=results["fingerprint"],
            results=results,
        )
        db.session.add(snapshot)
        db.session.commit()
        snapshot_id, agency_id = snapshot.id, agency.id
    client = logged_in(app, _admin(app))
    reply = client.get(f"/staff/reports/snapshots/{snapshot_id}")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    overview = _section(html, 'id="overview"')
    assert "Chỉ số SIPAS (5 yếu tố):" in overview and "Dưới mục tiêu" in overview
    assert overview.count('class="verdict ') == 1
    page = client.get(f"/staff/reports/snapshots/{snapshot_id}/agencies/{agency_id}")
    assert page.status_code == 200
    assert "<td>Tiếp cận dịch vụ</td>" in page.get_data(as_text=True)


def test_every_table_says_which_respondents_it_counts_and_the_totals_add_up(app):
    with app.app_context():
        one, two = factories.agency("Sở A"), factories.agency("Sở B")
        counters = [factories.counter(one), factories.counter(one), factories.counter(two)]
        for i in range(45):
            answers = {"A1": 4, "C2": 5} if i % 3 else None  # a third tap only once
            respond(counters[i % 3], 5 if i % 5 else 2, answers)
        db.session.commit()
        report = services.compute_report(MARCH)
        one_id = one.id
    rows = report["agencies"]
    assert sum(r["q0"]["n"] for r in rows) == report["province"]["q0"]["n"] == 45
    assert sum(r["n"] for r in rows) == report["province"]["n"] == 30
    assert report["n_responses"] == 45
    client = logged_in(app, _admin(app))
    html = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    table = _table(html, "agencies")
    assert "Số người trả lời câu hỏi chung" in table and "Số người trả lời bộ câu hỏi" in table
    totals = table[table.index('id="totals"') :]
    assert re.findall(r'<td class="num">(\d+)</td>', totals) == ["45", "30"]
    page = client.get(f"/staff/reports/agencies/{one_id}?period=2022-03").get_data(as_text=True)
    counters_table = _table(page, "counters")
    assert "Số người trả lời câu hỏi chung" in counters_table
    n_one = next(r for r in rows if r["agency_id"] == one_id)["q0"]["n"]
    assert f'id="counter-totals"><th>Tổng</th><td class="num">{n_one}</td>' in counters_table


# -- point 2: reliability and verdicts -------------------------------------------------


def test_low_reliability_is_shown_with_its_reason_and_the_verdict_follows_the_interval(
    app, setting
):
    with app.app_context():
        few = factories.counter(factories.agency("Sở Ít phiếu"))
        for _ in range(12):
            respond(few, 1)  # all dissatisfied: the whole interval is below 90 %
        five = factories.counter(factories.agency("Sở Năm phiếu"))
        for _ in range(5):
            respond(five, 5)
        db.session.commit()
    client = logged_in(app, _admin(app))
    html = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    table = _table(html, "agencies")
    row = table[table.index("Sở Ít phiếu") :].split("</tr>")[0]
    assert "Dưới mục tiêu" in row  # 12 respondents: a verdict, low reliability or not
    assert "Độ tin cậy thấp</strong>: chỉ 12 phiếu hiệu dụng" in row
    row = table[table.index("Sở Năm phiếu") :].split("</tr>")[0]
    assert "Chưa đủ dữ liệu" in row and "5 người trả lời, chưa đủ 10 người để kết luận" in row
    assert "chỉ 4 bậc tự do" in row and "khoảng tin cậy rộng" in row
    # REPORT_MIN_N is the threshold
    setting("REPORT_MIN_N", 20)
    html = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    row = _table(html, "agencies")
    row = row[row.index("Sở Ít phiếu") :].split("</tr>")[0]
    assert "12 người trả lời, chưa đủ 20 người để kết luận" in row
    assert "Dưới mục tiêu" not in row


def test_flags_on_the_agency_page_and_the_technical_figures_in_the_appendix(app):
    with app.app_context():
        agency = factories.agency("Sở Nhỏ")
        counter = factories.counter(agency)
        for i in range(15):
            respond(counter, 5 if i % 3 else 3, {"A1": 5, "A2": 2 if i % 2 else 4, "B1": 5})
        db.session.commit()
        agency_id = agency.id
    client = logged_in(app, _admin(app))
    html = client.get(f"/staff/reports/agencies/{agency_id}?period=2022-03").get_data(as_text=True)
    main, appendix = html.split('id="methods"')
    assert "Độ tin cậy thấp</strong>: chỉ 15 phiếu hiệu dụng" in _table(main, "elements")
    assert "Độ tin cậy thấp" in _table(main, "items")
    for technical in ("n_eff", "n_use", "deff", "Cronbach"):
        assert technical not in main and technical in appendix
    assert "Phụ lục: phương pháp và số liệu kỹ thuật" in appendix
    assert "Hệ số thiết kế" in appendix and "Bậc tự do" in appendix


def test_the_funnel_plots_the_headline_against_n_use(app):
    with app.app_context():
        _happy_but_unhappy_with_the_details()
        db.session.commit()
        report = services.compute_report(MARCH)
    (row,) = report["agencies"]
    funnel = services.funnel(report["agencies"], indicator="q0", size="n_use")
    (point,) = funnel["points"]
    assert funnel["size"] == "n_use" and point["n_use"] == row["q0"]["n_use"] <= row["q0"]["n"]
    assert point["index"] == row["q0"]["index"]
    # the report's own funnel and the one the documents draw (the defaults) are the same
    assert report["funnel"]["indicator"] == "q0" and report["funnel"]["points"] == funnel["points"]
    with app.app_context():
        default = services.funnel(report["agencies"])
    assert default["points"] == funnel["points"] and point["name"] == row["name"]


# -- point 5: agency pages in words ----------------------------------------------------


def test_agency_pages_name_elements_and_items_and_say_which_is_weakest(app):
    with app.app_context():
        agency = factories.agency("Sở Xây dựng")
        counter = factories.counter(agency)
        for i in range(60):
            answers = dict.fromkeys(ITEMS, 5) | {"A1": 4, "A3": 4, "A4": 5 if i % 2 else 2}
            answers["A2"] = 2 if i % 4 else 4  # seats and desks: the main complaint
            respond(counter, 5, answers)
        db.session.commit()
        agency_id = agency.id
    client = logged_in(app, _admin(app))
    html = client.get(f"/staff/reports/agencies/{agency_id}?period=2022-03").get_data(as_text=True)
    main = html.split('id="methods"')[0]
    weakest = main[main.index('id="weakest"') :].split("</p>")[0]
    assert f"Yếu nhất: Tiếp cận dịch vụ (68,8{NBSP}%)" in weakest
    assert f"chủ yếu do “đủ chỗ ngồi chờ, bàn viết” (25,0{NBSP}%)" in weakest
    elements = _table(main, "elements")
    assert "<td>Tiếp cận dịch vụ</td>" in elements
    assert "<td>Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị</td>" in elements
    items = _table(main, "items")
    assert "<td>Đủ chỗ ngồi chờ, bàn viết</td>" in items
    assert "<th>Câu hỏi khảo sát</th>" in items  # not the feedback form's "question"
    for code in ("A", "E", "A1", "A2", "E4", "Q0"):
        assert f"<td>{code}</td>" not in main and f">{code}<" not in main
    english = client.get(f"/staff/reports/agencies/{agency_id}?period=2022-03&lang=en")
    text = english.get_data(as_text=True)
    assert "<td>Access to the service</td>" in text
    assert "<td>Enough seats and desks while waiting</td>" in text
    assert "Weakest: Access to the service" in text


def test_elements_that_do_not_differ_clearly_are_not_ranked(app):
    with app.app_context():
        agency = factories.agency("Sở Đều")
        counter = factories.counter(agency)
        for i in range(40):
            respond(counter, 5, dict.fromkeys(ITEMS, 5 if i % 5 else 2))
        db.session.commit()
        agency_id = agency.id
    client = logged_in(app, _admin(app))
    html = client.get(f"/staff/reports/agencies/{agency_id}?period=2022-03").get_data(as_text=True)
    weakest = html[html.index('id="weakest"') :].split("</p>")[0]
    assert "Các yếu tố không khác nhau rõ rệt" in weakest and "Yếu nhất" not in weakest


# -- point 9: opening and navigating ---------------------------------------------------


def test_the_report_opens_on_the_latest_period_with_data(app):
    email = _admin(app)
    client = logged_in(app, email)
    # nothing at all: the running month, which says it has no responses yet
    running = Period.containing("month", now_utc())
    html = client.get("/staff/reports/").get_data(as_text=True)
    assert f'<option value="{running.label}" selected>' in html
    assert "chưa có người dân nào trả lời khảo sát" in html
    with app.app_context():
        counter = factories.counter()
        respond(counter, 5, when=datetime(2022, 3, 1, 9, tzinfo=VN))
        respond(counter, 4, when=datetime(2022, 2, 20, 9, tzinfo=VN))
        db.session.commit()
    html = client.get("/staff/reports/").get_data(as_text=True)
    assert '<option value="2022-03" selected>' in html
    assert "<h1>Báo cáo sự hài lòng: Tháng 3/2022 (15/02–14/03/2022)</h1>" in html
    assert 'rel="prev">← Tháng 2/2022</a>' in html and 'rel="next">Tháng 4/2022 →</a>' in html
    quarter = client.get("/staff/reports/?kind=quarter").get_data(as_text=True)
    assert "<h1>Báo cáo sự hài lòng: Quý I/2022 (15/12/2021–14/03/2022)</h1>" in quarter
    half = client.get("/staff/reports/?kind=half").get_data(as_text=True)
    assert "6 tháng đầu năm 2022" in half
    year = client.get("/staff/reports/?kind=year&lang=en").get_data(as_text=True)
    assert "Satisfaction report: Year 2022 (15 Dec 2021 – 14 Dec 2022)" in year
    month = client.get("/staff/reports/?period=2022-03&lang=en").get_data(as_text=True)
    assert "<h1>Satisfaction report: March 2022 (15 Feb – 14 Mar 2022)</h1>" in month


def test_publishing_asks_first_and_a_get_never_publishes(app):
    with app.app_context():
        _happy_but_unhappy_with_the_details()
        handler = factories.user(Role.handler, factories.agency()).email
        db.session.commit()
    client = logged_in(app, _admin(app))
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    assert 'href="/staff/reports/publish?period=2022-03"' in page
    assert 'action="/staff/reports/publish"' not in page  # no one-click publishing
    confirm = client.get("/staff/reports/publish?period=2022-03")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Công bố báo cáo Tháng 3/2022 (15/02–14/03/2022)?" in html
    freezes = html[html.index('id="freezes"') :]
    assert "Số liệu của toàn tỉnh và của từng cơ quan" in freezes
    assert "Phiếu đến sau không làm thay đổi" in freezes
    audience = html[html.index('id="audience"') :]
    assert "Mọi tài khoản cán bộ được xem báo cáo" in audience
    assert "không hiển thị công khai" in audience
    assert '<form method="post" action="/staff/reports/publish">' in html
    with app.app_context():
        assert db.session.scalars(select(ReportSnapshot)).all() == []  # asking publishes nothing
    reply = client.post(
        "/staff/reports/publish", data={"period": "2022-03", "csrf_token": csrf_from(html)}
    )
    assert reply.status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(ReportSnapshot)).all()) == 1
    again = client.get("/staff/reports/publish?period=2022-03").get_data(as_text=True)
    assert 'id="unchanged"' in again
    # who may not publish is not asked either; a period not begun is a 400 in words
    assert logged_in(app, handler).get("/staff/reports/publish?period=2022-03").status_code == 403
    future = client.get("/staff/reports/publish?period=2100-12")
    assert future.status_code == 400 and "chưa bắt đầu" in future.get_data(as_text=True)
    empty = client.get("/staff/reports/publish?period=2019-03").get_data(as_text=True)
    assert 'id="nothing"' in empty and 'action="/staff/reports/publish"' not in empty


# -- bad input ---------------------------------------------------------------------------


def test_agencies_without_responses_are_listed_never_dropped(app):
    with app.app_context():
        answered = factories.counter(factories.agency("Sở Có phiếu"))
        for _ in range(12):
            respond(answered, 5)
        quiet = factories.agency("Sở Im lặng")  # dossiers, no counter
        db.session.add(
            DossierVolume(
                agency=quiet, field=factories.field(), month=date(2022, 3, 1), dossiers=77
            )
        )
        waiting = factories.agency("Sở Có quầy")
        factories.counter(waiting)  # a counter nobody used
        factories.agency("Sở Không liên quan")  # no counter, no dossiers: nothing to report
        db.session.commit()
        report = services.compute_report(MARCH)
        quiet_id = quiet.id
    listed = {r["name"]: r for r in report["agencies_without_responses"]}
    assert set(listed) == {"Sở Im lặng", "Sở Có quầy"}
    assert (listed["Sở Im lặng"]["dossiers"], listed["Sở Im lặng"]["counters"]) == (77, 0)
    assert (listed["Sở Có quầy"]["dossiers"], listed["Sở Có quầy"]["counters"]) == (0, 1)
    client = logged_in(app, _admin(app))
    table = _table(client.get("/staff/reports/?period=2022-03").get_data(as_text=True), "agencies")
    row = table[table.index("Sở Im lặng") :].split("</tr>")[0]
    assert "Không có phiếu trong kỳ: 77 hồ sơ đã giải quyết" in row
    assert "chưa có quầy khảo sát" in row
    assert "Sở Có quầy" in table and "Sở Không liên quan" not in table
    assert "Tổng của 3 cơ quan trong bảng" in table
    page = client.get(f"/staff/reports/agencies/{quiet_id}?period=2022-03").get_data(as_text=True)
    notice = page[page.index('id="no-responses"') :].split("</p>")[0]
    assert "không người dân nào trả lời khảo sát" in notice
    assert "đã giải quyết 77 hồ sơ" in notice and "chưa có quầy khảo sát" in notice


def test_a_scope_with_no_agency_explains_why(app):
    with app.app_context():
        counter = factories.counter(factories.agency("Sở Tư pháp"))
        for _ in range(12):
            respond(counter, 5)
        home_affairs = factories.agency("Sở Nội vụ")  # owns the index, serves no counter
        scoped = factories.user(Role.viewer, home_affairs).email
        db.session.commit()
    html = logged_in(app, scoped).get("/staff/reports/?period=2022-03").get_data(as_text=True)
    note = html[html.index('id="empty-scope"') :].split("</p>")[0]
    assert "Tài khoản của bạn xem báo cáo của Sở Nội vụ và các cơ quan trực thuộc" in note
    assert "Không cơ quan nào trong số đó có quầy khảo sát hoặc có hồ sơ" in note
    assert 'id="agencies"' not in html and "Sở Tư pháp" not in html
    # an account of no agency that is not province-wide (not made by the app's own forms)
    unattached = SimpleNamespace(sees_whole_province=False, agency=None)
    with app.test_request_context("/?lang=vi"):
        report = services.compute_report(MARCH)
        note = presentation.scope_note(report, [], [], unattached)
    assert note.startswith("Tài khoản của bạn chưa gắn với cơ quan nào")


def test_a_running_period_without_data_says_so_in_words(app):
    client = logged_in(app, _admin(app))
    running = Period.containing("month", now_utc())
    html = client.get(f"/staff/reports/?period={running.label}").get_data(as_text=True)
    notice = html[html.index('id="empty-period"') :].split("</section>")[0]
    assert "chưa có người dân nào trả lời khảo sát" in notice and "kéo dài đến" in notice
    assert 'rel="next"' not in html  # the next period has not begun


# -- the change since the previous period, of the headline ------------------------------


def test_the_headlines_change_is_measured_against_the_published_previous_period(app):
    with app.app_context():
        counter = factories.counter(factories.agency())
        for i in range(40):
            respond(counter, 5 if i % 4 else 1, {"A1": 4})
            respond(counter, 5 if i % 2 else 1, {"A1": 4}, IN_FEBRUARY)
        db.session.commit()
        february = services.compute_report(Period.parse("2022-02"))
        snapshot = services.publish(Period.parse("2022-02"))
        db.session.commit()
        report = services.compute_report(MARCH)
        assert report["change_basis"]["published_snapshot"] == snapshot.id
        (row,) = report["agencies"]
        change = row["q0"]["change"]
        assert change["previous"] == pytest.approx(february["agencies"][0]["q0"]["index"])
        assert change["difference"] == pytest.approx(0.75 - 0.5)
        assert report["province"]["q0"]["change"]["previous"] == pytest.approx(0.5)

        # estimates published before the share satisfied overall was kept: with that as
        # the headline, the previous period is computed now rather than half-compared
        older = dict(snapshot.results)
        older["estimates"] = {k: v for k, v in older["estimates"].items() if k != "q0"}
        snapshot.results = older
        db.session.commit()
        report = services.compute_report(MARCH)
        assert report["change_basis"]["published_snapshot"] is None
        assert report["agencies"][0]["q0"]["change"]["previous"] == pytest.approx(0.5)


def test_what_changed_compares_the_published_headline(app):
    with app.app_context():
        agency = _happy_but_unhappy_with_the_details()
        snapshot = services.publish(MARCH)
        for _ in range(20):
            respond(agency.counters[0], 1)  # late and unhappy
        db.session.commit()
        snapshot_id = snapshot.id
        diff = services.compare(snapshot.results, services.compute_report(MARCH))
    assert diff["indicator"] == "q0"
    (row,) = diff["agencies"]
    assert (row["n_then"], row["n_now"]) == (60, 80)
    assert row["index_then"] == pytest.approx(1.0) and row["index_now"] == pytest.approx(0.75)
    html = logged_in(app, _admin(app)).get(f"/staff/reports/snapshots/{snapshot_id}/changes")
    text = html.get_data(as_text=True)
    assert "So sánh: tỷ lệ hài lòng chung" in text and f"100,0{NBSP}%" in text


@pytest.mark.parametrize("name, value", [("REPORT_HEADLINE", "sipas"), ("REPORT_MIN_N", 1)])
def test_a_report_setting_out_of_range_stops_the_app_from_starting(name, value):
    from survey_app import create_app

    config = {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", name: value}
    with pytest.raises(RuntimeError, match=name):
        create_app(config)
