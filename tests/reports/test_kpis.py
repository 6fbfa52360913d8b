"""Feedback performance and one-stop indicators beside satisfaction (issue 16, point 8).

A hand-built month of cases (2026-10: 15/9 → 14/10/2026), every figure worked out by
hand from the calendar below (no holiday inside; * = weekend):

    14/9 15 16 17 18 19* 20* | 21 22 23 24 25 26* 27* | 28 29 30 1/10 2 3* 4*
    5/10 6 7 8 9 10* 11* | 12 13 14 15 16 17* 18* | 19 20 21 22 23

Agency A (Sở Tư pháp), B (Sở Tài nguyên và Môi trường):

1. A, received 21/9, waits for the citizen 22/9 → 29/9, accepted 30/9 (due 21/10),
   answered 8/10, sent back, answered again 9/10: 7 working days, on time, once.
2. A, received 16/9, accepted 17/9 (due 8/10), extended by 5 (due 15/10), answered
   13/10: 18 working days, on time only thanks to the extension.
3. received 21/9 at B (misrouted), B gives it back 24/9 (3 working days charged to
   B), coordinators send it to A 25/9 (due 16/10), A accepts 28/9, answers 12/10:
   11 working days, on time. Received at both A and B.
4. A, received 16/9, accepted 16/9 (due 7/10), answered 12/10 at 06:30 local
   (still 11/10 in UTC): 18 working days, late.
5. A, received and answered in August, published; the citizen disagrees 1/10
   (reopened, new clock), answered 6/10: 3 working days, on time. Not received
   in the period, but answered and reopened in it.
6. A, received 21/9, accepted 21/9 (due 12/10), still in progress: overdue on 20/10.
7. A, a complaint, redirected: not counted.
8. received 16/9 with no agency (the coordinators' queue), screening due 18/9:
   overdue in the province only.
9. B, received 1/10, never screened (due 5/10): overdue at B.

On 20/10/2026: A received 5, answered 5 (4 on time), median 11 working days
(3, 7, 11, 18, 18), 1 overdue, 1 reopened; B received 2, 1 overdue, 1 transferred
away with 3 working days charged; the province received 7 (each case once), 3 overdue.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from pypdf import PdfReader
from scipy import stats
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role, User
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback import services as feedback
from survey_app.feedback.models import CaseChannel, CaseKind, CaseState
from survey_app.feedback.workdays import WorkCalendar
from survey_app.feedback.workflow import extend, transition
from survey_app.reports import documents, kpi_feedback, kpis, services
from survey_app.reports.periods import Period
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import respond

S = CaseState
VN = ZoneInfo("Asia/Ho_Chi_Minh")
PERIOD = Period.parse("2026-10")
TODAY = datetime(2026, 10, 20, 10, tzinfo=VN)


def at(day: int, month: int = 9, hour: int = 9, minute: int = 0) -> datetime:
    """A local time in 2026, as the UTC instant freezegun wants."""
    return datetime.combine(date(2026, month, day), time(hour, minute), VN).astimezone(UTC)


def submit(
    when,
    procedure=None,
    content="Quầy đòi bản sao giấy khai sinh dù luật không đòi.",
    is_complaint=False,
):
    with freeze_time(when):
        case, _ = feedback.submit(
            feedback.Submission(
                kind=CaseKind.report,
                content=content,
                submitter_name="Nguyễn Văn An",
                contact_phone="0912345678",
                consent=True,
                procedure=procedure,
                is_complaint=is_complaint,  # chosen or confirmed by the citizen
            ),
            CaseChannel.web,
        )
    return case


def step(when, case, state, actor, **kwargs):
    with freeze_time(when):
        if state == S.answered:
            case.answer = "Cơ quan đã chấn chỉnh quầy."
            # publishing needs the question as published, confirmed by staff
            case.public_summary = "Phản ánh về thái độ của quầy."
            case.public_summary_confirmed_at = now_utc()
        return transition(case, state, actor, **kwargs)


def accept_and_work(case, when, handler):
    step(when, case, S.accepted, handler)
    step(when, case, S.assigned, handler, assignee=handler)
    step(when, case, S.in_progress, handler)


@pytest.fixture
def built(app):
    """The cases above, built in an app context of their own (pages are then requested
    outside it, so each request picks its own language); their ids and e-mails."""
    with app.app_context():
        w = _build()
        return SimpleNamespace(
            a=w.a.id,
            b=w.b.id,
            coordinator=w.coordinator.email,
            ha=w.ha.email,
            hb=w.hb.email,
        )


@pytest.fixture
def world(app_ctx, built):
    """The cases above, as objects of this test's app context."""
    return SimpleNamespace(
        a=db.session.get(Agency, built.a),
        b=db.session.get(Agency, built.b),
        coordinator=db.session.scalar(select(User).where(User.email == built.coordinator)),
        hb=db.session.scalar(select(User).where(User.email == built.hb)),
    )


