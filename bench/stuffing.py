"""Simulation: how far one address moves an agency's index in an hour (and a day).

Issue 15, point 4. A script that drops its cookie after every tap is refused
only by the per-address rate limit (``SURVEY_RATE_LIMIT``, 30 a minute and 300
an hour for the tap, the same again for the questionnaire step). This measures
what such an attacker can add to an agency's report, through the real survey
pages, under the real rate limits (in memory), on a simulated clock:

- **today**: nothing screens the responses: everything the limits let through
  counts;
- **flat out**: the same attack, then ``flask survey screen`` (the detector of
  ``survey_app/surveys/screening.py`` with its default settings);
- **careful**: an attacker who knows the detector's thresholds and the
  counter's history, and spreads the largest number of taps that the detector
  does not catch evenly over the hour (or over the opening hours of a day).
  That number is searched with the detector on plain arrays, then the attack
  is played over HTTP and screened, to check that nothing is caught indeed.

each for one address sending one browser string and for one address rotating
its User-Agent on every tap. Every fake response is a full questionnaire of
5s (the tap, then step 2), so it moves both the share satisfied overall (Q0)
and the composite index.

Two agencies, each with four weeks of ordinary history before the attack day
(Tuesday 10 March 2026, the attack from 09:00 local time) and the ordinary
traffic of that day: a district office (2 counters, 40 responses a weekday
each) and a commune (1 counter, 5 a weekday). In ordinary traffic 75 % of the
ratings are satisfied (4 or 5) and 30 % of the respondents answer the whole
questionnaire. The report is the month 2026-03 (15 Feb → 14 Mar) as computed
just after the attack.

Run::

    .venv/bin/python bench/stuffing.py            # about 2 minutes, SQLite in a temporary dir

It prints the table (Markdown, for bench/README.md), then screens simulated
ordinary traffic with the default and tighter settings: false alarms against
what a careful attacker keeps. Not a test.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ATTACK = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 09:00 in Hanoi, a Tuesday
OPENING = ATTACK - timedelta(hours=1, minutes=30)  # 07:30 local
PERIOD = "2026-03"
ADDRESS = "203.0.113.66"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
Q0_SHARES = (0.03, 0.07, 0.15, 0.40, 0.35)  # 1…5: 75 % satisfied
FULL_SHARE = 0.30


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    counters: int
    per_day: int  # responses a weekday at each counter


AGENCIES = (
    Agency("DIST", "District office (2 counters × 40 a day)", 2, 40),
    Agency("COMM", "Commune (1 counter × 5 a day)", 1, 5),
)


def _app(url: str, prefix: str, screen_reports: bool = False):
    from survey_app import create_app
    from survey_app.config import Config

    class BenchConfig(Config):
        APP_ENV = "development"
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        RATELIMIT_KEY_PREFIX = prefix
        SCREEN_BEFORE_REPORTS = screen_reports
        WTF_CSRF_ENABLED = True

    app = create_app(BenchConfig)
    logging.getLogger("survey_app").setLevel(logging.WARNING)
    logging.getLogger("survey_app.access").setLevel(logging.WARNING)
    return app


# -- setup: agencies, history, the attack day's ordinary traffic ------------------------------


def _ordinary_times(rng, start: datetime, days: int, per_day: int) -> list[datetime]:
    times = []
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        opening = day.replace(hour=0, minute=30, second=0, microsecond=0)
        times += [opening + timedelta(seconds=float(s)) for s in rng.uniform(0, 9 * 3600, per_day)]
    return sorted(times)


def setup(url: str) -> dict:
    """The database with both agencies; returns their counters' ids and codes."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from survey_app.agencies.models import AgencyKind
    from survey_app.agencies.services import create_agency, create_counter
    from survey_app.extensions import db
    from survey_app.surveys.models import Answer, Channel, Response
    from survey_app.surveys.services import current_questionnaire, questionnaire_row

    app = _app(url, "setup")
    rng = np.random.default_rng(15)
    out = {}
    with app.app_context():
        upgrade()
        version = questionnaire_row(current_questionnaire()).id
        items = current_questionnaire().item_codes[1:]
        responses, answers, next_id = [], [], 1
        for spec in AGENCIES:
            agency = create_agency(spec.code, spec.name, None, AgencyKind.department)
            counters = [
                create_counter(agency, f"Quầy {k + 1}", "Tầng 1") for k in range(spec.counters)
            ]
            out[spec.code] = {"agency": agency.id, "counters": [(c.id, c.code) for c in counters]}
            for c in counters:
                # four weeks before, and the attack day's ordinary traffic
                times = _ordinary_times(rng, ATTACK - timedelta(days=28), 28, spec.per_day)
                times += _ordinary_times(rng, ATTACK, 1, spec.per_day)
                for t in times:
                    overall = int(rng.choice(5, p=Q0_SHARES)) + 1
                    responses.append(
                        {
                            "id": next_id,
                            "counter_id": c.id,
                            "agency_id": agency.id,
                            "questionnaire_version_id": version,
                            "channel": Channel.poster,
                            "language": "vi",
                            "overall": overall,
                            "started_at": t - timedelta(seconds=30),
                            "submitted_at": t,
                            "client_hash": uuid.uuid4().hex,
                            "address_hash": uuid.uuid4().hex,
                            "staff_flag": False,
                        }
                    )
                    if rng.random() < FULL_SHARE:
                        values = np.where(
                            rng.random(len(items)) < 0.75,
                            rng.integers(4, 6, len(items)),
                            rng.integers(1, 4, len(items)),
                        )
                        answers += [
                            {"response_id": next_id, "item_code": code, "value": int(v)}
                            for code, v in zip(items, values, strict=True)
                        ]
                    next_id += 1
        db.session.commit()
        db.session.execute(insert(Response.__table__), responses)
        db.session.execute(insert(Answer.__table__), answers)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection closed: SQLite folds its WAL into the file
    return out


