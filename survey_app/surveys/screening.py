"""Ballot-stuffing screening: bursts of responses at a counter, caught and quarantined.

Anyone who has a counter's poster address can tap a face, and a script that
throws away its cookie after each tap is refused only by the rate limit of its
address (``SURVEY_RATE_LIMIT``, 300 an hour). The tap itself stays cheap (it is
the hot path): this module screens what was stored, afterwards, from
``flask survey screen`` (cron, every 5 minutes) and before a live report is
computed (:func:`screen_if_due`).

**What is caught.** For every counter with new responses, each response ends
three sliding windows, 10 minutes, 1 hour and 24 hours, and each window is
counted three ways: the responses from one address (``address``: a keyed hash
of the address alone, salted per day, so rotating the browser string changes
nothing), those from one address with one browser string (``client``, the
response's ``client_hash``), and then every response at the counter that those
two did not catch (``counter``: many addresses together; a single address's
burst is not blamed on the day's other citizens). Kiosk taps come from one
tablet for everyone at the counter: they count for the ``counter`` rule only.
A window holding more responses than its threshold puts every response it
counts into a burst.

**Thresholds.** The counter's *usual rate* is its responses per open hour over
the ``SCREEN_HISTORY_DAYS`` before the screened range (45 open hours a week;
quarantined and staff responses left out), shrunk towards two an hour for a
counter with little history: ``λ = (n + 18) / (open hours + 9)``. A window of
``w`` open hours (at most 9 a day) usually holds ``μ = λ · w · s`` responses of
one key, ``s`` the key's share of the counter's traffic: ``SCREEN_ADDRESS_SHARE``
for one address (a hall's Wi-Fi, a carrier's shared address),
``SCREEN_CLIENT_SHARE`` for one address and browser string (most Android phones
send the same one), 1 for the counter. The threshold is the count that Poisson
traffic at ``SCREEN_PEAK_FACTOR`` times that rate (2 for the 24-hour window: a
busy day) exceeds with probability ``SCREEN_FALSE_ALARM``, and at least
:data:`MINIMUM` of the rule; the counter's own rate gets :data:`COUNTER_PEAK`
instead (a busy day's rush). So ordinary traffic is practically never caught,
and a counter's thresholds follow its own traffic. ``bench/stuffing.py``
measures both sides: false alarms on simulated ordinary traffic (rushes,
groups, a shared Wi-Fi), and what the thresholds leave to a stuffer.

**Quarantine.** A burst (:class:`~survey_app.surveys.models.ResponseBurst`)
holds its responses through
:class:`~survey_app.surveys.models.BurstMember`, with the rules that caught
it, the counts against the thresholds, how many addresses and browsers sent it
and its ratings. Its responses are kept and marked ``quarantined``: reports and
exports leave them out, and say how many. A province-wide coordinator or admin
confirms a burst or restores it (:func:`restore`, :func:`confirm`), and the
audit log records the screening's and the reviewer's every decision.

**Runs.** A run screens the responses submitted since the previous one (minus
15 minutes, for transactions that committed late); a first run the last day.
Responses already in a burst are never caught again (a restored burst stays
restored), so a run is idempotent; one run at a time holds the lock (an
advisory lock on PostgreSQL, the write lock on SQLite), so cron on several
servers is safe. A run also erases the address hashes of responses older than
two days: the screening no longer needs them.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from flask import current_app
from scipy import stats
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..agencies.models import Agency, Counter
from ..agencies.services import subtree_filter
from ..core.time import now_utc
from ..extensions import db
from ..feedback import audit
from ..feedback.models import AuditLog
from .models import BurstMember, BurstState, Channel, Response, ResponseBurst, ScreeningState

log = logging.getLogger(__name__)

#: The rules, in the order they are reported, and the least threshold of each
#: ("more than this many in one window"), whatever the counter's history: a family
#: or a group of colleagues rates together now and then.
MINIMUM = {"counter": 10, "address": 5, "client": 4}
#: The sliding windows, in seconds.
WINDOWS = (600, 3600, 86400)
#: Open hours in a day and in a week (the usual rate is per open hour).
OPEN_HOURS_PER_DAY = 9.0
OPEN_HOURS_PER_WEEK = 45.0
#: The busiest day against the average day (the 24-hour window's peak factor).
DAY_PEAK = 2.0
#: The counter's own rate gets more room than one source's (whose shares already
#: have a margin): a busy day's morning rush reaches 4 times the average open hour.
#: Only many addresses together are caught by it, and they cost an attacker more.
COUNTER_PEAK, COUNTER_DAY_PEAK = 5.0, 3.0
#: The prior of a counter's usual rate: 18 responses in 9 open hours (2 an hour).
PRIOR_RESPONSES, PRIOR_HOURS = 18.0, 9.0
#: Caught responses further apart than this (at one counter) are two bursts.
BURST_GAP = timedelta(hours=1)
#: A run screens again what the previous one saw in its last minutes (late commits).
MARGIN = timedelta(minutes=15)
#: What a first run screens, and the longest a run catches up after a pause.
FIRST_RUN = timedelta(hours=24)
MAX_CATCH_UP = timedelta(days=7)
#: Address hashes are erased once responses are older than this.
ERASE_ADDRESS_AFTER = timedelta(hours=48)
#: The PostgreSQL advisory lock one run holds (any constant number unique to this job).
LOCK_KEY = 4_857_310_122_631


@dataclass(frozen=True)
class Settings:
    """The screening's tunable numbers (``SCREEN_*`` settings)."""

    false_alarm: float = 1e-6
    peak: float = 3.0
    address_share: float = 0.5
    client_share: float = 0.25
    history_days: int = 28

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(
            false_alarm=float(config.get("SCREEN_FALSE_ALARM", cls.false_alarm)),
            peak=float(config.get("SCREEN_PEAK_FACTOR", cls.peak)),
            address_share=float(config.get("SCREEN_ADDRESS_SHARE", cls.address_share)),
            client_share=float(config.get("SCREEN_CLIENT_SHARE", cls.client_share)),
            history_days=int(config.get("SCREEN_HISTORY_DAYS", cls.history_days)),
        )

    def share(self, rule: str) -> float:
        return {"counter": 1.0, "address": self.address_share, "client": self.client_share}[rule]