def _build():
    province = factories.agency("UBND tỉnh", code="HD")
    a = factories.agency("Sở Tư pháp", province, code="STP")
    b = factories.agency("Sở Tài nguyên và Môi trường", province, code="STNMT")
    civil = factories.field(code="HT", name="Hộ tịch")
    at_a = factories.procedure(a, civil, code="1.001193")
    at_b = factories.procedure(b, civil, code="1.004227")
    w = SimpleNamespace(
        a=a,
        b=b,
        coordinator=factories.user(Role.coordinator),
        ha=factories.user(Role.handler, a),
        hb=factories.user(Role.handler, b),
    )
    # 1. a pause while screening, an answer sent back
    c1 = submit(at(21), at_a)
    step(at(21), c1, S.screening, w.ha)
    step(at(22), c1, S.needs_info, w.ha, reason="Thiếu địa chỉ quầy")
    step(at(29), c1, S.screening, w.ha)
    accept_and_work(c1, at(30), w.ha)
    step(at(8, 10), c1, S.answered, w.ha)
    step(at(8, 10, 15), c1, S.in_progress, w.coordinator)
    step(at(9, 10), c1, S.answered, w.ha)
    # 2. an extension
    c2 = submit(at(16), at_a)
    step(at(16), c2, S.screening, w.ha)
    accept_and_work(c2, at(17), w.ha)
    with freeze_time(at(1, 10)):
        extend(c2, w.ha, 5, "Cần lấy ý kiến Sở Nội vụ")
    step(at(13, 10), c2, S.answered, w.ha)
    # 3. misrouted to B, then to A
    c3 = submit(at(21), at_b)
    step(at(21), c3, S.screening, w.hb)
    step(at(24), c3, S.transferred, w.hb, reason="Không thuộc thẩm quyền")
    step(at(25), c3, S.transferred, w.coordinator, reason="Thuộc Sở Tư pháp", agency=a)
    accept_and_work(c3, at(28), w.ha)
    step(at(12, 10), c3, S.answered, w.ha)
    # 4. late, answered early in the morning
    c4 = submit(at(16), at_a)
    step(at(16), c4, S.screening, w.ha)
    accept_and_work(c4, at(16, 9, 10), w.ha)
    step(at(12, 10, 6, 30), c4, S.answered, w.ha)
    # 5. reopened by the citizen
    c5 = submit(at(3, 8), at_a)
    step(at(3, 8), c5, S.screening, w.ha)
    accept_and_work(c5, at(4, 8), w.ha)
    step(at(10, 8), c5, S.answered, w.ha)
    step(at(11, 8), c5, S.approved, w.coordinator)
    step(at(11, 8, 10), c5, S.published, w.coordinator)
    step(at(1, 10), c5, S.in_progress, None, action="citizen_disagreed", reason="Không đồng ý")
    step(at(6, 10), c5, S.answered, w.ha)
    # 6. overdue, in progress
    c6 = submit(at(21), at_a)
    step(at(21), c6, S.screening, w.ha)
    accept_and_work(c6, at(21, 9, 10), w.ha)
    # 7. a complaint
    submit(at(22), at_a, content="Tôi muốn khiếu nại quyết định của Sở.", is_complaint=True)
    # 8. the coordinators' queue
    submit(at(16))
    # 9. never screened at B
    submit(at(1, 10), at_b)
    db.session.commit()
    return w


