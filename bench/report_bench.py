"""Benchmark: the monthly report (``flask report monthly``) for a month of 1,000,000 responses.

Synthetic data, inserted in bulk (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) by a setup step that is **not** timed: 500 agencies with two
counters each, 10 procedure fields, dossier volumes for every agency × field
of the month and of the month before; ``--n`` responses (default 1,000,000)
in the reporting month 2022-03 (15 Feb → 14 Mar) and as many in 2022-02 (the
report compares with the previous month: unless that month was published, it
loads and analyses it too); 40 % came
through a receipt link (they know their procedure field), 25 % answered the
21 detailed items (≈ 5 million answer rows per month), 2 % left a comment.

What is timed, in a fresh subprocess (so its peak memory is its own):

- ``report``: :func:`survey_app.reports.services.compute_report` on an empty
  cache, split into *load* (every call of ``load_period`` and
  ``period_volumes``, i.e. the database and the pivot into arrays) and
  *analysis* (the rest: weighting, indices, intervals, counters, quality
  signals, Cronbach's alpha, the previous month's comparison);
- ``pdf`` and ``xlsx``: :func:`documents.report_pdf` and ``report_xlsx``;
- ``cached``: ``compute_report`` again (the cache hit: the data-version queries);
- ``published``: the whole monthly report again once the previous month has a
  published snapshot (the change is then read from it; the publication itself
  is not timed and is rolled back);

and, as the baseline measured in the same run:

- ``select``: a bare DB-API ``SELECT`` of the month's responses and of its
  answer rows, one row per answer (rows fetched, nothing converted) — what
  fetching the month the straightforward way costs (the report's own queries
  return one row per response, then one per response with answers, packed by
  the database);
- ``floor``: :func:`analysis.analyse` alone on the loaded arrays, by agency,
  without weights (the statistics the report cannot avoid).

Peak memory: the subprocess's ``VmHWM``. The load average of the (shared)
machine is printed before and after.

Usage::

    .venv/bin/python bench/report_bench.py                      # SQLite, 10^6
    .venv/bin/python bench/report_bench.py --postgres postgresql://postgres@127.0.0.1:5432/hl_bench
    .venv/bin/python bench/report_bench.py --n 100000           # quick
    .venv/bin/python bench/report_bench.py --keep /tmp/b.sqlite3 --skip-setup  # rerun

Target (issue): the monthly report in under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AGENCIES, COUNTERS_PER_AGENCY, FIELDS = 500, 2, 10
MONTHS = ((2022, 3), (2022, 2))  # the report's month, and the month before


def _app(url: str):
    from survey_app import create_app
    from survey_app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench-only-secret-key-not-for-production-0123"
        TESTING = False
        # what `flask report monthly` runs with: a job, not a request (DATABASE_JOB_…)
        DATABASE_STATEMENT_TIMEOUT = Config.DATABASE_JOB_STATEMENT_TIMEOUT

    return create_app(BenchConfig)


# -- setup (not timed) -----------------------------------------------------------------------


def setup(url: str, n: int, seed: int = 1) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from survey_app.agencies.models import Agency, AgencyKind, Counter, Procedure, ProcedureField
    from survey_app.extensions import db
    from survey_app.surveys.services import current_questionnaire, questionnaire_row

    app = _app(url)
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
        agencies = []
        for k in range(AGENCIES):
            a = Agency(
                code=f"AG{k:03d}",
                name=f"Cơ quan thử nghiệm số {k:03d}",
                kind=AgencyKind.department,
                parent=province,
                path="/",
            )
            agencies.append(a)
        db.session.add_all(agencies)
        db.session.flush()
        for a in agencies:
            a.path = f"{province.path}{a.id}/"
        counters = [
            Counter(code=f"C{a.id:04d}{j}", name=f"Quầy {j + 1}", agency=a)
            for a in agencies
            for j in range(COUNTERS_PER_AGENCY)
        ]
        fields = [ProcedureField(code=f"F{f:02d}", name=f"Lĩnh vực {f}") for f in range(FIELDS)]
        db.session.add_all(counters + fields)
        db.session.flush()
        procedures = [
            Procedure(code=f"P{a.id:04d}-{f.id:02d}", name="Thủ tục", field=f, agency=a)
            for a in agencies
            for f in fields
        ]
        db.session.add_all(procedures)
        version_id = questionnaire_row(current_questionnaire()).id
        items = current_questionnaire().item_codes[1:]
        db.session.commit()
        agency_ids = np.array([a.id for a in agencies])
        counter_ids = np.array([c.id for c in counters]).reshape(AGENCIES, COUNTERS_PER_AGENCY)
        procedure_ids = np.array([p.id for p in procedures]).reshape(AGENCIES, FIELDS)
        field_ids = [f.id for f in fields]

    rng = np.random.default_rng(seed)
    quality = rng.beta(18, 2, AGENCIES)  # each agency's share of satisfied ratings
    columns = (
        "id, counter_id, agency_id, procedure_id, questionnaire_version_id, channel, language, "
        "overall, started_at, submitted_at, completed_at, comment, wants_feedback, client_hash, "
        "staff_flag"
    )
    sqlite = url.startswith("sqlite")

    def naive(t):
        return None if t is None else t.replace(tzinfo=None).isoformat(" ")

    def month_rows(year: int, month: int, first_id: int):
        """Volumes, responses and answers of one reporting month, as DB-API rows."""
        volumes = [
            (
                int(a),
                f,
                date(year, month, 1),
                f"{year:04d}-{month:02d}",
                int(rng.integers(50, 3000)),
            )
            for a in agency_ids
            for f in field_ids
        ]
        # local days 15th of the month before → 14th: UTC from the 14th 17:00
        start = datetime(year, month - 1, 14, 17, tzinfo=UTC)
        span = (datetime(year, month, 14, 17, tzinfo=UTC) - start).total_seconds()
        agency = rng.integers(0, AGENCIES, n)
        counter = counter_ids[agency, rng.integers(0, COUNTERS_PER_AGENCY, n)]
        seconds = np.sort(rng.uniform(0, span, n))
        happy = rng.random(n) < quality[agency]
        overall = np.where(happy, rng.integers(4, 6, n), rng.integers(1, 4, n))
        receipt = rng.random(n) < 0.4
        procedure = procedure_ids[agency, rng.integers(0, FIELDS, n)]
        details = rng.random(n) < 0.25
        comment = rng.random(n) < 0.02

        def responses():
            for i in range(n):
                submitted = start + timedelta(seconds=float(seconds[i]))
                rid = first_id + i
                times = (
                    submitted - timedelta(seconds=40),
                    submitted,
                    submitted + timedelta(seconds=90) if details[i] else None,
                )
                if sqlite:
                    times = tuple(naive(t) for t in times)
                yield (
                    rid,
                    int(counter[i]),
                    int(agency_ids[agency[i]]),
                    int(procedure[i]) if receipt[i] else None,
                    version_id,
                    "receipt" if receipt[i] else "poster",
                    "vi",
                    int(overall[i]),
                    *times,
                    f"Góp ý số {rid}: gọi 0912 345 678" if comment[i] else None,
                    False,
                    f"{rid:032x}",
                    False,
                )

        def answers():
            rows = np.flatnonzero(details)
            for chunk in np.array_split(rows, max(1, rows.size // 50_000)):
                shape = (chunk.size, len(items))
                values = np.where(
                    rng.random(shape) < quality[agency[chunk]][:, None],
                    rng.integers(4, 6, shape),
                    rng.integers(1, 4, shape),
                )
                na = rng.random(shape) < 0.1  # "not applicable"
                for r, row, nas in zip(chunk.tolist(), values.tolist(), na.tolist(), strict=True):
                    for code, v, skip in zip(items, row, nas, strict=True):
                        yield (first_id + r, code, None if skip else v)

        return volumes, responses(), answers(), int(details.sum()) * len(items)

    counts = {"responses": 0, "answers": 0, "volumes": 0}
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            next_id = 1
            for year, month in MONTHS:
                volumes, responses, answers, n_answers = month_rows(year, month, next_id)
                if sqlite:
                    cur.executemany(
                        "INSERT INTO dossier_volumes (agency_id, field_id, month, period, dossiers) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [(a, f, m.isoformat(), p, d) for a, f, m, p, d in volumes],
                    )
                    cur.executemany(
                        f"INSERT INTO responses ({columns}) VALUES ({', '.join('?' * 15)})",
                        responses,
                    )
                    cur.executemany(
                        "INSERT INTO answers (response_id, item_code, value) VALUES (?, ?, ?)",
                        answers,
                    )
                else:
                    copies = (
                        ("dossier_volumes (agency_id, field_id, month, period, dossiers)", volumes),
                        (f"responses ({columns})", responses),
                        ("answers (response_id, item_code, value)", answers),
                    )
                    for table, rows in copies:
                        with cur.copy(f"COPY {table} FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                raw.commit()
                next_id += n
                counts["responses"] += n
                counts["answers"] += n_answers
                counts["volumes"] += len(volumes)
            if not sqlite:
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence('responses', 'id'), "
                    "(SELECT max(id) FROM responses))"
                )
                cur.execute("ANALYZE")
                raw.commit()
        finally:
            raw.close()
    return counts | {"seconds": round(time.perf_counter() - started, 1)}


# -- measurement (a fresh process) -----------------------------------------------------------


def _hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(url: str) -> dict:
    from sqlalchemy import text

    from analysis import analyse
    from survey_app.extensions import db
    from survey_app.reports import documents, services
    from survey_app.reports.periods import Period

    app = _app(url)
    period = Period.parse(f"{MONTHS[0][0]}-{MONTHS[0][1]:02d}")
    out: dict = {}
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        start, end = period.window()
        # baseline 1: a bare DB-API SELECT of the same columns
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            ph = "?" if url.startswith("sqlite") else "%s"
            bounds = (
                (start.replace(tzinfo=None).isoformat(" "), end.replace(tzinfo=None).isoformat(" "))
                if url.startswith("sqlite")
                else (start, end)
            )
            t = time.perf_counter()
            cur.execute(
                "SELECT r.id, r.agency_id, r.counter_id, r.submitted_at, r.started_at, "
                "r.completed_at, r.overall, p.field_id FROM responses r LEFT JOIN procedures p "
                f"ON p.id = r.procedure_id WHERE r.submitted_at >= {ph} AND r.submitted_at < {ph} "
                "AND r.staff_flag = false ORDER BY r.id",
                bounds,
            )
            n_rows = len(cur.fetchall())
            cur.execute(
                "SELECT a.response_id, a.item_code, a.value FROM answers a JOIN responses r "
                f"ON r.id = a.response_id WHERE r.submitted_at >= {ph} AND r.submitted_at < {ph} "
                "AND r.staff_flag = false AND a.value IS NOT NULL",
                bounds,
            )
            n_answers = len(cur.fetchall())
            out["select"] = time.perf_counter() - t
            out["selected"] = {"responses": n_rows, "answers": n_answers}
        finally:
            raw.close()

        # the report, as `flask report monthly` computes it, load and analysis apart
        services.forget_cached_reports()
        spent = {"load": 0.0}
        for name in ("load_period", "period_volumes"):
            real = getattr(services, name)

            def timed(*a, _real=real, **k):
                t0 = time.perf_counter()
                try:
                    return _real(*a, **k)
                finally:
                    spent["load"] += time.perf_counter() - t0

            # every module of the package that imported it (assembly, estimates, …)
            for module in list(sys.modules.values()):
                if getattr(module, "__name__", "").startswith("survey_app.reports") and (
                    getattr(module, name, None) is real
                ):
                    setattr(module, name, timed)
        t = time.perf_counter()
        report = services.compute_report(period)
        total = time.perf_counter() - t
        out["load"] = spent["load"]
        out["analysis"] = total - spent["load"]
        out["report"] = total
        out["n_responses"] = report["n_responses"]
        out["weighted"] = report["weighting"]["used"]
        t = time.perf_counter()
        pdf = documents.report_pdf(report)
        out["pdf"] = time.perf_counter() - t
        t = time.perf_counter()
        xlsx = documents.report_xlsx(report)
        out["xlsx"] = time.perf_counter() - t
        out["sizes"] = {"pdf_kb": len(pdf) // 1024, "xlsx_kb": len(xlsx) // 1024}
        out["monthly_total"] = out["report"] + out["pdf"] + out["xlsx"]
        t = time.perf_counter()
        services.compute_report(period)
        out["cached"] = time.perf_counter() - t
        out["peak_mb"] = _hwm_mb()

        # the usual case once reports are published every month: the change since the
        # previous month is read from its published snapshot (published here, not
        # timed, and rolled back so the database stays as set up)
        services.publish(period.previous())
        services.forget_cached_reports()
        t = time.perf_counter()
        again = services.compute_report(period)
        out["report_published_previous"] = time.perf_counter() - t
        assert again["change_basis"]["published_snapshot"] is not None
        t = time.perf_counter()
        documents.report_pdf(again)
        documents.report_xlsx(again)
        out["monthly_published_previous"] = out["report_published_previous"] + (
            time.perf_counter() - t
        )
        db.session.rollback()
        services.forget_cached_reports()

        # baseline 2: the statistics alone on the loaded arrays
        data = services.load_period(period)
        t = time.perf_counter()
        analyse(data.responses, services.questionnaire(), by=("agency",), cutoff_day=None)
        out["floor"] = time.perf_counter() - t
    return out


def _child(args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses per month")
    parser.add_argument("--postgres", help="also on this (scratch!) PostgreSQL database")
    parser.add_argument("--keep", help="SQLite file to (re)use instead of a temporary one")
    parser.add_argument("--skip-setup", action="store_true", help="reuse the databases as they are")
    parser.add_argument("--_setup", help=argparse.SUPPRESS)
    parser.add_argument("--_measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._setup:
        print(json.dumps(setup(args._setup, args.n)))
        return 0
    if args._measure:
        print(json.dumps(measure(args._measure)))
        return 0

    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs")
    tmp = tempfile.TemporaryDirectory()
    sqlite = args.keep or os.path.join(tmp.name, "bench.sqlite3")
    targets = [("SQLite", f"sqlite:///{sqlite}")]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    rows = []
    for name, url in targets:
        if not args.skip_setup:
            if url.startswith("sqlite") and os.path.exists(sqlite):
                os.remove(sqlite)
            info = _child(["--_setup", url, "--n", str(args.n)])
            print(f"{name}: setup (not timed) {info}", flush=True)
        m = _child(["--_measure", url])
        print(f"{name}: {json.dumps(m)}", flush=True)
        rows.append((name, m))
    print(f"load average after: {os.getloadavg()}")
    print()
    print(
        "| Database | responses | load | analysis | PDF | XLSX | **monthly report** "
        "| previous month published | cached | peak RSS | bare SELECT | analysis floor |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for name, m in rows:
        print(
            f"| {name} | {m['n_responses']:,} | {m['load']:.1f} s | {m['analysis']:.1f} s "
            f"| {m['pdf']:.1f} s | {m['xlsx']:.1f} s | **{m['monthly_total']:.1f} s** "
            f"| {m['monthly_published_previous']:.1f} s | {1000 * m['cached']:.0f} ms "
            f"| {m['peak_mb']:.0f} MB | {m['select']:.1f} s "
            f"| {m['floor']:.1f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
