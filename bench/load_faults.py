#!/usr/bin/env python3
"""Load and faults: 100 concurrent citizens, a killed worker, a PostgreSQL restart, SQLite writers.

    python bench/load_faults.py [--duration 60] [--fault-duration 30] [--clients 100]
                                [--scenarios steady,sigkill,pgrestart,sqlite]

Runs the app under gunicorn on 127.0.0.1 (only loopback is ever contacted)
against a **private, throwaway PostgreSQL cluster** (``initdb`` into a
temporary directory, its own port and socket directory, stopped and deleted at
the end; the machine's own PostgreSQL server is never touched) and against a
temporary SQLite file, and drives it with simulated citizens: each client
repeatedly either answers the survey (GET the counter page → POST the one-tap
rating → sometimes GET/POST step 2 → sometimes POST step 3 with a unique
comment) or files a feedback case (GET /feedback/new → POST the form with a
unique marker in its content, a name, a phone or an e-mail, consent, sometimes
a small PNG attachment → GET /feedback/submitted). Every client sends its own
User-Agent (so duplicate suppression never merges two clients), rate limits
are set out of reach.

Scenarios:

steady     ``--duration`` s of load on PostgreSQL: no 5xx, no connection error.
sigkill    ``--fault-duration`` s; ``--kills`` gunicorn workers are killed with
           SIGKILL in the middle (gunicorn starts new ones). Requests in flight on
           a killed worker lose their connection (counted apart); no 5xx.
pgrestart  ``--fault-duration`` s; the private cluster is stopped (``-m fast``),
           left down ``--outage`` s and started again in the middle. Requests
           during the outage must get 503 (the app's page), never 500, and the
           service must recover by itself (pool pre-ping), same gunicorn workers.
sqlite     ``--sqlite-duration`` s on SQLite (WAL, busy timeout) with
           ``--sqlite-writers`` clients all submitting, gunicorn with as many
           request threads: no "database is locked", no 5xx.

After each scenario the database is checked:

* every acknowledged submission (the 303) is stored exactly once, as sent:
  the response id from the signed session cookie, its rating, its step-2
  answers and profile, its step-3 comment; the case code and tracking number
  from the session cookie, the case with the marker and the tracking number's
  hash, its attachment;
* nothing is half-written: no response with step 2 saved but without its
  answers, no answer without its response, no case without its due date and
  tracking hash, no case with an e-mail without its "received" message in the
  outbox, no complaint without its event, no attachment row without its file
  and no attachment file without its row;
* nothing is stored for a request answered with an error (the citizen would
  retry and be counted twice); a request whose connection was cut may or may
  not be stored (it is not acknowledged either way).

Results: a table on stdout, ``bench/load_faults.md`` (figures, machine, load
average) and JSON in ``bench/results/``. Exit status 1 if a check failed.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import pickle
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import survey_throughput as st

ROOT = st.ROOT
HOST = st.HOST  # loopback only, always
SECRET_KEY = st.SECRET_KEY
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
RESULTS_MD = BENCH_DIR / "load_faults.md"
#: Out of reach: the limiter runs on every POST but never refuses.
RATE_LIMIT = "1000000/minute;10000000/hour"
REQUEST_TIMEOUT = 30.0
FACTUAL = ("trips", "agencies_contacted", "respondent_type", "age_group", "gender")
#: Smallest valid PNG (1×1), recognised by the app's content check.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

log = st.log


# --------------------------------------------------------------------------- PostgreSQL


class PrivateCluster:
    """A throwaway PostgreSQL cluster of our own: initdb, start, restart, delete."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hailong-pg-"))
        self.data = self.dir / "data"
        self.port = st.free_port()
        self.logfile = self.dir / "postgres.log"
        self.running = False
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        atexit.register(self.destroy)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def _run(
        self, *cmd: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        full = [str(PG_BIN / cmd[0]), *cmd[1:]]
        if self.as_postgres:
            full = ["runuser", "-u", "postgres", "--", *full]
        proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd[:2])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def init(self) -> None:
        if not (PG_BIN / "initdb").exists():
            st.fail(f"{PG_BIN}/initdb not found (set BENCH_PG_BIN to PostgreSQL's bin directory)")
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        self.start()

    def start(self) -> float:
        """Start the server; the time it accepts connections (monotonic)."""
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c max_connections=200"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = True
        return time.monotonic()

    def stop(self, mode: str = "fast") -> float:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False
        return time.monotonic()

    def version(self) -> str:
        return self._run("postgres", "--version").stdout.strip()

    def destroy(self) -> None:
        if self.running:
            try:
                self.stop("immediate")
            except Exception as exc:  # noqa: BLE001 — go on deleting
                log(f"warning: could not stop the private PostgreSQL cluster: {exc}")
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- database reads


def fetch(db: st.Database, sql: str) -> list[tuple]:
    if isinstance(db, st.SQLiteDatabase):
        import sqlite3

        con = sqlite3.connect(db.path, timeout=30)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    import psycopg

    with psycopg.connect(db.url, autocommit=True, connect_timeout=10) as con:
        return con.execute(sql).fetchall()


def max_ids(db: st.Database) -> dict[str, int]:
    return {
        t: fetch(db, f"SELECT coalesce(max(id), 0) FROM {t}")[0][0]
        for t in ("responses", "feedback_cases")
    }


# --------------------------------------------------------------------------- the clients

_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_SELECT_OPTION = re.compile(r'<option value="(\d+)"')