def figures():
    with freeze_time(TODAY):
        return kpis.period_kpis(PERIOD)


def row(data, agency):
    return next(r for r in data["agencies"] if r["agency_id"] == agency.id)


def test_each_feedback_indicator_on_hand_built_cases(world):
    data = figures()
    assert data["as_of"] == "2026-10-20" and data["answer_days"] == 15
    a, b = row(data, world.a)["feedback"], row(data, world.b)["feedback"]
    assert a == {
        "received": 5,
        "answered": 5,
        "on_time": 4,
        "on_time_share": 0.8,
        "median_days": 11.0,
        "overdue": 1,
        "reopened": 1,
        "transferred_away": 0,
        "misrouting_days": 0,
    }
    assert b == {
        "received": 2,
        "answered": 0,
        "on_time": 0,
        "on_time_share": None,
        "median_days": None,
        "overdue": 1,
        "reopened": 0,
        "transferred_away": 1,
        "misrouting_days": 3,
    }
    assert data["province"]["feedback"] == {
        "received": 7,
        "answered": 5,
        "on_time": 4,
        "on_time_share": 0.8,
        "median_days": 11.0,
        "overdue": 3,
        "reopened": 1,
        "transferred_away": 1,
        "misrouting_days": 3,
    }


def test_answer_days_and_timeliness_case_by_case(world):
    rows = kpi_feedback.answers(PERIOD)
    days, on_time = kpi_feedback.answer_times(rows, 15, WorkCalendar(), VN)
    got = sorted(zip(rows["extension"].tolist(), days.tolist(), on_time.tolist(), strict=True))
    # the extension alone makes case 2 (18 days) on time; case 4 (18 days) is late
    assert got == [(0, 3, True), (0, 7, True), (0, 11, True), (0, 18, False), (5, 18, True)]
    # without the extension case 2 would have been late
    _, strict = kpi_feedback.answer_times(rows[rows["extension"] == 0], 15, WorkCalendar(), VN)
    assert strict.sum() == 3


def test_a_day_off_added_by_the_admins_counts_in_the_answer_days(world):
    calendar = WorkCalendar({date(2026, 10, 2): False})  # Friday 2/10 made a day off
    rows = kpi_feedback.answers(PERIOD)
    days, _ = kpi_feedback.answer_times(rows, 15, calendar, VN)
    assert sorted(days.tolist()) == [2, 6, 10, 17, 17]


def test_only_the_past_matters_for_a_closed_period_and_today_for_overdue(world):
    before = figures()
    with freeze_time(datetime(2026, 10, 6, 10, tzinfo=VN)):  # case 6 (due 12/10) not late yet
        early = kpis.period_kpis(PERIOD)
    assert row(early, world.a)["feedback"]["overdue"] == 0
    assert row(early, world.b)["feedback"]["overdue"] == 1  # case 9 was due 5/10
    assert row(before, world.a)["feedback"]["overdue"] == 1
    # the next month sees none of this month's flow
    with freeze_time(TODAY):
        later = kpis.period_kpis(PERIOD.next())
    assert later["province"]["feedback"]["received"] == 0
    assert later["province"]["feedback"]["answered"] == 0
    assert later["province"]["feedback"]["overdue"] == 3


def test_workday_index_agrees_with_the_calendar_on_every_day_it_covers():
    calendar = WorkCalendar({date(2026, 1, 2): False, date(2026, 1, 10): True})
    index = kpi_feedback.WorkdayIndex(calendar, date(2021, 12, 1), date(2027, 6, 30))
    rng = random.Random(16)
    starts = [date(2022, 1, 1) + timedelta(days=rng.randrange(1800)) for _ in range(400)]
    spans = [rng.randrange(0, 40) for _ in starts]
    ns = [rng.randrange(0, 30) for _ in starts]
    s = np.array(starts, dtype="datetime64[D]")
    e = np.array(
        [d + timedelta(days=k) for d, k in zip(starts, spans, strict=True)], "datetime64[D]"
    )
    between = index.between(s, e)
    added = index.add(s, np.array(ns))
    for k, start in enumerate(starts):
        end = start + timedelta(days=spans[k])
        assert between[k] == calendar.working_days_between(start, end)
        assert added[k].item() == calendar.add_working_days(start, ns[k])
    # Tết 2022 (31/1–4/2): only Monday 7/2 counts; the admins' swapped Saturday and day off
    assert index.between(np.datetime64("2022-01-28"), np.datetime64("2022-02-07")) == 1
    assert index.add(np.datetime64("2026-01-09"), np.array(1)) == np.datetime64("2026-01-10")
    assert index.add(np.datetime64("2026-01-01"), np.array(0)) == np.datetime64("2026-01-05")