# -- detection: plain arrays, no database ---------------------------------------------------


def usual_rate(n_history, open_hours) -> np.ndarray:
    """A counter's usual responses per open hour, shrunk towards the prior of 2 an hour.

    :param n_history: responses in its history (quarantined ones left out).
    :param open_hours: open hours its history covers.
    """
    n = np.asarray(n_history, dtype=np.float64)
    hours = np.asarray(open_hours, dtype=np.float64)
    return (n + PRIOR_RESPONSES) / (hours + PRIOR_HOURS)


def expected_count(
    rate, window_seconds: int, share: float, peak: float, day_peak: float = DAY_PEAK
) -> np.ndarray:
    """Responses of one key a window holds at ``peak`` times the usual rate
    (``day_peak`` at most for a 24-hour window)."""
    hours = min(window_seconds / 3600.0, OPEN_HOURS_PER_DAY)
    factor = peak if window_seconds < 86400 else min(peak, day_peak)
    return np.asarray(rate, dtype=np.float64) * hours * share * factor


def threshold(mu, false_alarm: float, minimum: int) -> np.ndarray:
    """The count Poisson(``mu``) exceeds with probability at most ``false_alarm``
    (and at least ``minimum``): more than this in one window is a burst."""
    mu = np.maximum(np.asarray(mu, dtype=np.float64), 1e-9)
    return np.maximum(stats.poisson.isf(false_alarm, mu), minimum).astype(np.int64)


