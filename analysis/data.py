"""The response table: columns as numpy arrays, a CSV reader, reporting periods.

Layout for 10⁶ responses × 20 items: answers as one dense ``(n, m)`` int8
matrix (0 = missing / N/A, 1–5 otherwise), labels as arrays (integer codes
are fastest; strings work), timestamps as ``datetime64[s]`` in UTC.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ._util import factorize
from .questionnaire import Questionnaire, load_questionnaire

#: Viet Nam has no daylight saving time: local time is UTC+7 all year.
VN_UTC_OFFSET_HOURS = 7

_KNOWN = (
    "response_id",
    "agency",
    "submitted_at",
    "stratum",
    "cluster",
    "weight",
    "counter",
    "procedure_field",
)


class InputError(ValueError):
    """Input that cannot be analysed, with every problem found.

    :ivar problems: one message per problem, ``"FILE, line N: …"`` where the
        line is known.
    :ivar total: problems found (more than ``len(problems)`` when capped).
    """

    def __init__(self, problems: list[str], total: int | None = None):
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        shown = "; ".join(self.problems[:3])
        more = self.total - min(3, len(self.problems))
        super().__init__(shown + (f" (and {more} more)" if more > 0 else ""))


class Problems:
    """Collects problems in one input (``FILE, line N: …``) to report them all at once.

    :param source: the input's name, put before every message.
    :param limit: messages kept (the rest are only counted).
    """

    def __init__(self, source: str, limit: int = 10_000):
        self.source = source
        self.limit = limit
        self.total = 0
        self._found: list[tuple[int, str]] = []

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, line: int | None, message: str) -> None:
        """One problem; ``line`` None for the file as a whole (sorted first)."""
        self.total += 1
        if len(self._found) < self.limit:
            self._found.append((0 if line is None else int(line), message))

    def add_each(self, lines, messages) -> None:
        """One problem per line (``lines`` and ``messages`` alike long iterables)."""
        for line, message in zip(lines, messages):
            self.add(line, message)

    def messages(self) -> list[str]:
        """The messages kept, by line (whole-file problems first)."""
        return [
            f"{self.source}, line {line}: {text}" if line else f"{self.source}: {text}"
            for line, text in sorted(self._found, key=lambda p: p[0])
        ]

    def error(self) -> InputError:
        return InputError(self.messages(), self.total)

    def raise_if_any(self) -> None:
        if self.total:
            raise self.error()


@dataclass
class Responses:
    """One row per response, columns as arrays.

    :ivar answers: ``(n, m)`` answers, 0 = missing, columns in ``item_codes`` order.
    :ivar item_codes: the item code of each answer column.
    :ivar agency: agency label per response.
    :ivar submitted_at: ``datetime64[s]`` UTC, or None.
    :ivar response_id, stratum, cluster, counter, procedure_field: optional labels.
    :ivar weight: optional base weight (default 1).
    :ivar extra: any other columns (e.g. ``duration_seconds``, ``device``).
    """

    answers: np.ndarray
    item_codes: tuple[str, ...]
    agency: np.ndarray
    submitted_at: np.ndarray | None = None
    response_id: np.ndarray | None = None
    stratum: np.ndarray | None = None
    cluster: np.ndarray | None = None
    weight: np.ndarray | None = None
    counter: np.ndarray | None = None
    procedure_field: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        self.answers = np.asarray(self.answers)
        self.item_codes = tuple(self.item_codes)
        self.agency = np.asarray(self.agency)
        n = self.agency.shape[0]
        if self.answers.shape != (n, len(self.item_codes)):
            raise ValueError(
                f"answers must be ({n}, {len(self.item_codes)}), got {self.answers.shape}"
            )
        for name in (
            "submitted_at",
            "response_id",
            "stratum",
            "cluster",
            "weight",
            "counter",
            "procedure_field",
        ):
            value = getattr(self, name)
            if value is not None and np.shape(value)[0] != n:
                raise ValueError(f"column {name} must have {n} rows")

    @property
    def n(self) -> int:
        return int(self.agency.shape[0])

    def item_matrix(self, item_codes) -> np.ndarray:
        """Answers reordered to ``item_codes`` (``(n, len(item_codes))``).

        :raises KeyError: an item code that is not a column.
        """
        if tuple(item_codes) == self.item_codes:
            return self.answers
        index = {code: j for j, code in enumerate(self.item_codes)}
        missing = [code for code in item_codes if code not in index]
        if missing:
            raise KeyError(f"answer columns missing: {missing}")
        return self.answers[:, [index[code] for code in item_codes]]

    def select(self, mask) -> Responses:
        """The rows where ``mask`` holds (a boolean array or indices)."""

        def take(a):
            return None if a is None else np.asarray(a)[mask]

        return replace(
            self,
            answers=self.answers[mask],
            agency=self.agency[mask],
            submitted_at=take(self.submitted_at),
            response_id=take(self.response_id),
            stratum=take(self.stratum),
            cluster=take(self.cluster),
            weight=take(self.weight),
            counter=take(self.counter),
            procedure_field=take(self.procedure_field),
            extra={k: np.asarray(v)[mask] for k, v in self.extra.items()},
        )


def parse_timestamps(values) -> np.ndarray:
    """ISO-8601 strings → ``datetime64[s]`` in UTC (``NaT`` for empty strings).

    Strings without an offset are taken as UTC (the database stores UTC);
    ``Z`` and ``±HH:MM`` offsets are honoured.
    """
    s = np.char.strip(np.asarray(values, dtype=str))
    out = np.full(s.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    present = np.flatnonzero(s != "")
    if present.size == 0:
        return out
    body = np.char.replace(s[present], " ", "T")
    time_part = np.char.partition(body, "T")[..., 2]
    offset = (np.char.find(time_part, "+") >= 0) | (np.char.find(time_part, "-") >= 0)
    plain = present[~offset]
    out[plain] = np.array(np.char.rstrip(body[~offset], "Z"), dtype="datetime64[s]")
    # explicit offsets: the slow path (input parsing, not computation)
    parsed = []
    for text in body[offset]:
        dt = datetime.fromisoformat(text)  # Python ≥ 3.11 reads "Z" too
        dt = dt.astimezone(UTC).replace(tzinfo=None)
        parsed.append(np.datetime64(dt, "s"))
    if parsed:
        out[present[offset]] = np.array(parsed, dtype="datetime64[s]")
    return out


def period_month(
    submitted_at: np.ndarray,
    *,
    cutoff_day: int | None = 15,
    utc_offset_hours: int = VN_UTC_OFFSET_HOURS,
) -> np.ndarray:
    """Reporting month of each response (``datetime64[M]``).

    DOMAIN.md: reporting periods run from the 15th of the month before to the
    14th (local time), so with ``cutoff_day=15`` a response on 15 December
    belongs to January. ``cutoff_day=None`` gives calendar months.
    """
    local = np.asarray(submitted_at, dtype="datetime64[s]") + np.timedelta64(utc_offset_hours, "h")
    # the calendar arithmetic once per distinct local day (10⁶ responses: a few hundred days)
    codes, days = factorize(local.astype("datetime64[D]"))
    month = days.astype("datetime64[M]")
    if cutoff_day is not None:
        day = (days - month.astype("datetime64[D]")).astype(np.int64) + 1
        month = month + (day >= cutoff_day).astype(np.int64)
    return month[codes].reshape(local.shape)


def read_responses_csv(
    source,
    questionnaire: Questionnaire | None = None,
    *,
    allow_missing_items: bool = False,
) -> Responses:
    """Read responses from CSV.

    Columns: ``response_id, agency, submitted_at`` and optionally ``stratum,
    cluster, weight, counter, procedure_field``, plus one column per item
    code with 1–5 or empty (N/A / not asked). Other columns go to
    :attr:`Responses.extra` as strings.

    :param source: a path or an open text file.
    :param questionnaire: gives the item codes (default: the shipped one).
    :param allow_missing_items: treat absent item columns as never answered
        (otherwise an absent item column is an error).
    :return: :class:`Responses` with answers in ``questionnaire.item_codes`` order.
    """
    questionnaire = questionnaire or load_questionnaire()
    if isinstance(source, (str, Path)):
        text = Path(source).read_text(encoding="utf-8-sig")
    else:
        text = source.read()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("empty CSV")
    header = [h.strip() for h in rows[0]]
    body = np.array(rows[1:], dtype=str).reshape(len(rows) - 1, len(header))
    columns = {name: body[:, j] for j, name in enumerate(header)}
    for required in ("agency",):
        if required not in columns:
            raise ValueError(f"CSV lacks the {required!r} column")
    n = body.shape[0]
    codes = questionnaire.item_codes
    missing = [c for c in codes if c not in columns]
    if missing and not allow_missing_items:
        raise ValueError(f"CSV lacks item columns {missing}")
    answers = np.zeros((n, len(codes)), dtype=np.int8)
    for j, code in enumerate(codes):
        if code in columns:
            col = np.char.strip(columns[code])
            filled = col != ""
            values = np.zeros(n, dtype=np.int64)
            values[filled] = col[filled].astype(np.int64)
            if np.any((values[filled] < 1) | (values[filled] > 5)):
                raise ValueError(f"item {code}: answers must be 1–5 or empty")
            answers[:, j] = values

    def optional(name):
        if name not in columns:
            return None
        col = np.char.strip(columns[name])
        return None if np.all(col == "") else col

    weight = optional("weight")
    if weight is not None and np.any(weight == ""):
        raise ValueError("the weight column has empty cells (leave it all empty for weight 1)")
    return Responses(
        answers=answers,
        item_codes=codes,
        agency=np.char.strip(columns["agency"]),
        submitted_at=(
            parse_timestamps(columns["submitted_at"]) if "submitted_at" in columns else None
        ),
        response_id=optional("response_id"),
        stratum=optional("stratum"),
        cluster=optional("cluster"),
        weight=None if weight is None else weight.astype(np.float64),
        counter=optional("counter"),
        procedure_field=optional("procedure_field"),
        extra={k: v for k, v in columns.items() if k not in _KNOWN and k not in codes},
    )
