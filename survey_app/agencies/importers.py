"""CSV importers for real data: agencies, counters, procedures, dossier volumes.

``flask import agencies|counters|procedures|volumes FILE.csv`` calls
``IMPORTERS[kind](path)``. Every import is all or nothing: the whole file is
read and checked first, every problem is collected with its line number (line
1 is the header, as in a spreadsheet), and only a file without problems is
applied. Applying goes through the agency services and flushes; the command
commits. The columns are documented in ``docs/IMPORT.md``.

:func:`import_records` runs the same checks on in-memory records; the demo
loader uses it, so the demo and real imports share one code path.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from ..core.params import CONTROL_CHARS
from ..extensions import db
from . import services
from .dossiers import CHANNELS, Figure, overlaps_within, store_figures
from .models import (
    ALL_CHANNELS,
    IMPORT_SOURCE,
    Agency,
    AgencyKind,
    Counter,
    Procedure,
    ProcedureField,
)

#: Larger files are refused before being read (split them, or import per year).
MAX_BYTES = 20 * 1024 * 1024
#: Data rows per file.
MAX_ROWS = 200_000
#: Problems listed before the rest are summarised in one line.
MAX_ERRORS_SHOWN = 1000

#: Agency, field and procedure codes: letters, digits, ``.``, ``-``, ``_``.
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: Public counter codes after upper-casing (printed codes may predate the
#: generator's restricted alphabet, so any letter or digit is accepted).
COUNTER_CODE_PATTERN = re.compile(r"[A-Z0-9]{3,16}")
MONTH_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")
INTEGER_PATTERN = re.compile(r"[+-]?\d+")
#: 1.234 or 1,234,567: what a spreadsheet shows when it formats the number.
THOUSANDS_PATTERN = re.compile(r"\d{1,3}([.,])\d{3}(\1\d{3})*")
MAX_DOSSIERS = 2**31 - 1

TRUE_VALUES = {"1", "true", "yes", "y"}
FALSE_VALUES = {"0", "false", "no", "n"}


class ImportFailed(Exception):
    """The file was not imported; ``errors`` says why, one problem per string."""

    def __init__(self, errors: list[str], total: int | None = None):
        self.total = total if total is not None else len(errors)
        super().__init__(f"{self.total} problem(s)")
        self.errors = errors


@dataclass
class ImportResult:
    """What an import did, counted per data row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Volumes only: earlier figures removed because a new one covers the same dossiers.
    superseded: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Columns:
    """The columns of one kind of file: ``required`` must be in the header."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class Row:
    """One data row: its line number and its values, trimmed and NFC-normalised."""

    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


class Problems:
    """Collects problems as ``line N: …`` strings."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, line: int, message: str) -> None:
        self.messages.append(f"line {line}: {message}")

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        shown = self.messages[:MAX_ERRORS_SHOWN]
        if len(self.messages) > MAX_ERRORS_SHOWN:
            hidden = len(self.messages) - MAX_ERRORS_SHOWN
            shown.append(f"… and {hidden:,} more problems ({len(self.messages):,} in all)")
        raise ImportFailed(shown, total=len(self.messages))


# --- reading ---------------------------------------------------------------


def _clean(value: object) -> str:
    """Trim and NFC-normalise a cell (Vietnamese text may arrive decomposed)."""
    text = "" if value is None else str(value)
    return unicodedata.normalize("NFC", text).strip()


def _check_header(names: list[str], columns: Columns) -> list[str]:
    problems = Problems()
    seen: set[str] = set()
    for name in names:
        if not name:
            problems.add(1, "a column has no name in the header")
        elif name in seen:
            problems.add(1, f"column '{name}' appears twice")
        elif name not in columns.all:
            problems.add(1, f"unknown column '{name}' (expected: {', '.join(columns.all)})")
        seen.add(name)
    for name in columns.required:
        if name not in seen:
            problems.add(1, f"missing column '{name}' (expected: {', '.join(columns.all)})")
    return problems.messages


