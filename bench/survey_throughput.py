#!/usr/bin/env python3
"""Survey throughput benchmark: step-1 submissions per second under gunicorn.

    python bench/survey_throughput.py [--duration 15] [--connections 50]
                                      [--db sqlite|postgres|both]
                                      [--worker-class sync|gthread|both]

For each database it creates a throwaway database (SQLite: a temporary file,
WAL as the app configures it; PostgreSQL: ``hailong_bench_<pid>``, dropped at
the end), runs ``flask db upgrade``, creates agencies and counters, then
measures, in the same run and with the same gunicorn settings (2 workers on
127.0.0.1):

* the app: ``POST /s/<code>`` (the one-tap rating) with a real CSRF token,
  session cookie and signed ``started`` field, a different User-Agent on every
  request (so the duplicate check runs its query but never matches), rate
  limiting on with a limit that is never reached;
* the baseline: ``bench/bare_app.py``, bare Flask + Flask-SQLAlchemy inserting
  one row per POST on the same database.

Load comes from ``wrk`` (``bench/survey_post.lua``): a closed loop of
``--connections`` clients, after a short warm-up. Only 303 answers count as
submissions; anything else is reported. After each measurement the rows
stored are checked against the 303s counted.

Targets (the issue): the app reaches at least 80 % of the baseline's
throughput and its p99 latency is under 50 ms.

Results are printed as a table and a Markdown table, and written as JSON to
``bench/results/`` (not committed). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import html
import http.client
import itertools
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
LUA_SCRIPT = BENCH_DIR / "survey_post.lua"
BIN_DIR = Path(sys.executable).parent

HOST = "127.0.0.1"  # loopback only, always
TARGET_RATIO = 0.80
TARGET_P99_MS = 50.0
#: Never reached, so the limiter's bookkeeping runs on every POST but never refuses.
BENCH_RATE_LIMIT = "1000000/minute;10000000/hour"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123"
#: More cores than this used by other processes during a measurement makes it noisy.
NOISY_CORES = 0.25
#: Numbers wrk runs and probes, so every User-Agent sent is unique (no duplicates).
_RUNS = itertools.count(1)
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def log(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


# --------------------------------------------------------------------------- databases


class Database:
    kind: str
    url: str  # as given to DATABASE_URL

    def create(self) -> None: ...

    def drop(self) -> None: ...

    def scalar(self, sql: str) -> Any: ...

    def describe(self) -> str: ...

    def backend_cpu_seconds(self) -> float:
        """CPU used by database server processes for this database (0: in-process SQLite)."""
        return 0.0


class SQLiteDatabase(Database):
    kind = "sqlite"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hailong-bench-"))
        self.path = self.dir / "bench.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def create(self) -> None:
        pass  # the app creates the file; its connect event turns WAL on

    def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def scalar(self, sql: str) -> Any:
        import sqlite3

        con = sqlite3.connect(self.path, timeout=30)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()

    def describe(self) -> str:
        import sqlite3

        mode = self.scalar("PRAGMA journal_mode")
        return f"SQLite {sqlite3.sqlite_version}, journal_mode={mode}, synchronous=NORMAL (app pragmas)"


class PostgresDatabase(Database):
    kind = "postgres"

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"hailong_bench_{os.getpid()}"
        parts = urllib.parse.urlsplit(admin_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            fail(f"PostgreSQL must be on the loopback interface, not {parts.hostname}")
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        self.created = False

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as con:
            con.execute(sql)

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if self.created:
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 — report and go on
                log(f"warning: could not drop {self.name}: {exc}")
            self.created = False

    def scalar(self, sql: str) -> Any:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as con:
            return con.execute(sql).fetchone()[0]

    def describe(self) -> str:
        version = self.scalar("SHOW server_version")
        sync = self.scalar("SHOW synchronous_commit")
        return f"PostgreSQL {version}, synchronous_commit={sync}, psycopg 3"

    def backend_cpu_seconds(self) -> float:
        try:
            import psycopg

            with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as con:
                pids = [
                    row[0]
                    for row in con.execute(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ]
        except Exception:  # noqa: BLE001
            return 0.0
        return sum(proc_cpu_seconds(pid) for pid in pids)

    @staticmethod
    def available(admin_url: str) -> str | None:
        """None if the server answers, else why not."""
        try:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as con:
                con.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001
            return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def app_env(db: Database, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "RATELIMIT_", "SURVEY_", "DATABASE_URL", "APP_ENV"))
    }
    env.update(
        FLASK_APP="wsgi",
        APP_ENV="production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=db.url,
        PUBLIC_BASE_URL=f"http://{HOST}:{port}",
        RATELIMIT_ENABLED="1",
        RATELIMIT_STORAGE_URI="memory://",
        SURVEY_RATE_LIMIT=BENCH_RATE_LIMIT,
        # wrk replays one page's fields for every tap of a counter: with the check on,
        # all but the first would be one double tap (a real phone loads a new page)
        SURVEY_DOUBLE_TAP_CHECK="0",
        PROXY_FIX_X_FOR="0",
        SESSION_COOKIE_SECURE="0",
        PYTHONUNBUFFERED="1",
        # the repository first, as for `flask` and gunicorn run from its root
        PYTHONPATH=os.pathsep.join(
            [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        ),
    )
    return env


def run(
    cmd: list[str], env: dict[str, str], what: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        fail(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class Server:
    """A gunicorn master we started (and stop, by its pid only)."""

    label: str
    module: str
    chdir: Path
    env: dict[str, str]
    port: int
    worker_class: str
    workers: int
    threads: int
    log_dir: Path
    proc: subprocess.Popen | None = None

    @property
    def error_log(self) -> Path:
        return self.log_dir / f"gunicorn-{self.label}-{self.port}.log"

    def command(self) -> list[str]:
        cmd = [
            str(BIN_DIR / "gunicorn"),
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--bind",
            f"{HOST}:{self.port}",
            "--chdir",
            str(self.chdir),
            "--log-level",
            "warning",
            "--error-logfile",
            str(self.error_log),
            "--timeout",
            "60",
        ]
        if self.worker_class == "gthread":
            cmd += ["--threads", str(self.threads)]
        return [*cmd, self.module]

    def start(self, ready_path: str) -> None:
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            cwd=self.chdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(
                    f"gunicorn ({self.label}) exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _, _ = http_request(self.port, "GET", ready_path, timeout=2)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        fail(f"gunicorn ({self.label}) did not answer within 30 s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """CPU of the gunicorn master and its workers so far."""
        if not self.proc:
            return 0.0
        return proc_cpu_seconds(self.proc.pid) + sum(
            proc_cpu_seconds(pid) for pid in child_pids(self.proc.pid)
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no gunicorn log)"


def http_request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, http.client.HTTPMessage, str]:
    con = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        con.request(method, path, body=body, headers=headers or {})
        resp = con.getresponse()
        return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
    finally:
        con.close()


# --------------------------------------------------------------------------- CPU accounting
#
# The machine's cores are shared by the server, the database, wrk and whatever
# else runs. CPU time per request (from /proc) is steadier than requests/s when
# something else competes, and the machine's total busy time tells whether it did.

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of one process (0 if it is gone or not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def child_pids(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float | None:
    """CPU seconds spent in user and system mode by the whole machine (all cores)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    user, nice, system = (int(x) for x in fields[1:4])
    return (user + nice + system) / CLK_TCK


