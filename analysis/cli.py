"""``python -m analysis indices RESPONSES.csv [options]``: indices per group, as JSON, CSV or a table.

RESPONSES.csv (``flask export responses`` writes it): ``response_id, agency,
submitted_at`` (ISO 8601; no offset = UTC), optionally ``stratum, cluster,
weight, counter, procedure_field, questionnaire_version``, and one column per
item code of the questionnaire with 1–5 or empty (N/A or not asked).

VOLUMES.csv (``flask export volumes``): ``agency, procedure_field, month,
dossiers`` → the base weights are post-stratified to agency × field × month
cells (:mod:`analysis.volumes`); an agency-month with a response whose
procedure field is empty (or has no volume) is one cell with the sum of its
fields' volumes, as in the app's reports. Without VOLUMES.csv the base
weights are used as they are, and the output says so. An optional
``return_channel`` column of VOLUMES.csv (``counter``, ``online``, ``post``,
empty for all) gives a cell's dossiers by how their results went back; they
are summed into the cell, and with ``--by-return-channel`` (and a
``return_channel`` column in RESPONSES.csv) the cell is split by it where
every dossier's and respondent's channel is known
(:func:`analysis.weights.split_cells`).

The input is checked before anything is computed, and every problem is
reported on standard error with its file and line; then the exit status is
2 and nothing is written. Exit status 1: the input was readable but the
analysis could not be done (e.g. a stratum with one PSU under
``--lonely-psu fail``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import itertools
import json
import math
import operator
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from .data import _KNOWN, InputError, Problems, Responses, parse_timestamps
from .intervals import DEFAULT_MIN_N, flag_names
from .questionnaire import DEFAULT_QUESTIONNAIRE, Questionnaire, load_questionnaire
from .report import EstimateTable, analyse
from .volumes import VolumeWeighting, poststratify_to_volumes, read_volumes_csv

#: Columns RESPONSES.csv may have besides the items.
METADATA_COLUMNS = (*_KNOWN, "questionnaire_version")
REQUIRED_COLUMNS = ("response_id", "agency", "submitted_at")
#: Statistics in CSV and table rows, in order.
ROW_FIELDS = (
    "n",
    "n_kish",
    "n_eff",
    "n_use",
    "df",
    "index",
    "se",
    "ci_low",
    "ci_high",
    "p_below",
    "p_above",
    "q_below",
    "q_above",
    "verdict",
    "weight_total",
    "deff",
    "flags",
)
GROUP_COLUMNS = ("agency", "month", "counter", "procedure_field", "stratum", "cluster")
#: Problems shown on standard error (all are counted).
MAX_SHOWN = 50
#: Records read and checked at a time.
CHUNK = 65_536
_ANSWER = {"": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


# --------------------------------------------------------------------------- reading
def read_responses_checked(
    path: str | Path,
    questionnaire: Questionnaire,
    *,
    extra_columns: tuple[str, ...] = (),
    source: str | None = None,
) -> tuple[Responses, np.ndarray]:
    """Read RESPONSES.csv, checking everything :func:`analysis.read_responses_csv` trusts.

    Problems (each with its line): unknown columns (neither an item of the
    questionnaire nor a known column nor in ``extra_columns``), missing
    required or item columns, rows with the wrong number of fields, empty or
    duplicate response ids, empty agencies, empty or unreadable
    ``submitted_at``, answers other than 1–5 or empty, weights that are not
    positive finite numbers (or a partly empty weight, stratum or cluster
    column), a ``questionnaire_version`` other than the questionnaire's.

    :return: the responses (answers in ``questionnaire.item_codes`` order) and
        the line of each in the file.
    :raises InputError: with every problem found.
    """
    source = source or str(path)
    problems = Problems(source)
    codes = questionnaire.item_codes
    # a clean file is read by pyarrow's CSV reader in a fraction of the time;
    # anything it cannot vouch for is read again, carefully, with every problem
    # found and its line
    chunks = _read_fast(path, questionnaire, extra_columns)
    if chunks is None:
        chunks = _read_careful(path, questionnaire, extra_columns, problems)
    if not chunks:
        if not problems:
            problems.add(None, "no responses (only a header)")
        raise problems.error()

    def joined(name):
        return np.concatenate([c[name] for c in chunks]) if name in chunks[0] else None

    line = joined("line")
    _check_duplicates(joined("response_id"), line, problems)
    weight = _optional_column("weight", joined("weight"), line, problems)
    stratum = _optional_column("stratum", joined("stratum"), line, problems)
    cluster = _optional_column("cluster", joined("cluster"), line, problems)
    _check_version(joined("questionnaire_version"), line, questionnaire, problems)
    problems.raise_if_any()

    def labels(name):
        values = joined(name)
        return None if values is None or not np.any(values != "") else values

    responses = Responses(
        answers=joined("answers"),
        item_codes=codes,
        agency=joined("agency"),
        submitted_at=joined("submitted_at"),
        response_id=joined("response_id"),
        stratum=stratum,
        cluster=cluster,
        weight=weight,
        counter=labels("counter"),
        procedure_field=labels("procedure_field"),
        extra={name: joined(name) for name in extra_columns if name in chunks[0]},
    )
    return responses, line


def _read_careful(path, questionnaire, extra_columns, problems) -> list[dict]:
    """Python's ``csv`` reader, :data:`CHUNK` records at a time, every problem
    collected with its line (:func:`_check_chunk`).

    :return: the checked chunks (empty for a header-only file).
    :raises InputError: when the file cannot be read as UTF-8 CSV at all.
    """
    codes = questionnaire.item_codes
    chunks: list[dict] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                problems.add(None, "the file is empty (expected a header row)")
                raise problems.error()
            names = [h.strip() for h in header]
            columns = _check_header(names, codes, extra_columns, questionnaire, problems)
            width = len(names)
            begin = reader.line_num
            while rows := list(itertools.islice(reader, CHUNK)):
                lines = _record_lines(rows, begin, reader.line_num)
                begin = reader.line_num
                lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
                ragged = np.flatnonzero(lengths != width)
                if ragged.size:
                    for k in ragged:
                        if any(cell.strip() for cell in rows[k]):  # else a blank line
                            problems.add(lines[k], f"{lengths[k]} fields, the header has {width}")
                    keep = np.flatnonzero(lengths == width)
                    rows = [rows[k] for k in keep]
                    lines = lines[keep]
                if rows:
                    chunks.append(_check_chunk(rows, lines, columns, codes, problems))
    except UnicodeDecodeError:
        problems.add(None, "not UTF-8 text")
        raise problems.error() from None
    except csv.Error as exc:
        problems.add(None, f"not readable as CSV ({exc})")
        raise problems.error() from None
    return chunks


def _read_fast(path, questionnaire, extra_columns) -> list[dict] | None:
    """The whole file through pyarrow's multithreaded CSV reader, checked column by
    column on distinct values, or None when the careful reader must run instead.

    None whenever the result could differ from :func:`_read_careful`'s or a
    problem needs its line: pyarrow missing, a header or CSV problem, a record
    spanning lines or a blank line (the records would no longer be lines 2, 3,
    …), a byte-order mark, or any value the checks refuse. On a clean file the
    arrays are the same as the careful reader's.
    """
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    codes = questionnaire.item_codes
    try:
        with open(path, "rb") as f:
            if f.read(3) == b"\xef\xbb\xbf":
                return None
            f.seek(0)
            breaks, last = 0, b""
            while block := f.read(1 << 24):
                breaks += block.count(b"\n")
                last = block[-1:]
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not header:
        return None
    names = [h.strip() for h in header]
    header_problems = Problems("")
    columns = _check_header(names, codes, extra_columns, questionnaire, header_problems)
    if header_problems:
        return None
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, OSError):
        return None
    n = table.num_rows
    if n == 0 or breaks + (last != b"\n") != n + 1:  # one record per line, no blank lines
        return None
    problems = Problems("")
    line = np.arange(2, n + 2, dtype=np.int64)
    out: dict[str, np.ndarray] = {"line": line}
    answers = np.zeros((n, len(codes)), dtype=np.int8)
    for j, code in enumerate(codes):
        values, distinct = _distinct(table.column(code))
        mapped = np.array([_ANSWER.get(v, _ANSWER.get(v.strip(), -1)) for v in distinct], np.int8)
        if (mapped < 0).any():
            return None
        answers[:, j] = mapped[values] if distinct else 0
    out["answers"] = answers
    for name in columns:
        if name in codes:
            continue
        if name == "submitted_at":
            stamps = _arrow_timestamps(table.column(name), line, problems)
            if stamps is None:
                return None
            out[name] = stamps
        elif name == "response_id":
            out[name] = np.strings.strip(
                np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=str)
            )
        else:
            values, distinct = _distinct(table.column(name))
            stripped = np.strings.strip(np.array(distinct or [""], dtype=str))
            out[name] = stripped[values]
    for name in ("response_id", "agency"):
        if name in out and (out[name] == "").any():
            return None
    if "weight" in out:
        out["weight"] = _weights(out["weight"], line, problems)
    return None if problems else [out]


#: ``flask export responses`` writes every time so: UTC to the second.
_EXPORT_STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


def _arrow_timestamps(column, line, problems) -> np.ndarray | None:
    """``submitted_at`` as :func:`_timestamps` reads it, the export's own shape
    (``2024-03-01T02:00:00Z``) parsed by Arrow's strict ISO 8601 cast, any
    other shape by :func:`_timestamps`; None if Arrow refuses one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks()
    plain = pc.match_substring_regex(column, _EXPORT_STAMP).to_numpy(zero_copy_only=False)
    out = np.full(len(column), np.datetime64("NaT"), dtype="datetime64[s]")
    if plain.any():
        try:
            parsed = pc.cast(column.filter(pa.array(plain)), pa.timestamp("s", tz="UTC"))
        except pa.ArrowInvalid:
            return None
        out[plain] = parsed.cast(pa.timestamp("s")).to_numpy()
    other = np.flatnonzero(~plain)
    if other.size:
        values = np.strings.strip(
            np.asarray(column.take(pa.array(other)).to_numpy(zero_copy_only=False), dtype=str)
        )
        out[other] = _timestamps(values, line[other], problems)
    return out


