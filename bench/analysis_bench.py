"""Benchmark: ``analysis`` on 1,000,000 responses, post-stratified to dossier volumes.

Synthetic data: N responses (default 1,000,000) × the shipped questionnaire's
22 items (Q0 + 21; 15 % N/A, Q0 always answered), 500 agencies, 5 procedure
fields, 12 reporting months; dossier volumes for every agency × field × month
cell (30,000 cells) plus cells in a sixth field nobody answered about
(coverage gaps). Labels are strings, as the CLI reads them.

Measurements, each in its own subprocess (so peak memory is that
measurement's alone):

- ``floor``: pure numpy, the weighted share satisfied of every item in every
  group, from the same answer array and weights (one ``np.bincount`` per item
  for the numerator and one for the denominator) — what any per-group index
  must at least do;
- ``analysis``: :func:`analysis.volumes.poststratify_to_volumes` (cells
  matched by label, post-stratification) then :func:`analysis.analyse` —
  indices, linearised variances, Korn–Graubard intervals, tests, q values,
  for every group × (composite, 5 elements, 22 items) and for the province;
- ``report``: the same plus ``Report.to_dict()`` (what the CLI's JSON holds);
- with ``--cli``: the whole command line, ``python -m analysis indices
  R.csv --volumes V.csv --by … --format json`` on the data written as CSV.

Each is run by agency and by agency × month, in ``--rounds`` rounds that
alternate the measurements (so a busy spell on a shared machine hits them
alike), ``--repeat`` timed runs per subprocess. Wall time: best and median.
Memory: the subprocess's peak RSS (``VmHWM``, data included), the part above
the RSS after loading the data, and the peak of ``tracemalloc`` during one
more run (numpy's allocations included).

Usage::

    .venv/bin/python bench/analysis_bench.py             # prints a Markdown table
    .venv/bin/python bench/analysis_bench.py --cli --write-md  # as in bench/analysis_bench.md
    .venv/bin/python bench/analysis_bench.py --n 100000 --repeat 1 --rounds 1   # quick

Targets (issue): under 10 s and 4 GB, within 10× of the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis import analyse, load_questionnaire
from analysis.data import Responses
from analysis.volumes import Volumes, poststratify_to_volumes

GROUPINGS = {"agency": ("agency",), "agency_month": ("agency", "month")}
TARGET_SECONDS = 10.0
TARGET_BYTES = 4 * 1024**3
TARGET_RATIO = 10.0


# --------------------------------------------------------------------------- data
def make_data(directory: Path, n: int, n_agencies: int, n_months: int, n_fields: int, seed: int):
    """Write the synthetic responses and volumes as .npy files in ``directory``."""
    rng = np.random.default_rng(seed)
    q = load_questionnaire()
    m = len(q.item_codes)
    agency = rng.integers(0, n_agencies, n)
    field = rng.integers(0, n_fields, n)
    # reporting months 2024-01 … : local 15th of the month before → 14th
    month = rng.integers(0, n_months, n)
    start = np.datetime64("2023-12-15T00:00:00") - np.timedelta64(7, "h")  # 00:00 UTC+7
    month_start = (start.astype("datetime64[M]") + month).astype("datetime64[s]") + (
        start - start.astype("datetime64[M]").astype("datetime64[s]")
    )
    submitted = month_start + rng.integers(0, 28 * 86400, n).astype("timedelta64[s]")
    p = rng.uniform(0.7, 0.97, n_agencies)[agency]
    satisfied = rng.random((n, m)) < p[:, None]
    answers = np.where(satisfied, rng.integers(4, 6, (n, m)), rng.integers(1, 4, (n, m)))
    answers = answers.astype(np.int8)
    answers[rng.random((n, m)) < 0.15] = 0
    answers[:, 0] = np.where(answers[:, 0] == 0, 4, answers[:, 0])  # Q0 always answered
    agency_labels = np.char.add("AG", np.char.zfill(np.arange(n_agencies).astype(str), 4))
    field_labels = np.char.add("F", np.arange(n_fields + 1).astype(str))
    np.save(directory / "answers.npy", answers)
    np.save(directory / "agency.npy", agency_labels[agency])
    np.save(directory / "procedure_field.npy", field_labels[field])
    np.save(directory / "submitted_at.npy", submitted)
    # volumes: every responding cell, 5–20 dossiers per response, plus gap cells
    cells = (agency * n_fields + field) * n_months + month
    count = np.bincount(cells, minlength=n_agencies * n_fields * n_months)
    cell = np.flatnonzero(count)
    dossiers = np.round(count[cell] * rng.uniform(5, 20, cell.size))
    gap_agency = rng.choice(n_agencies, max(1, n_agencies // 10), replace=False)
    v_agency = np.r_[cell // (n_fields * n_months), gap_agency]
    v_field = np.r_[(cell // n_months) % n_fields, np.full(gap_agency.size, n_fields)]
    v_month = np.r_[cell % n_months, np.zeros(gap_agency.size, dtype=np.int64)]
    np.save(directory / "v_agency.npy", agency_labels[v_agency])
    np.save(directory / "v_field.npy", field_labels[v_field])
    np.save(
        directory / "v_month.npy",
        np.datetime64("2024-01", "M") + v_month.astype("timedelta64[M]"),
    )
    np.save(directory / "v_dossiers.npy", np.r_[dossiers, np.full(gap_agency.size, 50.0)])


def load_data(directory: Path):
    q = load_questionnaire()
    responses = Responses(
        answers=np.load(directory / "answers.npy"),
        item_codes=q.item_codes,
        agency=np.load(directory / "agency.npy"),
        submitted_at=np.load(directory / "submitted_at.npy"),
        procedure_field=np.load(directory / "procedure_field.npy"),
    )
    volumes = Volumes(
        agency=np.load(directory / "v_agency.npy"),
        procedure_field=np.load(directory / "v_field.npy"),
        month=np.load(directory / "v_month.npy"),
        dossiers=np.load(directory / "v_dossiers.npy"),
        line=np.arange(2, np.load(directory / "v_agency.npy").size + 2),
        source="volumes",
    )
    return q, responses, volumes


def write_csv(directory: Path) -> tuple[Path, Path]:
    """The synthetic data as RESPONSES.csv and VOLUMES.csv (for ``--cli``)."""
    q, r, v = load_data(directory)
    responses_path, volumes_path = directory / "responses.csv", directory / "volumes.csv"
    stamps = np.char.add(np.datetime_as_string(r.submitted_at, unit="s"), "Z")
    digits = np.array(["", "1", "2", "3", "4", "5"])
    columns = [
        np.char.add("R", np.arange(r.n).astype(str)),
        r.agency,
        stamps,
        r.procedure_field,
        *(digits[r.answers[:, j]] for j in range(r.answers.shape[1])),
    ]
    with open(responses_path, "w", encoding="utf-8") as f:
        f.write(
            ",".join(["response_id", "agency", "submitted_at", "procedure_field", *q.item_codes])
        )
        f.write("\n")
        step = 100_000
        for start in range(0, r.n, step):
            block = [c[start : start + step] for c in columns]
            line = block[0]
            for c in block[1:]:
                line = np.char.add(np.char.add(line, ","), c)
            f.write("\n".join(line.tolist()))
            f.write("\n")
    with open(volumes_path, "w", encoding="utf-8") as f:
        f.write("agency,procedure_field,month,dossiers\n")
        f.writelines(
            f"{a},{fl},{mo},{int(d)}\n"
            for a, fl, mo, d in zip(v.agency, v.procedure_field, v.month, v.dossiers)
        )
    return responses_path, volumes_path


# --------------------------------------------------------------------------- work
def floor(q, r, volumes, by):
    """Weighted share satisfied per group × item: one bincount pair per item.

    Groups are coded the cheapest way: the agency labels factorised once,
    the month as an integer, combined into one integer key.
    """
    del q, volumes
    _, group = np.unique(r.agency, return_inverse=True)
    if by == ("agency", "month"):
        from analysis import period_month

        month = period_month(r.submitted_at).astype(np.int64)
        month -= month.min()
        _, group = np.unique(group * (month.max() + 1) + month, return_inverse=True)
    n_groups = int(group.max()) + 1
    w = np.ones(r.n)
    out = np.empty((n_groups, r.answers.shape[1]))
    for j in range(r.answers.shape[1]):
        col = r.answers[:, j]
        num = np.bincount(group, weights=w * (col >= 4), minlength=n_groups)
        den = np.bincount(group, weights=w * (col > 0), minlength=n_groups)
        out[:, j] = num / den
    return out


def analysis_run(q, r, volumes, by):
    weighting = poststratify_to_volumes(r, volumes)
    return analyse(r, q, by=by, calibration=weighting.calibration)


def report_run(q, r, volumes, by):
    return analysis_run(q, r, volumes, by).to_dict()


WORK = {"floor": floor, "analysis": analysis_run, "report": report_run}


def rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """This process's peak RSS since exec (``VmHWM``).

    Not ``ru_maxrss``: on Linux that starts from the parent's RSS at fork time,
    so a child of a big parent would inherit the parent's peak.
    """
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def worker(args) -> None:
    """One measurement in this process; prints a JSON line."""
    q, r, volumes = load_data(Path(args.data))
    by = GROUPINGS[args.by]
    work = WORK[args.worker]
    baseline = rss_now()
    walls, cpus = [], []
    result = None
    for _ in range(args.repeat):
        del result
        w0, c0 = time.perf_counter(), time.process_time()
        result = work(q, r, volumes, by)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    peak = peak_rss()
    if isinstance(result, dict):
        groups = len(result["groups"])
    else:
        groups = getattr(getattr(result, "groups", None), "n_groups", None)
    del result
    tracemalloc.start()
    work(q, r, volumes, by)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "work": args.worker,
                "by": args.by,
                "n": r.n,
                "groups": groups,
                "walls": walls,
                "cpus": cpus,
                "peak_rss": peak,
                "baseline_rss": baseline,
                "traced_peak": traced,
            }
        )
    )


def measure(data: Path, work: str, by: str, repeat: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", work, "--by", by, "--data", str(data)]
        + ["--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{work} by {by} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_worker(args) -> None:
    """``python -m analysis indices`` in this process; prints a JSON line (peak RSS)."""
    from analysis.cli import main as cli_main

    data = Path(args.data)
    argv = ["indices", str(data / "responses.csv"), "--volumes", str(data / "volumes.csv")]
    argv += ["--by", ",".join(GROUPINGS[args.by]), "-o", str(data / f"out-{args.by}.json")]
    with open(os.devnull, "w") as quiet:
        status = cli_main(argv, stderr=quiet)
    if status:
        raise SystemExit(f"the CLI failed with status {status}")
    print(json.dumps({"peak_rss": peak_rss()}))


def measure_cli(data: Path, by: str) -> dict:
    """The command line in a child process: wall time from start to exit, its CPU and peak RSS."""
    argv = [sys.executable, __file__, "--worker", "cli", "--by", by, "--data", str(data)]
    w0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - w0
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"CLI failed:\n{err}")
    return {
        "work": "cli",
        "by": by,
        "walls": [wall],
        "cpus": [usage.ru_utime + usage.ru_stime],
        "peak_rss": json.loads(out.strip().splitlines()[-1])["peak_rss"],
        "baseline_rss": None,
        "traced_peak": None,
        "output_bytes": (data / f"out-{by}.json").stat().st_size,
    }


def make_worker(args) -> None:
    """Generate the data (and the CSV files) in a child, so the parent stays small."""
    make_data(Path(args.data), args.n, args.agencies, args.months, args.fields, args.seed)
    if args.cli:
        write_csv(Path(args.data))


# --------------------------------------------------------------------------- report
def mib(b) -> str:
    return "–" if b is None else f"{b / 1024**2:,.0f}"


def _floors(results):
    return {r["by"]: min(r["walls"]) for r in results if r["work"] == "floor"}


def table(results: list[dict]) -> str:
    floors = _floors(results)
    head = (
        "| measurement | by | groups | wall s (min) | wall s (median) | CPU s (median) "
        "| × floor (min/min) | peak RSS MiB | RSS above data MiB | tracemalloc peak MiB |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in results:
        best = min(r["walls"])
        ratio = best / floors[r["by"]] if r["by"] in floors else float("nan")
        above = None if r["baseline_rss"] is None else r["peak_rss"] - r["baseline_rss"]
        lines.append(
            f"| {r['work']} | {r['by']} | {r.get('groups') or '–'} | {best:.2f} "
            f"| {statistics.median(r['walls']):.2f} | {statistics.median(r['cpus']):.2f} "
            f"| {ratio:.1f} | {mib(r['peak_rss'])} | {mib(above)} | {mib(r['traced_peak'])} |"
        )
    return "\n".join(lines)


def verdicts(results: list[dict]) -> list[str]:
    floors = _floors(results)
    floor_medians = {
        r["by"]: statistics.median(r["walls"]) for r in results if r["work"] == "floor"
    }
    out = []
    for r in results:
        if r["work"] not in ("analysis", "report"):
            continue
        best, median = min(r["walls"]), statistics.median(r["walls"])
        ratio = best / floors[r["by"]]
        out.append(
            f"- {r['work']} by {r['by']}: {best:.2f} s best, {median:.2f} s median "
            f"({'under' if median < TARGET_SECONDS else 'OVER'} {TARGET_SECONDS:.0f} s), "
            f"peak RSS {mib(r['peak_rss'])} MiB "
            f"({'under' if r['peak_rss'] < TARGET_BYTES else 'OVER'} 4 GiB), "
            f"{ratio:.1f}× the floor "
            f"({'within' if ratio <= TARGET_RATIO else 'NOT within'} {TARGET_RATIO:.0f}×; "
            f"median over median {median / floor_medians[r['by']]:.1f}×)"
        )
    return out


def environment() -> str:
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"{os.cpu_count()} CPU ({cpu}), 1-minute load average at the start "
        f"{os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--fields", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per subprocess")
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of all measurements, alternating"
    )
    parser.add_argument("--cli", action="store_true", help="also time python -m analysis on CSV")
    parser.add_argument("--write-md", action="store_true", help="write bench/analysis_bench.md")
    parser.add_argument("--worker", choices=[*sorted(WORK), "cli", "make"], help=argparse.SUPPRESS)
    parser.add_argument("--by", choices=sorted(GROUPINGS), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        {"cli": cli_worker, "make": make_worker}.get(args.worker, worker)(args)
        return

    env = environment()
    with tempfile.TemporaryDirectory(prefix="analysis-bench-") as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        make = [sys.executable, __file__, "--worker", "make", "--data", str(data)]
        make += ["--n", str(args.n), "--agencies", str(args.agencies), "--months", str(args.months)]
        make += ["--fields", str(args.fields), "--seed", str(args.seed)]
        subprocess.run(make + (["--cli"] if args.cli else []), check=True)
        print(
            f"data{' and CSV' if args.cli else ''}: {args.n:,} responses in "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        plan = [(w, by) for by in GROUPINGS for w in ("floor", "analysis", "report")]
        if args.cli:
            plan += [("cli", by) for by in GROUPINGS]
        merged: dict[tuple[str, str], dict] = {}
        for round_ in range(args.rounds):  # rounds alternate, so drift hits all alike
            for work, by in plan:
                r = measure_cli(data, by) if work == "cli" else measure(data, work, by, args.repeat)
                print(
                    f"round {round_ + 1}: {work} by {by}: {min(r['walls']):.2f} s, "
                    f"peak RSS {mib(r['peak_rss'])} MiB",
                    file=sys.stderr,
                )
                if (work, by) not in merged:
                    merged[(work, by)] = r
                    continue
                m = merged[(work, by)]
                m["walls"] += r["walls"]
                m["cpus"] += r["cpus"]
                for key in ("peak_rss", "traced_peak"):
                    if r[key] is not None:
                        m[key] = max(m[key], r[key])
        results = list(merged.values())
    setup = (
        f"{args.n:,} responses × 22 items (Q0 + 21), {args.agencies} agencies, "
        f"{args.fields} procedure fields, {args.months} reporting months; post-stratified to "
        f"agency × field × month dossier volumes; {args.rounds} round(s) of subprocesses, "
        f"{args.repeat} timed run(s) each (the CLI: one)."
    )
    env += f", at the end {os.getloadavg()[0]:.1f}"
    text = "\n".join([setup, "", table(results), "", *verdicts(results), "", env])
    print(text)
    if args.write_md:
        (ROOT / "bench" / "analysis_bench.md").write_text(markdown(text, args), encoding="utf-8")


def markdown(text: str, args) -> str:
    return f"""# Analysis benchmark: 1,000,000 responses, post-stratified

