"""Ballot-stuffing screening: bursts at a counter are quarantined, ordinary traffic is not.

Attacks go through the real survey pages (no cookie kept, as a script does),
with time frozen; a counter's history is written directly. Then `flask survey
screen` (or a report) screens, a reviewer restores or confirms, the audit log
and the reports follow.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from freezegun import freeze_time
from sqlalchemy import func, insert, select, text

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog
from survey_app.reports import services as report_services
from survey_app.reports.periods import Period
from survey_app.surveys import screening
from survey_app.surveys.models import (
    BurstMember,
    BurstState,
    Channel,
    Response,
    ResponseBurst,
    ScreeningState,
)
from survey_app.surveys.services import (
    address_fingerprint,
    current_questionnaire,
    questionnaire_row,
)
from tests import factories
from tests.helpers import csrf_from, logged_in

#: The attack day: Tuesday 10 March 2026, 09:00 in Hanoi (02:00 UTC).
ATTACK = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"
OPENING_AT = ATTACK - timedelta(hours=1, minutes=30)  # 07:30 local
ANDROID = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"


@pytest.fixture
def world(app):
    """Two counters of one agency (one with four weeks of ordinary history), a province-wide
    coordinator, a coordinator of the agency and one of another agency."""
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        other = factories.agency("Sở Xây dựng", code="SXD")
        busy = factories.counter(agency, name="Quầy Hộ tịch")
        quiet = factories.counter(agency, name="Quầy Chứng thực")
        factories.counter(other, name="Quầy Cấp phép")
        users = SimpleNamespace(
            province=factories.user(Role.coordinator).email,
            admin=factories.user(Role.admin).email,
            agency=factories.user(Role.coordinator, agency).email,
            other=factories.user(Role.coordinator, other).email,
            viewer=factories.user(Role.viewer, agency).email,
        )
        history(busy, ATTACK - timedelta(days=28), days=28, per_day=40)
        db.session.commit()
        return SimpleNamespace(
            busy=SimpleNamespace(id=busy.id, code=busy.code),
            quiet=SimpleNamespace(id=quiet.id, code=quiet.code),
            agency_id=agency.id,
            users=users,
        )


def _rows(counter, times, *, client=None, address=None, overall=None, channel=Channel.poster):
    rng = random.Random(len(times))
    version = questionnaire_row(current_questionnaire()).id
    return [
        {
            "counter_id": counter.id,
            "agency_id": counter.agency_id,
            "questionnaire_version_id": version,
            "channel": channel,
            "language": "vi",
            "overall": overall or rng.choice((3, 4, 4, 5, 5)),
            "started_at": t - timedelta(seconds=20),
            "submitted_at": t,
            "client_hash": client or f"{rng.getrandbits(128):032x}",
            "address_hash": address or f"{rng.getrandbits(128):032x}",
            "staff_flag": False,
        }
        for t in times
    ]


def history(counter, start: datetime, days: int, per_day: int) -> None:
    """Ordinary traffic: ``per_day`` responses each weekday, 07:30–16:30 local time."""
    rng = np.random.default_rng(counter.id)
    times = []
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        opening = day.replace(hour=0, minute=30, second=0, microsecond=0)  # 07:30 local
        for s in np.sort(rng.uniform(0, 9 * 3600, per_day)):
            times.append(opening + timedelta(seconds=float(s)))
    db.session.execute(insert(Response.__table__), _rows(counter, times))


def tap(app, code: str, value: int = 5, *, address: str = ATTACKER, agent: str = ANDROID):
    """One tap from a browser that kept no cookie (a fresh client), as a script sends it."""
    client = app.test_client()
    env = {"REMOTE_ADDR": address}
    html = client.get(f"/s/{code}", environ_base=env, headers={"User-Agent": agent})
    reply = client.post(
        f"/s/{code}",
        data={"csrf_token": csrf_from(html.get_data(as_text=True)), "overall": str(value)},
        environ_base=env,
        headers={"User-Agent": agent},
    )
    assert reply.status_code == 303
    return reply


def attack(app, code: str, n: int, seconds: float, *, rotate: bool = False, start=ATTACK):
    """``n`` taps of 5 from one address, one every ``seconds``."""
    for k in range(n):
        with freeze_time(start + timedelta(seconds=k * seconds)):
            agent = f"{ANDROID} Build/{k}" if rotate else ANDROID
            tap(app, code, 5, agent=agent)


def screen(runner, *args):
    result = runner.invoke(args=["survey", "screen", *args])
    assert result.exit_code == 0, result.output
    return result.output


def quarantined(app, counter_id=None) -> int:
    with app.app_context():
        query = select(func.count()).where(Response.quarantined.is_(True))
        if counter_id is not None:
            query = query.where(Response.counter_id == counter_id)
        return db.session.scalar(query)


def bursts(app) -> list[SimpleNamespace]:
    with app.app_context():
        return [
            SimpleNamespace(
                id=b.id,
                counter_id=b.counter_id,
                reasons=b.reasons.split(","),
                n=b.n_responses,
                state=b.state,
                evidence=b.evidence,
            )
            for b in db.session.scalars(select(ResponseBurst).order_by(ResponseBurst.id))
        ]


# -- the detector on plain arrays ------------------------------------------------------------


def test_window_counts_mark_every_response_of_a_window_over_its_limit():
    key = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    t = np.array([0, 10, 20, 1000, 0, 300, 600, 900])
    count, marked = screening.window_counts(key, t, 60, np.full(8, 2))
    assert count.tolist() == [1, 2, 3, 1, 1, 1, 1, 1]
    assert marked.tolist() == [True, True, True, False, False, False, False, False]


def test_thresholds_follow_the_counters_usual_rate():
    quiet, busy = screening.usual_rate([0, 1600], [0, 180])
    assert quiet == pytest.approx(2.0)  # the prior: 18 responses in 9 open hours
    assert busy == pytest.approx(1618 / 189)
    settings = screening.Settings()
    limits = [
        int(screening.threshold(screening.expected_count(r, 3600, 1.0, 3.0), 1e-6, 5))
        for r in (quiet, busy)
    ]
    assert limits[0] < limits[1]
    # a tiny rate still has the rule's minimum; and more tolerance means a higher threshold
    assert int(screening.threshold(1e-6, settings.false_alarm, 5)) == 5
    assert screening.threshold(3.0, 1e-3, 0) < screening.threshold(3.0, 1e-6, 0)


def test_address_hash_ignores_the_browser_and_counts_an_ipv6_block_as_one(app_ctx):
    day = date(2026, 3, 10)
    assert address_fingerprint("2001:db8:1:2::5", day) == address_fingerprint(
        "2001:db8:1:2:ffff::9", day
    )
    assert address_fingerprint("2001:db8:1:3::5", day) != address_fingerprint(
        "2001:db8:1:2::5", day
    )
    assert address_fingerprint("::ffff:203.0.113.7", day) == address_fingerprint("203.0.113.7", day)
    assert address_fingerprint("203.0.113.7", day) != address_fingerprint(
        "203.0.113.7", day + timedelta(days=1)
    )
    assert "203.0.113.7" not in address_fingerprint("203.0.113.7", day)


# -- attacks over HTTP, screened -------------------------------------------------------------


def test_a_script_tapping_from_one_browser_is_quarantined(app, runner, world):
    """40 taps of 5 in 20 minutes from one address and one browser string, no cookie kept:
    all stored (as today), then all quarantined by `flask survey screen`."""
    attack(app, world.quiet.code, 40, 30)
    with app.app_context():
        hashes = db.session.execute(
            select(Response.client_hash, Response.address_hash).where(
                Response.counter_id == world.quiet.id
            )
        ).all()
    assert len(hashes) == 40 and len(set(hashes)) == 1
    with freeze_time(ATTACK + timedelta(minutes=25)):
        output = screen(runner)
    assert "1 new burst(s)" in output and "40 response(s) quarantined" in output
    (burst,) = bursts(app)
    assert burst.counter_id == world.quiet.id and burst.n == 40
    assert burst.reasons == ["address", "client"]
    assert burst.evidence["addresses"] == 1 and burst.evidence["clients"] == 1
    assert burst.evidence["ratings"] == {"5": 40}
    assert quarantined(app) == 40
    with app.app_context():
        (line,) = db.session.scalars(select(AuditLog).where(AuditLog.action == "quarantine"))
        assert line.user_id is None and world.quiet.code in line.detail and "40" in line.detail


def test_a_rotating_user_agent_is_caught_by_its_address(app, runner, world):
    """25 taps in an hour at a counter used to ~4 an hour, each with another browser string:
    every client hash differs, the counter's rate alone stays under its threshold, and the
    address rule catches them."""
    attack(app, world.busy.code, 25, 140, rotate=True)
    with app.app_context():
        attackers = db.session.execute(
            select(Response.client_hash, Response.address_hash).where(
                Response.submitted_at >= ATTACK
            )
        ).all()
    assert len({c for c, _a in attackers}) == 25 and len({a for _c, a in attackers}) == 1
    with freeze_time(ATTACK + timedelta(hours=1)):
        screen(runner)
    (burst,) = bursts(app)
    assert burst.reasons == ["address"]
    assert burst.n == 25 and burst.evidence["clients"] == 25 and burst.evidence["top_address"] == 25
    rule = next(e for e in burst.evidence["rules"] if e["window"] == 3600)
    assert rule["count"] == 25 and rule["threshold"] < 25 and rule["usual"] < 5
    assert quarantined(app, world.busy.id) == 25


def test_many_addresses_at_once_are_caught_by_the_counters_rate(app, runner, world):
    """40 taps in 20 minutes, each from another address and browser: no source repeats,
    the counter's rate does."""
    for k in range(40):
        with freeze_time(ATTACK + timedelta(seconds=30 * k)):
            tap(app, world.quiet.code, address=f"198.51.100.{k + 1}", agent=f"{ANDROID} {k}")
    with freeze_time(ATTACK + timedelta(minutes=25)):
        screen(runner)
    (burst,) = bursts(app)
    assert burst.reasons == ["counter"] and burst.n == 40
    assert burst.evidence["addresses"] == 40 and burst.evidence["top_address"] == 1