def _distinct(column) -> tuple[np.ndarray, list[str]]:
    """A pyarrow string column as ``(codes, distinct values)``: ``distinct[codes]``
    is the column (dictionary-encoded, so each distinct value is handled once)."""
    encoded = column.combine_chunks().dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()


def _record_lines(rows, begin: int, end: int) -> np.ndarray:
    """The line each record starts on, given the reader's line count before and after.

    One line per record unless a quoted cell holds line breaks; then each
    record's breaks are counted (``\\n``, ``\\r`` or ``\\r\\n``, as the file splits lines).
    """
    n = len(rows)
    first = np.arange(begin + 1, begin + 1 + n, dtype=np.int64)
    if end - begin == n:
        return first
    breaks = np.fromiter(
        (sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in row) for row in rows),
        dtype=np.int64,
        count=n,
    )
    return first + np.concatenate(([0], np.cumsum(breaks)[:-1]))


def _check_header(names, codes, extra_columns, questionnaire, problems) -> dict[str, int]:
    """Column positions by name; header problems go to ``problems`` (line 1)."""
    known = set(METADATA_COLUMNS) | set(codes) | set(extra_columns)
    columns: dict[str, int] = {}
    for j, name in enumerate(names):
        if not name:
            problems.add(1, f"column {j + 1} has no name")
        elif name in columns:
            problems.add(1, f"column {name!r} appears twice")
        elif name not in known:
            problems.add(
                1,
                f"unknown column {name!r}: not an item of questionnaire "
                f"{questionnaire.version} ({', '.join(codes)}) nor a known column "
                f"({', '.join(METADATA_COLUMNS)})",
            )
        else:
            columns[name] = j
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.add(1, f"no {name!r} column")
    missing = [c for c in codes if c not in columns]
    if missing:
        problems.add(
            1,
            f"item column(s) {', '.join(missing)} of questionnaire {questionnaire.version} "
            "missing (leave a column empty for items not asked)",
        )
    for name in extra_columns:
        if name not in columns:
            problems.add(1, f"no {name!r} column (given with --extra-column)")
    return columns