# -- the attacks ------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    return _CSRF.search(html).group(1)


def _tap(app, code: str, agent: str, items: list[str]) -> int | None:
    """A tap of 5 and the questionnaire all 5s, from a browser that keeps no cookie.

    :return: None when stored, else the seconds the rate limit says to wait.
    """
    client = app.test_client()
    env = {"REMOTE_ADDR": ADDRESS}
    headers = {"User-Agent": agent}
    page = client.get(f"/s/{code}", environ_base=env, headers=headers)
    token = csrf_from(page.get_data(as_text=True))
    reply = client.post(
        f"/s/{code}", data={"csrf_token": token, "overall": "5"}, environ_base=env, headers=headers
    )
    if reply.status_code != 303:
        return int(reply.headers.get("Retry-After", 1))
    # step 2 with the same page's token (a script needs not load the form)
    data = {"csrf_token": token} | dict.fromkeys(items, "5")
    client.post(f"/s/{code}/more", data=data, environ_base=env, headers=headers)
    return None


def play(app, codes: list[str], times: list[datetime], rotate: bool) -> int:
    """Taps at ``times`` (in turn at each counter), each attempt waiting as long as a
    refusal's ``Retry-After`` says; the number stored."""
    from freezegun import freeze_time

    from survey_app.surveys.services import current_questionnaire

    with app.app_context():
        items = list(current_questionnaire().item_codes[1:])
    stored, not_before = 0, times[0]
    with freeze_time(times[0]) as clock:
        for k, t in enumerate(times):
            if t < not_before:
                continue
            clock.move_to(t)
            agent = f"{ANDROID} r{k}" if rotate else ANDROID
            wait = _tap(app, codes[stored % len(codes)], agent, items)
            if wait is None:
                stored += 1
            else:
                not_before = t + timedelta(seconds=wait)
    return stored


def flat_out_times(hours: float = 1.0) -> list[datetime]:
    """An attempt every 2 seconds: as fast as 30 a minute allows."""
    return [ATTACK + timedelta(seconds=2 * k) for k in range(int(hours * 1800))]