def test_local_days_follow_the_configured_time_zone():
    instants = np.array(
        [
            datetime(2026, 10, 11, 23, 30, tzinfo=UTC).timestamp(),  # 06:30 on 12/10 in Hà Nội
            datetime(2026, 10, 12, 16, 59, tzinfo=UTC).timestamp(),
            datetime(2026, 10, 12, 17, 0, tzinfo=UTC).timestamp(),
        ]
    )
    assert kpi_feedback.local_days(instants, VN).tolist() == [
        date(2026, 10, 12),
        date(2026, 10, 12),
        date(2026, 10, 13),
    ]


def clopper_pearson(x, n):
    return stats.beta.ppf(0.025, x, n - x + 1) if x else 0.0, (
        stats.beta.ppf(0.975, x + 1, n - x) if x < n else 1.0
    )


def test_shares_are_clopper_pearson_with_small_numbers_and_reliability(app_ctx):
    out = kpis.shares([9, 40, 5, 0, 30, 0], [12, 40, 7, 0, 30, 0], threshold=10)
    twelve, forty, seven, none, thirty, _ = out
    lo, hi = clopper_pearson(9, 12)
    assert twelve["share"] == 0.75 and not twelve["too_few"]
    assert twelve["ci_low"] == pytest.approx(lo, abs=1e-9)
    assert twelve["ci_high"] == pytest.approx(hi, abs=1e-9)
    assert twelve["low_reliability"]
    assert twelve["flags"] == ["low_reliability_n", "low_reliability_width"]
    # at the boundary: the exact interval of 40 out of 40, reliable
    assert forty["ci_high"] == 1.0
    assert forty["ci_low"] == pytest.approx(0.025 ** (1 / 40), abs=1e-9)
    assert not forty["low_reliability"] and forty["flags"] == []
    # 5 of 7: too few, no interval
    assert seven["too_few"] and seven["ci_low"] is None and seven["share"] == 5 / 7
    assert none["share"] is None and none["too_few"]
    assert thirty["flags"] == [] and not thirty["too_few"]


def test_one_stop_shares_per_agency_with_the_min_n_setting(world, app):
    counters = {"a": factories.counter(world.a), "b": factories.counter(world.b)}
    when = datetime(2026, 10, 1, 10, tzinfo=VN)
    answers = {
        "a": [(0, 1), *[(1, 1)] * 8, (2, 2), (2, 1), (2, 2), (None, None)],
        "b": [(1, 1)] * 5 + [(2, 3)] * 2,
    }
    for key, rows in answers.items():
        for trips, contacted in rows:
            r = respond(counters[key], 4, when=when)
            r.trips, r.agencies_contacted = trips, contacted
    respond(counters["a"], 4, when=when, staff=True).trips = 2  # staff-flagged: left out
    db.session.commit()
    data = figures()
    a, b = row(data, world.a)["one_stop"], row(data, world.b)["one_stop"]
    assert (a["one_trip"]["x"], a["one_trip"]["n"]) == (9, 12)
    assert (a["one_agency"]["x"], a["one_agency"]["n"]) == (10, 12)
    lo, hi = clopper_pearson(10, 12)
    assert a["one_agency"]["ci_low"] == pytest.approx(lo, abs=1e-9)
    assert a["one_agency"]["ci_high"] == pytest.approx(hi, abs=1e-9)
    assert (b["one_trip"]["x"], b["one_trip"]["n"]) == (5, 7) and b["one_trip"]["too_few"]
    assert data["province"]["one_stop"]["one_trip"]["n"] == 19
    assert data["province"]["one_stop"]["one_trip"]["x"] == 14
    # a stricter setting: 12 answers are too few as well
    before = app.config["REPORT_MIN_N"]
    app.config["REPORT_MIN_N"] = 15
    try:
        stricter = figures()
    finally:
        app.config["REPORT_MIN_N"] = before
    assert stricter["min_n"] == 15
    assert row(stricter, world.a)["one_stop"]["one_trip"]["too_few"]
    assert row(stricter, world.a)["one_stop"]["one_trip"]["ci_low"] is None


