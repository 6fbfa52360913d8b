"""Benchmark: the feedback and one-stop figures of a month (:func:`reports.kpis.period_kpis`).

Synthetic data inserted in bulk by a setup step that is **not** timed: 500
agencies with two counters each; ``--n`` responses (default 1,000,000) in the
reporting month 2022-03 (15 Feb → 14 Mar), a quarter of them with the two
factual questions answered (no item answers: the figures do not read them);
``--cases`` feedback cases (default 20,000) received over the month and the
month before, each with its events as the workflow writes them: screening,
acceptance (the answer clock), assignment, work, the answer for 80 % of them
(a quarter of those late), a transfer away from a wrong agency first for
10 %, an extension for 5 %, a reopening and second answer for 3 %; the rest
still open, some overdue.

Timed (medians of ``--rounds``): each query of the figures on its own, then
``period_kpis`` on an empty cache and on a warm one (the version queries,
among them the period's data version: publishing, ``flask report``), and as
a report page calls it, with the period's live report (the one-stop figures
kept with that report: a cold page after the feedback part is cached, and a
warm page, which only reads the feedback tables' version).

Usage::

    .venv/bin/python bench/kpis_bench.py --keep /tmp/kpis.sqlite3
    .venv/bin/python bench/kpis_bench.py --keep /tmp/kpis.sqlite3 --skip-setup
    .venv/bin/python bench/kpis_bench.py --postgres postgresql://postgres@127.0.0.1/hl_bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report_bench import AGENCIES, COUNTERS_PER_AGENCY, _app

PERIOD = "2022-03"


def setup(url: str, n: int, n_cases: int, seed: int = 1) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from survey_app.agencies.models import Agency, AgencyKind, Counter
    from survey_app.extensions import db
    from survey_app.feedback.models import CaseEvent, FeedbackCase
    from survey_app.surveys.models import Response
    from survey_app.surveys.services import current_questionnaire, questionnaire_row

    app = _app(url)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        province = Agency(code="HD", name="Tỉnh Hải Dương", kind=AgencyKind.province, path="/")
        db.session.add(province)
        db.session.flush()
        province.path = f"/{province.id}/"
        agencies = [
            Agency(
                code=f"AG{k:03d}",
                name=f"Cơ quan {k:03d}",
                kind=AgencyKind.department,
                parent=province,
                path="/",
            )
            for k in range(AGENCIES)
        ]
        db.session.add_all(agencies)
        db.session.flush()
        for a in agencies:
            a.path = f"{province.path}{a.id}/"
        counters = [
            Counter(code=f"C{a.id:04d}{j}", name=f"Quầy {j + 1}", agency=a)
            for a in agencies
            for j in range(COUNTERS_PER_AGENCY)
        ]
        db.session.add_all(counters)
        db.session.flush()
        version_id = questionnaire_row(current_questionnaire()).id
        agency_ids = np.array([a.id for a in agencies])
        counter_ids = np.array([c.id for c in counters]).reshape(AGENCIES, COUNTERS_PER_AGENCY)
        db.session.commit()

        start = datetime(2022, 2, 14, 17, tzinfo=UTC)
        span = (datetime(2022, 3, 14, 17, tzinfo=UTC) - start).total_seconds()
        agency = rng.integers(0, AGENCIES, n)
        seconds = np.sort(rng.uniform(0, span, n))
        factual = rng.random(n) < 0.25
        trips = rng.choice([0, 1, 2], n, p=[0.2, 0.65, 0.15])
        contacted = rng.choice([1, 2, 3], n, p=[0.82, 0.13, 0.05])
        table = Response.__table__
        for chunk in np.array_split(np.arange(n), max(1, n // 100_000)):
            rows = []
            for i in chunk.tolist():
                at = start + timedelta(seconds=float(seconds[i]))
                rows.append(
                    {
                        "counter_id": int(counter_ids[agency[i], i % COUNTERS_PER_AGENCY]),
                        "agency_id": int(agency_ids[agency[i]]),
                        "questionnaire_version_id": version_id,
                        "channel": "poster",
                        "language": "vi",
                        "overall": 4,
                        "submitted_at": at,
                        "trips": int(trips[i]) if factual[i] else None,
                        "agencies_contacted": int(contacted[i]) if factual[i] else None,
                        "client_hash": f"{i:032x}",
                        "staff_flag": False,
                        "wants_feedback": False,
                    }
                )
            db.session.execute(insert(table), rows)
            db.session.commit()

        # cases received over February and March, with their events
        first = datetime(2022, 1, 14, 17, tzinfo=UTC)
        cases, events = [], []
        for k in range(n_cases):
            received = first + timedelta(seconds=float(rng.uniform(0, 2 * span)))
            home = int(agency_ids[rng.integers(0, AGENCIES)])
            at = received + timedelta(hours=2)
            answered = rng.random() < 0.8
            case_events = [("screening", "submitted", "screening", home, home, None, at)]
            if rng.random() < 0.1:  # first at a wrong agency
                wrong = int(agency_ids[rng.integers(0, AGENCIES)])
                case_events = [
                    ("screening", "submitted", "screening", wrong, wrong, None, at),
                    (
                        "transferred",
                        "screening",
                        "transferred",
                        wrong,
                        None,
                        2,
                        at + timedelta(days=2),
                    ),
                    (
                        "transferred",
                        "transferred",
                        "transferred",
                        None,
                        home,
                        None,
                        at + timedelta(days=3),
                    ),
                ]
                at += timedelta(days=3)
            case_events.append(("accepted", "screening", "accepted", home, home, None, at))
            case_events.append(("assigned", "accepted", "assigned", home, home, None, at))
            case_events.append(("in_progress", "assigned", "in_progress", home, home, None, at))
            if rng.random() < 0.05:
                case_events.append(
                    (
                        "extended",
                        "in_progress",
                        "in_progress",
                        home,
                        home,
                        5,
                        at + timedelta(days=5),
                    )
                )
            state = "in_progress"
            if answered:
                late = rng.random() < 0.25
                done = at + timedelta(
                    days=float(rng.uniform(25, 40) if late else rng.uniform(1, 20))
                )
                case_events.append(("answered", "in_progress", "answered", home, home, None, done))
                state = "answered"
                if rng.random() < 0.03:
                    case_events.append(
                        (
                            "citizen_disagreed",
                            "published",
                            "in_progress",
                            home,
                            home,
                            None,
                            done + timedelta(days=3),
                        )
                    )
                    case_events.append(
                        (
                            "answered",
                            "in_progress",
                            "answered",
                            home,
                            home,
                            None,
                            done + timedelta(days=8),
                        )
                    )
            cases.append(
                {
                    "id": k + 1,
                    "code": f"PA-22-{k:06d}",
                    "secret_hash": "0" * 64,
                    "kind": "report",
                    "state": state,
                    "channel": "web",
                    "agency_id": home,
                    "content": "Nội dung phản ánh thử nghiệm.",
                    "received_at": received,
                    "clock_start_on": at.date(),
                    "clock_days": 15,
                    "due_on": at.date() + timedelta(days=21),
                    "updated_at": received,
                }
            )
            for action, before, after, src, dst, days, when in case_events:
                events.append(
                    {
                        "case_id": k + 1,
                        "at": when,
                        "action": action,
                        "from_state": before,
                        "to_state": after,
                        "from_agency_id": src,
                        "to_agency_id": dst,
                        "working_days": days,
                    }
                )
        for chunk in range(0, len(cases), 20_000):
            db.session.execute(insert(FeedbackCase.__table__), cases[chunk : chunk + 20_000])
        for chunk in range(0, len(events), 50_000):
            db.session.execute(insert(CaseEvent.__table__), events[chunk : chunk + 50_000])
        if url.startswith("postgresql"):
            for name in ("responses", "feedback_cases", "case_events"):
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
        db.session.commit()
        if url.startswith("postgresql"):
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
    return {
        "responses": n,
        "cases": n_cases,
        "events": len(events),
        "seconds": round(time.perf_counter() - started, 1),
    }


def measure(url: str, rounds: int) -> dict:
    from survey_app.reports import kpi_feedback, kpis
    from survey_app.reports.cache import forget_cached_reports
    from survey_app.reports.periods import Period

    app = _app(url)
    period = Period.parse(PERIOD)
    out: dict[str, list[float]] = {}

    def timed(name, fn):
        t = time.perf_counter()
        value = fn()
        out.setdefault(name, []).append(time.perf_counter() - t)
        return value

    with app.test_request_context():  # (work_calendar() keeps the calendar on g)
        today = date(2022, 3, 20)
        for _ in range(rounds):
            timed("one_stop", lambda: kpis._one_stop(period))
            timed("received", lambda: kpi_feedback.received(period))
            timed("answered", lambda: kpi_feedback.answered(period))
            timed("events", lambda: kpi_feedback.events(period))
            timed("overdue", lambda: kpi_feedback.overdue(today))
            forget_cached_reports()
            figures = timed("period_kpis (cold)", lambda: kpis.period_kpis(period))
            timed("period_kpis (warm)", lambda: kpis.period_kpis(period))
            # a report page: the live report object keys the one-stop figures
            live = {"stands for": "compute_report(period)"}
            timed("page (cold)", lambda live=live: kpis.period_kpis(period, live))
            timed("page (warm)", lambda live=live: kpis.period_kpis(period, live))
    medians = {k: round(statistics.median(v), 3) for k, v in out.items()}
    province = figures["province"]["feedback"]
    return medians | {"province": province, "agencies": len(figures["agencies"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses in the month")
    parser.add_argument("--cases", type=int, default=20_000, help="feedback cases")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database (instead of SQLite)")
    parser.add_argument("--keep", help="SQLite file to (re)use instead of a temporary one")
    parser.add_argument("--skip-setup", action="store_true", help="reuse the database as it is")
    args = parser.parse_args(argv)
    if args.postgres:
        url = args.postgres
    else:
        path = args.keep or str(Path(tempfile.mkdtemp()) / "kpis.sqlite3")
        url = f"sqlite:///{path}"
    if not args.skip_setup:
        print("setup:", setup(url, args.n, args.cases), flush=True)
    print("measure:", measure(url, args.rounds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