def paced_times(n: int, span: timedelta, start: datetime = ATTACK) -> list[datetime]:
    step = span / max(n, 1)
    return [start + step * k for k in range(n)]


def screen(app, until: datetime):
    from freezegun import freeze_time

    from survey_app.extensions import db
    from survey_app.surveys import screening

    with app.app_context(), freeze_time(until), db.engine.begin() as connection:
        screening.run(connection, since=OPENING - timedelta(hours=1), until=until)


def index(app, agency_id: int, at: datetime) -> tuple[float, float, int, str]:
    """The agency's Q0 share, composite index, responses counted and verdict."""
    from freezegun import freeze_time

    from survey_app.reports import services
    from survey_app.reports.periods import Period

    with app.app_context(), freeze_time(at):
        services.forget_cached_reports()
        report = services.compute_report(Period.parse(PERIOD))
        row = services.agency_row(report, agency_id)
        return row["q0"]["index"], row["index"], row["responses"], row["verdict"]


# -- the careful attacker: the detector on plain arrays ----------------------------------------


def _ordinary_rows(app, counter_ids: list[int]) -> list[tuple]:
    """The screened range's responses as the detector sees them."""
    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.surveys.models import Response

    with app.app_context():
        rows = db.session.execute(
            select(
                Response.id,
                Response.counter_id,
                Response.submitted_at,
                Response.client_hash,
                Response.address_hash,
            ).where(
                Response.counter_id.in_(counter_ids),
                Response.submitted_at >= OPENING - timedelta(days=1),
                Response.submitted_at < OPENING + timedelta(days=1),
            )
        ).all()
    return [
        (
            r.id,
            r.counter_id,
            int(r.submitted_at.timestamp()),
            r.client_hash,
            r.address_hash,
            0,
            0,
            0,
        )
        for r in rows
    ]


def largest_uncaught(
    ordinary, counter_ids, span: timedelta, rotate: bool, rates, settings=None
) -> int:
    """The most taps, evenly spread over ``span`` and the counters, the detector lets pass."""
    from survey_app.surveys import screening

    settings = settings or screening.Settings()
    best = 0
    for n in range(1, 600):
        times = paced_times(n, span, ATTACK if span <= timedelta(hours=1) else OPENING)
        plan = [
            (
                -1 - k,
                counter_ids[k % len(counter_ids)],
                int(t.timestamp()),
                f"attacker-{k}" if rotate else "attacker",
                "attacker-address",
                0,
                0,
                0,
            )
            for k, t in enumerate(times)
        ]
        traffic = screening.Traffic.from_rows(ordinary + plan)
        if screening.detect(traffic, rates, settings).caught.any():
            break
        best = n
    return best


# -- false alarms: the detector on simulated ordinary traffic -----------------------------------

#: Simulated counters per size (responses a weekday), days of history and days screened.
ORDINARY_SIZES, ORDINARY_PER_SIZE, HISTORY_DAYS, SCREENED_DAYS = (5, 15, 40, 80), 50, 28, 20