def test_scopes_filter_the_rows_and_hide_the_province(world):
    report = {"agencies": []}
    with freeze_time(TODAY):
        whole = kpis.for_user(report, PERIOD, world.coordinator)
        scoped = kpis.for_user(report, PERIOD, world.hb)
        documents_view = kpis.for_user(report, PERIOD)
    assert {r["agency_id"] for r in whole["agencies"]} == {world.a.id, world.b.id}
    assert whole["province"]["feedback"]["received"] == 7
    assert [r["agency_id"] for r in scoped["agencies"]] == [world.b.id]
    assert scoped["province"] is None and not scoped["empty"]
    assert documents_view["province"] is not None
    # ordered like the satisfaction table when asked
    with freeze_time(TODAY):
        ordered = kpis.for_user(report, PERIOD, world.coordinator, [world.b.id, world.a.id])
    assert [r["agency_id"] for r in ordered["agencies"]] == [world.b.id, world.a.id]


def test_the_pages_show_the_tables_counts_under_ten_and_no_personal_data(built, app):
    with app.app_context():  # an agency with a response and no case
        quiet = factories.counter(factories.agency("Sở Y tế"))
        respond(quiet, 5, when=datetime(2026, 10, 2, 9, tzinfo=VN)).trips = 1
        db.session.commit()
        quiet_id = quiet.agency_id
    with freeze_time(TODAY, tick=True):  # (a login is valid from the time it happened)
        coordinator, scoped_client = logged_in(app, built.coordinator), logged_in(app, built.hb)
        html = coordinator.get("/staff/reports/?period=2026-10&lang=en").get_data(as_text=True)
        agency = coordinator.get(f"/staff/reports/agencies/{built.a}?period=2026-10&lang=en")
        scoped = scoped_client.get("/staff/reports/?period=2026-10&lang=en")
    start = html.index('id="kpi-feedback"')
    table = html[start : html.index("</table>", start)]
    a_row = table[table.index(f'data-agency="{built.a}"') :].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("</td")[0] for c in a_row.split("<td")[2:]]
    assert cells[:2] == ["5", "5"] and cells[2] == "4/5"  # a count, not 80%
    assert cells[3].startswith("11 ") and "few cases" in cells[3]
    assert cells[4:] == ["1", "1", "0", "0"]
    assert "Province (each case once)" in table and 'id="kpi-one-stop"' in html
    # no row of zeros: the agency without cases is named in the one-stop table only
    assert f'data-agency="{quiet_id}"' not in table
    assert "1 other agency had no feedback case in this period." in html
    one_stop = html[html.index('id="kpi-one-stop"') :]
    quiet_row = one_stop[one_stop.index(f'data-agency="{quiet_id}"') :].split("</tr>")[0]
    assert "1/1" in quiet_row and "too few answers" in quiet_row
    assert "How these figures are counted" in html and "20 Oct 2026" in html
    assert "Nguyễn Văn An" not in html and "0912345678" not in html
    page = agency.get_data(as_text=True)
    assert agency.status_code == 200 and 'id="kpi-feedback"' in page
    assert f'data-agency="{built.a}"' in page and f'data-agency="{built.b}"' not in page
    assert "Province (each case once)" not in page
    other = scoped.get_data(as_text=True)
    assert f'data-agency="{built.b}"' in other and f'data-agency="{built.a}"' not in other
    assert "Province (each case once)" not in other