def _check_chunk(rows, lines, columns, codes, problems) -> dict[str, np.ndarray]:
    """Arrays of one chunk of records, checked (problems collected)."""
    line = np.array(lines, dtype=np.int64)
    n = line.size

    def cells(name):  # one column, without building the transposed table
        return map(operator.itemgetter(columns[name]), rows)

    def text(name):
        return np.strings.strip(np.array(list(cells(name)), dtype=str))

    out: dict[str, np.ndarray] = {"line": line}
    answers = np.zeros((n, len(codes)), dtype=np.int8)
    for j, code in enumerate(codes):
        if code not in columns:
            continue
        values = np.fromiter(map(_ANSWER.get, cells(code), itertools.repeat(-1)), np.int8, n)
        for r in np.flatnonzero(values < 0):
            stripped = rows[r][columns[code]].strip()
            values[r] = _ANSWER.get(stripped, 0)
            if stripped not in _ANSWER:
                problems.add(
                    line[r],
                    f"{code}: {stripped!r} is not an answer 1–5 (leave it empty for N/A or not asked)",
                )
        answers[:, j] = values
    out["answers"] = answers
    for name in ("response_id", "agency"):
        if name in columns:
            values = out[name] = text(name)
            for r in np.flatnonzero(values == ""):
                problems.add(line[r], f"{name} is empty")
    if "submitted_at" in columns:
        out["submitted_at"] = _timestamps(text("submitted_at"), line, problems)
    if "weight" in columns:
        out["weight"] = _weights(text("weight"), line, problems)
    for name in ("stratum", "cluster", "counter", "procedure_field", "questionnaire_version"):
        if name in columns:
            out[name] = text(name)
    for name in columns:
        if name not in out and name not in codes and name not in METADATA_COLUMNS:
            out[name] = text(name)  # --extra-column
    return out