def test_one_address_does_not_take_the_days_citizens_with_it(app, runner, world):
    """300 taps in 10 minutes from one address at a counter on a day with ordinary
    traffic: the burst is the address's; the citizens of that day still count."""
    with app.app_context():
        counter = SimpleNamespace(id=world.busy.id, agency_id=world.agency_id)
        day = _rows(counter, [OPENING_AT + timedelta(minutes=13 * k) for k in range(40)])
        db.session.execute(insert(Response.__table__), day)
        attack_rows = _rows(
            counter,
            [ATTACK + timedelta(seconds=2 * k) for k in range(300)],
            client="c" * 32,
            address="a" * 32,
            overall=5,
        )
        db.session.execute(insert(Response.__table__), attack_rows)
        db.session.commit()
    with freeze_time(ATTACK + timedelta(hours=9)):
        screen(runner)
    (burst,) = bursts(app)
    assert burst.n == 300 and burst.reasons == ["address", "client"]
    assert quarantined(app) == 300
    with app.app_context():
        held = db.session.scalars(
            select(Response.address_hash).where(Response.quarantined.is_(True)).distinct()
        ).all()
    assert held == ["a" * 32]


def test_ordinary_traffic_is_not_quarantined(app, runner, world):
    """A busy day at both counters: 60 responses (1.5 times the usual), a morning rush of
    20 in an hour, a third of them from the hall's Wi-Fi with the same Android browser
    string; and a counter without history with 25 over the day. Nothing is caught."""
    rng = np.random.default_rng(7)
    opening = ATTACK - timedelta(hours=1, minutes=30)  # 07:30 local
    with app.app_context():
        wifi = address_fingerprint("198.51.100.1", date(2026, 3, 10))
        busy = SimpleNamespace(id=world.busy.id, agency_id=world.agency_id)
        rush = opening + timedelta(hours=1)
        times = sorted(
            [rush + timedelta(seconds=float(s)) for s in rng.uniform(0, 3600, 20)]
            + [opening + timedelta(seconds=float(s)) for s in rng.uniform(0, 9 * 3600, 40)]
        )
        rows = _rows(busy, times)
        for row in rows[::3]:  # a third on the Wi-Fi, same browser string
            row["address_hash"], row["client_hash"] = wifi, "f" * 32
        quiet = SimpleNamespace(id=world.quiet.id, agency_id=world.agency_id)
        rows += _rows(quiet, [opening + timedelta(minutes=20 * k) for k in range(25)])
        db.session.execute(insert(Response.__table__), rows)
        db.session.commit()
    with freeze_time(opening + timedelta(hours=10)):
        output = screen(runner)
    assert "85 response(s)" in output and "0 new burst(s)" in output
    assert bursts(app) == [] and quarantined(app) == 0


