"""Dossier figures of the one-stop system: one store for the CSV import and the API.

A **figure** is what one source (the CSV import, or one integrating system's
API key) says about one agency, one procedure field, one period (a month
``YYYY-MM`` or a day ``YYYY-MM-DD``) and one return channel (``counter``,
``online``, ``post``, or ``all`` when not broken down):

- ``received`` (column ``dossiers``): dossiers received in the period; the
  post-stratification total and the denominator of response coverage;
- ``resolved``: dossiers whose result was given in the period (optional);
- ``resolved_on_time``: of those, settled on or before their due date (early
  included, as the plan's II.3.c counts them); ``resolved_late``: after it.
  ``resolved_on_time + resolved_late ≤ resolved`` (the rest had no due date,
  or the system did not classify them).

**Replacing, never adding.** A source's new figure for the same agency,
field, period and return channel replaces its earlier one (an identical one
changes nothing). It also replaces the source's figures it *overlaps*, so
that one source never counts a dossier twice: a month's figure overlaps the
days of that month, and a figure for ``all`` channels overlaps each channel's.
Writing is one ``INSERT … ON CONFLICT DO UPDATE`` per figure on the unique
key, so two systems re-sending the same figure at once leave one row.

Days roll up into months by summing on ``month`` (:func:`period_figures`);
figures of different sources add up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..core.time import now_utc
from ..extensions import db
from .models import ALL_CHANNELS, DossierVolume, ReturnChannel

_PERIOD = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
#: Largest count a figure holds (the columns are 32-bit integers).
MAX_COUNT = 2**31 - 1
CHANNELS = tuple(c.value for c in ReturnChannel)
VALUE_COLUMNS = ("dossiers", "resolved", "resolved_on_time", "resolved_late")


def parse_period(text: str) -> tuple[str, date, date | None] | None:
    """``(period, month, day)`` of ``YYYY-MM`` or ``YYYY-MM-DD`` (``day`` None for a month),
    or None when ``text`` is neither or names no real date in the years 2000–2100."""
    match = _PERIOD.fullmatch(text)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    day = None
    if match[3] is not None:
        try:
            day = date(year, month, int(match[3]))
        except ValueError:
            return None
    return text, date(year, month, 1), day


@dataclass(frozen=True)
class Figure:
    """One figure, checked (see the module docstring)."""

    agency_id: int
    field_id: int
    period: str
    month: date
    return_channel: str = ALL_CHANNELS
    dossiers: int = 0
    resolved: int | None = None
    resolved_on_time: int | None = None
    resolved_late: int | None = None

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.agency_id, self.field_id, self.return_channel, self.period)

    @property
    def values(self) -> tuple:
        return (self.dossiers, self.resolved, self.resolved_on_time, self.resolved_late)

    def overlaps(self, period: str, channel: str) -> bool:
        """Whether this figure and one for ``period`` and ``channel`` of the same agency,
        field and month count some dossiers twice."""
        same_time = period == self.period or len(period) == 7 or len(self.period) == 7
        same_channel = channel == self.return_channel or ALL_CHANNELS in (
            channel,
            self.return_channel,
        )
        return same_time and same_channel


def overlaps_within(figures: list[Figure]) -> list[tuple[int, int]]:
    """Pairs ``(earlier, later)`` of indices of figures that are the same or overlap: a
    request or a file must not say two things about the same dossiers."""
    by_cell: dict[tuple[int, int, date], list[int]] = {}
    pairs = []
    for k, f in enumerate(figures):
        cell = by_cell.setdefault((f.agency_id, f.field_id, f.month), [])
        for j in cell:
            other = figures[j]
            if f.overlaps(other.period, other.return_channel):
                pairs.append((j, k))
                break
        cell.append(k)
    return pairs


@dataclass
class Stored:
    """What storing figures did: rows created, replaced with other numbers, left as
    they were, and other figures of the source removed because a new one covers them."""

    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0


def _upsert(rows: list[dict]) -> None:
    table = DossierVolume.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["source", "agency_id", "field_id", "return_channel", "period"],
        set_={name: statement.excluded[name] for name in (*VALUE_COLUMNS, "month", "updated_at")},
    )
    for first in range(0, len(rows), 5000):
        db.session.execute(statement, rows[first : first + 5000])


def store_figures(source: str, figures: Iterable[Figure]) -> Stored:
    """Store ``figures`` of ``source``: each replaces the source's figure with the same
    key and the source's figures it overlaps (see the module docstring). Flushes, never
    commits.

    :param figures: checked figures, none overlapping another
        (:func:`overlaps_within` is empty).
    :return: the counts of :class:`Stored`.
    """
    figures = list(figures)
    table = DossierVolume.__table__
    months = sorted({f.month for f in figures})
    agencies = sorted({f.agency_id for f in figures})
    current: dict[tuple[int, int, date], list[tuple]] = {}
    for first in range(0, len(months), 500):
        query = select(
            table.c.id,
            table.c.agency_id,
            table.c.field_id,
            table.c.month,
            table.c.return_channel,
            table.c.period,
            *(table.c[name] for name in VALUE_COLUMNS),
        ).where(table.c.source == source, table.c.month.in_(months[first : first + 500]))
        if len(agencies) <= 500:
            query = query.where(table.c.agency_id.in_(agencies))
        for row in db.session.execute(query):
            current.setdefault((row.agency_id, row.field_id, row.month), []).append(tuple(row))

    result = Stored()
    now = now_utc()
    writes, gone = [], set()
    for f in figures:
        same = None
        for row in current.get((f.agency_id, f.field_id, f.month), ()):
            vid, channel, period, values = row[0], row[4], row[5], tuple(row[6:])
            if (channel, period) == (f.return_channel, f.period):
                same = values
            elif f.overlaps(period, channel):
                gone.add(vid)
        if same == f.values:
            result.unchanged += 1
            continue
        if same is None:
            result.created += 1
        else:
            result.replaced += 1
        writes.append(
            {
                "source": source,
                "agency_id": f.agency_id,
                "field_id": f.field_id,
                "period": f.period,
                "month": f.month,
                "return_channel": f.return_channel,
                "dossiers": f.dossiers,
                "resolved": f.resolved,
                "resolved_on_time": f.resolved_on_time,
                "resolved_late": f.resolved_late,
                "updated_at": now,
            }
        )
    db.session.flush()
    if gone:
        ids = sorted(gone)
        for first in range(0, len(ids), 500):
            db.session.execute(delete(table).where(table.c.id.in_(ids[first : first + 500])))
        result.superseded = len(ids)
    if writes:
        _upsert(writes)
    # Core statements bypass the identity map: drop stale DossierVolume objects
    for obj in [o for o in db.session.identity_map.values() if isinstance(o, DossierVolume)]:
        db.session.expire(obj)
    return result


def period_figures(months: list[date], by_channel: bool = False) -> dict[tuple, dict]:
    """The figures of ``months`` summed over sources and days, per (agency id, field id)
    (and return channel when ``by_channel``).

    :return: per key ``dossiers`` (received), ``resolved`` (over the figures that
        report it, else None), and over the figures that report on-time and late
        counts: ``timed`` (their ``resolved``), ``on_time`` and ``late`` (0 when none).
    """
    v = DossierVolume
    keys = [v.agency_id, v.field_id] + ([v.return_channel] if by_channel else [])
    timed = v.resolved_on_time.is_not(None)
    rows = db.session.execute(
        select(
            *keys,
            func.sum(v.dossiers),
            func.sum(v.resolved),
            func.sum(case((timed, v.resolved), else_=0)),
            func.sum(func.coalesce(v.resolved_on_time, 0)),
            func.sum(func.coalesce(v.resolved_late, 0)),
        )
        .where(v.month.in_(months))
        .group_by(*keys)
    ).all()
    n = len(keys)
    return {
        tuple(row[:n]): {
            "dossiers": int(row[n] or 0),
            "resolved": None if row[n + 1] is None else int(row[n + 1]),
            "timed": int(row[n + 2] or 0),
            "on_time": int(row[n + 3] or 0),
            "late": int(row[n + 4] or 0),
        }
        for row in rows
    }
