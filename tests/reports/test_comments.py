"""Report comments: a fair sample (a burst cannot push the others out), quarantined ones
apart and marked, the day and not the minute, no counter that points to one person."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from survey_app.extensions import db
from survey_app.reports import comments as report_comments
from survey_app.reports import services
from survey_app.reports.models import ReportSnapshot
from survey_app.reports.periods import Period
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")


def _day(d: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, 3, d, hour, minute, tzinfo=VN)


def _comment(counter, text: str, when: datetime, *, device: str | None = None, **kw):
    r = respond(counter, 4, when=when, comment=text, **kw)
    if device is not None:
        r.client_hash = device
    return r


def _crowd(counter, when: datetime, n: int) -> None:
    """``n`` responses without a comment (so the day and counter are not rare)."""
    for k in range(n):
        respond(counter, 4, when=when + timedelta(minutes=k + 1))


def test_a_burst_of_comments_does_not_push_the_others_out(app_ctx):
    """60 comments from one device on one day (newest of all) used to fill the 50 shown;
    the sample gives every day and every device its turn first."""
    agency = factories.agency("Sở Tư pháp")
    counter = factories.counter(agency, name="Quầy Hộ tịch")
    genuine = [f"Ý kiến thật số {d}" for d in range(1, 11)]
    for d, text in enumerate(genuine, start=1):
        _comment(counter, text, _day(d))
        _crowd(counter, _day(d), 5)
    same_day = [f"Ý kiến cùng ngày {k}" for k in range(6)]
    for k, text in enumerate(same_day):
        _comment(counter, text, _day(13, 8, k))
    for k in range(60):  # the burst: the latest comments, one device
        _comment(counter, f"Quảng cáo {k}", _day(13, 10, k % 60), device="e" * 32)
    db.session.commit()
    (sample,) = report_comments.sample(MARCH).values()
    texts = [c["text"] for c in sample["shown"]]
    assert len(texts) == services.COMMENT_LIMIT and sample["total"] == 76
    assert set(genuine + same_day) <= set(texts)
    assert services.comments(agency, MARCH) == sample["shown"]


def test_quarantined_comments_are_apart_and_marked(app, app_ctx):
    agency = factories.agency("Sở Xây dựng")
    counter = factories.counter(agency)
    for k in range(3):
        _comment(counter, f"Thật {k}", _day(2, 9, k))
    for k in range(8):
        r = _comment(counter, f"Nhồi phiếu {k}", _day(2, 10, k))
        r.quarantined = True
    _crowd(counter, _day(2), 5)
    db.session.commit()
    sample = report_comments.for_agency(MARCH, agency.id)
    assert (sample["total"], sample["quarantined"]) == (3, 8)
    flags = [(c["text"].split()[0], c["quarantined"]) for c in sample["shown"]]
    assert flags[:3] == [("Thật", False)] * 3
    assert flags[3:] == [("Nhồi", True)] * services.QUARANTINED_COMMENT_LIMIT
    admin = factories.user().email
    db.session.commit()
    html = logged_in(app, admin).get(f"/staff/reports/agencies/{agency.id}?period=2022-03")
    page = html.get_data(as_text=True)
    assert page.count('class="quarantined"') == 5 and 'id="comment-quarantine"' in page


def test_a_comment_shows_its_day_and_a_counter_only_among_enough_people(app, app_ctx):
    """k = 5: a counter with fewer responses that day is not named, a day the agency had
    fewer is not shown; the time never is."""
    agency = factories.agency("UBND xã Thanh Hải")
    busy = factories.counter(agency, name="Quầy Một cửa")
    lonely = factories.counter(agency, name="Quầy Tư pháp riêng")
    _comment(busy, "Cán bộ nhiệt tình", _day(2, 9, 17))
    _crowd(busy, _day(2), 5)
    _comment(lonely, "Chờ hơi lâu", _day(2, 14, 43))
    _comment(lonely, "Chỉ mình tôi hôm đó", _day(3, 15, 21))
    db.session.commit()
    shown = {c["text"]: c for c in report_comments.for_agency(MARCH, agency.id)["shown"]}
    assert shown["Cán bộ nhiệt tình"]["day"] == "2022-03-02"
    assert shown["Cán bộ nhiệt tình"]["counter"] == "Quầy Một cửa"
    assert shown["Chờ hơi lâu"]["day"] == "2022-03-02"  # 8 answered at the agency that day
    assert shown["Chờ hơi lâu"]["counter"] is None  # …but one at that counter
    assert (
        shown["Chỉ mình tôi hôm đó"]["day"] is None
        and shown["Chỉ mình tôi hôm đó"]["counter"] is None
    )
    assert list(shown)[-1] == "Chỉ mình tôi hôm đó"  # no day: last, its place says nothing
    admin = factories.user().email
    db.session.commit()
    page = logged_in(app, admin).get(f"/staff/reports/agencies/{agency.id}?period=2022-03")
    html = page.get_data(as_text=True)
    listed = html[html.index('class="comments"') :]
    listed = listed[: listed.index("</ul>")]
    assert "02/03/2022" in listed and "Quầy Một cửa" in listed
    assert "Quầy Tư pháp riêng" not in listed and "03/03/2022" not in listed
    assert not re.search(r"\d\d:\d\d", listed)


def test_the_sample_is_stable_and_a_published_report_freezes_it(app_ctx):
    agency = factories.agency("Sở Y tế")
    counters = [factories.counter(agency) for _ in range(3)]
    for d in range(1, 15):
        for c in counters:
            for k in range(2):
                _comment(c, f"Góp ý {d}-{c.id}-{k}", _day(d, 8 + d % 5, k))
            _crowd(c, _day(d), 2)
    db.session.commit()
    first = report_comments.sample(MARCH)
    assert first == report_comments.sample(MARCH)
    shown = first[agency.id]["shown"]
    assert len(shown) == services.COMMENT_LIMIT and first[agency.id]["total"] == 84
    days = [c["day"] for c in shown]
    assert days == sorted(days, reverse=True) and len(set(days)) == 14  # every day has its turn
    snapshot = services.publish(MARCH)
    db.session.commit()
    _comment(counters[0], "Góp ý muộn", _day(14, 16))
    db.session.commit()
    frozen = report_comments.frozen(db.session.get(ReportSnapshot, snapshot.id).results, agency.id)
    assert frozen == first[agency.id]
    assert "Góp ý muộn" in [
        c["text"] for c in report_comments.for_agency(MARCH, agency.id)["shown"]
    ]


def test_a_report_published_before_the_sample_shows_the_day_alone(app_ctx):
    """Snapshots froze the latest comments with their minute and counter."""
    results = {
        "comments": {
            "7": [
                {
                    "submitted_at": "2022-03-01T20:30:00+00:00",
                    "overall": 2,
                    "text": "Phải chờ lâu",
                    "counter": "Quầy 3",
                }
            ]
        }
    }
    found = report_comments.frozen(results, 7)
    assert found["shown"] == [
        {
            "day": "2022-03-02",  # 03:30 in Hanoi
            "counter": None,
            "overall": 2,
            "text": "Phải chờ lâu",
            "quarantined": False,
        }
    ]
    assert report_comments.frozen({}, 7) is None
    assert services.frozen_comments(results, 8) == []