def test_kiosk_taps_count_for_the_counter_not_as_one_device(app, runner, world):
    """A tablet serves everyone at its counter: 30 taps in a morning from it are one
    device and one address, and ordinary."""
    with app.app_context():
        counter = SimpleNamespace(id=world.busy.id, agency_id=world.agency_id)
        times = [ATTACK + timedelta(minutes=8 * k) for k in range(30)]
        db.session.execute(
            insert(Response.__table__),
            _rows(counter, times, client="k" * 32, address="a" * 32, channel=Channel.kiosk),
        )
        db.session.commit()
    with freeze_time(ATTACK + timedelta(hours=5)):
        screen(runner)
    assert quarantined(app) == 0


def test_screening_is_idempotent_and_a_burst_grows_while_it_lasts(app, runner, world):
    attack(app, world.quiet.code, 20, 30)
    with freeze_time(ATTACK + timedelta(minutes=11)):
        screen(runner)
        screen(runner)  # again: nothing new
    (first,) = bursts(app)
    assert first.n == 20
    attack(app, world.quiet.code, 20, 30, start=ATTACK + timedelta(minutes=12))
    with freeze_time(ATTACK + timedelta(minutes=30)):
        output = screen(runner)
    assert "1 extended" in output
    (burst,) = bursts(app)
    assert burst.id == first.id and burst.n == 40 and quarantined(app) == 40
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BurstMember)) == 40
        actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["quarantine", "quarantine_extended"]