def _timestamps(values, line, problems) -> np.ndarray:
    """``datetime64[s]`` UTC; empty or unreadable values are problems."""
    out = np.full(values.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    empty = values == ""
    for r in np.flatnonzero(empty):
        problems.add(line[r], "submitted_at is empty")
    shaped = _iso_shaped(values)
    for r in np.flatnonzero(~empty & ~shaped):
        problems.add(line[r], f"submitted_at {str(values[r])!r} is not an ISO 8601 date and time")
    good = np.flatnonzero(shaped)
    try:
        out[good] = parse_timestamps(values[good])
    except (ValueError, OverflowError):  # find the culprits one by one
        for r in good:
            try:
                out[r] = parse_timestamps(values[r : r + 1])[0]
            except (ValueError, OverflowError):
                problems.add(
                    line[r], f"submitted_at {str(values[r])!r} is not a valid date and time"
                )
    return out


def _iso_shaped(values) -> np.ndarray:
    """``YYYY-MM-DD`` followed by nothing, ``T`` or a space (numpy alone also takes ``now``)."""
    head = np.asarray(values).astype("U11").view(np.uint32).reshape(len(values), 11)
    digit = (head >= 48) & (head <= 57)
    return (
        digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1)
        & (head[:, 4] == 45)
        & (head[:, 7] == 45)
        & np.isin(head[:, 10], [0, 84, 32])  # end, "T", " "
    )


def _weights(values, line, problems) -> np.ndarray:
    """Weights as float64, NaN where empty; unreadable, non-finite or ≤ 0 are problems."""
    out = np.full(values.shape, np.nan)
    filled = np.flatnonzero(values != "")
    parsed = np.ones(filled.size)
    readable = np.ones(filled.size, dtype=bool)
    try:
        parsed = values[filled].astype(np.float64)
    except ValueError:
        for k, r in enumerate(filled):
            try:
                parsed[k] = float(values[r])
            except ValueError:
                readable[k] = False
                problems.add(line[r], f"weight {str(values[r])!r} is not a number")
    for k in np.flatnonzero(readable & ~(np.isfinite(parsed) & (parsed > 0))):
        problems.add(line[filled[k]], f"weight {values[filled[k]]} must be positive and finite")
    out[filled] = np.where(readable, parsed, 1.0)  # the placeholder is never used: we stop
    return out


def _optional_column(name, values, line, problems):
    """An optional column: None if absent or all empty; partly empty is a problem."""
    if values is None:
        return None
    empty = np.isnan(values) if values.dtype.kind == "f" else values == ""
    if empty.all():
        return None
    for r in np.flatnonzero(empty):
        problems.add(
            line[r],
            f"{name} is empty (fill it on every row, or leave the whole column empty)",
        )
    return values


def _check_duplicates(ids, line, problems) -> None:
    if ids is None:
        return
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    repeat = np.flatnonzero((ordered[1:] == ordered[:-1]) & (ordered[1:] != ""))
    if not repeat.size:
        return
    first_of = np.maximum.accumulate(
        np.where(np.r_[True, ordered[1:] != ordered[:-1]], np.arange(ids.size), 0)
    )
    for k in repeat + 1:
        problems.add(
            line[order[k]],
            f"response_id {str(ordered[k])!r} repeats line {line[order[first_of[k]]]}",
        )


