#!/usr/bin/env python3
"""Instructions per survey submission, counted by valgrind: figures that noise cannot move.

    python bench/instructions.py [--requests 300] [--db sqlite|postgres|both] [--ladder]

Requests per second on a shared machine move by 10–15 % from run to run, more
than most changes to the tap path are worth. This counts the CPU instructions
the Python process executes per ``POST /s/<code>``, with ``valgrind
--tool=callgrind``: the same count for the same code, whatever else the machine
is doing. It measures the WSGI application called in-process (no gunicorn, no
sockets), so it is the application's own work; ``survey_throughput.py`` gives
the throughput under gunicorn.

For each target (the app, the bare endpoint of ``bare_app.py`` and, with
``--ladder``, each rung of ``survey_throughput.LADDER``) a child process is
started under callgrind with instrumentation off. It builds the WSGI app, warms
up with 50 requests, and prepares its requests; only then is instrumentation
switched on (``callgrind_control -i on``), the requests are sent, and it is
switched off again. The same is done with a third of the requests, and the
difference of the two counts divided by the difference in requests is the
count per request: whatever is counted once per process (switching on and
off, the waiting) cancels out.

The requests are those the throughput benchmark sends: the session cookie,
CSRF token and signed start time of a real survey page (harvested from the app
under gunicorn), ``overall=1..5``, a different User-Agent each time, spread
over the counters. Every one must be answered 303, and the rows stored are
checked as in the throughput benchmark.

Needs valgrind (``apt-get install valgrind``). About 1 minute per target and
database with the defaults, mostly valgrind starting the interpreter.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import survey_throughput as st  # (bench/ is not a package: imported from its folder)

WARMUP = 50
#: How long a child may take to start or to answer its requests under valgrind.
CHILD_TIMEOUT = 900


# --------------------------------------------------------------------------- the child


def child(target: str, requests: int, sync_dir: Path, targets: Path) -> int:
    """(Runs under valgrind.) Build ``target``, warm up, then answer ``requests`` POSTs."""
    from werkzeug.test import EnvironBuilder

    sys.path[:0] = [str(st.ROOT), str(st.BENCH_DIR)]
    app = _build(target)
    posts = [line.split("\t") for line in targets.read_text().splitlines() if line]

    def environ(i: int) -> dict:
        path, cookie, csrf, started = posts[i % len(posts)]
        body = f"csrf_token={csrf}&started={started}&overall={i % 5 + 1}".encode()
        env = EnvironBuilder(
            path=path,
            method="POST",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"Cookie": cookie, "User-Agent": f"hailong-instructions {os.getpid()}.{i}"},
        ).get_environ()
        env["REMOTE_ADDR"] = "127.0.0.1"
        return env

    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def send(environs: list[dict]) -> None:
        for env in environs:
            body = app(env, start_response)
            try:
                for _ in body:
                    pass
            finally:
                getattr(body, "close", lambda: None)()

    send([environ(i) for i in range(WARMUP)])
    measured = [environ(WARMUP + i) for i in range(requests)]
    statuses.clear()
    _signal(sync_dir / "ready", str(os.getpid()))
    _wait_for(sync_dir / "go")
    send(measured)
    _signal(sync_dir / "done", json.dumps(statuses))
    _wait_for(sync_dir / "end")
    return 0


def _build(target: str):
    if target == "app":
        module, _, name = os.environ.get("BENCH_APP", "wsgi:app").partition(":")
        return getattr(importlib.import_module(module), name or "app")
    import bare_app

    if target == "bare":
        return bare_app.create_app()
    import ladder_app

    return ladder_app.create_app(set(target.removeprefix("+").split("+")))


def _signal(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: the parent acts as soon as it exists."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def _wait_for(path: Path) -> None:
    # a short sleep, not a blocking read: callgrind takes its commands while code runs
    while not path.exists():
        time.sleep(0.02)


# --------------------------------------------------------------------------- the parent


def count(target: str, requests: int, env: dict[str, str], targets: Path) -> int:
    """Instructions the child executed while answering ``requests`` POSTs."""
    with tempfile.TemporaryDirectory(prefix="hailong-instr-") as tmp:
        sync = Path(tmp)
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={sync / 'callgrind.out'}",
            sys.executable,
            __file__,
            "--child",
            target,
            "--requests",
            str(requests),
            "--sync-dir",
            str(sync),
            "--targets",
            str(targets),
        ]
        errors = sync / "valgrind.err"
        with errors.open("w") as err:
            proc = subprocess.Popen(cmd, cwd=st.ROOT, env=env, stdout=err, stderr=err)
            try:
                _parent_wait(proc, sync / "ready", errors)
                pid = int((sync / "ready").read_text())
                _control(pid, "on")
                (sync / "go").touch()
                _parent_wait(proc, sync / "done", errors)
                _control(pid, "off")
                (sync / "end").touch()
                proc.wait(timeout=CHILD_TIMEOUT)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        statuses = json.loads((sync / "done").read_text())
        wrong = [s for s in statuses if not s.startswith("303")]
        if len(statuses) != requests or wrong:
            st.fail(f"{target}: {len(statuses)} answers, not 303: {sorted(set(wrong))[:5]}")
        found = re.search(r"Collected\s*:\s*(\d+)", errors.read_text())
        if not found:
            st.fail(f"{target}: no count from callgrind:\n{errors.read_text()[-2000:]}")
        return int(found.group(1))


def _parent_wait(proc: subprocess.Popen, path: Path, errors: Path) -> None:
    deadline = time.monotonic() + CHILD_TIMEOUT
    while not path.exists():
        if proc.poll() is not None:
            st.fail(f"the child exited with {proc.returncode}:\n{errors.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            st.fail(f"the child did not write {path.name} within {CHILD_TIMEOUT} s")
        time.sleep(0.1)


def _control(pid: int, state: str) -> None:
    result = subprocess.run(
        ["callgrind_control", "-i", state, str(pid)], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        st.fail(f"callgrind_control -i {state} {pid}: {result.stdout}{result.stderr}")


def per_request(target: str, requests: int, env: dict[str, str], targets: Path) -> float:
    few = max(1, requests // 3)
    return (count(target, requests, env, targets) - count(target, few, env, targets)) / (
        requests - few
    )


def bench_database(db: st.Database, args: argparse.Namespace, work_dir: Path) -> dict:
    st.log(f"\n== {db.kind}")
    db.create()
    try:
        env = st.app_env(db, st.free_port())
        codes = st.prepare_database(db, env, work_dir)
        targets = work_dir / f"targets-{db.kind}.tsv"
        port = st.free_port()
        server = st.Server(
            "app", "wsgi:app", st.ROOT, st.app_env(db, port), port, "sync", 1, 1, work_dir
        )
        server.start(f"/s/{codes[0]}")
        try:
            st.harvest_targets(port, codes, targets)
        finally:
            server.stop()
        names = ["bare", "app"]
        if args.ladder:
            names += ["+" + "+".join(layers) for layers in args.rungs]
        figures: dict[str, float] = {}
        for name in names:
            table = (
                "responses"
                if name == "app"
                else st.ladder_table(tuple(name.removeprefix("+").split("+")))
            )
            before = db.scalar(f"SELECT count(*) FROM {table}")
            child_env = env | {"LADDER": "", "BENCH_APP": args.app}
            figures[name] = per_request(name, args.requests, child_env, targets)
            stored = db.scalar(f"SELECT count(*) FROM {table}") - before
            expected = 2 * WARMUP + args.requests + max(1, args.requests // 3)
            if stored != expected:
                st.fail(f"{name}: {stored} rows stored for {expected} requests answered 303")
            st.log(f"  {name:<36} {figures[name] / 1e6:8.2f} M instructions per request")
        return {"db": db.kind, "description": db.describe(), "per_request": figures}
    finally:
        db.drop()


def print_results(results: list[dict]) -> str:
    lines = []
    for r in results:
        bare = r["per_request"]["bare"]
        name = "SQLite (WAL)" if r["db"] == "sqlite" else "PostgreSQL"
        lines += [
            "",
            f"{name}: instructions of the Python process per `POST /s/<code>` "
            "(valgrind, in-process WSGI call):",
            "",
            "| Endpoint | Instructions per request | Bare ÷ this |",
            "|---|--:|--:|",
        ]
        for target, value in r["per_request"].items():
            label = {"bare": "bare: one INSERT", "app": "the app"}.get(
                target, "+ " + target[1:].replace("+", " + ")
            )
            lines.append(f"| {label} | {value / 1e6:.2f} M | {bare / value:.0%} |")
    text = "\n".join(lines)
    print(text)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=300, help="measured requests (default 300)")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    p.add_argument("--ladder", action="store_true", help="also every rung of the ladder")
    p.add_argument(
        "--rungs",
        type=st.parse_rungs,
        default=st.LADDER,
        metavar="A+B,C+D",
        help="with --ladder: only these rungs, e.g. csrf+session+limit+row (default: all)",
    )
    p.add_argument(
        "--app",
        default="wsgi:app",
        metavar="MODULE:VAR",
        help="the WSGI app measured as 'app', e.g. a variant with a proposed change",
    )
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", st.DEFAULT_PG_URL))
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--sync-dir", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--targets", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.requests < 3:
        p.error("--requests must be at least 3")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args.child, args.requests, args.sync_dir, args.targets)
    for tool in ("valgrind", "callgrind_control"):
        if not st.shutil.which(tool):
            st.fail(f"{tool} not found: sudo apt-get install -y valgrind")
    databases: list[st.Database] = []
    if args.db in ("sqlite", "both"):
        databases.append(st.SQLiteDatabase())
    if args.db in ("postgres", "both"):
        why = st.PostgresDatabase.available(args.pg_url)
        if why:
            st.fail(f"PostgreSQL at {args.pg_url} cannot be used: {why}")
        databases.append(st.PostgresDatabase(args.pg_url))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hailong-instr-run-") as tmp:
        results = [bench_database(db, args, Path(tmp)) for db in databases]
    markdown = print_results(results)
    st.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = st.RESULTS_DIR / f"instructions-{stamp}.json"
    out.write_text(
        json.dumps({"requests": args.requests, "results": results, "markdown": markdown}, indent=2)
    )
    st.log(f"\nresults: {out.relative_to(st.ROOT)}  ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