def window_counts(
    key: np.ndarray, t: np.ndarray, window: int, limit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sliding-window counts per key, and the responses inside a window over its limit.

    :param key: integer key per response (a counter, an address at a counter…).
    :param t: submission time per response, in seconds.
    :param limit: the threshold for each response's key.
    :return: ``count`` (responses of the same key in ``[t − window, t]``) and
        ``marked`` (the response lies in some window holding more than its limit).
    """
    n = key.size
    count = np.zeros(n, dtype=np.int64)
    marked = np.zeros(n, dtype=bool)
    if n == 0:
        return count, marked
    order = np.lexsort((t, key))
    tt = np.asarray(t, dtype=np.int64)[order]
    tt -= tt.min()
    span = int(tt.max()) + window + 1
    value = key[order].astype(np.int64) * span + tt
    first = np.searchsorted(value, value - window, side="left")
    count_sorted = np.arange(n) - first + 1
    hot = count_sorted > limit[order]
    edges = np.zeros(n + 1, dtype=np.int64)
    np.add.at(edges, first[hot], 1)
    np.add.at(edges, np.flatnonzero(hot) + 1, -1)
    count[order] = count_sorted
    marked[order] = np.cumsum(edges[:-1]) > 0
    return count, marked


@dataclass
class Traffic:
    """Responses to screen, one entry per response in each array."""

    id: np.ndarray
    counter: np.ndarray
    #: Submission time, seconds since 1970 (UTC).
    t: np.ndarray
    #: ``client_hash`` and ``address_hash`` ("" when unknown).
    client: np.ndarray
    address: np.ndarray
    kiosk: np.ndarray
    #: Already in a burst (restored ones too): never caught again.
    assigned: np.ndarray
    #: Quarantined now: not counted for the counter's rate (see :func:`detect`).
    held: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[tuple]) -> Traffic:
        """From ``(id, counter, time in seconds, client, address, is kiosk, assigned, held)`` rows."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * 8
        return cls(
            id=np.asarray(columns[0], dtype=np.int64),
            counter=np.asarray(columns[1], dtype=np.int64),
            t=np.asarray(columns[2], dtype=np.int64),
            client=np.asarray([c or "" for c in columns[3]], dtype=object),
            address=np.asarray([a or "" for a in columns[4]], dtype=object),
            kiosk=np.asarray(columns[5], dtype=bool),
            assigned=np.asarray(columns[6], dtype=bool),
            held=np.asarray(columns[7], dtype=bool),
        )

    @property
    def n(self) -> int:
        return int(self.id.size)


@dataclass
class RuleWindow:
    """One rule in one window: per response its window's count, threshold and usual count."""

    rule: str
    window: int
    count: np.ndarray
    limit: np.ndarray
    usual: np.ndarray
    marked: np.ndarray


@dataclass
class Detection:
    """What :func:`detect` found: ``caught`` are responses not yet in a burst."""

    caught: np.ndarray
    results: list[RuleWindow] = field(default_factory=list)


def _keys(traffic: Traffic, labels: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Integer codes of (counter, label) for eligible responses, a code of its own otherwise."""
    codes = np.empty(traffic.n, dtype=np.int64)
    if eligible.any():
        pairs = [f"{c}|{label}" for c, label in zip(traffic.counter[eligible], labels[eligible])]
        _, inverse = np.unique(np.asarray(pairs, dtype=object), return_inverse=True)
        codes[eligible] = inverse.ravel()
        start = int(inverse.max()) + 1
    else:
        start = 0
    codes[~eligible] = start + np.arange(int((~eligible).sum()))
    return codes


def detect(traffic: Traffic, rate: dict[int, float], settings: Settings) -> Detection:
    """Responses in a window over its threshold, for every rule and window.

    One address's (or one browser's) windows are counted first; the counter's
    windows then count the responses those did not catch, nor earlier bursts
    still in quarantine: a burst from one address is that address's, and the
    day's other responses at its counter are not caught with it, while many
    addresses together are still caught by the counter's rate.

    :param rate: usual responses per open hour of each counter (:func:`usual_rate`);
        a counter missing from it gets the prior's rate.
    """
    detection = Detection(caught=np.zeros(traffic.n, dtype=bool))
    if traffic.n == 0:
        return detection
    prior = float(usual_rate(0, 0))
    per_response = np.array([rate.get(int(c), prior) for c in traffic.counter], dtype=np.float64)
    by_browser = ~traffic.kiosk  # a kiosk is one device for everyone at its counter
    keys = {
        "address": _keys(traffic, traffic.address, by_browser & (traffic.address != "")),
        "client": _keys(traffic, traffic.client, by_browser & (traffic.client != "")),
    }
    one_source = np.zeros(traffic.n, dtype=bool)
    for rule, key in keys.items():
        share = settings.share(rule)
        for window in WINDOWS:
            mu = expected_count(per_response, window, share, settings.peak)
            limit = threshold(mu, settings.false_alarm, MINIMUM[rule])
            count, marked = window_counts(key, traffic.t, window, limit)
            usual = expected_count(per_response, window, share, 1.0)
            detection.results.append(RuleWindow(rule, window, count, limit, usual, marked))
            one_source |= marked
    rest = np.flatnonzero(~(one_source | traffic.held))
    by_counter = np.zeros(traffic.n, dtype=bool)
    for window in WINDOWS:
        mu = expected_count(per_response, window, 1.0, COUNTER_PEAK, COUNTER_DAY_PEAK)
        limit = threshold(mu, settings.false_alarm, MINIMUM["counter"])
        count = np.zeros(traffic.n, dtype=np.int64)
        marked = np.zeros(traffic.n, dtype=bool)
        count[rest], marked[rest] = window_counts(
            traffic.counter[rest], traffic.t[rest], window, limit[rest]
        )
        usual = expected_count(per_response, window, 1.0, 1.0)
        detection.results.append(RuleWindow("counter", window, count, limit, usual, marked))
        by_counter |= marked
    detection.caught = (one_source | by_counter) & ~traffic.assigned
    return detection


def group_bursts(traffic: Traffic, caught: np.ndarray) -> list[np.ndarray]:
    """Caught responses as bursts: per counter, split where they are over an hour apart.

    :return: index arrays into ``traffic``, each sorted by time.
    """
    idx = np.flatnonzero(caught)
    if idx.size == 0:
        return []
    idx = idx[np.lexsort((traffic.t[idx], traffic.counter[idx]))]
    gap = BURST_GAP.total_seconds()
    breaks = (np.diff(traffic.counter[idx]) != 0) | (np.diff(traffic.t[idx]) > gap)
    return np.split(idx, np.flatnonzero(breaks) + 1)


def evidence(detection: Detection, members: np.ndarray) -> list[dict[str, Any]]:
    """For each rule and window that caught some of ``members``: the largest count, the
    threshold and the usual count, as the reviewer sees them."""
    out = []
    for r in detection.results:
        hit = members[r.marked[members]]
        if hit.size:
            out.append(
                {
                    "rule": r.rule,
                    "window": r.window,
                    "count": int(r.count[hit].max()),
                    "threshold": int(r.limit[hit].max()),
                    "usual": round(float(r.usual[hit].max()), 2),
                }
            )
    return out


def _merge_rules(old: list[dict], new: list[dict]) -> list[dict]:
    merged = {(e["rule"], e["window"]): dict(e) for e in old}
    for e in new:
        key = (e["rule"], e["window"])
        if key in merged:
            merged[key]["count"] = max(merged[key]["count"], e["count"])
            merged[key]["threshold"] = max(merged[key]["threshold"], e["threshold"])
            merged[key]["usual"] = max(merged[key]["usual"], e["usual"])
        else:
            merged[key] = dict(e)
    order = {rule: k for k, rule in enumerate(MINIMUM)}
    return sorted(merged.values(), key=lambda e: (order[e["rule"]], e["window"]))


def _reasons(rules: list[dict]) -> str:
    found = {e["rule"] for e in rules}
    return ",".join(rule for rule in MINIMUM if rule in found)


# -- runs against the database ---------------------------------------------------------------


@dataclass
class ScreenRun:
    """What one run did."""

    since: datetime | None = None
    until: datetime | None = None
    #: Responses submitted in ``[since, until)`` at the counters screened.
    screened: int = 0
    counters: int = 0
    new_bursts: list[int] = field(default_factory=list)
    extended_bursts: list[int] = field(default_factory=list)
    #: Responses put in quarantine by this run.
    quarantined: int = 0
    #: Address hashes erased.
    erased: int = 0
    #: Another run held the lock: nothing was done.
    skipped: bool = False


_R = Response.__table__
_M = BurstMember.__table__
_B = ResponseBurst.__table__
_S = ScreeningState.__table__


def _insert_ignore(connection: Connection, table, values: dict):
    build = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    return connection.execute(build(table).values(**values).on_conflict_do_nothing())


def _lock(connection: Connection, wait: bool) -> bool:
    """Take the screening's lock for this transaction; False if busy and not ``wait``."""
    if connection.dialect.name == "postgresql":
        if wait:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            return True
        return bool(
            connection.execute(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}
            ).scalar()
        )
    # SQLite: the first write takes the database's write lock until the commit, so
    # another run waits here (up to the busy timeout) rather than screening alongside
    _insert_ignore(connection, _S, {"id": 1})
    return True