def _check_version(values, line, questionnaire, problems) -> None:
    if values is None:
        return
    names, first = np.unique(values, return_index=True)
    if names.size > 1:
        found = ", ".join(f"{v or '(empty)'} from line {line[i]}" for v, i in zip(names, first))
        problems.add(
            None,
            f"questionnaire versions are mixed ({found}): analyse one version at a time",
        )
    for name, i in zip(names, first):
        if name != questionnaire.version:
            count = int(np.sum(values == name))
            problems.add(
                line[i],
                f"questionnaire_version {str(name) or '(empty)'!r} is not {questionnaire.version!r}, "
                f"the version of the questionnaire file ({count} row(s), first here); "
                "give its file with --questionnaire",
            )


# --------------------------------------------------------------------------- output
def _number(value):
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _rows(table: EstimateTable, by: tuple[str, ...], scope: str, weights: str):
    """One dict per group × estimand of an :class:`EstimateTable`."""
    st = table.stats
    for g in range(table.n_groups):
        keys = {name: "" for name in by}
        for name, values in table.keys.items():
            if name in keys:
                keys[name] = str(values[g])
        for k, (name, kind) in enumerate(zip(table.names, table.kinds)):
            row = {
                "scope": scope,
                **keys,
                "estimand": kind,
                "code": "" if kind == "composite" else name,
            }
            for f in ROW_FIELDS:
                value = st[f][g, k]
                if f == "verdict":
                    row[f] = str(value)
                elif f == "flags":
                    row[f] = ";".join(flag_names(int(value)))
                elif f in ("n", "df"):
                    row[f] = int(value)
                else:
                    row[f] = _number(value)
            row["weights"] = weights
            yield row


#: Text a spreadsheet would run as a formula (OWASP CSV injection): a cell that starts
#: with a tab, a carriage return, or = + - @ after blanks and quotes, or such a start
#: after a separator or line break (a spreadsheet set to another list separator starts
#: a cell there). The app's exports apply the same rule (``survey_app.core.spreadsheet``;
#: this library does not import the app).
_FORMULA_START = r"[\t\r]|[\s\"]*[=+\-@\uff1d\uff0b\uff0d\uff20]"
_CELL_START = re.compile(_FORMULA_START)
_CELL_BREAK = re.compile(rf"([,;\t\r\n])(?={_FORMULA_START})")