def children_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuSnapshot:
    at: float
    server: float
    database: float
    machine: float | None

    @classmethod
    def take(cls, server: Server, db: Database) -> CpuSnapshot:
        return cls(
            time.monotonic(), server.cpu_seconds(), db.backend_cpu_seconds(), machine_busy_seconds()
        )


# --------------------------------------------------------------------------- setup


SEED_COUNTERS = 40


def seed(args: argparse.Namespace) -> None:
    """(Runs in a subprocess with the app's environment.) Agencies and counters, if none yet."""
    from sqlalchemy import func, select

    from survey_app import create_app
    from survey_app.agencies.models import AgencyKind, Counter
    from survey_app.agencies.services import create_agency, create_counter
    from survey_app.extensions import db

    app = create_app()
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Counter)):
            return
        province = create_agency("BENCH", "Tỉnh Benchmark", kind=AgencyKind.province)
        per_agency = SEED_COUNTERS // 4
        for a in range(4):
            agency = create_agency(
                f"BENCH-{a + 1}", f"Sở thứ {a + 1}", province, AgencyKind.department
            )
            for c in range(per_agency):
                create_counter(agency, f"Quầy {c + 1}", f"Tầng 1, quầy {c + 1}")
        db.session.commit()


def prepare_database(db: Database, env: dict[str, str], log_dir: Path) -> list[str]:
    """Migrate, create counters, create the baseline's table; return counter codes."""
    py = sys.executable
    run([py, "-m", "flask", "db", "upgrade"], env, "flask db upgrade")
    demo = subprocess.run(
        [py, "-m", "flask", "demo", "load", "--no-responses"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (log_dir / f"demo-load-{db.kind}.log").write_text(demo.stdout + demo.stderr)
    if demo.returncode == 0:
        how = "flask demo load --no-responses"
    else:
        how = "agencies.services (demo data not available)"
    run([py, __file__, "--seed-only"], env, "creating counters")
    run([py, str(BENCH_DIR / "bare_app.py")], env, "creating the baseline table")
    active = (
        "FROM counters c JOIN agencies a ON a.id = c.agency_id WHERE c.is_active AND a.is_active"
    )
    n = db.scalar(f"SELECT count(*) {active}")
    codes = fetch_codes(db, f"SELECT c.code {active} ORDER BY c.id")
    if not codes:
        fail("no active counters to submit to")
    step = max(1, len(codes) // SEED_COUNTERS)
    codes = codes[::step][:SEED_COUNTERS]
    log(f"  counters: {n} active ({how}); the load spreads over {len(codes)}")
    return codes


def fetch_codes(db: Database, sql: str) -> list[str]:
    if isinstance(db, SQLiteDatabase):
        import sqlite3

        con = sqlite3.connect(db.path)
        try:
            return [row[0] for row in con.execute(sql)]
        finally:
            con.close()
    import psycopg

    with psycopg.connect(db.url, autocommit=True) as con:
        return [row[0] for row in con.execute(sql)]


_INPUT = re.compile(r"<input\b[^>]*>", re.I)


def hidden_value(page: str, name: str) -> str | None:
    for tag in _INPUT.findall(page):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(match.group(1)) if match else ""
    return None


def harvest_targets(port: int, codes: list[str], path: Path) -> None:
    """GET each counter's page: its session cookie, CSRF token and signed ``started``."""
    lines = []
    for code in codes:
        status, headers, page = http_request(
            port, "GET", f"/s/{code}", headers={"User-Agent": "hailong-bench setup"}
        )
        if status != 200:
            fail(f"GET /s/{code} answered {status}")
        cookie = None
        for value in headers.get_all("Set-Cookie") or []:
            name_value = value.split(";", 1)[0].strip()
            if name_value.startswith("session="):
                cookie = name_value
        csrf = hidden_value(page, "csrf_token")
        started = hidden_value(page, "started")
        if not cookie or not csrf or started is None:
            fail(f"GET /s/{code}: no session cookie, csrf_token or started field in the page")
        q = urllib.parse.quote
        lines.append(f"/s/{code}\t{cookie}\t{q(csrf, safe='')}\t{q(started, safe='')}")
    path.write_text("\n".join(lines) + "\n")


def probe(port: int, targets: Path, expect_location: str) -> None:
    """One POST from Python, as wrk will send them: it must be a 303."""
    path, cookie, csrf, started = targets.read_text().splitlines()[0].split("\t")
    status, headers, page = http_request(
        port,
        "POST",
        path,
        body=f"csrf_token={csrf}&started={started}&overall=4",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "User-Agent": f"hailong-bench probe {os.getpid()}.{next(_RUNS)}",
        },
    )
    location = headers.get("Location", "")
    if status != 303 or expect_location not in location:
        text = re.sub(r"<[^>]+>", " ", page)
        fail(f"probe POST {path} answered {status} {location!r}: {' '.join(text.split())[:400]}")


# --------------------------------------------------------------------------- load


def wrk_available() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        fail(
            "wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk "
            "(elsewhere: https://github.com/wg/wrk)."
        )
    return wrk


def run_wrk(
    wrk: str, port: int, targets: Path, duration: float, connections: int, threads: int
) -> dict[str, Any]:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        f"http://{HOST}:{port}",
        "--",
        str(targets),
        f"{os.getpid()}.{next(_RUNS)}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    line = next((row for row in proc.stdout.splitlines() if row.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        fail(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["wrk_output"] = "\n".join(
        row for row in proc.stdout.splitlines() if not row.startswith("BENCH_RESULT ")
    )
    return result


def settled_count(count) -> int:
    """Row count once requests still queued when wrk stopped have been served."""
    last = count()
    stable_since = time.monotonic()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = count()
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 1.0:
            break
    return last


@dataclass
class Measurement:
    """One wrk run against one server."""

    label: str  # "app" or "bare"
    wrk: dict[str, Any]
    rows_stored: int
    cpu: dict[str, float | None]
    profile: str | None = None
    noisy: bool = False

    @property
    def seconds(self) -> float:
        return self.wrk["duration_us"] / 1e6

    @property
    def ok(self) -> int:
        return self.wrk["ok_303"]

    @property
    def rps(self) -> float:
        return self.ok / self.seconds

    @property
    def p50_ms(self) -> float:
        return self.wrk["latency_us"]["p50"] / 1000

    @property
    def p99_ms(self) -> float:
        return self.wrk["latency_us"]["p99"] / 1000

    @property
    def unanswered(self) -> int:
        return max(0, self.wrk["sent"] - self.wrk["ok_303"] - self.wrk["other"])

    @property
    def errors(self) -> int:
        e = self.wrk["errors"]
        return self.wrk["other"] + e["connect"] + e["read"] + e["write"] + e["timeout"]

    @property
    def rows_ok(self) -> bool:
        """Every acknowledged (303) submission is stored. wrk stops with one request
        in flight per connection; those it abandoned may be stored too (the server
        still serves them), so at most ``unanswered`` rows more than 303s."""
        return self.ok <= self.rows_stored <= self.ok + self.unanswered

    def summary(self) -> dict[str, Any]:
        return {
            "submissions_per_s": round(self.rps, 1),
            "ok_303": self.ok,
            "seconds": round(self.seconds, 2),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "latency_us": self.wrk["latency_us"],
            "non_303": self.wrk["by_status"],
            "socket_errors": self.wrk["errors"],
            "sent": self.wrk["sent"],
            "unanswered_at_stop": self.unanswered,
            "rows_stored": self.rows_stored,
            "rows_check": self.rows_ok,
            "cpu": self.cpu,
            "noisy": self.noisy,
            "profile": self.profile,
        }


def wait_for_quiet(server: Server, db: Database, limit: float) -> float | None:
    """Wait (up to ``limit`` s) until other processes leave the cores alone; return their load."""
    deadline = time.monotonic() + limit
    announced = False
    while True:
        a = CpuSnapshot.take(server, db)
        time.sleep(1.0)
        b = CpuSnapshot.take(server, db)
        if a.machine is None or b.machine is None:
            return None
        others = max(
            0.0, (b.machine - a.machine) - (b.server - a.server) - (b.database - a.database)
        )
        others /= b.at - a.at
        if others <= NOISY_CORES or time.monotonic() >= deadline:
            if announced:
                log(f"         (other processes now use {others:.2f} cores; going on)")
            return others
        if not announced:
            log(f"         waiting up to {limit:g} s: other processes use {others:.2f} cores")
            announced = True


def measure(
    label: str,
    server: Server,
    db: Database,
    targets: Path,
    count,
    args: argparse.Namespace,
    wrk: str,
    profile_dir: Path | None,
) -> Measurement:
    """Warm up, then measure; measure again (``--retries``) if other processes got in the way."""
    if args.warmup > 0:
        run_wrk(wrk, server.port, targets, args.warmup, args.connections, args.wrk_threads)
    attempts = 1 if profile_dir is not None else 1 + args.retries
    best: Measurement | None = None
    for attempt in range(1, attempts + 1):
        m = measure_once(label, server, db, targets, count, args, wrk, profile_dir)
        busy = m.cpu["other_processes_cores"]
        if best is None or (busy or 0.0) < (best.cpu["other_processes_cores"] or 0.0):
            best = m
        if busy is None or busy <= NOISY_CORES:
            break
        log(
            f"         !! other processes used {busy:.2f} cores during this measurement"
            + ("; measuring again" if attempt < attempts else "")
        )
    assert best is not None
    busy = best.cpu["other_processes_cores"]
    if attempts > 1 and best is not m:
        log(f"         (keeping the quieter measurement: {best.rps:.1f} submissions/s)")
    if busy is not None and busy > NOISY_CORES:
        log(f"         !! {label}: figures are noisy (other processes used {busy:.2f} cores)")
    best.noisy = busy is not None and busy > NOISY_CORES
    return best


def measure_once(
    label: str,
    server: Server,
    db: Database,
    targets: Path,
    count,
    args: argparse.Namespace,
    wrk: str,
    profile_dir: Path | None,
) -> Measurement:
    before = settled_count(count)
    if profile_dir is None:
        wait_for_quiet(server, db, args.quiet_wait)
    spy = profile_path = None
    if profile_dir is not None:
        spy, profile_path = start_py_spy(server, label, profile_dir, args.duration)
    cpu0 = CpuSnapshot.take(server, db)
    wrk0 = children_cpu_seconds()
    result = run_wrk(wrk, server.port, targets, args.duration, args.connections, args.wrk_threads)
    wrk_cpu = children_cpu_seconds() - wrk0
    after = settled_count(count)  # the requests wrk left queued are served by now
    cpu1 = CpuSnapshot.take(server, db)
    if spy is not None:
        spy.wait(timeout=args.duration + 60)
    rows = after - before
    per_row = 1000 / rows if rows else 0.0
    elapsed = cpu1.at - cpu0.at
    server_cpu = cpu1.server - cpu0.server
    db_cpu = cpu1.database - cpu0.database
    cpu: dict[str, float | None] = {
        "server_ms_per_request": round(server_cpu * per_row, 3),
        "database_ms_per_request": round(db_cpu * per_row, 3) if db.kind != "sqlite" else None,
        "server_cores": round(server_cpu / elapsed, 2),
        "database_cores": round(db_cpu / elapsed, 2) if db.kind != "sqlite" else None,
        "wrk_cores": round(wrk_cpu / elapsed, 2),
        "other_processes_cores": None,
    }
    if cpu0.machine is not None and cpu1.machine is not None:
        others = (cpu1.machine - cpu0.machine) - server_cpu - db_cpu - wrk_cpu
        cpu["other_processes_cores"] = round(max(0.0, others) / elapsed, 2)
    m = Measurement(label, result, rows, cpu, str(profile_path) if profile_path else None)

    flag = (
        ""
        if m.errors == 0
        else f"  !! {m.errors} NOT 303: {result['by_status']} {result['errors']}"
    )
    db_part = (
        f" + database {cpu['database_ms_per_request']:.2f} ms"
        if cpu["database_ms_per_request"] is not None
        else ""
    )
    log(
        f"    {label:<4} {m.rps:8.1f} submissions/s  p50 {m.p50_ms:6.1f} ms  "
        f"p99 {m.p99_ms:6.1f} ms  CPU/request: server {cpu['server_ms_per_request']:.2f} ms"
        f"{db_part}{flag}"
    )
    check = "OK" if m.rows_ok else "FAILED"
    log(
        f"         rows check {check}: {m.rows_stored} rows stored, {m.ok} acknowledged (303), "
        f"{m.unanswered} sent but unanswered when wrk stopped"
    )
    if m.errors:
        log("    gunicorn log (tail):\n" + server.log_tail(20))
    return m


def start_py_spy(server: Server, label: str, out_dir: Path, duration: float):
    """py-spy on the gunicorn master and its workers for the measurement (collapsed stacks)."""
    spy = BIN_DIR / "py-spy"
    if not spy.exists():
        fail("--profile needs py-spy: .venv/bin/pip install py-spy")
    out = out_dir / f"{server.label}-{server.worker_class}-{server.port}.txt"
    cmd = [
        str(spy),
        "record",
        "--format",
        "raw",
        "--output",
        str(out),
        "--duration",
        str(int(duration)),
        "--rate",
        "200",
        "--nonblocking",
        "--subprocesses",
        "--pid",
        str(server.proc.pid),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, out


def _frame_package(frame: str) -> str:
    """The package a py-spy frame ``func (path:line)`` belongs to (py-spy shortens
    paths to the import path, e.g. ``sqlalchemy/orm/session.py``)."""
    match = re.search(r"\(([^()]*?)(?::\d+)?\)$", frame)
    path = match.group(1) if match else frame
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    if "bare_app" in path:
        return "bare_app"
    if "/" not in path:
        return "python stdlib" if path.endswith(".py") or path.startswith("<") else path
    head = path.lstrip("/").split("/", 1)[0]
    return "python stdlib" if head in ("usr", "opt") or head.startswith("python3") else head


def profile_summary(
    path: Path, top: int = 12
) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """From py-spy's collapsed stacks, over the samples inside a request: the share
    spent in (and below) each app function, and the share of CPU burnt in each
    distribution (the innermost Python frame's)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or "handle_request" not in stack:
            continue
        count = int(n)
        total += count
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        seen = set()
        for frame in frames:
            if "survey_app/" not in frame and "bare_app" not in frame:
                continue
            name = re.sub(r":\d+\)$", ")", frame)
            if name not in seen:
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + count
        package = _frame_package(frames[-1]) if frames else "?"
        own[package] = own.get(package, 0) + count
    if not total:
        return [], []

    def ranked(d: dict[str, int]) -> list[tuple[float, str]]:
        return [(100 * n / total, k) for k, n in sorted(d.items(), key=lambda kv: -kv[1])[:top]]

    return ranked(inclusive), ranked(own)


# --------------------------------------------------------------------------- one database


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


@dataclass
class Comparison:
    """App against baseline for one database and worker class, over ``rounds`` rounds."""

    db: str
    db_description: str
    worker_class: str
    app_runs: list[Measurement]
    bare_runs: list[Measurement]
    #: ``--ladder``: (layers added to the bare endpoint, measurement), mildest first.
    ladder: list[tuple[tuple[str, ...], Measurement]] = field(default_factory=list)

    def _median(self, runs: list[Measurement], attr: str) -> float:
        return median([getattr(m, attr) for m in runs])

    @property
    def app_rps(self) -> float:
        return self._median(self.app_runs, "rps")

    @property
    def bare_rps(self) -> float:
        return self._median(self.bare_runs, "rps")

    def p(self, label: str, which: str) -> float:
        return self._median(self.app_runs if label == "app" else self.bare_runs, f"{which}_ms")

    def cpu_ms(self, label: str, key: str = "server_ms_per_request") -> float | None:
        values = [m.cpu[key] for m in (self.app_runs if label == "app" else self.bare_runs)]
        values = [v for v in values if v is not None]
        return median(values) if values else None

    def cpu_total_ms(self, label: str) -> float | None:
        """CPU per request of gunicorn plus the database server (PostgreSQL backends)."""
        server = self.cpu_ms(label)
        if server is None:
            return None
        return server + (self.cpu_ms(label, "database_ms_per_request") or 0.0)

    @property
    def cpu_ratio(self) -> float | None:
        """bare / app CPU per request: the throughput ratio to expect when both are CPU-bound;
        steadier than the measured ratio when other processes compete for the cores."""
        app, bare = self.cpu_total_ms("app"), self.cpu_total_ms("bare")
        return bare / app if app and bare else None

    @property
    def errors(self) -> int:
        return sum(m.errors for m in self.app_runs + self.bare_runs)

    @property
    def noisy(self) -> bool:
        return any(m.noisy for m in self.app_runs + self.bare_runs)

    @property
    def rows_ok(self) -> bool:
        return all(m.rows_ok for m in self.app_runs + self.bare_runs)

    @property
    def ratio(self) -> float:
        return self.app_rps / self.bare_rps if self.bare_rps else 0.0

    @property
    def ratio_met(self) -> bool:
        return self.ratio >= TARGET_RATIO

    @property
    def p99_met(self) -> bool:
        return self.p("app", "p99") < TARGET_P99_MS

    @property
    def clean(self) -> bool:
        return self.errors == 0 and self.rows_ok

    def summary(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "database": self.db_description,
            "worker_class": self.worker_class,
            "app": {
                "submissions_per_s": round(self.app_rps, 1),
                "p50_ms": round(self.p("app", "p50"), 2),
                "p99_ms": round(self.p("app", "p99"), 2),
                "server_cpu_ms_per_request": self.cpu_ms("app"),
                "database_cpu_ms_per_request": self.cpu_ms("app", "database_ms_per_request"),
                "runs": [m.summary() for m in self.app_runs],
            },
            "bare": {
                "submissions_per_s": round(self.bare_rps, 1),
                "p50_ms": round(self.p("bare", "p50"), 2),
                "p99_ms": round(self.p("bare", "p99"), 2),
                "server_cpu_ms_per_request": self.cpu_ms("bare"),
                "database_cpu_ms_per_request": self.cpu_ms("bare", "database_ms_per_request"),
                "runs": [m.summary() for m in self.bare_runs],
            },
            "ladder": [
                {
                    "layers": list(layers),
                    "submissions_per_s": round(m.rps, 1),
                    "p99_ms": round(m.p99_ms, 2),
                    "server_cpu_ms_per_request": m.cpu["server_ms_per_request"],
                    "share_of_bare": round(m.rps / self.bare_rps, 3) if self.bare_rps else None,
                }
                for layers, m in self.ladder
            ],
            "ratio": round(self.ratio, 3),
            "cpu_ratio": round(self.cpu_ratio, 3) if self.cpu_ratio is not None else None,
            "target_ratio_met": self.ratio_met,
            "target_p99_met": self.p99_met,
            "errors": self.errors,
            "rows_check": self.rows_ok,
            "noisy": self.noisy,
        }


def bench_database(
    db: Database, args: argparse.Namespace, wrk: str, work_dir: Path, profile_dir: Path | None
) -> list[Comparison]:
    log(f"\n== {db.kind}")
    db.create()
    try:
        codes = prepare_database(db, app_env(db, free_port()), work_dir)
        description = db.describe()
        log(f"  {description}")
        targets = work_dir / f"targets-{db.kind}.tsv"
        results = []
        for worker_class in args.worker_classes:
            threads = f" × {args.threads} threads" if worker_class == "gthread" else ""
            log(
                f"  gunicorn: {args.workers} {worker_class} workers{threads}; wrk: "
                f"{args.connections} connections, {args.duration:g} s after {args.warmup:g} s warm-up"
                + (f", {args.rounds} rounds" if args.rounds > 1 else "")
            )
            runs: dict[str, list[Measurement]] = {"app": [], "bare": []}
            for round_no in range(args.rounds):
                # the app first in round 1 (its pages give the tokens), then alternate
                order = ("app", "bare") if round_no % 2 == 0 else ("bare", "app")
                for label in order:
                    port = free_port()
                    env = app_env(db, port)
                    if label == "app":
                        server = Server(
                            label,
                            args.app,
                            ROOT,
                            env,
                            port,
                            worker_class,
                            args.workers,
                            args.threads,
                            work_dir,
                        )
                        server.start(f"/s/{codes[0]}")
                        table = "responses"
                    else:
                        server = Server(
                            label,
                            "bare_app:app",
                            BENCH_DIR,
                            env,
                            port,
                            worker_class,
                            args.workers,
                            args.threads,
                            work_dir,
                        )
                        server.start("/")
                        table = "bench_bare_rows"
                    try:
                        if label == "app" and round_no == 0:
                            harvest_targets(port, codes, targets)
                        probe(port, targets, "/more")
                        runs[label].append(
                            measure(
                                label,
                                server,
                                db,
                                targets,
                                lambda t=table: db.scalar(f"SELECT count(*) FROM {t}"),
                                args,
                                wrk,
                                profile_dir,
                            )
                        )
                    finally:
                        server.stop()
            comparison = Comparison(db.kind, description, worker_class, runs["app"], runs["bare"])
            if args.ladder:
                comparison.ladder = climb_ladder(
                    db, codes, targets, worker_class, args, wrk, work_dir, profile_dir
                )
            log(
                f"    app/bare {comparison.ratio:.0%} (target ≥ {TARGET_RATIO:.0%}: "
                f"{met(comparison.ratio_met)}); app p99 "
                f"{comparison.p('app', 'p99'):.1f} ms (target < {TARGET_P99_MS:g} ms: "
                f"{met(comparison.p99_met)})"
            )
            results.append(comparison)
        return results
    finally:
        db.drop()


#: ``--ladder``: the survey's protections added to the bare endpoint one at a time
#: (bench/ladder_app.py), to show what each costs against the baseline. The rungs
#: with ``row`` store the bare endpoint's row in the app's ``responses`` table
#: instead of its own. ``csrf+session+limit+row`` is what the issue itself
#: requires of every submission, each part done by the library it names: the
#: CSRF check, the session that lets steps 2 and 3 add to the response and stops
#: a second tap, the rate limit and a stored response; the last rung adds what
#: operations need (the access log and the security headers).
LADDER = (
    ("row",),
    ("csrf",),
    ("csrf", "limit", "row"),
    ("csrf", "limit"),
    ("csrf", "session"),
    ("csrf", "session", "limit"),
    ("csrf", "session", "limit", "row"),  # what the issue requires, nothing else
    ("csrf", "session", "limit", "log"),
    ("csrf", "session", "limit", "log", "headers"),
    ("csrf", "session", "limit", "log", "headers", "row"),
)


def parse_rungs(text: str | None) -> tuple[tuple[str, ...], ...]:
    """``--rungs``: ``"csrf+limit,csrf+session+limit+row"`` → those rungs; all of LADDER if empty."""
    if not text:
        return LADDER
    rungs = tuple(tuple(part.strip().split("+")) for part in text.split(",") if part.strip())
    known = {layer for rung in LADDER for layer in rung}
    unknown = {layer for rung in rungs for layer in rung} - known
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown layers {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    return rungs


def ladder_table(layers: tuple[str, ...]) -> str:
    """The table a rung of the ladder stores its rows in."""
    return "responses" if "row" in layers else "bench_bare_rows"


def climb_ladder(
    db: Database,
    codes: list[str],
    targets: Path,
    worker_class: str,
    args: argparse.Namespace,
    wrk: str,
    work_dir: Path,
    profile_dir: Path | None,
) -> list[tuple[tuple[str, ...], Measurement]]:
    """Measure bench/ladder_app.py with each rung of :data:`LADDER`, like the bare endpoint."""
    rungs = []
    for layers in args.rungs:
        port = free_port()
        env = app_env(db, port) | {"LADDER": ",".join(layers)}
        label = "+" + "+".join(layers)
        table = ladder_table(layers)
        server = Server(
            "ladder", "ladder_app:app", BENCH_DIR, env, port, worker_class,
            args.workers, args.threads, work_dir,
        )  # fmt: skip
        server.start("/")
        try:
            probe(port, targets, "/more")
            measurement = measure(
                label,
                server,
                db,
                targets,
                lambda t=table: db.scalar(f"SELECT count(*) FROM {t}"),
                args,
                wrk,
                profile_dir,
            )
        finally:
            server.stop()
        rungs.append((layers, measurement))
    return rungs


def print_ladder(results: list[Comparison]) -> None:
    for r in results:
        if not r.ladder:
            continue
        log(
            f"\nladder ({r.db}, 2 {r.worker_class}): the bare endpoint plus the survey's protections"
        )
        log(f"  {'layers':<44} {'sub/s':>8} {'of bare':>8} {'p99':>6} {'cpu/req':>7}")
        log(f"  {'(bare)':<44} {r.bare_rps:8.1f} {1:8.0%} {r.p('bare', 'p99'):6.1f} "
            f"{fmt_cpu(r.cpu_ms('bare')):>7}")  # fmt: skip
        for layers, m in r.ladder:
            log(
                f"  {'+ ' + ' + '.join(layers):<44} {m.rps:8.1f} {m.rps / r.bare_rps:8.0%} "
                f"{m.p99_ms:6.1f} {fmt_cpu(m.cpu['server_ms_per_request']):>7}"
            )
        log(f"  {'the app (all of the above and more)':<44} {r.app_rps:8.1f} {r.ratio:8.0%} "
            f"{r.p('app', 'p99'):6.1f} {fmt_cpu(r.cpu_ms('app')):>7}")  # fmt: skip


def ladder_markdown(results: list[Comparison]) -> str:
    lines = []
    for r in results:
        if not r.ladder:
            continue
        name = "SQLite (WAL)" if r.db == "sqlite" else "PostgreSQL"
        lines += [
            "",
            f"{name}, 2 × {r.worker_class}: the bare endpoint with the survey's protections "
            "added one at a time (`--ladder`, bench/ladder_app.py), same run:",
            "",
            "| Endpoint | Submissions/s | Share of bare | p99 | CPU/req |",
            "|---|--:|--:|--:|--:|",
            f"| bare | {r.bare_rps:.0f} | 100% | {r.p('bare', 'p99'):.1f} ms "
            f"| {fmt_cpu(r.cpu_ms('bare'))} ms |",
        ]
        for layers, m in r.ladder:
            lines.append(
                f"| + {' + '.join(layers)} | {m.rps:.0f} | {m.rps / r.bare_rps:.0%} "
                f"| {m.p99_ms:.1f} ms | {fmt_cpu(m.cpu['server_ms_per_request'])} ms |"
            )
        lines.append(
            f"| the app | {r.app_rps:.0f} | {r.ratio:.0%} | {r.p('app', 'p99'):.1f} ms "
            f"| {fmt_cpu(r.cpu_ms('app'))} ms |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def met(flag: bool) -> str:
    return "met" if flag else "NOT met"


def fmt_cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_table(results: list[Comparison]) -> None:
    head = (
        f"{'database':<9} {'gunicorn':<10} {'app sub/s':>9} {'p50':>6} {'p99':>6} {'cpu/req':>7} "
        f"{'bare sub/s':>10} {'p50':>6} {'p99':>6} {'cpu/req':>7} {'app/bare':>8} {'(cpu)':>5} "
        f"{'non-303':>7} {'rows':>4} {'≥80%':>5} {'p99<50':>6}"
    )
    log("\n" + head)
    log("-" * len(head))
    for r in results:
        cpu_ratio = "-" if r.cpu_ratio is None else f"{r.cpu_ratio:.0%}"
        log(
            f"{r.db:<9} {f'2 {r.worker_class}':<10} {r.app_rps:9.1f} {r.p('app', 'p50'):6.1f} "
            f"{r.p('app', 'p99'):6.1f} {fmt_cpu(r.cpu_total_ms('app')):>7} {r.bare_rps:10.1f} "
            f"{r.p('bare', 'p50'):6.1f} {r.p('bare', 'p99'):6.1f} {fmt_cpu(r.cpu_total_ms('bare')):>7} "
            f"{r.ratio:8.0%} {cpu_ratio:>5} {r.errors:7d} {('ok' if r.rows_ok else 'FAIL'):>4} "
            f"{yes(r.ratio_met):>5} {yes(r.p99_met):>6}" + ("  NOISY" if r.noisy else "")
        )
    log(
        "sub/s: 303 answers per second; p50/p99 in ms; cpu/req: CPU ms per request of gunicorn\n"
        "(+ PostgreSQL); (cpu): bare/app CPU per request, the ratio expected when both are\n"
        "CPU-bound; rows ok: every 303 counted by wrk is a row in the database."
    )


def markdown_table(results: list[Comparison], args: argparse.Namespace) -> str:
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    lines = [
        f"Step 1 of the survey (`POST /s/<code>`, the one-tap rating) against a bare Flask + "
        f"Flask-SQLAlchemy endpoint inserting one row, same run, same gunicorn settings: "
        f"{args.workers} workers, {args.connections} concurrent clients (wrk), "
        f"{args.duration:g} s per measurement{rounds}, on {os.cpu_count()} CPU cores shared by "
        f"gunicorn, the database and wrk. CPU/req: CPU time per submission of gunicorn "
        f"(plus the PostgreSQL backends).",
        "",
        "| Database | gunicorn | App submissions/s | App p50 | App p99 | App CPU/req | "
        "Bare inserts/s | Bare p50 | Bare p99 | Bare CPU/req | App / bare | ≥ 80 % | p99 < 50 ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|",
    ]
    for r in results:
        name = ("SQLite (WAL)" if r.db == "sqlite" else "PostgreSQL") + ("\\*" if r.noisy else "")
        workers = f"2 × {r.worker_class}" + (
            f" ({args.threads} threads)" if r.worker_class == "gthread" else ""
        )
        lines.append(
            f"| {name} | {workers} | {r.app_rps:.0f} | {r.p('app', 'p50'):.1f} ms "
            f"| {r.p('app', 'p99'):.1f} ms | {fmt_cpu(r.cpu_total_ms('app'))} ms | {r.bare_rps:.0f} "
            f"| {r.p('bare', 'p50'):.1f} ms | {r.p('bare', 'p99'):.1f} ms "
            f"| {fmt_cpu(r.cpu_total_ms('bare'))} ms | {r.ratio:.0%} "
            f"| {yes(r.ratio_met).lower()} | {yes(r.p99_met).lower()} |"
        )
    if any(r.noisy for r in results):
        lines += ["", "\\* other processes competed for the cores during this measurement."]
    return "\n".join(lines)


def environment_info() -> dict[str, Any]:
    def version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except Exception:  # noqa: BLE001
            return "?"

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gunicorn": version([str(BIN_DIR / "gunicorn"), "--version"]),
        "wrk": version(["wrk", "--version"]) if shutil.which("wrk") else None,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--duration", type=float, default=15, help="seconds per measurement (default 15)"
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=3,
        help="warm-up seconds before each measurement (default 3)",
    )
    p.add_argument("--connections", type=int, default=50, help="concurrent clients (default 50)")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "both"),
        default="sync",
        help="gunicorn worker class (default sync; 'both' adds gthread)",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure app and baseline this many times, alternating, and take medians",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=10,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other processes to "
        "leave the cores alone (default 10)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=1,
        help="measure again this many times if other processes were busy (default 1)",
    )
    p.add_argument(
        "--wrk-threads",
        type=int,
        default=1,
        help="wrk threads (default 1: the cores are shared with the server)",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL admin URL on 127.0.0.1 (default $BENCH_PG_URL or %(default)s)",
    )
    p.add_argument(
        "--ladder",
        action="store_true",
        help="also measure the bare endpoint with the survey's protections added one at a time",
    )
    p.add_argument(
        "--rungs",
        type=parse_rungs,
        default=LADDER,
        metavar="A+B,C+D",
        help="with --ladder: only these rungs, e.g. csrf+session+limit+row (default: all)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="record gunicorn with py-spy during each measurement (.venv/bin/pip install py-spy)",
    )
    p.add_argument(
        "--app",
        default="wsgi:app",
        metavar="MODULE:VAR",
        help="WSGI app to measure (default wsgi:app; e.g. a variant to compare)",
    )
    p.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.rounds < 1 or args.workers < 1:
        p.error("--duration, --connections, --rounds and --workers must be positive")
    args.worker_classes = (
        ("sync", "gthread") if args.worker_class == "both" else (args.worker_class,)
    )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed_only:
        seed(args)
        return 0
    wrk = wrk_available()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5:
        log(
            f"note: load average {os.getloadavg()[0]:.2f} before starting; other work on this "
            "machine makes the figures noisy"
        )

    databases: list[Database] = []
    if args.db in ("sqlite", "both"):
        databases.append(SQLiteDatabase())
    if args.db in ("postgres", "both"):
        why = PostgresDatabase.available(args.pg_url)
        if why is None:
            databases.append(PostgresDatabase(args.pg_url))
        elif args.db == "postgres":
            fail(f"PostgreSQL at {args.pg_url} is not reachable: {why}")
        else:
            log(
                f"!! PostgreSQL SKIPPED: {args.pg_url} is not reachable ({why}); "
                "set --pg-url or BENCH_PG_URL"
            )

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    profile_dir = RESULTS_DIR / f"profiles-{stamp}" if args.profile else None
    if profile_dir:
        profile_dir.mkdir(parents=True)
    results: list[Comparison] = []
    work_dir = Path(tempfile.mkdtemp(prefix="hailong-bench-run-"))
    started = time.monotonic()
    try:
        for db in databases:
            try:
                results.extend(bench_database(db, args, wrk, work_dir, profile_dir))
            finally:
                db.drop()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        for db in databases:
            db.drop()

    print_table(results)
    print_ladder(results)
    markdown = markdown_table(results, args) + ladder_markdown(results)
    log("\nMarkdown for the README:\n\n" + markdown + "\n")

    if profile_dir:
        for path in sorted(profile_dir.glob("*.txt")):
            functions, packages = profile_summary(path)
            log(f"\npy-spy {path.relative_to(ROOT)}: share of the time in requests spent")
            log("  in and below these app functions:")
            for share, name in functions:
                log(f"    {share:5.1f}%  {name}")
            log("  in the code of (innermost Python frame):")
            for share, name in packages:
                log(f"    {share:5.1f}%  {name}")

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"survey-throughput-{stamp}.json"
    payload = {
        "environment": environment_info(),
        "settings": {
            "app": args.app,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "quiet_wait_s": args.quiet_wait,
            "retries": args.retries,
            "connections": args.connections,
            "workers": args.workers,
            "threads_gthread": args.threads,
            "wrk_threads": args.wrk_threads,
            "survey_rate_limit": BENCH_RATE_LIMIT,
        },
        "targets": {"ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS},
        "results": [r.summary() for r in results],
        "markdown": markdown,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    log(f"results: {out.relative_to(ROOT)}  ({payload['elapsed_s']:.0f} s)")

    if any(r.noisy for r in results):
        log(
            "!! other processes competed for the cores during some measurements (marked NOISY):\n"
            "   rerun on an idle machine for figures to publish"
        )
    if not all(r.clean for r in results):
        log("!! some measurements had non-303 answers or a failed rows check (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