Produced by `bench/analysis_bench.py` (`.venv/bin/python bench/analysis_bench.py
--write-md{" --cli" if args.cli else ""}`); see the script's docstring for what each
measurement does. Targets (issue): under 10 s and 4 GB, within 10× of the
floor (a pure-numpy weighted mean per group × item over the same array).

{text}

Column notes: *wall s* over the timed runs, data generation excluded (min
and median: the machine is shared, and the best run is the least disturbed);
*CPU s* can exceed wall time where a library uses a second thread; *× floor*
is the best wall time over the floor's best for the same grouping; *peak RSS*
is the measuring subprocess's high-water mark (``VmHWM``: data, interpreter
and libraries included; not ``ru_maxrss``, which on Linux inherits the
parent's size at fork); *RSS above data* subtracts the RSS after loading
the data; *tracemalloc peak* is the largest traced allocation total during
one more run of the measured call. The *cli* rows run ``python -m analysis
indices R.csv --volumes V.csv --by … -o out.json`` in a child process on the
same data written as CSV (76 MiB for 10⁶ rows): read and check the CSV,
post-stratify, analyse, ``Report.to_dict()``, write the JSON; wall time is
from process start to exit.

Where the time goes (cProfile in CPU seconds, 10⁶ rows, on the shared
machine): matching the responses to the volume cells and post-stratifying
(:func:`analysis.volumes.poststratify_to_volumes`) about 0.25 s, mostly
numbering the string labels (packed into integers) and the reporting months.
:func:`analysis.analyse` then sorts the responses by group and calibration
cell once (radix sorts; with the permutation of the answers, weights and
calibration matrix about 0.05 s), so that every group total afterwards reads
memory in order — a sparse indicator product over sorted rows is several
times faster than over shuffled ones. One pass over the answers gives the
item totals and the domains, shared by the groups and the province (about
0.17 s). Then, per table (groups, province): the 28 linearised scores per
response, looked up in a group × answer × item table (0.13–0.4 s, the
largest single cost), the calibration operators (about 0.15 s), the variance
(about 0.15–0.2 s) and the domain sizes (about 0.05 s). By agency × month the
168,000 intervals and tests (``betaincinv``, ``betainc``) add about 0.35 s
and ``Report.to_dict()`` about 0.5 s (2.7 million values, converted column
by column with ``tolist``, the garbage collector paused); by agency both are
small. In the CLI, reading and checking the CSV still takes about 4 s per
10⁶ rows, 3 s of it in Python's ``csv`` module (``analysis/cli.py`` was not
changed).

Before the changes that sorted the responses by group and shared the work
between the groups and the province (commit 9ea8302, load average 0.9–1.2):
analysis 3.06 s by agency (11.2× its floor) and 3.63 s by agency × month
(10.2×), ``report`` 5.43 s by agency × month (15.2×), peak RSS 954–1,062 MiB.
"""


if __name__ == "__main__":
    main()