def _csv_cell(value):
    """A value for the CSV output: numbers as they are, text never a formula."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        value = _CELL_BREAK.sub(r"\1'", value)
        return "'" + value if _CELL_START.match(value) else value
    return value


def _csv_text(rows, columns) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buf.getvalue()


def _table_text(rows, columns, note: str) -> str:
    shown = [c for c in columns if c not in ("q_above", "weight_total", "deff", "flags", "weights")]

    def cell(v):
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.0f}"
        return str(v)

    body = [[cell(r[c]) for c in shown] for r in rows]
    widths = [max([len(c)] + [len(b[j]) for b in body]) for j, c in enumerate(shown)]
    lines = [note, ""]
    lines.append("  ".join(c.ljust(w) for c, w in zip(shown, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append("  ".join(v.ljust(w) for v, w in zip(b, widths)).rstrip())
    return "\n".join(lines) + "\n"


def _weighting_block(weighting: VolumeWeighting | None, volumes_path, cutoff_day) -> dict:
    if weighting is None:
        return {
            "method": "base",
            "note": (
                "no --volumes given: base weights (the weight column, or 1 for every "
                "response), not post-stratified to dossier volumes; an agency's index "
                "reflects who answered rather than its mix of transactions"
            ),
        }
    gaps, collapsed = weighting.coverage_gaps, weighting.collapsed
    note = (
        f"post-stratified to {weighting.n_cells} {' × '.join(weighting.dimensions)} cells "
        f"of dossier volumes ({weighting.volume_total:.0f} dossiers); "
    )
    if collapsed:
        note += (
            f"{len(collapsed)} cell(s) without responses collapsed into their agency's "
            "other cells; "
        )
    note += (
        f"{len(gaps)} cell(s) with volume but no response "
        f"({sum(g['dossiers'] for g in gaps)} dossiers) left as coverage gaps, not "
        "redistributed"
    )
    unanswered = weighting.unanswered_agencies
    if unanswered:
        note += (
            f"; {len(unanswered)} agency(ies) handled dossiers but got no response "
            f"({sum(a['dossiers'] for a in unanswered)} dossiers): no index for them, "
            "a coverage gap to close"
        )
    agency_cells = weighting.agency_cells
    if agency_cells:
        note += (
            f"; {len(agency_cells)} agency cell(s) (the sum of their fields' volumes) for "
            "agencies with responses whose procedure field is unknown or has no volume"
        )
    block = {
        "method": "poststratify",
        "volumes": str(volumes_path),
        "cells": list(weighting.dimensions),
        "n_cells": weighting.n_cells,
        "responding_cells": weighting.responding_cells,
        "volume_total": weighting.volume_total,
        "coverage_gaps": gaps,
        "collapsed": collapsed,
        "agency_cells": agency_cells,
        "unanswered_agencies": unanswered,
        "note": note,
    }
    if "month" in weighting.dimensions:
        block["month"] = (
            "calendar month"
            if cutoff_day is None
            else f"reporting month (from the {cutoff_day}th of the month before)"
        )
    return block


# --------------------------------------------------------------------------- command
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Weighted satisfaction indices against the target (docs/ANALYSIS.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "indices",
        help="indices, intervals and verdicts per group",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("responses", type=Path, metavar="RESPONSES.csv")
    p.add_argument(
        "--volumes",
        type=Path,
        metavar="VOLUMES.csv",
        help="dossier volumes to post-stratify to (agency, procedure_field, month, dossiers)",
    )
    p.add_argument(
        "--by",
        default="agency",
        help="grouping: comma-separated columns among agency, month, counter, "
        "procedure_field, stratum, cluster or an --extra-column (default: agency)",
    )
    p.add_argument("--target", type=_share, default=0.90, help="target share p0 (default 0.90)")
    p.add_argument("--level", type=_share, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--method",
        choices=("beta", "logit", "wilson"),
        default="beta",
        help="interval of items and Q0: beta = Korn–Graubard with n_use (default), logit, "
        "wilson; the composite and elements always use logit-t",
    )
    p.add_argument(
        "--min-n",
        type=_count,
        default=DEFAULT_MIN_N,
        help=f"fewer responses → insufficient_data (default {DEFAULT_MIN_N})",
    )
    p.add_argument("--format", choices=("json", "csv", "table"), default="json")
    p.add_argument(
        "--questionnaire",
        type=Path,
        default=DEFAULT_QUESTIONNAIRE,
        metavar="PATH",
        help="questionnaire JSON file (default: the shipped one)",
    )
    p.add_argument(
        "--cutoff-day",
        type=_cutoff,
        default=15,
        metavar="DAY|calendar",
        help="reporting months start on this day of the month before "
        "(default 15: 15th → 14th); 'calendar' for calendar months",
    )
    p.add_argument(
        "--headline",
        default=None,
        help="block reports lead with: the overall item (Q0, default) or composite",
    )
    p.add_argument(
        "--lonely-psu",
        choices=("fail", "remove", "adjust"),
        default="fail",
        help="strata with a single PSU (as R's survey.lonely.psu)",
    )
    p.add_argument(
        "--collapse-gaps",
        action="store_true",
        help="spread the volume of cells without responses over the agency's "
        "(agency-month's) other cells instead of reporting them as gaps",
    )
    p.add_argument(
        "--by-return-channel",
        action="store_true",
        help="split each cell by the dossiers' return channel (VOLUMES.csv column "
        "return_channel: counter, online, post) where every dossier's and every "
        "respondent's channel is known (responses column return_channel)",
    )
    p.add_argument(
        "--extra-column",
        action="append",
        default=[],
        metavar="NAME",
        help="accept (and allow grouping by) a column that is neither an item "
        "nor a known column; repeatable",
    )
    p.add_argument("--output", "-o", type=Path, help="write here instead of standard output")
    p.set_defaults(run=run_indices)
    return parser


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be ≥ 0")
    return value


def _cutoff(text: str) -> int | None:
    if text == "calendar":
        return None
    value = int(text)
    if not 2 <= value <= 28:
        raise argparse.ArgumentTypeError("must be 2–28 or 'calendar'")
    return value


def _report_problems(errors: list[InputError], stderr) -> None:
    messages = [m for e in errors for m in e.problems]
    total = sum(e.total for e in errors)
    for message in messages[:MAX_SHOWN]:
        print(f"error: {message}", file=stderr)
    if total > MAX_SHOWN:
        print(f"error: … and {total - MAX_SHOWN} more", file=stderr)
    print(f"nothing written: {total} problem(s) in the input", file=stderr)


def run_indices(args, stdout, stderr) -> int:
    try:
        questionnaire = load_questionnaire(args.questionnaire)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {args.questionnaire}: not a readable questionnaire ({exc})", file=stderr)
        return 2
    by = (
        ("agency", "month")
        if args.by == "agency_month"
        else tuple(part.strip() for part in args.by.split(",") if part.strip())
    )
    allowed = set(GROUP_COLUMNS) | set(args.extra_column)
    bad = [b for b in by if b not in allowed] or ([] if by else ["(nothing)"])
    if bad or len(set(by)) != len(by):
        print(
            f"error: --by {args.by}: use columns among {', '.join(sorted(allowed))}, each once",
            file=stderr,
        )
        return 2
    if args.headline is None:
        args.headline = questionnaire.overall
    if args.headline not in ("composite", questionnaire.overall):
        print(f"error: --headline must be composite or {questionnaire.overall}", file=stderr)
        return 2

    errors: list[InputError] = []
    responses = lines = volumes = None
    try:
        responses, lines = read_responses_checked(
            args.responses,
            questionnaire,
            extra_columns=tuple(args.extra_column)
            + (("return_channel",) if args.by_return_channel else ()),
            source=str(args.responses),
        )
    except OSError as exc:
        errors.append(InputError([f"{args.responses}: cannot read ({exc.strerror})"]))
    except InputError as exc:
        errors.append(exc)
    if args.volumes is not None:
        try:
            volumes = read_volumes_csv(args.volumes, str(args.volumes))
        except OSError as exc:
            errors.append(InputError([f"{args.volumes}: cannot read ({exc.strerror})"]))
        except InputError as exc:
            errors.append(exc)
    weighting = None
    if not errors and volumes is not None:
        try:
            weighting = poststratify_to_volumes(
                responses,
                volumes,
                lines=lines,
                source=str(args.responses),
                cutoff_day=args.cutoff_day,
                collapse=args.collapse_gaps,
                return_channel=responses.extra.get("return_channel"),
                by_return_channel=args.by_return_channel,
            )
        except InputError as exc:
            errors.append(exc)
    if errors:
        _report_problems(errors, stderr)
        return 2

    try:
        report = analyse(
            responses,
            questionnaire,
            by=by,
            calibration=None if weighting is None else weighting.calibration,
            lonely_psu=args.lonely_psu,
            p0=args.target,
            alpha=1 - args.level,
            min_n=args.min_n,
            method=args.method,
            cutoff_day=args.cutoff_day,
            headline=args.headline,
        )
    except ValueError as exc:
        print(f"error: the analysis failed: {exc}", file=stderr)
        print("nothing written", file=stderr)
        return 1
    block = _weighting_block(weighting, args.volumes, args.cutoff_day)
    if args.format == "json":
        doc = report.to_dict()
        doc["coverage_gaps"] = block.get("coverage_gaps", [])
        doc = {
            "inputs": {
                "responses": str(args.responses),
                "n_responses": responses.n,
                "volumes": None if args.volumes is None else str(args.volumes),
                "questionnaire": questionnaire.version,
            },
            "weighting": block,
            **doc,
        }
        # no indent: the C encoder (indenting falls back to pure Python, ~10× slower)
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n"
    else:
        weights = block["method"]
        rows = list(_rows(report.groups, by, "group", weights))
        rows += list(_rows(report.overall, by, "province", weights))
        columns = ["scope", *by, "estimand", "code", *ROW_FIELDS, "weights"]
        if args.format == "csv":
            text = _csv_text(rows, columns)
        else:
            text = _table_text(rows, columns, f"weights: {block['note']}")
    if args.format != "json" or args.output is not None:
        print(f"note: {block['note']}", file=stderr)
    _write(text, args.output, stdout)
    return 0


def _write(text: str, path: Path | None, stdout) -> None:
    """All at once: to ``stdout``, or to a file that appears whole (renamed into place)."""
    if path is None:
        stdout.write(text)
        stdout.flush()
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None, stdout=None, stderr=None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 analysis failed, 2 bad input)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    return args.run(args, stdout, stderr)