def _sniff_delimiter(first_line: str) -> str:
    """Comma, or the semicolon/tab Excel writes under a Vietnamese locale."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv(data: bytes, columns: Columns) -> list[Row]:
    """Parse the bytes of a CSV file into rows, checking its encoding, header and size.

    :raises ImportFailed: when the file cannot be read as a whole (not UTF-8,
        an Excel workbook, a bad header, malformed quoting, too many rows).
    """
    if len(data) > MAX_BYTES:
        raise ImportFailed(
            [
                f"the file is {len(data) / 2**20:.1f} MB, more than the {MAX_BYTES / 2**20:g} MB "
                "limit: split it into smaller files"
            ]
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportFailed(
            [
                "this is an Excel workbook, not a CSV file: in Excel use "
                "Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'"
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailed(
            [
                f"line {line}: the file is not UTF-8 text: save it as 'CSV UTF-8' "
                "(Excel) or choose UTF-8 as the character set"
            ]
        ) from None
    if not text.strip():
        raise ImportFailed(["the file is empty: a header row is required"])

    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    problems = Problems()
    header: list[str] | None = None
    try:
        for line, cells in enumerate(reader, start=1):
            if header is None:
                names = [_clean(c).lower() for c in cells]
                while names and not names[-1]:  # Excel's trailing empty columns
                    names.pop()
                errors = _check_header(names, columns)
                if errors:
                    raise ImportFailed(errors)
                header = names
                continue
            values = [_clean(c) for c in cells]
            if not any(values):  # blank lines and Excel's ",,,," rows
                continue
            if any(values[len(header) :]):
                problems.add(line, f"{len(values)} values but the header has {len(header)} columns")
                continue
            if _control_characters(line, dict(zip(header, values, strict=False)), problems):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFailed(
                    [f"the file has more than {MAX_ROWS:,} data rows: split it into smaller files"]
                )
            rows.append(Row(line, dict(zip(header, values, strict=False))))
    except csv.Error as exc:
        raise ImportFailed([f"line {reader.line_num}: the file is not valid CSV ({exc})"]) from None
    if header is None:
        raise ImportFailed(["the file is empty: a header row is required"])
    problems.raise_if_any()
    return rows


def read_csv(path: Path, columns: Columns) -> list[Row]:
    """Read and parse the CSV file at ``path`` (see :func:`parse_csv`)."""
    size = path.stat().st_size
    if size > MAX_BYTES:  # refuse before reading it into memory
        raise ImportFailed(
            [
                f"the file is {size / 2**20:.1f} MB, more than the {MAX_BYTES / 2**20:g} MB "
                "limit: split it into smaller files"
            ]
        )
    with path.open("rb") as file:  # a pipe or device has no size: read one byte past
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImportFailed(
            [
                f"the file is more than the {MAX_BYTES / 2**20:g} MB limit: split it into smaller files"
            ]
        )
    return parse_csv(data, columns)


def rows_from_records(records: Iterable[Mapping[str, object]], columns: Columns) -> list[Row]:
    """Rows from in-memory records, numbered as if they followed a header line."""
    rows = [
        Row(line, {str(k).lower(): _clean(v) for k, v in record.items()})
        for line, record in enumerate(records, start=2)
    ]
    if rows:
        errors = _check_header(list(dict.fromkeys(n for row in rows for n in row.values)), columns)
        if errors:
            raise ImportFailed(errors)
    problems = Problems()
    for row in rows:
        _control_characters(row.line, row.values, problems)
    problems.raise_if_any()
    return rows


def _control_characters(line: int, values: Mapping[str, str], problems: Problems) -> bool:
    """Report each column holding a control character (NUL, escape…: PostgreSQL refuses
    NUL in text, and the others are invisible in a name); True if there was one."""
    found = False
    for column, value in values.items():
        if CONTROL_CHARS.search(value):
            problems.add(line, f"{column} contains a control character (such as NUL)")
            found = True
    return found


# --- shared checks ---------------------------------------------------------


def _one_of(values: list[str]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1]


def _required(row: Row, column: str, problems: Problems, max_length: int) -> str | None:
    value = row[column]
    if not value:
        problems.add(row.line, f"{column} is empty")
        return None
    if len(value) > max_length:
        problems.add(row.line, f"{column} is longer than {max_length} characters")
        return None
    return value


def _name(row: Row, column: str, problems: Problems, max_length: int = 255) -> str | None:
    value = _required(row, column, problems, max_length)
    return " ".join(value.split()) if value else None


def _code(row: Row, column: str, problems: Problems, required: bool = True) -> str | None:
    value = row[column]
    if not value:
        if required:
            problems.add(row.line, f"{column} is empty")
        return None
    if len(value) > 40 or not CODE_PATTERN.fullmatch(value):
        problems.add(
            row.line,
            f"{column} '{value}' must be up to 40 letters, digits, '.', '-' or '_'",
        )
        return None
    return value


def _first_seen(seen: dict, key, line: int, problems: Problems, what: str) -> bool:
    """Record ``key`` as seen on ``line``; report a duplicate and return False if it was seen."""
    if key in seen:
        problems.add(line, f"{what} is already on line {seen[key]}")
        return False
    seen[key] = line
    return True


def _agencies_by_code() -> dict[str, Agency]:
    return {a.code: a for a in db.session.scalars(select(Agency))}


def _fields_by_code() -> dict[str, ProcedureField]:
    return {f.code: f for f in db.session.scalars(select(ProcedureField))}


def _lookup(
    row: Row, column: str, known: Mapping[str, object], problems: Problems, required: bool = True
):
    value = row[column]
    if not value:
        if required:
            problems.add(row.line, f"{column} is empty")
        return None
    found = known.get(value)
    if found is None:
        problems.add(row.line, f"unknown {column} '{value}'")
    return found


# --- agencies ----------------------------------------------------------------

AGENCY_COLUMNS = Columns(required=("code", "name", "parent_code"), optional=("kind",))


@dataclass
class _AgencyRow:
    line: int
    code: str
    name: str
    parent_code: str | None
    kind: AgencyKind | None


def _find_cycles(
    wanted: list[_AgencyRow], parent_of: dict[str, str | None], problems: Problems
) -> None:
    """Report each cycle the new parents would make, once, on its first line."""
    line_of = {r.code: r.line for r in wanted}
    done: set[str] = set()
    for start in wanted:
        walk: list[str] = []
        on_walk: set[str] = set()
        code: str | None = start.code
        while code is not None and code not in done and code not in on_walk:
            walk.append(code)
            on_walk.add(code)
            code = parent_of.get(code)
        if code is not None and code in on_walk:
            cycle = walk[walk.index(code) :]
            first = min((c for c in cycle if c in line_of), key=line_of.__getitem__)
            at = cycle.index(first)
            chain = cycle[at:] + cycle[:at] + [first]
            problems.add(
                line_of[first],
                f"parent_code '{parent_of[first]}' would make a cycle: {' → '.join(chain)}",
            )
        done.update(walk)


def _apply_agencies(rows: list[Row]) -> ImportResult:
    problems = Problems()
    existing = _agencies_by_code()
    seen: dict[str, int] = {}
    wanted: list[_AgencyRow] = []
    for row in rows:
        code = _code(row, "code", problems)
        name = _name(row, "name", problems)
        parent_code = row["parent_code"] or None
        kind = None
        if row["kind"]:
            try:
                kind = AgencyKind(row["kind"].lower())
            except ValueError:
                problems.add(
                    row.line,
                    f"unknown kind '{row['kind']}' (use {_one_of([k.value for k in AgencyKind])})",
                )
        if code is None or not _first_seen(seen, code, row.line, problems, f"code '{code}'"):
            continue
        if parent_code == code:
            problems.add(row.line, f"agency '{code}' cannot be its own parent")
            parent_code = None
        if name is not None:
            wanted.append(_AgencyRow(row.line, code, name, parent_code, kind))

    code_of_id = {a.id: a.code for a in existing.values()}
    parent_of: dict[str, str | None] = {
        a.code: code_of_id.get(a.parent_id) if a.parent_id else None for a in existing.values()
    }
    for r in wanted:
        if r.parent_code and r.parent_code not in seen and r.parent_code not in existing:
            problems.add(r.line, f"unknown parent_code '{r.parent_code}'")
            r.parent_code = None
        parent_of[r.code] = r.parent_code
    _find_cycles(wanted, parent_of, problems)
    problems.raise_if_any()

    def depth(code: str) -> int:
        n = 0
        while (code := parent_of.get(code)) is not None:  # type: ignore[assignment]
            n += 1
        return n

    line_of = {r.code: r.line for r in wanted}
    too_deep: set[int] = set()
    for code in parent_of:
        if depth(code) > services.MAX_DEPTH:
            walk: str | None = code  # blame the file's row nearest to the deep agency
            while walk is not None and walk not in line_of:
                walk = parent_of.get(walk)
            if walk is not None:
                too_deep.add(line_of[walk])
    for line in sorted(too_deep):
        problems.add(
            line, f"the tree would be more than {services.MAX_DEPTH} levels deep under this agency"
        )
    problems.raise_if_any()

    result = ImportResult()
    by_code = dict(existing)
    # parents before children: each agency is placed under a parent already in place
    for r in sorted(wanted, key=lambda r: (depth(r.code), r.line)):
        parent = by_code[r.parent_code] if r.parent_code else None
        agency = by_code.get(r.code)
        if agency is None:
            kind = r.kind or AgencyKind.other
            try:
                by_code[r.code] = services.create_agency(r.code, r.name, parent, kind)
            except ValueError as exc:  # the checks above should have caught it
                raise ImportFailed([f"line {r.line}: {exc}"]) from None
            result.count("created")
            continue
        changed = False
        if agency.name != r.name:
            agency.name, changed = r.name, True
        if r.kind is not None and agency.kind != r.kind:
            agency.kind, changed = r.kind, True
        if agency.parent_id != (parent.id if parent else None):
            try:
                services.move_agency(agency, parent)
            except ValueError as exc:  # deep only until a later row moves a sub-agency up
                raise ImportFailed(
                    [f"line {r.line}: {exc}: import the moves in two files, upper levels last"]
                ) from None
            changed = True
        result.count("updated" if changed else "unchanged")
    db.session.flush()
    return result


# --- counters ----------------------------------------------------------------

COUNTER_COLUMNS = Columns(required=("agency_code", "name"), optional=("code", "location", "active"))


def _boolean(row: Row, column: str, problems: Problems) -> bool | None:
    value = row[column].lower()
    if not value:
        return None
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    problems.add(row.line, f"{column} '{row[column]}' must be 1/0, true/false or yes/no")
    return None


def _apply_counters(rows: list[Row]) -> ImportResult:
    problems = Problems()
    agencies = _agencies_by_code()
    counters = list(db.session.scalars(select(Counter)))
    by_code = {c.code: c for c in counters}
    by_agency_name: dict[tuple[int, str], list[Counter]] = {}
    for c in counters:
        by_agency_name.setdefault((c.agency_id, c.name), []).append(c)

    seen_codes: dict[str, int] = {}
    seen_new: dict[tuple[int, str], int] = {}
    # a row without a code is matched by agency and name, so no other row may share them
    lines_named: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        if row["agency_code"] and row["name"]:
            key = (row["agency_code"], " ".join(row["name"].split()))
            lines_named.setdefault(key, []).append(row.line)
    rows_by_line = {row.line: row for row in rows}
    matched: dict[int, int] = {}  # counter id → line
    plan: list[tuple[Counter | None, Agency, str, str, str | None, bool | None]] = []
    for row in rows:
        agency = _lookup(row, "agency_code", agencies, problems)
        name = _name(row, "name", problems)
        location = " ".join(row["location"].split())
        if len(location) > 255:
            problems.add(row.line, "location is longer than 255 characters")
        active = _boolean(row, "active", problems)
        code = row["code"].upper() or None
        if code is not None:
            if not COUNTER_CODE_PATTERN.fullmatch(code):
                problems.add(row.line, f"code '{row['code']}' must be 3–16 letters A–Z or digits")
                continue
            if not _first_seen(seen_codes, code, row.line, problems, f"code '{code}'"):
                continue
        if agency is None or name is None:
            continue

        counter = by_code.get(code) if code else None
        if code is None:
            same = by_agency_name.get((agency.id, name), [])
            if len(same) > 1:
                problems.add(
                    row.line,
                    f"{len(same)} counters at '{agency.code}' are named '{name}': "
                    "give the code of the one to update",
                )
                continue
            counter = same[0] if same else None
            # another row giving a code makes or updates a second counter of this name
            # (the file would then fail the next time, this row being ambiguous)
            others = [
                n
                for n in lines_named[(agency.code, name)]
                if rows_by_line[n]["code"]
                and rows_by_line[n]["code"].upper() != (counter.code if counter else None)
            ]
            if others:
                problems.add(
                    row.line,
                    f"counter '{name}' at '{agency.code}' is also on line {others[0]}: "
                    "give the code of each, or different names",
                )
                continue
        if counter is not None:
            if counter.id in matched:
                problems.add(
                    row.line, f"counter '{counter.code}' is already on line {matched[counter.id]}"
                )
                continue
            matched[counter.id] = row.line
        elif code is None and not _first_seen(
            seen_new, (agency.id, name), row.line, problems, f"counter '{name}' at '{agency.code}'"
        ):
            continue
        if counter is None and not agency.is_active:
            problems.add(
                row.line, f"agency '{agency.code}' is disabled: it cannot get new counters"
            )
            continue
        plan.append((counter, agency, name, location, code, active))
    problems.raise_if_any()

    result = ImportResult()
    for counter, agency, name, location, code, active in plan:
        if counter is None:
            counter = services.create_counter(agency, name, location, code=code)
            if active is False:
                counter.is_active = False
            result.count("created")
            continue
        changed = False
        if counter.agency_id != agency.id:
            counter.agency, changed = agency, True
        if counter.name != name:
            counter.name, changed = name, True
        if location and counter.location != location:
            counter.location, changed = location, True
        if active is not None and counter.is_active != active:
            counter.is_active, changed = active, True
        result.count("updated" if changed else "unchanged")
    db.session.flush()
    return result


# --- procedures ----------------------------------------------------------------

PROCEDURE_COLUMNS = Columns(
    required=("code", "name", "field_code", "field_name"), optional=("agency_code",)
)


def _apply_procedures(rows: list[Row]) -> ImportResult:
    problems = Problems()
    agencies = _agencies_by_code()
    fields = _fields_by_code()
    procedures = {p.code: p for p in db.session.scalars(select(Procedure))}
    seen: dict[str, int] = {}
    field_names: dict[str, tuple[str, int]] = {}  # field code → (name, line that named it)
    plan: list[tuple[int, str, str, str, Agency | None]] = []
    for row in rows:
        code = _code(row, "code", problems)
        name = _name(row, "name", problems, max_length=500)
        field_code = _code(row, "field_code", problems)
        field_name = " ".join(row["field_name"].split())
        if len(field_name) > 255:
            problems.add(row.line, "field_name is longer than 255 characters")
            field_name = ""
        agency = _lookup(row, "agency_code", agencies, problems, required=False)
        if code is not None:
            _first_seen(seen, code, row.line, problems, f"code '{code}'")
        if field_code is not None and field_name:
            earlier = field_names.setdefault(field_code, (field_name, row.line))
            if earlier[0] != field_name:
                problems.add(
                    row.line,
                    f"field '{field_code}' is named '{field_name}' here "
                    f"but '{earlier[0]}' on line {earlier[1]}",
                )
        if code and name and field_code and (agency is not None or not row["agency_code"]):
            plan.append((row.line, code, name, field_code, agency))
    for line, _, _, field_code, _ in plan:
        if field_code not in fields and field_code not in field_names:
            problems.add(line, f"field_code '{field_code}' is new: its field_name is required")
    problems.raise_if_any()

    result = ImportResult()
    renamed_by: dict[int, str] = {}  # line → field it created or renamed
    for field_code, (field_name, line) in field_names.items():
        pf = fields.get(field_code)
        if pf is None:
            pf = ProcedureField(code=field_code, name=field_name)
            db.session.add(pf)
            fields[field_code] = pf
            renamed_by[line] = field_code
        elif pf.name != field_name:
            pf.name = field_name
            renamed_by[line] = field_code
    db.session.flush()
    for line, code, name, field_code, agency in plan:
        pf = fields[field_code]
        procedure = procedures.get(code)
        if procedure is None:
            db.session.add(Procedure(code=code, name=name, field=pf, agency=agency))
            result.count("created")
            continue
        changed = line in renamed_by
        if procedure.name != name:
            procedure.name, changed = name, True
        if procedure.field_id != pf.id:
            procedure.field, changed = pf, True
        if agency is not None and procedure.agency_id != agency.id:
            procedure.agency, changed = agency, True
        result.count("updated" if changed else "unchanged")
    db.session.flush()
    return result


# --- dossier volumes -------------------------------------------------------------

VOLUME_COLUMNS = Columns(
    required=("agency_code", "field_code", "month", "dossiers"),
    optional=("return_channel", "resolved", "resolved_on_time", "resolved_late"),
)


def _month(row: Row, problems: Problems) -> date | None:
    value = row["month"]
    match = MONTH_PATTERN.fullmatch(value)
    if match and 2000 <= int(match[1]) <= 2100 and 1 <= int(match[2]) <= 12:
        return date(int(match[1]), int(match[2]), 1)
    if not value:
        problems.add(row.line, "month is empty")
    elif match and 1 <= int(match[2]) <= 12:
        problems.add(row.line, f"month '{value}' is outside the years 2000–2100")
    else:
        problems.add(row.line, f"month '{value[:40]}' must be YYYY-MM, e.g. 2022-07")
    return None


def _count(row: Row, column: str, problems: Problems, required: bool = True) -> int | None:
    """A whole number ≥ 0 in ``column`` (None when empty: a problem if ``required``)."""
    value = row[column].replace(" ", "")
    if not value:
        if required:
            problems.add(row.line, f"{column} is empty")
    elif THOUSANDS_PATTERN.fullmatch(value):
        problems.add(
            row.line,
            f"{column} '{row[column]}' must be a whole number written without "
            "thousands separators, e.g. 1234",
        )
    elif not INTEGER_PATTERN.fullmatch(value):
        problems.add(row.line, f"{column} '{row[column][:40]}' must be a whole number")
    elif len(value.lstrip("+-0")) > len(str(MAX_DOSSIERS)):  # int() refuses 4301 digits
        shown = value if len(value) <= 20 else value[:20] + "…"
        problems.add(row.line, f"{column} {shown} is too large")
    elif int(value) < 0:
        problems.add(row.line, f"{column} must not be negative (got {int(value)})")
    elif int(value) > MAX_DOSSIERS:
        problems.add(row.line, f"{column} {value} is too large")
    else:
        return int(value)
    return None


def _return_channel(row: Row, problems: Problems) -> str | None:
    value = row["return_channel"].lower()
    if not value:
        return ALL_CHANNELS
    if value in CHANNELS or value == ALL_CHANNELS:
        return value
    problems.add(
        row.line,
        f"return_channel '{row['return_channel'][:40]}' must be counter, online, post "
        "or empty (all channels)",
    )
    return None


def _resolved(row: Row, problems: Problems) -> tuple[bool, tuple]:
    """``(ok, (resolved, on_time, late))``: on-time and late come together, with resolved,
    and add up to at most resolved."""
    errors = len(problems.messages)
    resolved = _count(row, "resolved", problems, required=False)
    on_time = _count(row, "resolved_on_time", problems, required=False)
    late = _count(row, "resolved_late", problems, required=False)
    if len(problems.messages) > errors:
        return False, ()
    given = (bool(row["resolved_on_time"]), bool(row["resolved_late"]))
    if any(given) and not all(given):
        missing = "resolved_late" if given[0] else "resolved_on_time"
        problems.add(row.line, f"{missing} is empty: give on-time and late counts together")
        return False, ()
    if on_time is not None and resolved is None:
        problems.add(row.line, "resolved is empty: on-time and late counts need it")
        return False, ()
    if on_time is not None and on_time + late > resolved:
        problems.add(
            row.line,
            f"resolved_on_time + resolved_late ({on_time + late}) is more than resolved "
            f"({resolved})",
        )
        return False, ()
    return True, (resolved, on_time, late)


def _apply_volumes(rows: list[Row]) -> ImportResult:
    problems = Problems()
    agencies = _agencies_by_code()
    fields = _fields_by_code()
    seen: dict[tuple, int] = {}
    figures: list[Figure] = []
    lines: list[int] = []
    for row in rows:
        agency = _lookup(row, "agency_code", agencies, problems)
        pf = _lookup(row, "field_code", fields, problems)
        month = _month(row, problems)
        dossiers = _count(row, "dossiers", problems)
        channel = _return_channel(row, problems)
        ok, resolved = _resolved(row, problems)
        if agency is None or pf is None or month is None or channel is None:
            continue
        key = (agency.id, pf.id, month, channel)
        what = f"agency '{agency.code}', field '{pf.code}', month {month:%Y-%m}"
        if channel != ALL_CHANNELS:
            what += f", return channel {channel}"
        if _first_seen(seen, key, row.line, problems, what) and dossiers is not None and ok:
            figures.append(
                Figure(agency.id, pf.id, f"{month:%Y-%m}", month, channel, dossiers, *resolved)
            )
            lines.append(row.line)
    for j, k in overlaps_within(figures):
        if figures[j].return_channel != figures[k].return_channel:  # same key: reported above
            problems.add(
                lines[k],
                "a figure for all return channels and one for a single channel of the same "
                f"agency, field and month would count dossiers twice (line {lines[j]})",
            )
    problems.raise_if_any()
    stored = store_figures(IMPORT_SOURCE, figures)
    return ImportResult(
        created=stored.created,
        updated=stored.replaced,
        unchanged=stored.unchanged,
        superseded=stored.superseded,
    )


# --- entry points ------------------------------------------------------------------

_KINDS: dict[str, tuple[Columns, Callable[[list[Row]], ImportResult]]] = {
    "agencies": (AGENCY_COLUMNS, _apply_agencies),
    "counters": (COUNTER_COLUMNS, _apply_counters),
    "procedures": (PROCEDURE_COLUMNS, _apply_procedures),
    "volumes": (VOLUME_COLUMNS, _apply_volumes),
}


def import_file(kind: str, path: Path) -> ImportResult:
    """Check the CSV file at ``path`` and, if it has no problem, apply it (flushes, never commits).

    :param kind: ``agencies``, ``counters``, ``procedures`` or ``volumes``.
    :return: rows created, updated and unchanged.
    :raises ImportFailed: with every problem found; nothing was changed.
    """
    columns, apply = _KINDS[kind]
    return apply(read_csv(Path(path), columns))


def import_records(kind: str, records: Iterable[Mapping[str, object]]) -> ImportResult:
    """Like :func:`import_file`, for records already in memory (dicts keyed by column name).

    Line numbers in errors count the first record as line 2, as in a file.
    """
    columns, apply = _KINDS[kind]
    return apply(rows_from_records(records, columns))


def _file_importer(kind: str) -> Callable[[Path], ImportResult]:
    def importer(path: Path) -> ImportResult:
        return import_file(kind, path)

    importer.__name__ = f"import_{kind}"
    importer.__doc__ = f"Import {kind} from a CSV file (see :func:`import_file`)."
    return importer


#: ``flask import <kind> FILE``: kind → function(path) → :class:`ImportResult`.
IMPORTERS: dict[str, Callable[[Path], ImportResult]] = {
    kind: _file_importer(kind) for kind in _KINDS
}