def test_older_days_can_be_screened_again_and_address_hashes_are_erased(app, runner, world):
    attack(app, world.quiet.code, 20, 30)
    with freeze_time(ATTACK + timedelta(days=3)):
        output = screen(runner)  # a first run screens only the last day
        assert "0 new burst(s)" in output and "address hash(es) erased" in output
        with app.app_context():
            assert (
                db.session.scalar(select(func.count()).where(Response.address_hash.is_not(None)))
                == 0
            )
        output = screen(runner, "--from", "2026-03-10", "--to", "2026-03-10")
    assert "20 response(s) quarantined" in output
    assert bursts(app)[0].reasons == ["client"]  # the browser's hash is kept
    result = runner.invoke(args=["survey", "screen", "--from", "2026-03-10", "--to", "2026-03-01"])
    assert result.exit_code == 2 and "before" in result.output


def test_two_runs_at_once_screen_once(app, world):
    """The lock: a run waits for (PostgreSQL: or skips) another one, then finds nothing new."""
    attack(app, world.quiet.code, 20, 30)
    with app.app_context(), freeze_time(ATTACK + timedelta(minutes=12)):
        with db.engine.begin() as first:
            found = screening.run(first)
            assert len(found.new_bursts) == 1
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as second:
                    assert screening.run(second, wait=False).skipped
        with db.engine.begin() as later:
            again = screening.run(later)
        assert not again.skipped and again.new_bursts == [] and again.quarantined == 0
    assert len(bursts(app)) == 1 and quarantined(app) == 20


# -- reports leave quarantined responses out -------------------------------------------------


def test_a_live_report_screens_first_and_leaves_the_burst_out(app, world):
    """No cron: the report itself screens what arrived, and says what it left out."""
    attack(app, world.quiet.code, 40, 30)
    period = Period.parse("2026-03")
    with freeze_time(ATTACK + timedelta(hours=1)), app.app_context():
        report = report_services.compute_report(period)
        row = next(r for r in report["agencies"] if r["agency_id"] == world.agency_id)
        start, end = period.window()
        ordinary = db.session.scalar(
            select(func.count()).where(
                Response.counter_id == world.busy.id,
                Response.submitted_at >= start,
                Response.submitted_at < end,
            )
        )
        assert row["responses"] == ordinary and report["n_responses"] == ordinary
        assert {c["counter_id"] for c in row["counters"]} == {world.busy.id}
        assert report["quarantine"] == {
            "responses": 40,
            "by_agency": {str(world.agency_id): 40},
        }
        assert row["quarantined"] == 40
        assert report["fingerprint"]["responses"] == ordinary
    assert quarantined(app) == 40
    with freeze_time(ATTACK + timedelta(hours=1)):
        client = logged_in(app, world.users.province)
        html = client.get("/staff/reports/?period=2026-03").get_data(as_text=True)
        agency_html = client.get(
            f"/staff/reports/agencies/{world.agency_id}?period=2026-03"
        ).get_data(as_text=True)
    assert 'id="quarantined"' in html and "40" in html and "/staff/reports/quarantine" in html
    assert 'id="quarantined"' in agency_html