def run(
    connection: Connection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    wait: bool = True,
    settings: Settings | None = None,
) -> ScreenRun:
    """Screen the responses submitted in ``[since, until)``; quarantine the bursts found.

    Without ``since`` and ``until``: what arrived since the previous run, which
    is then recorded, and the address hashes older than two days are erased.
    Works on ``connection`` in the caller's transaction (the caller commits).

    :param wait: wait for a run holding the lock (else return ``skipped``).
    :return: what was screened and found.
    """
    settings = settings or Settings.from_config(current_app.config)
    now = now_utc()
    if not _lock(connection, wait):
        return ScreenRun(skipped=True)
    _insert_ignore(connection, _S, {"id": 1})
    state = connection.execute(select(_S.c.screened_to).where(_S.c.id == 1)).one()
    routine = since is None and until is None
    until = min(until or now, now)
    if since is None:
        since = until - FIRST_RUN
        if state.screened_to is not None:
            since = max(state.screened_to - MARGIN, until - MAX_CATCH_UP)
    result = ScreenRun(since=since, until=until)
    if since < until:
        _screen(connection, result, settings)
    if routine:
        result.erased = _erase_address_hashes(connection, state.screened_to, until)
        if state.screened_to is None or state.screened_to < until:
            connection.execute(
                update(_S).where(_S.c.id == 1).values(screened_to=until, ran_at=now_utc())
            )
    return result