def ordinary_traffic(seed: int = 2026):
    """Counters with ordinary citizens only, as screened: per counter its usual rate (from
    four weeks) and the responses of 20 working days, with what makes ordinary traffic
    bursty: busy and quiet days (±30 %), a morning rush (40 % of a day's responses
    between 08:00 and 10:00), groups (one day in ten, 3–6 people within 5 minutes), and
    the hall's Wi-Fi (30 % of respondents, half of them with the same Android browser
    string, so the same client hash).

    :return: ``(rates, rows)``, rows as :meth:`Traffic.from_rows` takes them.
    """
    from survey_app.surveys import screening

    rng = np.random.default_rng(seed)
    rates, rows, next_id, counter = {}, [], 1, 0
    day0 = int(OPENING.timestamp())
    for size in ORDINARY_SIZES:
        for _ in range(ORDINARY_PER_SIZE):
            counter += 1
            history = rng.poisson(size * HISTORY_DAYS * 5 / 7)
            rates[counter] = float(screening.usual_rate(history, HISTORY_DAYS * 45 / 7))
            for d in range(SCREENED_DAYS):
                opening = day0 + d * 86400
                n = rng.poisson(size * rng.lognormal(0, 0.3))
                rush = rng.random(n) < 0.4
                t = np.where(rush, rng.uniform(1800, 9000, n), rng.uniform(0, 9 * 3600, n)).astype(
                    np.int64
                )
                if rng.random() < 0.1:
                    start = rng.uniform(0, 9 * 3600 - 300)
                    t = np.concatenate([t, (start + rng.uniform(0, 300, rng.integers(3, 7)))])
                for when in np.sort(t):
                    wifi = rng.random() < 0.3
                    same_browser = wifi and rng.random() < 0.5
                    rows.append(
                        (
                            next_id,
                            counter,
                            int(opening + when),
                            f"wifi-android-{counter}-{d}" if same_browser else f"c{next_id}",
                            f"wifi-{counter}-{d}" if wifi else f"a{next_id}",
                            False,
                            False,
                            False,
                        )
                    )
                    next_id += 1
    return rates, rows