def test_the_documents_carry_the_tables(world, app):
    counter = factories.counter(world.a)
    for k in range(12):
        respond(counter, 5, when=datetime(2026, 10, 2, 9, k, tzinfo=VN)).trips = 1 if k else 2
    db.session.commit()
    with freeze_time(TODAY):
        report = services.compute_report(PERIOD)
        report = dict(report, kpis=kpis.for_user(report, PERIOD))
        pdf, xlsx = documents.report_pdf(report), documents.report_xlsx(report)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Xử lý phản ánh, kiến nghị" in text and "Chỉ số một cửa" in text
    assert "Sở Tư pháp 5 5 4/5 11 1 1 0 0" in text
    assert "Toàn tỉnh (mỗi ca tính một lần) 7 5 4/5 11 3 1 1 3" in text
    assert "91,7 %" in text and "20/10/2026" in text
    wb = load_workbook(io.BytesIO(xlsx))
    ws = wb["PAKN và chỉ số một cửa"]
    assert ws.freeze_panes == "C2" and all(c.font.bold for c in ws[1])
    header = [c.value for c in ws[1]]
    assert header[:6] == [
        "Mã cơ quan",
        "Cơ quan",
        "Tiếp nhận",
        "Đã trả lời",
        "Trả lời đúng hạn",
        "Tỷ lệ trả lời đúng hạn",
    ]
    by_name = {r[1].value: r for r in ws.iter_rows(min_row=2) if r[1].value}
    a = by_name["Sở Tư pháp"]
    assert [c.value for c in a[2:5]] == [5, 5, 4]
    assert a[5].value is None  # 4 of 5: no percentage under ten answered
    assert a[13].value == pytest.approx(11 / 12) and a[13].number_format == "0.0%"
    assert a[14].number_format == "0.0%" and a[14].value == pytest.approx(
        clopper_pearson(11, 12)[0]
    )
    assert "độ tin cậy thấp" in a[16].value
    assert by_name["Toàn tỉnh (mỗi ca tính một lần)"][2].value == 7
    assert any("Quá hạn hiện nay" in (r[0].value or "") for r in ws.iter_rows(min_row=2))


def test_publishing_freezes_the_figures(built, app):
    with app.app_context(), freeze_time(TODAY):
        coordinator = db.session.scalar(select(User).where(User.email == built.coordinator))
        snapshot = services.publish(PERIOD, coordinator)
        db.session.commit()
        snapshot_id = snapshot.id
        assert snapshot.results["kpis"]["province"]["feedback"]["overdue"] == 3
    with app.app_context():
        submit(TODAY)  # a new case in the coordinators' queue, overdue by the 30th
        db.session.commit()
    with freeze_time(datetime(2026, 10, 30, 10, tzinfo=VN), tick=True):
        client = logged_in(app, built.coordinator)
        frozen = client.get(f"/staff/reports/snapshots/{snapshot_id}?lang=en")
        live = client.get("/staff/reports/?period=2026-10&lang=en")

    def province_cells(html):
        footer = html[html.index("Province (each case once)") :].split("</tr>")[0]
        return [c.split(">", 1)[1].split("</td")[0] for c in footer.split("<td")[1:]]

    assert province_cells(frozen.get_data(as_text=True))[4] == "3"
    assert province_cells(live.get_data(as_text=True))[4] == "4"
    assert "20 Oct 2026" in frozen.get_data(as_text=True)
    assert "30 Oct 2026" in live.get_data(as_text=True)
    # no survey response in the month, yet the tables show
    assert "No citizen answered the survey" in live.get_data(as_text=True)


def test_flask_report_writes_the_tables_for_the_whole_province(built, app, tmp_path):
    runner = app.test_cli_runner()
    with freeze_time(TODAY):
        result = runner.invoke(
            args=["report", "monthly", "--period", "2026-10", "--output-dir", str(tmp_path)]
        )
    assert result.exit_code == 0, result.output
    ws = load_workbook(tmp_path / "bao-cao-hai-long-2026-10.xlsx")["PAKN và chỉ số một cửa"]
    names = [r[1].value for r in ws.iter_rows(min_row=2)]
    assert "Sở Tư pháp" in names and "Sở Tài nguyên và Môi trường" in names
    assert "Toàn tỉnh (mỗi ca tính một lần)" in names
    pdf = (tmp_path / "bao-cao-hai-long-2026-10.pdf").read_bytes()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Xử lý phản ánh, kiến nghị" in text and "Sở Tư pháp 5 5 4/5 11 1 1 0 0" in text