def _screen(connection: Connection, result: ScreenRun, settings: Settings) -> None:
    since, until = result.since, result.until
    longest = timedelta(seconds=max(WINDOWS))
    human = _R.c.staff_flag.is_(False)
    counters = connection.scalars(
        select(_R.c.counter_id)
        .where(_R.c.submitted_at >= since, _R.c.submitted_at < until, human)
        .distinct()
    ).all()
    if not counters:
        return
    result.counters = len(counters)
    rows = connection.execute(
        select(
            _R.c.id,
            _R.c.counter_id,
            _R.c.agency_id,
            _R.c.submitted_at,
            _R.c.client_hash,
            _R.c.address_hash,
            _R.c.channel,
            _R.c.quarantined,
            _M.c.burst_id,
        )
        .outerjoin(_M, _M.c.response_id == _R.c.id)
        .where(
            _R.c.counter_id.in_(counters),
            _R.c.submitted_at >= since - longest,
            _R.c.submitted_at < until,
            human,
        )
        .order_by(_R.c.id)
    ).all()
    traffic = Traffic.from_rows(
        [
            (
                r.id,
                r.counter_id,
                int(r.submitted_at.timestamp()),
                r.client_hash,
                r.address_hash,
                r.channel == Channel.kiosk,
                r.burst_id is not None,
                r.quarantined,
            )
            for r in rows
        ]
    )
    agency_of = {r.id: r.agency_id for r in rows}
    first = since.timestamp()
    result.screened = int((traffic.t >= first).sum())
    rates = _usual_rates(connection, counters, since - longest, settings.history_days)
    detection = detect(traffic, rates, settings)
    for members in group_bursts(traffic, detection.caught):
        _quarantine(connection, traffic, detection, members, agency_of, result)


def _usual_rates(
    connection: Connection, counters: list[int], end: datetime, days: int
) -> dict[int, float]:
    """Each counter's usual responses per open hour in the ``days`` before ``end``."""
    start = end - timedelta(days=days)
    rows = connection.execute(
        select(_R.c.counter_id, func.count(), func.min(_R.c.submitted_at))
        .where(
            _R.c.counter_id.in_(counters),
            _R.c.submitted_at >= start,
            _R.c.submitted_at < end,
            _R.c.staff_flag.is_(False),
            _R.c.quarantined.is_(False),
        )
        .group_by(_R.c.counter_id)
    ).all()
    rates = {}
    for counter_id, n, first in rows:
        days_covered = max((end - first).total_seconds() / 86400.0, 0.0)
        rates[counter_id] = float(usual_rate(n, days_covered * OPEN_HOURS_PER_WEEK / 7.0))
    return rates