def radio_groups(page: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for tag in _INPUT.findall(page):
        if 'type="radio"' not in tag:
            continue
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if name and value:
            groups[name.group(1)].append(value.group(1))
    return groups


class Jar:
    """The cookies of one simulated phone."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def update(self, headers: http.client.HTTPMessage) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            first, _, attrs = value.partition(";")
            name, _, val = first.strip().partition("=")
            low = attrs.lower()
            if "max-age=0" in low or "expires=thu, 01 jan 1970" in low:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


class ConnectionLost(Exception):
    pass


@dataclass
class ClientContext:
    port: int
    codes: list[str]
    run_id: str
    deadline: float  # wall clock (time.time()): shared by processes
    feedback_share: float
    details_share: float
    comment_share: float
    attachment_share: float
    out_dir: Path
    #: None: a pause of 0.2 s after an error; clients otherwise loop without pause.
    error_pause: float = 0.2


class Client:
    def __init__(self, ctx: ClientContext, name: str, seed: int) -> None:
        self.ctx = ctx
        self.name = name
        self.rng = random.Random(seed)
        self.flows = 0
        #: (type, start wall time, seconds, status or 0 for a lost connection, error)
        self.requests: list[tuple[str, float, float, int, str]] = []
        #: acknowledged submissions
        self.acks: list[dict[str, Any]] = []
        #: every submission attempted: marker/user agent → outcome status (0: connection lost)
        self.attempts: list[dict[str, Any]] = []

    # -- HTTP

    def call(
        self,
        kind: str,
        jar: Jar,
        ua: str,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
    ):
        headers = {"User-Agent": ua, "Accept-Language": "vi", "Connection": "close"}
        if jar.cookies:
            headers["Cookie"] = jar.header()
        if content_type:
            headers["Content-Type"] = content_type
        t0 = time.time()
        con = http.client.HTTPConnection(HOST, self.ctx.port, timeout=REQUEST_TIMEOUT)
        try:
            con.request(method, path, body=body, headers=headers)
            resp = con.getresponse()
            text = resp.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.requests.append((kind, t0, time.time() - t0, 0, type(exc).__name__))
            raise ConnectionLost(type(exc).__name__) from exc
        finally:
            con.close()
        self.requests.append((kind, t0, time.time() - t0, resp.status, ""))
        jar.update(resp.headers)
        return resp.status, resp.headers, text

    def form_post(self, kind, jar, ua, path, fields: dict[str, str]):
        body = urllib.parse.urlencode(fields).encode()
        return self.call(kind, jar, ua, "POST", path, body, "application/x-www-form-urlencoded")

    # -- flows

    def run(self) -> None:
        while time.time() < self.ctx.deadline:
            self.flows += 1
            ua = f"Mozilla/5.0 (Linux; Android 14) hailong-load/{self.ctx.run_id}/{self.name}/{self.flows}"
            try:
                if self.rng.random() < self.ctx.feedback_share:
                    ok = self.feedback(ua)
                else:
                    ok = self.survey(ua)
            except ConnectionLost:
                ok = False
            if not ok and self.ctx.error_pause:
                time.sleep(self.ctx.error_pause)

    def survey(self, ua: str) -> bool:
        jar = Jar()
        code = self.rng.choice(self.ctx.codes)
        base = f"/s/{code}"
        status, _, page = self.call("survey GET", jar, ua, "GET", base)
        if status != 200:
            return False
        csrf = st.hidden_value(page, "csrf_token") or ""
        started = st.hidden_value(page, "started") or ""
        overall = self.rng.randint(1, 5)
        attempt = {"what": "survey", "ua": ua, "overall": overall, "status": 0}
        self.attempts.append(attempt)
        status, headers, _ = self.form_post(
            "survey POST",
            jar,
            ua,
            base,
            {"csrf_token": csrf, "started": started, "overall": str(overall)},
        )
        attempt["status"] = status
        if status != 303 or "/more" not in headers.get("Location", ""):
            return False
        self.acks.append(
            {"what": "survey", "ua": ua, "overall": overall, "cookie": jar.cookies.get("session")}
        )
        if self.rng.random() >= self.ctx.details_share:
            return True
        status, _, page = self.call("details GET", jar, ua, "GET", base + "/more")
        if status != 200:
            return False
        choices = {name: self.rng.choice(values) for name, values in radio_groups(page).items()}
        csrf = st.hidden_value(page, "csrf_token") or csrf
        status, headers, _ = self.form_post(
            "details POST", jar, ua, base + "/more", {"csrf_token": csrf, **choices}
        )
        if status != 303:
            return False
        self.acks.append(
            {"what": "details", "ua": ua, "choices": choices, "cookie": jar.cookies.get("session")}
        )
        if self.rng.random() >= self.ctx.comment_share:
            return True
        marker = f"LB{uuid.uuid4().hex[:16]}"
        text = f"Quầy làm việc tốt, nên thêm ghế chờ. {marker}"
        status, headers, _ = self.form_post(
            "comment POST", jar, ua, base + "/comment", {"csrf_token": csrf, "comment": text}
        )
        if status != 303:
            return False
        self.acks.append(
            {"what": "comment", "ua": ua, "marker": marker, "cookie": jar.cookies.get("session")}
        )
        return True

    def feedback(self, ua: str) -> bool:
        jar = Jar()
        status, _, page = self.call("feedback GET", jar, ua, "GET", "/feedback/new")
        if status != 200:
            return False
        csrf = st.hidden_value(page, "csrf_token") or ""
        marker = f"LB{uuid.uuid4().hex[:16]}"
        n = self.rng.randrange(10**8)
        email = f"citizen{n}@example.org" if self.rng.random() < 0.5 else ""
        fields = {
            "csrf_token": csrf,
            "kind": self.rng.choice(("report", "proposal")),
            "agency_id": "",
            "content": f"Thời gian chờ ở quầy một cửa quá lâu, cần bố trí thêm cán bộ. Mã {marker}",
            "submitter_name": "Nguyễn Văn Kiểm",
            "contact_phone": f"09{n:08d}",
            "contact_email": email,
            "address": "",
            "consent": "y",
        }
        attach = self.rng.random() < self.ctx.attachment_share
        attempt = {"what": "feedback", "marker": marker, "status": 0, "attachment": attach}
        self.attempts.append(attempt)
        if attach:
            boundary = f"----hailong{uuid.uuid4().hex}"
            parts = []
            for k, v in fields.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                )
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="anh.png"\r\n'
                "Content-Type: image/png\r\n\r\n".encode()
                + PNG
                + b"\r\n"
            )
            parts.append(f"--{boundary}--\r\n".encode())
            status, headers, _ = self.call(
                "feedback POST",
                jar,
                ua,
                "POST",
                "/feedback/new",
                b"".join(parts),
                f"multipart/form-data; boundary={boundary}",
            )
        else:
            status, headers, _ = self.form_post("feedback POST", jar, ua, "/feedback/new", fields)
        attempt["status"] = status
        if status != 303 or "/feedback/submitted" not in headers.get("Location", ""):
            return False
        self.acks.append(
            {
                "what": "feedback",
                "marker": marker,
                "email": email or None,
                "attachment": attach,
                "cookie": jar.cookies.get("session"),
            }
        )
        status, _, _ = self.call("submitted GET", jar, ua, "GET", "/feedback/submitted")
        return status == 200


def client_process(ctx: ClientContext, proc_no: int, threads: int, out: Path) -> None:
    """(A forked process.) ``threads`` clients until the deadline; results pickled to ``out``."""
    clients = [Client(ctx, f"p{proc_no}t{t}", seed=proc_no * 1000 + t) for t in range(threads)]
    workers = [threading.Thread(target=c.run, daemon=True) for c in clients]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.write_bytes(
        pickle.dumps(
            {
                "requests": [r for c in clients for r in c.requests],
                "acks": [a for c in clients for a in c.acks],
                "attempts": [a for c in clients for a in c.attempts],
                "flows": sum(c.flows for c in clients),
            }
        )
    )


def run_clients(ctx: ClientContext, clients: int, processes: int, events) -> dict[str, Any]:
    """Start the clients, run ``events`` (callables at offsets, in this process), collect results."""
    processes = max(1, min(processes, clients))
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    mp = multiprocessing.get_context("fork")
    procs = []
    for i, n in enumerate(per):
        out = ctx.out_dir / f"clients-{ctx.run_id}-{i}.pickle"
        p = mp.Process(target=client_process, args=(ctx, i, n, out))
        p.start()
        procs.append((p, out))
    try:
        for at, action in events:
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            action()
        for p, _ in procs:
            p.join(timeout=max(1.0, ctx.deadline - time.time()) + REQUEST_TIMEOUT + 30)
    finally:
        for p, _ in procs:
            if p.is_alive():
                p.kill()
                p.join()
    merged: dict[str, Any] = {"requests": [], "acks": [], "attempts": [], "flows": 0}
    for p, out in procs:
        if p.exitcode != 0 or not out.exists():
            st.fail(f"a client process failed (exit {p.exitcode})")
        data = pickle.loads(out.read_bytes())
        out.unlink()
        for k in ("requests", "acks", "attempts"):
            merged[k].extend(data[k])
        merged["flows"] += data["flows"]
    return merged


# --------------------------------------------------------------------------- checking


def session_decoder():
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    app = Flask("load-faults-decoder")
    app.secret_key = SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads


def client_hashes(ua: str, days: list[date]) -> list[str]:
    key = hashlib.sha256(("client:" + SECRET_KEY).encode()).digest()
    return [
        hmac.new(key, f"{d.isoformat()}|{HOST}|{ua}".encode(), hashlib.sha256).hexdigest()[:32]
        for d in days
    ]


def open_sealed(token: str, secret_keys: list[str]) -> str | None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from survey_app.feedback.receipts import open_sealed as open_receipt

    return open_receipt(token, secret_keys)


def case_secret_hash(code: str, secret: str) -> str:
    key = hashlib.sha256(("case-secret:" + SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{code}:{secret.strip()}".encode(), hashlib.sha256).hexdigest()


def local_days() -> list[date]:
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(os.environ.get("TIMEZONE", "Asia/Ho_Chi_Minh"))).date()
    return [today - timedelta(days=1), today, today + timedelta(days=1)]


@dataclass
class Check:
    acknowledged: Tally = field(default_factory=Tally)
    problems: list[str] = field(default_factory=list)
    stored_unacknowledged_lost_connection: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_database(
    db: st.Database, before: dict[str, int], results: dict[str, Any], attachment_dir: Path
) -> Check:
    """Every acknowledged submission stored once, as sent; nothing half-written."""
    c = Check()
    decode = session_decoder()
    days = local_days()
    r0, k0 = before["responses"], before["feedback_cases"]

    responses = {
        row[0]: row
        for row in fetch(
            db,
            "SELECT id, client_hash, overall, completed_at, comment, trips, "
            f"agencies_contacted, respondent_type, age_group, gender FROM responses WHERE id > {r0}",
        )
    }
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for rid, item, value in fetch(
        db, f"SELECT response_id, item_code, value FROM answers WHERE response_id > {r0}"
    ):
        answers[rid][item] = "na" if value is None else str(value)
    orphans = fetch(
        db,
        "SELECT count(*) FROM answers a LEFT JOIN responses r ON r.id = a.response_id "
        "WHERE r.id IS NULL",
    )[0][0]
    if orphans:
        c.problem(f"{orphans} answers without their response")

    # -- survey: acknowledged rows, as sent
    by_hash: dict[str, list[int]] = defaultdict(list)
    for rid, row in responses.items():
        by_hash[row[1]].append(rid)
    for h, ids in by_hash.items():
        if len(ids) > 1:
            c.problem(f"client hash {h} stored {len(ids)} times: {ids}")
    survey_ids: dict[str, int] = {}
    for ack in results["acks"]:
        what = ack["what"]
        c.acknowledged[what] += 1
        if what not in ("survey", "details", "comment"):
            continue
        state = decode(ack["cookie"]).get("survey") or {}
        rid = state.get("r")
        row = responses.get(rid)
        if row is None:
            c.problem(f"acknowledged {what} of response {rid} ({ack['ua']}): not in the database")
            continue
        if row[1] not in client_hashes(ack["ua"], days):
            c.problem(f"response {rid}: client hash does not match {ack['ua']}")
        if what == "survey":
            survey_ids[ack["ua"]] = rid
            if row[2] != ack["overall"]:
                c.problem(f"response {rid}: overall {row[2]} stored, {ack['overall']} sent")
        elif what == "details":
            sent_items = {k: v for k, v in ack["choices"].items() if k not in FACTUAL}
            if answers.get(rid, {}) != sent_items:
                c.problem(f"response {rid}: answers {answers.get(rid)} stored, {sent_items} sent")
            stored_factual = dict(zip(FACTUAL, (None if v is None else str(v) for v in row[5:10])))
            sent_factual = {k: ack["choices"].get(k) for k in FACTUAL}
            if stored_factual != sent_factual:
                c.problem(f"response {rid}: profile {stored_factual} stored, {sent_factual} sent")
            if row[3] is None:
                c.problem(f"response {rid}: step 2 acknowledged but completed_at is empty")
        elif what == "comment":
            if not row[4] or ack["marker"] not in row[4]:
                c.problem(f"response {rid}: comment {row[4]!r} stored, marker {ack['marker']} sent")
    # half-written: step 2 saved (completed_at) without answers; every flow here
    # saves step 2 before step 3, so a completed response must have its answers
    for rid, row in responses.items():
        if row[3] is not None and not answers.get(rid):
            c.problem(f"response {rid}: completed but without answers (half-written)")
    # stored without acknowledgement: only when the connection was lost
    attempt_by_hash = {}
    for a in results["attempts"]:
        if a["what"] == "survey":
            for h in client_hashes(a["ua"], days):
                attempt_by_hash[h] = a
    for rid, row in responses.items():
        a = attempt_by_hash.get(row[1])
        if a is None:
            c.problem(f"response {rid}: stored but sent by no client of this run")
        elif a["status"] == 0:
            c.stored_unacknowledged_lost_connection += 1
        elif a["status"] != 303:
            c.problem(f"response {rid}: stored although the client was answered {a['status']}")

    # -- feedback
    cases = {
        row[1]: row
        for row in fetch(
            db,
            "SELECT id, code, secret_hash, content, contact_email, due_on, clock_start_on, "
            f"state FROM feedback_cases WHERE id > {k0}",
        )
    }
    events = Tally(
        row[0] for row in fetch(db, f"SELECT case_id FROM case_events WHERE case_id > {k0}")
    )
    outbox = Tally(
        row[0]
        for row in fetch(db, "SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE 'received:%'")
    )
    attachment_rows = fetch(
        db, f"SELECT case_id, stored_name FROM case_attachments WHERE case_id > {k0}"
    )
    attachments_by_case = Tally(row[0] for row in attachment_rows)
    marker_re = re.compile(r"LB[0-9a-f]{16}")
    by_marker: dict[str, list[str]] = defaultdict(list)
    for code, row in cases.items():
        m = marker_re.search(row[3] or "")
        by_marker[m.group(0) if m else "?"].append(code)
        if not row[2] or len(row[2]) != 64:
            c.problem(f"case {code}: no tracking hash (half-written)")
        if row[6] is None or (row[5] is None and row[7] == "submitted"):
            c.problem(f"case {code}: no clock or due date (half-written)")
        if row[4] and outbox[f"received:{row[0]}"] != 1:
            c.problem(
                f"case {code}: {outbox[f'received:{row[0]}']} 'received' messages in the outbox"
            )
        if row[7] == "redirected_complaint" and not events[row[0]]:
            c.problem(f"case {code}: redirected without its event")
    case_ids = {row[0] for row in cases.values()}
    for key in outbox:
        cid = int(key.split(":")[1])
        if cid > k0 and cid not in case_ids:
            c.problem(f"outbox message {key} without its case")
    for ack in results["acks"]:
        if ack["what"] != "feedback":
            continue
        # the receipt the citizen's browser keeps: the number sealed (feedback/receipts.py)
        receipt = (decode(ack["cookie"]).get("receipts") or [{}])[-1]
        code = receipt.get("c")
        secret = open_sealed(str(receipt.get("s") or ""), [SECRET_KEY]) or ""
        row = cases.get(code)
        if row is None:
            c.problem(f"acknowledged case {code} ({ack['marker']}): not in the database")
            continue
        if ack["marker"] not in (row[3] or ""):
            c.problem(f"case {code}: content does not carry {ack['marker']}")
        if len(by_marker.get(ack["marker"], [])) != 1:
            c.problem(
                f"marker {ack['marker']} stored in {len(by_marker.get(ack['marker'], []))} cases"
            )
        if row[2] != case_secret_hash(code, secret):
            c.problem(f"case {code}: the tracking number given does not match its hash")
        if (row[4] or None) != ack["email"]:
            c.problem(f"case {code}: e-mail {row[4]!r} stored, {ack['email']!r} sent")
        if attachments_by_case[row[0]] != (1 if ack["attachment"] else 0):
            c.problem(f"case {code}: {attachments_by_case[row[0]]} attachments stored")
    feedback_attempts = {a["marker"]: a for a in results["attempts"] if a["what"] == "feedback"}
    for marker, codes in by_marker.items():
        a = feedback_attempts.get(marker)
        if a is None:
            c.problem(f"cases {codes}: stored but sent by no client of this run")
        elif a["status"] == 0:
            c.stored_unacknowledged_lost_connection += len(codes)
        elif a["status"] != 303:
            c.problem(f"cases {codes}: stored although the client was answered {a['status']}")
    # attachments: every row has its file, every file its row
    files = {p.name for p in attachment_dir.glob("*")} if attachment_dir.exists() else set()
    rows_all = {row[0] for row in fetch(db, "SELECT stored_name FROM case_attachments")}
    missing = rows_all - files
    strays = files - rows_all
    if missing:
        c.problem(f"{len(missing)} attachment rows without their file")
    if strays:
        c.problem(f"{len(strays)} attachment files without their row (orphans on disk)")
    return c


# --------------------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


TYPES = (
    "survey GET",
    "survey POST",
    "details GET",
    "details POST",
    "comment POST",
    "feedback GET",
    "feedback POST",
    "submitted GET",
)


def by_type(requests) -> dict[str, dict[str, Any]]:
    out = {}
    for kind in TYPES:
        rows = [r for r in requests if r[0] == kind]
        if not rows:
            continue
        answered = [r[2] for r in rows if r[3]]
        out[kind] = {
            "n": len(rows),
            "statuses": dict(sorted(Tally(str(r[3] or "lost") for r in rows).items())),
            "p50_ms": round(percentile(answered, 50) * 1000, 1),
            "p99_ms": round(percentile(answered, 99) * 1000, 1),
        }
    return out


@dataclass
class ScenarioResult:
    name: str
    database: str
    gunicorn: str
    clients: int
    seconds: float
    requests: list
    acks: list
    flows: int
    check: Check
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    load_average: tuple[float, float, float] | None = None

    @property
    def statuses(self) -> Tally:
        return Tally(r[3] for r in self.requests)

    @property
    def n5xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    @property
    def n500(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)

    @property
    def lost(self) -> int:
        return self.statuses[0]

    @property
    def unexpected_4xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if 400 <= s < 500)

    @property
    def stored_per_s(self) -> float:
        return len(self.acks) / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return self.check.ok and not self.failures

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "database": self.database,
            "gunicorn": self.gunicorn,
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "requests": len(self.requests),
            "requests_per_s": round(len(self.requests) / self.seconds, 1),
            "acknowledged": dict(self.check.acknowledged),
            "acknowledged_per_s": round(self.stored_per_s, 1),
            "statuses": {str(k or "lost connection"): v for k, v in sorted(self.statuses.items())},
            "by_type": by_type(self.requests),
            "stored_unacknowledged_lost_connection": self.check.stored_unacknowledged_lost_connection,
            "problems": self.check.problems,
            "failures": self.failures,
            "notes": self.notes,
            "extra": self.extra,
            "load_average": self.load_average,
            "ok": self.ok,
        }


# --------------------------------------------------------------------------- scenarios


class LoggedServer(st.Server):
    """gunicorn with the app's own log (stderr) in its error log."""

    def command(self) -> list[str]:
        cmd = super().command()
        return [*cmd[:-1], "--capture-output", cmd[-1]]

    def workers_pids(self) -> list[int]:
        return sorted(st.child_pids(self.proc.pid)) if self.proc else []


@dataclass
class Setup:
    db: st.Database
    codes: list[str]
    work_dir: Path
    attachment_dir: Path
    cluster: PrivateCluster | None = None


def server_env(setup: Setup, port: int) -> dict[str, str]:
    env = st.app_env(setup.db, port)
    env = {k: v for k, v in env.items() if not k.startswith(("FEEDBACK_", "ATTACHMENT_", "MAIL_"))}
    env.update(
        FEEDBACK_RATE_LIMIT=RATE_LIMIT,
        SURVEY_RATE_LIMIT=RATE_LIMIT,
        TRACK_RATE_LIMIT=RATE_LIMIT,
        ATTACHMENT_DIR=str(setup.attachment_dir),
    )
    return env


def prepare(db: st.Database, work_dir: Path) -> Setup:
    db.create()
    codes = st.prepare_database(db, st.app_env(db, st.free_port()), work_dir)
    attachment_dir = work_dir / f"attachments-{db.kind}"
    attachment_dir.mkdir()
    return Setup(db, codes, work_dir, attachment_dir)


def scenario(
    name: str,
    setup: Setup,
    args: argparse.Namespace,
    *,
    clients: int,
    seconds: float,
    worker_class: str,
    workers: int,
    threads: int,
    faults=None,
) -> ScenarioResult:
    """Run ``clients`` for ``seconds`` against a fresh gunicorn; ``faults(server, t0)`` → events."""
    port = st.free_port()
    server = LoggedServer(
        name,
        "wsgi:app",
        ROOT,
        server_env(setup, port),
        port,
        worker_class,
        workers,
        threads,
        setup.work_dir,
    )
    gunicorn = f"{workers} {worker_class}" + (
        f" × {threads} threads" if worker_class == "gthread" else ""
    )
    log(f"\n== {name}: {setup.db.kind}, gunicorn {gunicorn}, {clients} clients, {seconds:g} s")
    server.start(f"/s/{setup.codes[0]}")
    try:
        before = max_ids(setup.db)
        t0 = time.time() + 0.5
        ctx = ClientContext(
            port=port,
            codes=setup.codes,
            run_id=f"{name}-{os.getpid()}",
            deadline=t0 + seconds,
            feedback_share=args.feedback_share,
            details_share=0.5,
            comment_share=0.5,
            attachment_share=0.2,
            out_dir=setup.work_dir,
        )
        extra: dict[str, Any] = {}
        events = faults(server, t0, seconds, extra) if faults else []
        results = run_clients(ctx, clients, args.client_processes, events)
        elapsed = (
            max(r[1] + r[2] for r in results["requests"]) - t0 if results["requests"] else seconds
        )
        time.sleep(1.0)  # let the last answers' transactions land (they committed before answering)
        check = check_database(setup.db, before, results, setup.attachment_dir)
        log_text = server.error_log.read_text(errors="replace") if server.error_log.exists() else ""
        extra["workers_at_end"] = server.workers_pids()
    finally:
        server.stop()
    r = ScenarioResult(
        name,
        setup.db.kind,
        gunicorn,
        clients,
        elapsed,
        results["requests"],
        results["acks"],
        results["flows"],
        check,
        extra=extra,
        load_average=os.getloadavg() if hasattr(os, "getloadavg") else None,
    )
    locked = log_text.count("database is locked")
    tracebacks = log_text.count("Traceback")
    r.extra["log_database_locked"] = locked
    r.extra["log_tracebacks"] = tracebacks
    if locked:
        r.failures.append(f"'database is locked' {locked} times in the log")
    if r.unexpected_4xx:
        r.failures.append(f"{r.unexpected_4xx} answers 4xx")
    if not len(results["acks"]):
        r.failures.append("nothing was acknowledged")
    if r.failures or not check.ok or r.n500:
        st.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        kept = st.RESULTS_DIR / f"load-faults-{name}-gunicorn-{datetime.now():%Y%m%d-%H%M%S}.log"
        kept.write_text(log_text)
        log(f"    gunicorn log kept in {kept.relative_to(ROOT)}")
        for kind, figures in by_type(r.requests).items():
            odd = {s: n for s, n in figures["statuses"].items() if s not in ("200", "303", "503")}
            if odd:
                log(f"    {kind}: {odd}")
    return r


def steady(setup: Setup, args) -> ScenarioResult:
    r = scenario(
        "steady",
        setup,
        args,
        clients=args.clients,
        seconds=args.duration,
        worker_class="sync",
        workers=args.workers,
        threads=1,
    )
    if r.n5xx:
        r.failures.append(f"{r.n5xx} answers 5xx")
    if r.lost:
        r.failures.append(f"{r.lost} connections lost")
    return r


def sigkill(setup: Setup, args) -> ScenarioResult:
    def faults(server: LoggedServer, t0: float, seconds: float, extra: dict):
        kills: list[dict[str, Any]] = []
        extra["kills"] = kills

        def kill():
            pids = server.workers_pids()
            if not pids:
                return
            pid = random.Random(len(kills)).choice(pids)
            os.kill(pid, signal.SIGKILL)
            kills.append({"at_s": round(time.time() - t0, 2), "pid": pid})
            log(f"    SIGKILL worker {pid} at {time.time() - t0:.1f} s")

        n = args.kills
        return [(t0 + seconds * (i + 1) / (n + 1), kill) for i in range(n)]

    r = scenario(
        "sigkill",
        setup,
        args,
        clients=args.clients,
        seconds=args.fault_duration,
        worker_class="sync",
        workers=args.workers,
        threads=1,
        faults=faults,
    )
    if r.n5xx:
        r.failures.append(f"{r.n5xx} answers 5xx")
    r.notes.append(
        f"{len(r.extra.get('kills', []))} workers killed; {r.lost} requests lost their "
        f"connection (in flight on a killed worker; not acknowledged)"
    )
    return r


def pgrestart(setup: Setup, args) -> ScenarioResult:
    cluster = setup.cluster
    assert cluster is not None

    def faults(server: LoggedServer, t0: float, seconds: float, extra: dict):
        extra["t0"] = t0

        def restart():
            extra["workers_before"] = server.workers_pids()
            log(f"    stopping PostgreSQL at {time.time() - t0:.1f} s")
            stop_at = time.time()
            cluster.stop("fast")
            down_at = time.time()
            time.sleep(args.outage)
            cluster.start()
            up_at = time.time()
            extra.update(stop_at=stop_at - t0, down_at=down_at - t0, up_at=up_at - t0)
            log(
                f"    PostgreSQL down from {down_at - t0:.1f} s, accepting again at {up_at - t0:.1f} s"
            )

        return [(t0 + seconds / 3, restart)]

    r = scenario(
        "pgrestart",
        setup,
        args,
        clients=args.clients,
        seconds=args.fault_duration,
        worker_class="sync",
        workers=args.workers,
        threads=1,
        faults=faults,
    )
    x = r.extra
    if "up_at" not in x:
        r.failures.append("the restart did not happen")
        return r
    t0 = x.pop("t0")
    rel = [(rq[1] - t0, rq[2], rq[3]) for rq in r.requests]  # seconds from the start
    failed = [(s, d, code) for s, d, code in rel if code >= 500 or code == 0]
    outage_s = x["up_at"] - x["stop_at"]
    first_fail_start = min((s for s, _, _ in failed), default=None)
    last_fail_end = max((s + d for s, d, _ in failed), default=None)
    # signed: negative when the last failed request was answered before the server
    # was accepting again (the requests that came after all succeeded)
    recovered_after = None if last_fail_end is None else last_fail_end - x["up_at"]
    ok_after = [s + d for s, d, code in rel if 200 <= code < 400 and s >= x["up_at"]]
    first_ok_after = (min(ok_after) - x["up_at"]) if ok_after else None
    x.update(
        outage_s=round(outage_s, 2),
        failed_503=sum(1 for *_, code in failed if code == 503),
        failed_other=sum(1 for *_, code in failed if code != 503),
        failures_outside_window=sum(1 for s, d, _ in failed if s + d < x["stop_at"] - 1),
        failures_from_s=None if first_fail_start is None else round(first_fail_start, 2),
        failures_until_s=None if last_fail_end is None else round(last_fail_end, 2),
        recovered_after_s=None if recovered_after is None else round(recovered_after, 2),
        first_success_after_s=None if first_ok_after is None else round(first_ok_after, 2),
        same_workers=sorted(x.get("workers_before", [])) == sorted(x.get("workers_at_end", [])),
    )
    if r.n500:
        r.failures.append(f"{r.n500} answers 5xx other than 503")
    if x["failed_503"] == 0:
        r.failures.append("no 503 during the outage")
    if x["failures_outside_window"]:
        r.failures.append(f"{x['failures_outside_window']} failures before the outage")
    if recovered_after is None or recovered_after > args.recovery_limit:
        r.failures.append(
            f"not recovered within {args.recovery_limit:g} s after PostgreSQL was back"
        )
    r.notes.append(
        f"PostgreSQL stopped (`pg_ctl stop -m fast`) at {x['stop_at']:.1f} s and accepting again "
        f"{outage_s:.1f} s later; requests failed from {first_fail_start or 0:.1f} s to "
        f"{last_fail_end or 0:.1f} s, all {x['failed_503']} with 503 ({x['failed_other']} other "
        f"failures); the last failure was answered {recovered_after or 0:+.1f} s from the server's "
        f"return, the first success after it {first_ok_after or 0:.2f} s after; "
        + (
            "the same gunicorn workers before and after (nothing restarted)"
            if x["same_workers"]
            else "gunicorn workers changed during the outage"
        )
    )
    return r


def sqlite_writers(setup: Setup, args) -> ScenarioResult:
    r = scenario(
        "sqlite",
        setup,
        args,
        clients=args.sqlite_writers,
        seconds=args.sqlite_duration,
        worker_class="gthread",
        workers=args.sqlite_workers,
        threads=max(1, -(-args.sqlite_writers // args.sqlite_workers)),
    )
    mode = fetch(setup.db, "PRAGMA journal_mode")[0][0]
    r.extra["journal_mode"] = mode
    if mode != "wal":
        r.failures.append(f"journal_mode is {mode}, not wal")
    if r.n5xx:
        r.failures.append(f"{r.n5xx} answers 5xx")
    if r.lost:
        r.failures.append(f"{r.lost} connections lost")
    return r


# --------------------------------------------------------------------------- report


def print_table(results: list[ScenarioResult]) -> None:
    head = (
        f"{'scenario':<10} {'db':<8} {'clients':>7} {'s':>5} {'req/s':>7} {'stored/s':>8} "
        f"{'2xx/3xx':>8} {'4xx':>5} {'503':>5} {'5xx':>5} {'lost':>5} {'acked':>7} {'check':>6}"
    )
    log("\n" + head)
    log("-" * len(head))
    for r in results:
        s = r.statuses
        ok = sum(n for code, n in s.items() if 200 <= code < 400)
        log(
            f"{r.name:<10} {r.database:<8} {r.clients:7d} {r.seconds:5.0f} "
            f"{len(r.requests) / r.seconds:7.1f} {r.stored_per_s:8.1f} {ok:8d} {r.unexpected_4xx:5d} "
            f"{s[503]:5d} {r.n500:5d} {r.lost:5d} {len(r.acks):7d} {('ok' if r.ok else 'FAIL'):>6}"
        )
    log("\nlatency by request (ms, answered requests):")
    for r in results:
        parts = [f"{k} {v['p50_ms']:.0f}/{v['p99_ms']:.0f}" for k, v in by_type(r.requests).items()]
        log(f"  {r.name:<10} p50/p99: " + ", ".join(parts))
    for r in results:
        for note in r.notes:
            log(f"  {r.name}: {note}")
        for f in r.failures + r.check.problems[:20]:
            log(f"  !! {r.name}: {f}")


def markdown(
    results: list[ScenarioResult], env: dict[str, Any], args, cluster_version: str | None
) -> str:
    la = env.get("load_average")
    lines = [
        "# Load and faults",
        "",
        "Measured by `.venv/bin/python bench/load_faults.py` "
        f"({env['when']}, commit {env['commit']}) on {env['cpu_count']} CPU cores shared by gunicorn, "
        "the database and the load generator (Python, "
        f"{args.client_processes} processes); load average before the run "
        f"{' / '.join(f'{x:.2f}' for x in la) if la else '?'} (other work on this machine makes "
        "the figures noisy; the checks are what matter).",
        "",
        f"{env['platform']}, Python {env['python']}, {env['gunicorn']}"
        + (
            f", {cluster_version} (a private throwaway cluster, fsync on)"
            if cluster_version
            else ""
        )
        + ". Only 127.0.0.1 is contacted.",
        "",
        "Each client is a phone: it answers the survey (page, one-tap rating, half the time step 2, "
        "half of those step 3 with a comment) or, "
        f"{args.feedback_share:.0%} of the time, files a feedback case (form page, POST with a name, a "
        "phone, half the time an e-mail, one in five with a PNG attachment, then the page with the "
        "tracking number). Rate limits out of reach; every client its own User-Agent.",
        "",
        "| Scenario | Database | gunicorn | Clients | Seconds | Requests/s | Stored/s | 2xx/3xx | 4xx "
        "| 503 | other 5xx | Lost connections | Acknowledged | Checks |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    for r in results:
        s = r.statuses
        ok = sum(n for code, n in s.items() if 200 <= code < 400)
        lines.append(
            f"| {r.name} | {'PostgreSQL' if r.database == 'postgres' else 'SQLite (WAL)'} | {r.gunicorn} "
            f"| {r.clients} | {r.seconds:.0f} | {len(r.requests) / r.seconds:.0f} | {r.stored_per_s:.0f} "
            f"| {ok} | {r.unexpected_4xx} | {s[503]} | {r.n500} | {r.lost} | {len(r.acks)} "
            f"| {'pass' if r.ok else '**FAIL**'} |"
        )
    lines += [
        "",
        "Stored/s: acknowledged submissions (ratings, step 2, step 3, cases) per second. "
        "Acknowledged: answered 303 and checked in the database afterwards.",
        "",
        "Latency per request, p50 / p99 in ms (answered requests):",
        "",
        "| Scenario | " + " | ".join(TYPES) + " |",
        "|---|" + "--:|" * len(TYPES),
    ]
    for r in results:
        bt = by_type(r.requests)
        cells = [
            f"{bt[k]['p50_ms']:.0f} / {bt[k]['p99_ms']:.0f}" if k in bt else "-" for k in TYPES
        ]
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    lines += ["", "Findings:", ""]
    for r in results:
        for note in r.notes:
            lines.append(f"* {r.name}: {note}.")
        if r.check.stored_unacknowledged_lost_connection:
            lines.append(
                f"* {r.name}: submissions whose connection was cut and that were stored all "
                f"the same (the client got no answer either way): "
                f"{r.check.stored_unacknowledged_lost_connection}."
            )
        for f in r.failures + r.check.problems[:10]:
            lines.append(f"* {r.name}: **{f}**")
        if r.ok:
            lines.append(
                f"* {r.name}: every acknowledged submission is stored once, as sent; nothing "
                "half-written; nothing stored for a request answered with an error."
            )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main

SCENARIOS = ("steady", "sigkill", "pgrestart", "sqlite")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated, from: " + ", ".join(SCENARIOS) + " (default: all)",
    )
    p.add_argument(
        "--duration", type=float, default=60, help="seconds of the steady run (default 60)"
    )
    p.add_argument(
        "--fault-duration",
        type=float,
        default=30,
        help="seconds of the sigkill and pgrestart runs (default 30)",
    )
    p.add_argument(
        "--clients", type=int, default=100, help="concurrent clients on PostgreSQL (default 100)"
    )
    p.add_argument(
        "--workers", type=int, default=4, help="gunicorn sync workers on PostgreSQL (default 4)"
    )
    p.add_argument(
        "--kills", type=int, default=3, help="workers killed in the sigkill run (default 3)"
    )
    p.add_argument(
        "--outage", type=float, default=4, help="seconds PostgreSQL stays down (default 4)"
    )
    p.add_argument(
        "--recovery-limit",
        type=float,
        default=10,
        help="seconds after PostgreSQL is back within which errors must stop (default 10)",
    )
    p.add_argument(
        "--sqlite-writers", type=int, default=20, help="concurrent clients on SQLite (default 20)"
    )
    p.add_argument(
        "--sqlite-workers",
        type=int,
        default=4,
        help="gthread workers on SQLite; threads = writers / workers (default 4)",
    )
    p.add_argument(
        "--sqlite-duration", type=float, default=30, help="seconds of the SQLite run (default 30)"
    )
    p.add_argument(
        "--feedback-share", type=float, default=0.25, help="share of feedback flows (default 0.25)"
    )
    p.add_argument(
        "--client-processes",
        type=int,
        default=4,
        help="processes the clients are spread over (default 4)",
    )
    p.add_argument("--no-markdown", action="store_true", help=f"do not write {RESULTS_MD.name}")
    args = p.parse_args(argv)
    args.selected = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.selected) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = st.environment_info()
    started = time.monotonic()
    work_dir = Path(tempfile.mkdtemp(prefix="hailong-load-"))
    results: list[ScenarioResult] = []
    cluster: PrivateCluster | None = None
    cluster_version = None
    databases: list[st.Database] = []
    try:
        pg_scenarios = [s for s in args.selected if s in ("steady", "sigkill", "pgrestart")]
        if pg_scenarios:
            cluster = PrivateCluster()
            log(f"private PostgreSQL cluster in {cluster.dir}, port {cluster.port}")
            cluster.init()
            cluster_version = cluster.version()
            pg = st.PostgresDatabase(cluster.admin_url)
            databases.append(pg)
            setup = prepare(pg, work_dir)
            setup.cluster = cluster
            log(f"  {pg.describe()}")
            for name in pg_scenarios:
                results.append(
                    {"steady": steady, "sigkill": sigkill, "pgrestart": pgrestart}[name](
                        setup, args
                    )
                )
                print_table(results[-1:])
        if "sqlite" in args.selected:
            lite = st.SQLiteDatabase()
            databases.append(lite)
            setup = prepare(lite, work_dir)
            log(f"  {lite.describe()}")
            results.append(sqlite_writers(setup, args))
            print_table(results[-1:])
    finally:
        for db in databases:
            try:
                db.drop()
            except Exception:  # noqa: BLE001
                pass
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(work_dir, ignore_errors=True)

    log("\n== all scenarios")
    print_table(results)
    md = markdown(results, env, args, cluster_version)
    if not args.no_markdown:
        RESULTS_MD.write_text(md)
        log(f"\nwritten: {RESULTS_MD.relative_to(ROOT)}")
    st.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = st.RESULTS_DIR / f"load-faults-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    payload = {
        "environment": env,
        "settings": {k: v for k, v in vars(args).items()},
        "results": [r.summary() for r in results],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    log(f"results: {out.relative_to(ROOT)}  ({payload['elapsed_s']:.0f} s)")
    if not all(r.ok for r in results):
        log("!! some checks failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
