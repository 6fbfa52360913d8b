"""Benchmark: ``flask outbox send`` delivers 10,000 queued SMS to a fake gateway.

The fake (tests/fakes/sms_gateway.py) is a threaded ``http.server`` on 127.0.0.1 that
answers like a brandname provider's JSON API, in a process of its own (in the same
process it would share the interpreter lock with the sender and halve its speed); the outbox reuses one HTTP connection
(a ``requests.Session``) for the run and claims rows 200 at a time, each sent and
committed in its own transaction (as production does). The schema is built by the
migrations. Afterwards the gateway's log is checked against the outbox: every
message received exactly once (by our ``hl-<id>`` reference), every row ``sent``.

    python bench/outbox_sms.py                       # SQLite (a temporary file)
    python bench/outbox_sms.py --database-url postgresql://postgres@127.0.0.1/hailong_channels

PostgreSQL: the database's ``public`` schema is dropped and built again. Figures
in bench/outbox_sms.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.feedback import outbox
from survey_app.feedback.models import OutboxMessage
from tests.fakes.sms_gateway import SETTINGS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages (default 10,000)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--limit", type=int, default=10_000, help="flask outbox send --limit")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="outbox-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        NOTIFY_QUIET_HOURS = ""  # the run may be at night
        NOTIFY_CHANNEL_ORDER = "sms,email"

    app = create_app(BenchConfig)
    app.instance_path = tmp
    gateway = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.sms_gateway"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        gateway_url = gateway.stdout.readline().strip()
        return run(app, args, url, gateway_url)
    finally:
        gateway.send_signal(signal.SIGINT)
        gateway.wait(timeout=10)


def run(app, args, url: str, gateway_url: str) -> int:
    with app.app_context():
        app.config.update({**SETTINGS, "SMS_GATEWAY_URL": gateway_url + "/send"})
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        started = time.perf_counter()
        for i in range(args.n):
            phone = f"09{i:08d}"
            outbox.enqueue(
                phone,
                "received",
                f"Đã tiếp nhận phản ánh, kiến nghị PA-2026-{i:06d}. Mã tra cứu: 2345 6789 "
                f"{i % 10000:04d}. Theo dõi tại https://hailong.example.gov.vn/feedback/track/"
                f"PA-2026-{i:06d}",
                f"bench:{i}",
                channel="sms",
                kind="received",
            )
        db.session.commit()
        queued_s = time.perf_counter() - started
        parts = Counter(db.session.scalars(select(OutboxMessage.segments)).all())
        runner = app.test_cli_runner()
        started = time.perf_counter()
        total_sent = 0
        runs = 0
        while True:  # cron would run it again; each run does at most --limit
            result = runner.invoke(args=["outbox", "send", "--limit", str(args.limit)])
            assert result.exit_code == 0, result.output
            runs += 1
            sent = int(result.output.split()[1].rstrip(","))
            total_sent += sent
            if sent == 0:
                break
        elapsed = time.perf_counter() - started
        db.session.expire_all()
        ids = set(db.session.scalars(select(OutboxMessage.id)).all())
        statuses = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        received = requests.get(gateway_url + "/_sent", timeout=30).json()["refs"]
        refs = Counter(received)
        received_ids = {int(r[3:]) for r in refs}
        duplicates = sum(1 for c in refs.values() if c > 1)
        lost = len(ids - received_ids)
        print(
            f"database: {db.engine.dialect.name}; messages: {args.n}; segments per SMS: {dict(parts)}"
        )
        print(f"queued in {queued_s:.2f} s ({args.n / queued_s:,.0f}/s)")
        print(
            f"sent {total_sent} in {elapsed:.2f} s over {runs} run(s) of `flask outbox send "
            f"--limit {args.limit}`: {total_sent / elapsed:,.0f} messages/s"
        )
        print(
            f"gateway received {len(received)}; lost {lost}; duplicated {duplicates}; statuses {statuses}"
        )
        ok = (
            lost == 0
            and duplicates == 0
            and statuses == {"sent": args.n}
            and len(received) == args.n
        )
        print("OK: none lost, none duplicated" if ok else "FAILED")
        db.session.remove()
        db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