def _quarantine(
    connection: Connection,
    traffic: Traffic,
    detection: Detection,
    members: np.ndarray,
    agency_of: dict[int, int],
    result: ScreenRun,
) -> None:
    """Put one group of caught responses in a burst: a new one, or the counter's burst
    still waiting for review that it continues."""
    ids = [int(i) for i in traffic.id[members]]
    counter_id = int(traffic.counter[members[0]])
    first = datetime.fromtimestamp(int(traffic.t[members].min()), tz=UTC)
    last = datetime.fromtimestamp(int(traffic.t[members].max()), tz=UTC)
    rules = evidence(detection, members)
    open_burst = connection.execute(
        select(_B.c.id, _B.c.first_at, _B.c.last_at, _B.c.n_responses, _B.c.evidence)
        .where(
            _B.c.counter_id == counter_id,
            _B.c.state == BurstState.quarantined,
            _B.c.last_at >= first - BURST_GAP,
            _B.c.first_at <= last + BURST_GAP,
        )
        .order_by(_B.c.last_at.desc())
        .limit(1)
    ).first()
    if open_burst is not None:
        burst_id = open_burst.id
        rules = _merge_rules(open_burst.evidence.get("rules", []), rules)
        connection.execute(
            update(_B)
            .where(_B.c.id == burst_id)
            .values(
                first_at=min(open_burst.first_at, first),
                last_at=max(open_burst.last_at, last),
                n_responses=open_burst.n_responses + len(ids),
                reasons=_reasons(rules),
                evidence=dict(open_burst.evidence, rules=rules),
            )
        )
        result.extended_bursts.append(burst_id)
        action = "quarantine_extended"
    else:
        agency_id = Tally(agency_of[i] for i in ids).most_common(1)[0][0]
        burst_id = connection.execute(
            insert(_B).values(
                counter_id=counter_id,
                agency_id=agency_id,
                first_at=first,
                last_at=last,
                detected_at=now_utc(),
                reasons=_reasons(rules),
                n_responses=len(ids),
                evidence={"rules": rules},
                state=BurstState.quarantined,
                review_note="",
            )
        ).inserted_primary_key[0]
        result.new_bursts.append(burst_id)
        action = "quarantine"
    connection.execute(insert(_M), [{"response_id": i, "burst_id": burst_id} for i in ids])
    connection.execute(update(_R).where(_R.c.id.in_(ids)).values(quarantined=True))
    result.quarantined += len(ids)
    sources = _sources(connection, burst_id)
    connection.execute(
        update(_B).where(_B.c.id == burst_id).values(evidence={"rules": rules, **sources})
    )
    code = connection.scalar(select(Counter.code).where(Counter.id == counter_id))
    connection.execute(
        insert(AuditLog.__table__).values(
            user_id=None,
            action=action,
            case_id=None,
            at=now_utc(),
            detail=f"burst {burst_id} at counter {code}: {len(ids)} response(s) "
            f"quarantined ({_reasons(rules)})",
        )
    )


def _sources(connection: Connection, burst_id: int) -> dict[str, Any]:
    """Who sent a burst and what it says: addresses, browsers, channels, ratings, comments."""
    in_burst = _R.c.id.in_(select(_M.c.response_id).where(_M.c.burst_id == burst_id))
    n, clients, addresses, comments = connection.execute(
        select(
            func.count(),
            func.count(_R.c.client_hash.distinct()),
            func.count(_R.c.address_hash.distinct()),
            func.count(_R.c.comment),
        ).where(in_burst)
    ).one()
    per_address = (
        select(func.count().label("n"))
        .where(in_burst, _R.c.address_hash.is_not(None))
        .group_by(_R.c.address_hash)
        .subquery()
    )
    top_address = connection.scalar(select(func.max(per_address.c.n))) or 0
    ratings = dict(
        connection.execute(
            select(_R.c.overall, func.count()).where(in_burst).group_by(_R.c.overall)
        )
        .tuples()
        .all()
    )
    channels = dict(
        connection.execute(
            select(_R.c.channel, func.count()).where(in_burst).group_by(_R.c.channel)
        )
        .tuples()
        .all()
    )
    return {
        "responses": int(n),
        "clients": int(clients),
        "addresses": int(addresses),
        "top_address": int(top_address),
        "comments": int(comments),
        "ratings": {str(k): int(v) for k, v in sorted(ratings.items())},
        "channels": {str(Channel(k)): int(v) for k, v in sorted(channels.items())},
    }