def test_restoring_a_burst_counts_it_again_and_confirming_keeps_it_out(app, runner, world):
    attack(app, world.quiet.code, 30, 30)
    with freeze_time(ATTACK + timedelta(minutes=20)):
        screen(runner)
    (burst,) = bursts(app)
    period = Period.parse("2026-03")

    def counted():
        with freeze_time(ATTACK + timedelta(minutes=30)), app.app_context():
            report = report_services.compute_report(period)
            return sum(r["responses"] for r in report["agencies"])

    before = counted()
    client = logged_in(app, world.users.province)
    page = client.get("/staff/reports/quarantine")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'id="burst-{burst.id}"' in html
    assert "Quầy Chứng thực" in html and "30" in html
    data = {
        "csrf_token": csrf_from(html),
        "burst": str(burst.id),
        "note": "Đoàn khách đến cùng lúc",
    }
    reply = client.post("/staff/reports/quarantine/review", data=data | {"action": "restore"})
    assert reply.status_code == 303
    assert quarantined(app) == 0 and counted() == before + 30
    assert bursts(app)[0].state == BurstState.restored
    with freeze_time(ATTACK + timedelta(minutes=40)):
        screen(runner)  # a restored burst is not caught again
    assert quarantined(app) == 0
    reply = client.post("/staff/reports/quarantine/review", data=data | {"action": "confirm"})
    assert reply.status_code == 303 and quarantined(app) == 30 and counted() == before
    with app.app_context():
        lines = db.session.execute(
            select(AuditLog.action, AuditLog.user_id, AuditLog.detail)
            .where(AuditLog.action.like("quarantine_%"))
            .order_by(AuditLog.id)
        ).all()
        reviewer = db.session.scalar(
            text("SELECT id FROM users WHERE email = :e"), {"e": world.users.province}
        )
    assert [a for a, _u, _d in lines] == ["quarantine_restored", "quarantine_confirmed"]
    assert all(u == reviewer for _a, u, _d in lines)
    assert "Đoàn khách" in lines[0][2] and "restored" in lines[0][2]
    assert bursts(app)[0].state == BurstState.confirmed


def test_review_is_province_wide_and_the_list_is_scoped(app, runner, world):
    attack(app, world.quiet.code, 30, 30)
    with freeze_time(ATTACK + timedelta(minutes=20)):
        screen(runner)
    (burst,) = bursts(app)
    own = logged_in(app, world.users.agency)
    html = own.get("/staff/reports/quarantine").get_data(as_text=True)
    assert f'id="burst-{burst.id}"' in html and 'name="action"' not in html
    reply = own.post(
        "/staff/reports/quarantine/review",
        data={"csrf_token": csrf_from(html), "burst": str(burst.id), "action": "restore"},
    )
    assert reply.status_code == 403 and quarantined(app) == 30
    other = logged_in(app, world.users.other)
    assert f'id="burst-{burst.id}"' not in other.get("/staff/reports/quarantine").get_data(
        as_text=True
    )
    viewer = logged_in(app, world.users.viewer)
    assert viewer.get("/staff/reports/quarantine").status_code == 403
    admin = logged_in(app, world.users.admin)
    html = admin.get("/staff/reports/quarantine?state=all").get_data(as_text=True)
    token = csrf_from(html)
    for data, status in (
        ({"burst": str(burst.id), "action": "delete"}, 400),
        ({"burst": "x", "action": "restore"}, 404),
        ({"burst": "99999", "action": "restore"}, 404),
        ({"burst": str(burst.id), "action": "restore", "note": "x" * 501}, 400),
    ):
        assert (
            admin.post(
                "/staff/reports/quarantine/review", data={"csrf_token": token, **data}
            ).status_code
            == status
        )
    assert quarantined(app) == 30


def test_the_responses_export_leaves_quarantined_ones_out(app, runner, world, tmp_path):
    attack(app, world.quiet.code, 30, 30)
    with freeze_time(ATTACK + timedelta(minutes=20)):
        screen(runner)
    out = tmp_path / "r.csv"
    result = runner.invoke(
        args=["export", "responses", "--from", "2026-03-10", "--to", "2026-03-10", "-o", str(out)]
    )
    assert result.exit_code == 0
    assert "30 response(s) quarantined" in result.output
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 0  # the only ones that day were the burst


def test_each_run_goes_on_from_where_the_last_one_stopped(app, runner, world):
    with freeze_time(ATTACK):
        assert "from 2026-03-09 02:00 to 2026-03-10 02:00 UTC" in screen(runner)
    with app.app_context():
        assert db.session.get(ScreeningState, 1).screened_to == ATTACK
    with freeze_time(ATTACK + timedelta(hours=1)):
        assert "from 2026-03-10 01:45 to 2026-03-10 03:00 UTC" in screen(runner)
