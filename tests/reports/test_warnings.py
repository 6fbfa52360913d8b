"""Early warning (reports.warnings) on simulated taps in the database: a counter that
turns bad is warned within days, stable counters raise false warnings no more often
than stated, one warning and one mail per episode, scope, the dashboard and the
acknowledge action, the command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from flask_babel import force_locale
from scipy.stats import poisson
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from analysis.monitoring import average_run_length
from survey_app.agencies.models import Agency, AgencyKind
from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog, OutboxMessage
from survey_app.reports import warnings
from survey_app.reports.warning_models import (
    SatisfactionWarning,
    SatisfactionWatch,
    WarningStatus,
)
from survey_app.reports.warning_subjects import subjects
from survey_app.surveys.models import Channel, Response
from survey_app.surveys.services import current_questionnaire, questionnaire_row
from tests import factories
from tests.helpers import csrf_from, logged_in

#: The simulated history starts here (a local midnight); the drop comes 90 days later.
T0 = datetime(2026, 1, 4, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)
_hashes = iter(range(1, 10**12))


def simulate(counter, start: datetime, days: int, per_day: int, share: float, rng, **extra):
    """``per_day`` taps a day at ``counter`` for ``days`` days from ``start`` (office
    hours, local time), each dissatisfied (Q0 1–3) with probability ``share``;
    inserted in one executemany."""
    n = days * per_day
    if n == 0:
        return
    offsets = np.repeat(np.arange(days), per_day) * 86400.0 + rng.uniform(
        8 * 3600, 17 * 3600, size=n
    )
    offsets.sort()
    bad = rng.random(n) < share
    overall = np.where(bad, rng.integers(1, 4, size=n), rng.integers(4, 6, size=n))
    version = questionnaire_row(current_questionnaire()).id
    base = start.timestamp()
    db.session.execute(
        insert(Response.__table__),
        [
            {
                "counter_id": counter.id,
                "agency_id": counter.agency_id,
                "questionnaire_version_id": version,
                "channel": Channel.poster,
                "language": "vi",
                "overall": int(overall[i]),
                "submitted_at": datetime.fromtimestamp(base + float(offsets[i]), UTC),
                "client_hash": f"{next(_hashes):032d}",
                "staff_flag": extra.get("staff", False),
                "wants_feedback": False,
            }
            for i in range(n)
        ],
    )


def _build_world() -> SimpleNamespace:
    """Province → Sở A (two counters) and Sở B (one counter); admins of A, of B and of
    the province, a viewer of A."""
    province = factories.agency("UBND tỉnh", kind=AgencyKind.province, code="TINH")
    a = factories.agency("Sở Tư pháp", province, code="STP")
    b = factories.agency("Sở Xây dựng", province, code="SXD")
    counter = factories.counter(a, name="Quầy Hộ tịch")
    other = factories.counter(a, name="Quầy Chứng thực")
    counter_b = factories.counter(b, name="Quầy Cấp phép")
    users = SimpleNamespace(
        admin_a=factories.user(Role.admin, a, email="admin.a@stp.vn"),
        admin_b=factories.user(Role.admin, b, email="admin.b@sxd.vn"),
        province=factories.user(Role.admin, email="admin@tinh.vn"),
        viewer_a=factories.user(Role.viewer, a, email="viewer.a@stp.vn"),
    )
    db.session.commit()
    return SimpleNamespace(
        a=a, b=b, counter=counter, other=other, counter_b=counter_b, **vars(users)
    )


@pytest.fixture
def world(app_ctx):
    return _build_world()


def _drop(world, rng, *, before=90, after=10, per_day=20, usual=0.08, bad=0.30, start=T0):
    """The counter at ``usual`` for ``before`` days, then ``bad``; the others stable."""
    simulate(world.counter, start, before, per_day, usual, rng)
    simulate(world.counter, start + before * DAY, after, per_day, bad, rng)
    simulate(world.other, start, before + after, per_day, usual, rng)
    simulate(world.counter_b, start, before + after, per_day, usual, rng)
    db.session.commit()


def _warnings(subject: str | None = None) -> list[SatisfactionWarning]:
    query = select(SatisfactionWarning).order_by(SatisfactionWarning.id)
    if subject is not None:
        query = query.where(SatisfactionWarning.subject == subject)
    return db.session.scalars(query).all()


def _mails() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _daily(first_day: int, last_day: int, start=T0):
    """Run the detector at the end of each day (as the daily timer would), committing
    each run (the command commits after each counter: see the command's tests)."""
    for day in range(first_day, last_day + 1):
        warnings.run(start + day * DAY)
        db.session.commit()


def test_a_counter_that_turns_bad_is_warned_within_days(world):
    """8 % dissatisfied for 90 days, then 30 %: warned 1–4 days after the change, not
    before; the warning says what happened and how sure the check is."""
    _drop(world, np.random.default_rng(1))
    key = f"counter:{world.counter.id}"
    for day in range(85, 101):
        warnings.run(T0 + day * DAY)
        db.session.commit()
        if _warnings(key):
            break
    [warning] = _warnings(key)
    change = T0 + 90 * DAY
    assert change < warning.signal_at < change + 4 * DAY
    assert 90 < day <= 94  # the run of that day saw it
    assert warning.status == WarningStatus.open and warning.agency_id == world.a.id
    assert warning.watch_started_at <= warning.signal_at
    assert warning.recent_dissatisfied / warning.recent_taps > 0.2
    assert 0.05 < warning.baseline_share < 0.11
    assert warning.taps_per_day == pytest.approx(20, rel=0.01)
    # the stated false-alarm rate: at least the 0.5 a year asked for, in taps and days
    assert warning.arl0_days >= 2 * 365.25
    assert warning.arl0_taps == pytest.approx(warning.arl0_days * 20, rel=0.01)
    assert warning.arl1_taps < warning.arl0_taps / 20
    # the other counter of the agency, and the other agency's, stayed quiet
    assert {w.subject for w in _warnings()} <= {key, f"agency:{world.a.id}"}


def test_detection_delay_over_many_simulated_counters(app_ctx):
    """Twelve counters at 15 taps a day, each 8 % → 30 % dissatisfied after 120 days,
    checked daily: none is warned before the change, every one within 6 days after it,
    and the delays in taps are what each chart's exact run length at 30 % says."""
    rng = np.random.default_rng(2026)
    agency = factories.agency("Sở Nội vụ", code="SNV")
    counters = [factories.counter(agency, name=f"Quầy {i}") for i in range(12)]
    change = T0 + 120 * DAY
    for counter in counters:
        simulate(counter, T0, 120, 15, 0.08, rng)
        simulate(counter, change, 8, 15, 0.30, rng)
    db.session.commit()
    _daily(117, 128)
    days, ratios = [], []
    for counter in counters:
        [warning] = _warnings(f"counter:{counter.id}")
        days.append((warning.signal_at - change) / DAY)
        taps = db.session.scalar(
            select(func.count()).where(
                Response.counter_id == counter.id,
                Response.submitted_at >= change,
                Response.submitted_at <= warning.signal_at,
            )
        )
        expected = average_run_length(
            0.30, warning.weight_up, warning.weight_down, warning.threshold
        )
        ratios.append(taps / expected)
    assert 0 < min(days) and max(days) < 6, days
    assert float(np.median(days)) < 4, days
    assert 0.6 < float(np.mean(ratios)) < 1.6, ratios


def test_stable_counters_give_false_warnings_no_more_often_than_stated(app_ctx):
    """Six counters (and their agency as a whole) at a steady 8 %, 10 taps a day, for two
    years, checked every 30 days: the warnings raised stay within what the stated
    false-alarm rates allow (their Poisson 99.9 % bound), under one a year each."""
    rng = np.random.default_rng(99)
    agency = factories.agency("Sở Y tế", code="SYT")
    for i in range(6):
        simulate(factories.counter(agency, name=f"Quầy {i}"), T0, 730, 10, 0.08, rng)
    db.session.commit()
    stated = 0.0  # false alarms the charts' stated ARL0 allow over the whole run
    for day in range(60, 731, 30):
        warnings.run(T0 + day * DAY)
        db.session.commit()
        watches = db.session.scalars(select(SatisfactionWatch)).all()
        assert len(watches) == 7 and all(w.monitored for w in watches)
        # each chart watched 30 more days of taps: taps / ARL0 false alarms at most
        stated += sum(30 * w.taps_per_day / w.arl0_taps for w in watches)
    raised = len(_warnings())
    assert 3 < stated <= 7 * 1.85 * 0.5  # 0.5 a year each, as configured (or fewer)
    assert raised <= poisson.ppf(0.999, stated), (raised, stated)


def test_running_twice_records_one_warning_and_sends_one_mail(world):
    _drop(world, np.random.default_rng(3))
    now = T0 + 96 * DAY
    first = warnings.run(now)
    db.session.commit()
    second = warnings.run(now)
    db.session.commit()
    assert f"counter:{world.counter.id}" in [w.subject for w in first.opened]
    assert second.opened == [] and second.mails == 0
    [warning] = _warnings(f"counter:{world.counter.id}")
    mails = [m for m in _mails() if m.dedupe_key.startswith(f"warning:{warning.id}:")]
    assert [m.recipient for m in mails] == ["admin.a@stp.vn"]
    assert first.mails == len(_mails())


def test_a_concurrent_run_cannot_open_a_second_warning(world):
    """Another server opened it between this run's look and its insert: the unique
    index refuses the second, and the run goes on with the first."""
    _drop(world, np.random.default_rng(4))
    now = T0 + 96 * DAY
    warnings.run(now)
    db.session.commit()
    s = warnings.settings()
    [subject] = [x for x in subjects(now, s) if x.key == f"counter:{world.counter.id}"]
    watch = db.session.scalar(
        select(SatisfactionWatch).where(SatisfactionWatch.subject == subject.key)
    )
    chart = warnings.chart_for(subject.baseline, subject.prior_share, now - 30 * DAY, s)
    assert warnings._open(subject, watch, chart, now) is None
    db.session.commit()
    assert len(_warnings(subject.key)) == 1
    [existing] = _warnings(subject.key)
    duplicate = SatisfactionWarning(
        **{
            c.name: getattr(existing, c.name)
            for c in SatisfactionWarning.__table__.columns
            if c.name != "id"
        }
    )
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_mail_goes_to_the_agencys_admins_only_and_says_it_plainly(world):
    _drop(world, np.random.default_rng(5))
    with force_locale("en"):
        warnings.run(T0 + 96 * DAY)
    db.session.commit()
    [warning] = _warnings(f"counter:{world.counter.id}")
    mails = [m for m in _mails() if m.dedupe_key.startswith(f"warning:{warning.id}:")]
    assert [m.recipient for m in mails] == ["admin.a@stp.vn"]  # not B's, not the province's
    [mail] = mails
    assert mail.subject == "Early warning: citizens less satisfied at Quầy Hộ tịch (Sở Tư pháp)"
    assert (
        f"At Quầy Hộ tịch (Sở Tư pháp), {warning.recent_dissatisfied} of the "
        f"{warning.recent_taps} people who rated it recently were not satisfied (usually about "
        in mail.body
    )
    years = round(warning.arl0_days / 365.25)
    assert f"false warning no more than about once every {years} years at each counter" in (
        mail.body
    )
    assert f"/staff/reports/agencies/{world.a.id}?period=2026-04" in mail.body
    assert "https://hailong.example.gov.vn/staff/" in mail.body


def test_an_agency_without_admins_warns_the_province_admins(world):
    for admin in (world.admin_a,):
        admin.active = False
    db.session.commit()
    _drop(world, np.random.default_rng(5))
    warnings.run(T0 + 96 * DAY)
    db.session.commit()
    [warning] = _warnings(f"counter:{world.counter.id}")
    recipients = {
        m.recipient for m in _mails() if m.dedupe_key.startswith(f"warning:{warning.id}:")
    }
    assert recipients == {"admin@tinh.vn"}


def test_the_agency_as_a_whole_is_watched_when_it_has_several_counters(world):
    """Both counters of Sở A turn moderately worse (8 % → 20 %): the agency as a whole,
    with twice the taps, is warned; Sở B, with one counter, has no agency watch."""
    rng = np.random.default_rng(6)
    for counter in (world.counter, world.other):
        simulate(counter, T0, 90, 20, 0.08, rng)
        simulate(counter, T0 + 90 * DAY, 10, 20, 0.20, rng)
    simulate(world.counter_b, T0, 100, 20, 0.08, rng)
    db.session.commit()
    _daily(90, 100)
    keys = {w.subject for w in _warnings()}
    assert f"agency:{world.a.id}" in keys
    assert (
        db.session.scalar(
            select(SatisfactionWatch).where(SatisfactionWatch.subject == f"agency:{world.b.id}")
        )
        is None
    )
    with force_locale("en"):
        [agency_warning] = _warnings(f"agency:{world.a.id}")
        from survey_app.reports.warning_notices import how_sure, place

        assert place(agency_warning) == "Sở Tư pháp, all its counters together"
        assert "for each agency as a whole" in how_sure(agency_warning)


def test_a_warning_closes_when_ratings_are_back_and_a_new_drop_opens_a_new_one(world):
    """One episode, one warning: it stays open while the counter is bad (later alarms
    are counted on it), closes once the usual share has held long enough, and a later
    drop opens a second warning."""
    rng = np.random.default_rng(7)
    simulate(world.counter, T0, 90, 20, 0.08, rng)
    simulate(world.counter, T0 + 90 * DAY, 10, 20, 0.35, rng)  # days 90–99: bad
    simulate(world.counter, T0 + 100 * DAY, 50, 20, 0.08, rng)  # days 100–149: usual
    simulate(world.counter, T0 + 150 * DAY, 10, 20, 0.35, rng)  # days 150–159: bad again
    db.session.commit()
    key = f"counter:{world.counter.id}"
    _daily(91, 100)
    [first] = _warnings(key)
    assert first.signals > 1  # the chart kept signalling while the counter stayed bad
    _daily(101, 149)
    db.session.refresh(first)
    assert first.status == WarningStatus.closed and first.close_reason == "recovered"
    closed_day = (first.closed_at - T0) / DAY
    quiet_days = first.quiet_taps / 20
    assert 100 + quiet_days - 1 <= closed_day <= 100 + quiet_days + 10
    _daily(150, 159)
    episodes = _warnings(key)
    assert len(episodes) == 2
    assert episodes[1].signal_at > T0 + 150 * DAY and episodes[1].status == WarningStatus.open


def test_staff_flagged_taps_and_short_histories_do_not_count(world):
    rng = np.random.default_rng(8)
    simulate(world.counter, T0, 90, 20, 0.08, rng)
    simulate(world.counter, T0 + 90 * DAY, 10, 20, 0.9, rng, staff=True)  # staff testing
    simulate(world.counter_b, T0 + 60 * DAY, 40, 1, 0.5, rng)  # 30 taps before the window
    db.session.commit()
    result = warnings.run(T0 + 100 * DAY)
    db.session.commit()
    assert _warnings() == []
    watch_b = db.session.scalar(
        select(SatisfactionWatch).where(SatisfactionWatch.counter_id == world.counter_b.id)
    )
    assert not watch_b.monitored and watch_b.baseline_taps == 10
    assert result.not_monitored == 2  # Sở B's counter, and Sở A's second (no taps at all)


def test_a_withdrawn_counter_closes_its_warning(world):
    _drop(world, np.random.default_rng(9))
    warnings.run(T0 + 96 * DAY)
    db.session.commit()
    world.counter.is_active = False
    db.session.commit()
    warnings.run(T0 + 97 * DAY)
    db.session.commit()
    [warning] = _warnings(f"counter:{world.counter.id}")
    assert warning.status == WarningStatus.closed and warning.close_reason == "withdrawn"


def test_settings_out_of_range_are_refused(app, runner):
    app.config["EARLY_WARNING_FALSE_ALARMS_PER_YEAR"] = 0
    try:
        result = runner.invoke(args=["report", "warnings"])
    finally:
        app.config["EARLY_WARNING_FALSE_ALARMS_PER_YEAR"] = 0.5
    assert result.exit_code == 1
    assert (
        "EARLY_WARNING_FALSE_ALARMS_PER_YEAR is out of range; nothing was checked" in result.output
    )


# -- the command, the dashboard and the acknowledge action ---------------------------


@pytest.fixture
def warned(app):
    """A drop that ended a few days ago (the real clock: the command and the pages use
    it); the ids of the world. No application context is left pushed: each request of
    the test clients has its own, as in production."""
    with app.app_context():
        world = _build_world()
        start = now_utc().replace(hour=17, minute=0, second=0, microsecond=0) - 100 * DAY
        _drop(world, np.random.default_rng(10), start=start)
        return SimpleNamespace(a=world.a.id, counter=world.counter.id)


def test_the_command_is_safe_to_run_twice(app, runner, warned):
    first = runner.invoke(args=["report", "warnings"])
    assert first.exit_code == 0, first.output
    assert "checked 3 counter(s), 0 of them not monitored yet" in first.output
    assert "and 1 agency(ies) as a whole" in first.output
    assert "new warning" in first.output and f"counter:{warned.counter}" in first.output
    with app.app_context():
        mails = len(_mails())
        assert mails >= 1
    second = runner.invoke(args=["report", "warnings"])
    assert second.exit_code == 0, second.output
    assert "warnings opened: 0" in second.output and "mails queued: 0" in second.output
    with app.app_context():
        assert len(_mails()) == mails
        assert len(_warnings(f"counter:{warned.counter}")) == 1


def _dashboard(client) -> str:
    reply = client.get("/staff/?lang=en")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def _acknowledge(client, warning_id, token, lang="en"):
    return client.post(
        f"/staff/warnings/acknowledge?lang={lang}",
        data={"warning": warning_id, "csrf_token": token},
    )


def test_the_dashboard_shows_warnings_in_scope_and_the_admin_acknowledges(app, runner, warned):
    assert runner.invoke(args=["report", "warnings"]).exit_code == 0
    with app.app_context():
        [warning] = _warnings(f"counter:{warned.counter}")
        warning_id, bad, taps = warning.id, warning.recent_dissatisfied, warning.recent_taps
    admin = logged_in(app, "admin.a@stp.vn")
    page = _dashboard(admin)
    assert "Early warnings" in page
    assert "Quầy Hộ tịch (Sở Tư pháp)" in page
    assert f"{bad} of the {taps} people who rated it from" in page
    assert "at each counter." in page and "false warning no more than about once every" in page
    assert f"/staff/reports/agencies/{warned.a}?period=" in page
    assert f'name="warning" value="{warning_id}"' in page
    assert "Watched: usually" in page  # the counters' early-warning column
    assert "The early-warning check last looked at the counters at" in page

    # the viewer of A sees it, without the button, and may not acknowledge it
    viewer = logged_in(app, "viewer.a@stp.vn")
    viewer_page = _dashboard(viewer)
    assert "Quầy Hộ tịch (Sở Tư pháp)" in viewer_page and 'name="warning"' not in viewer_page
    assert _acknowledge(viewer, warning_id, csrf_from(viewer_page)).status_code == 403
    # the admin of B neither sees it nor may acknowledge it
    other = logged_in(app, "admin.b@sxd.vn")
    other_page = _dashboard(other)
    assert "Quầy Hộ tịch" not in other_page
    assert _acknowledge(other, warning_id, csrf_from(other_page)).status_code == 404

    token = csrf_from(page)
    no_token = admin.post("/staff/warnings/acknowledge", data={"warning": warning_id})
    assert no_token.status_code == 400
    nonsense = _acknowledge(admin, "x", token)
    assert nonsense.status_code == 400
    assert "Say which warning to acknowledge." in nonsense.get_data(as_text=True)
    assert _acknowledge(admin, 999999, token).status_code == 404
    reply = _acknowledge(admin, warning_id, token)
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/staff/")
    with app.app_context():
        warning = db.session.get(SatisfactionWarning, warning_id)
        assert warning.status == WarningStatus.acknowledged
        assert warning.acknowledged_by.email == "admin.a@stp.vn" and warning.acknowledged_at
        audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "acknowledge_warning"))
        assert audit.user.email == "admin.a@stp.vn" and "Quầy Hộ tịch" in audit.detail
    page = _dashboard(admin)
    assert "Acknowledged by Nguyễn Văn A at" in page
    assert f'name="warning" value="{warning_id}"' not in page
    assert _acknowledge(admin, warning_id, token).status_code == 303
    assert "already acknowledged" in _dashboard(admin)

    # acknowledged: a new admin of A gets no mail about it on the next run
    with app.app_context():
        factories.user(Role.admin, db.session.get(Agency, warned.a), email="new.admin@stp.vn")
        db.session.commit()
        mails = len(_mails())
    assert runner.invoke(args=["report", "warnings"]).exit_code == 0
    with app.app_context():
        later = _mails()[mails:]
        assert not [m for m in later if m.dedupe_key.startswith(f"warning:{warning_id}:")]


def test_the_dashboard_says_which_counters_are_not_monitored_yet(app):
    with app.app_context():
        world = _build_world()
        simulate(world.counter_b, now_utc() - 60 * DAY, 23, 1, 0.1, np.random.default_rng(11))
        db.session.commit()
    admin = logged_in(app, "admin@tinh.vn")
    assert "The early-warning check has not run yet." in _dashboard(admin)
    with app.app_context():
        warnings.run(now_utc())
        db.session.commit()
    page = _dashboard(admin)
    assert "Not monitored yet: 23 taps (needs 100)" in page
    assert "Early warnings" not in page