def _erase_address_hashes(
    connection: Connection, previous: datetime | None, until: datetime
) -> int:
    """Erase the address hashes of responses older than :data:`ERASE_ADDRESS_AFTER`
    (only those the previous run did not reach, so each run touches few rows)."""
    cut = until - ERASE_ADDRESS_AFTER
    lower = (previous - ERASE_ADDRESS_AFTER - MARGIN) if previous else cut - timedelta(days=31)
    if lower >= cut:
        return 0
    return connection.execute(
        update(_R)
        .where(_R.c.submitted_at >= lower, _R.c.submitted_at < cut, _R.c.address_hash.is_not(None))
        .values(address_hash=None)
    ).rowcount


def screen_if_due() -> ScreenRun | None:
    """Before a live report: screen what arrived since the last run, in a transaction of
    its own, unless nothing did or another run holds the lock.

    Never raises: a report is still shown (and says how many responses are
    quarantined) if the screening cannot run; the failure is logged.
    """
    if not current_app.config.get("SCREEN_BEFORE_REPORTS", True):
        return None
    try:
        with db.engine.connect() as connection:
            screened_to = connection.scalar(select(_S.c.screened_to).where(_S.c.id == 1))
            newer = select(_R.c.id).limit(1)
            if screened_to is not None:
                newer = newer.where(_R.c.submitted_at >= screened_to)
            if connection.execute(newer).first() is None:
                return None
        with db.engine.begin() as connection:
            return run(connection, wait=False)
    except SQLAlchemyError:
        log.warning(
            "screening before the report failed; the report is computed without it", exc_info=True
        )
        return None


# -- review (ORM: services flush, the view commits) ----------------------------------------


def visible_bursts(user, state: BurstState | None = None):
    """Bursts inside ``user``'s scope (newest first), of one state when given."""
    query = (
        select(ResponseBurst)
        .join(Agency, Agency.id == ResponseBurst.agency_id)
        .order_by(ResponseBurst.first_at.desc(), ResponseBurst.id.desc())
    )
    if state is not None:
        query = query.where(ResponseBurst.state == state)
    if not user.sees_whole_province:
        if user.agency is None:
            return query.where(Agency.id.is_(None))
        query = query.where(subtree_filter(user.agency))
    return query


def _review(burst: ResponseBurst, user, state: BurstState, note: str) -> ResponseBurst:
    previous = burst.state
    db.session.execute(
        update(Response)
        .where(
            Response.id.in_(select(BurstMember.response_id).where(BurstMember.burst_id == burst.id))
        )
        .values(quarantined=state != BurstState.restored)
        .execution_options(synchronize_session=False)
    )
    burst.state = state
    burst.reviewed_by_id = user.id
    burst.reviewed_at = now_utc()
    burst.review_note = note
    action = "quarantine_restored" if state == BurstState.restored else "quarantine_confirmed"
    audit.record(
        user,
        action,
        detail=f"burst {burst.id} at counter {burst.counter.code}: {burst.n_responses} response(s), "
        f"{previous} → {state}" + (f"; {note}" if note else ""),
    )
    db.session.flush()
    return burst


def restore(burst: ResponseBurst, user, note: str = "") -> ResponseBurst:
    """A reviewer judged the burst genuine: its responses count again in reports.

    Flushes; the caller commits. Audited with the reviewer and ``note``.
    """
    return _review(burst, user, BurstState.restored, note)


def confirm(burst: ResponseBurst, user, note: str = "") -> ResponseBurst:
    """A reviewer judged the burst ballot stuffing: its responses stay out of reports
    (and a restored burst goes back into quarantine). Flushes; audited."""
    return _review(burst, user, BurstState.confirmed, note)