def false_alarms(settings, rates, rows) -> tuple[int, int, int]:
    """Ordinary responses caught: ``(caught, responses, counter-days with a catch)``."""
    from survey_app.surveys import screening

    traffic = screening.Traffic.from_rows(rows)
    caught = screening.detect(traffic, rates, settings).caught
    days = {(int(c), int(t) // 86400) for c, t in zip(traffic.counter[caught], traffic.t[caught])}
    return int(caught.sum()), traffic.n, len(days)


def usual_rates(app, counter_ids) -> dict[int, float]:
    from survey_app.extensions import db
    from survey_app.surveys import screening

    with app.app_context(), db.engine.connect() as connection:
        since = OPENING - timedelta(hours=1)
        return screening._usual_rates(
            connection, counter_ids, since - timedelta(days=1), screening.Settings().history_days
        )


# -- main --------------------------------------------------------------------------------------


def main() -> int:
    import freezegun

    # the rate limiter's memory storage expires its counters in a thread of its own: that
    # thread must read the simulated clock too (freezegun ignores threads by default)
    freezegun.configure(default_ignore_list=["_pytest.terminal.", "_pytest.runner."])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="keep the databases in this directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hl-stuffing-")) if not args.keep else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    seed = workdir / "seed.sqlite3"
    seed.unlink(missing_ok=True)
    layout = setup(f"sqlite:///{seed}")
    from survey_app.reports.services import forget_cached_reports
    from survey_app.surveys.services import forget_cached_ids

    results = []
    case = 0

    def fresh(screen_reports=False):
        nonlocal case
        case += 1
        path = workdir / f"case{case}.sqlite3"
        shutil.copy(seed, path)
        forget_cached_ids()
        forget_cached_reports()
        return _app(f"sqlite:///{path}", f"case{case}", screen_reports)

    for spec in AGENCIES:
        agency_id = layout[spec.code]["agency"]
        counter_ids = [c for c, _code in layout[spec.code]["counters"]]
        codes = [code for _c, code in layout[spec.code]["counters"]]
        base = fresh()
        after = ATTACK + timedelta(hours=1, minutes=1)
        before = index(base, agency_id, after)
        results.append((spec, "—", "no attack", 0, 0, before, before))
        rates = usual_rates(base, counter_ids)
        ordinary = _ordinary_rows(base, counter_ids)
        for rotate in (False, True):
            who = "rotating User-Agent" if rotate else "one User-Agent"
            # today: no screening
            app = fresh()
            stored = play(app, codes, flat_out_times(), rotate)
            results.append(
                (spec, who, "today, 1 h flat out", stored, 0, before, index(app, agency_id, after))
            )
            # the detector, flat out
            app = fresh()
            stored = play(app, codes, flat_out_times(), rotate)
            screen(app, after)
            counted = index(app, agency_id, after)
            caught = stored - (counted[2] - before[2])
            results.append((spec, who, "detector, 1 h flat out", stored, caught, before, counted))
            # the detector, a careful attacker: an hour, and a working day
            for label, span, end in (
                ("detector, careful 1 h", timedelta(hours=1), after),
                (
                    "detector, careful 9 h day",
                    timedelta(hours=9),
                    OPENING + timedelta(hours=9, minutes=1),
                ),
            ):
                n = largest_uncaught(ordinary, counter_ids, span, rotate, rates)
                app = fresh()
                times = paced_times(n, span, ATTACK if span <= timedelta(hours=1) else OPENING)
                stored = play(app, codes, times, rotate)
                screen(app, end)
                counted = index(app, agency_id, end)
                reference = index(base, agency_id, end)
                caught = stored - (counted[2] - reference[2])
                results.append((spec, who, label, stored, caught, reference, counted))

    def pct(x):
        return "—" if x is None else f"{100 * x:.1f}"

    header = (
        "| agency | attacker (one address) | scenario | stored | quarantined | counted | "
        "Q0 satisfied % | composite index % | verdict |"
    )
    lines = [header, "|" + "---|" * 9]
    for spec, who, label, stored, caught, ref, now in results:
        q_move = f"{pct(ref[0])} → {pct(now[0])}" if stored else pct(ref[0])
        c_move = f"{pct(ref[1])} → {pct(now[1])}" if stored else pct(ref[1])
        verdict = f"{ref[3]} → {now[3]}" if stored and ref[3] != now[3] else now[3]
        lines.append(
            f"| {spec.name} | {who} | {label} | {stored} | {caught} | {stored - caught} | "
            f"{q_move} | {c_move} | {verdict} |"
        )
    print("\n".join(lines))

    # the settings: false alarms on ordinary traffic against what a careful attacker keeps
    from survey_app.surveys import screening

    rates, rows = ordinary_traffic()
    dist = AGENCIES[0]
    counter_ids = [c for c, _code in layout[dist.code]["counters"]]
    base = fresh()
    ordinary = _ordinary_rows(base, counter_ids)
    own_rates = usual_rates(base, counter_ids)
    variants = (
        ("defaults", screening.Settings()),
        ("SCREEN_FALSE_ALARM=1e-4", screening.Settings(false_alarm=1e-4)),
        ("SCREEN_PEAK_FACTOR=2", screening.Settings(peak=2.0)),
        (
            "…and SHARE 0.3 / 0.15",
            screening.Settings(peak=2.0, address_share=0.3, client_share=0.15),
        ),
        (
            "all three",
            screening.Settings(false_alarm=1e-4, peak=2.0, address_share=0.3, client_share=0.15),
        ),
    )
    print(
        f"\nOrdinary traffic: {len(rates)} counters ({', '.join(map(str, ORDINARY_SIZES))} "
        f"responses a weekday), {SCREENED_DAYS} working days each.\n"
    )
    table = [
        "| settings | ordinary responses quarantined | counter-days with a false alarm | "
        "careful attacker, district office, 1 h: one UA / rotating | 9 h day: one UA / rotating |",
        "|---|---|---|---|---|",
    ]
    for label, settings in variants:
        caught, n, days = false_alarms(settings, rates, rows)
        room = [
            largest_uncaught(ordinary, counter_ids, span, rotate, own_rates, settings)
            for span in (timedelta(hours=1), timedelta(hours=9))
            for rotate in (False, True)
        ]
        table.append(
            f"| {label} | {caught} of {n} | {days} of {len(rates) * SCREENED_DAYS} | "
            f"{room[0]} / {room[1]} | {room[2]} / {room[3]} |"
        )
    print("\n".join(table))
    print(f"\n({time.perf_counter() - started:.0f} s; databases in {workdir})")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
