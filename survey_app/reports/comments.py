"""Report comments: a fair sample, not the latest ones, that points to no one.

What an agency page shows of the free-text suggestions of a period, and what
a published report freezes of them (:func:`sample`, :func:`frozen`). The
sample is drawn so that a burst of comments from one device, one counter or
one day cannot push the others out; quarantined responses' comments are
counted apart and a few shown, marked. A comment shows the day it was written,
not the minute, and its counter only when enough people answered there that
day (``REPORT_COMMENT_MIN_GROUP``, k = 5 by default; see README, "Satisfaction
reports"): staff reading the report must not be able to tell who wrote it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter as Tally
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from ..agencies.models import Counter
from ..core.redact import redact
from ..core.time import local_tz
from ..extensions import db
from ..surveys.models import Response
from .loading import window_filter
from .periods import Period

#: Comments shown per agency page.
COMMENT_LIMIT = 50
#: Comments of quarantined responses shown after the sample, marked, per agency.
QUARANTINED_COMMENT_LIMIT = 5


def sample(period: Period, agency_ids=None, limit: int = COMMENT_LIMIT) -> dict[int, dict]:
    """A fair sample of each agency's comments in ``period``, personal data removed.

    Not the latest ones (50 comments sent in a burst would push every other one
    out): the comments are grouped by counter and local day, and each group in
    turn gives one, a different device (client hash) each time while it has
    one, in an order drawn at random once per period (keyed by the secret key,
    so the same data give the same sample and a published report freezes it).
    Quarantined responses' comments are left out of the sample; up to
    :data:`QUARANTINED_COMMENT_LIMIT` of them follow it, marked.

    So that a comment cannot be tied to the citizen who wrote it, it shows its
    day, not its time; its counter only if the counter had at least
    ``REPORT_COMMENT_MIN_GROUP`` counted responses that day; and its day only if
    the agency had (the comments without a day come last).

    :param agency_ids: only these agencies (default: all).
    :return: agency id → ``shown`` (dicts ``day`` (ISO date or None), ``counter``
        (name or None), ``overall``, ``text``, ``quarantined``), ``total``
        (comments counted) and ``quarantined`` (comments of quarantined responses).
    """
    rows = db.session.execute(
        select(
            Response.id,
            Response.agency_id,
            Response.counter_id,
            Counter.name,
            Response.submitted_at,
            Response.client_hash,
            Response.overall,
            Response.comment,
            Response.quarantined,
        )
        .join(Counter, Counter.id == Response.counter_id)
        .where(
            window_filter(period, agency_ids, quarantined=None),
            Response.comment.is_not(None),
            Response.comment != "",
        )
    ).all()
    if not rows:
        return {}
    tz = local_tz()
    day = {r.id: r.submitted_at.astimezone(tz).date().isoformat() for r in rows}
    by_agency: dict[int, list] = {}
    for r in rows:
        by_agency.setdefault(r.agency_id, []).append(r)
    counter_days, agency_days = _day_counts(period, list(by_agency))
    k = int(current_app.config.get("REPORT_COMMENT_MIN_GROUP", 5))
    rand = _sample_order(period)
    out = {}
    for a, found in by_agency.items():
        counted = [r for r in found if not r.quarantined]
        held = [r for r in found if r.quarantined]
        shown = []
        for group, n in ((counted, limit), (held, QUARANTINED_COMMENT_LIMIT)):
            picked = []
            for r in _fair_sample(group, day, rand, n):
                day_shown = agency_days.get((a, day[r.id]), 0) >= k
                picked.append(
                    {
                        "day": day[r.id] if day_shown else None,
                        "counter": r.name
                        if counter_days.get((r.counter_id, day[r.id]), 0) >= k
                        else None,
                        "overall": r.overall,
                        "text": redact(r.comment),
                        "quarantined": bool(r.quarantined),
                        "_order": rand("o", r.id),
                    }
                )
            # newest day first; the comments whose day is not shown last, in random order
            picked.sort(key=lambda c: c["_order"])
            picked.sort(key=lambda c: c["day"] or "", reverse=True)
            shown += picked
        for c in shown:
            del c["_order"]
        out[a] = {"shown": shown, "total": len(counted), "quarantined": len(held)}
    return out


def for_agency(period: Period, agency_id: int) -> dict:
    """:func:`sample` of one agency (with nothing to show when it has no comment)."""
    return sample(period, [agency_id]).get(agency_id) or {"shown": [], "total": 0, "quarantined": 0}


def _sample_order(period: Period):
    """A random order of the period's responses, fixed by the secret key and the period."""
    key = hashlib.sha256(
        f"report-comments|{current_app.config['SECRET_KEY']}|{period.label}".encode()
    ).digest()

    def rand(*parts) -> bytes:
        return hmac.new(key, "|".join(map(str, parts)).encode(), hashlib.sha256).digest()

    return rand


def _fair_sample(rows: list, day: dict[int, str], rand, limit: int) -> list:
    """Up to ``limit`` of ``rows``: each (counter, day) group in turn gives one, a
    device it has not given one from yet first (see :func:`sample`)."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r.counter_id, day[r.id]), []).append(r)
    ranked = []
    for (counter_id, d), members in groups.items():
        members.sort(key=lambda r: rand("c", r.id))
        seen: Tally = Tally()
        order = []
        for r in members:
            order.append((seen[r.client_hash], rand("c", r.id), r))
            seen[r.client_hash] += 1
        order.sort(key=lambda x: (x[0], x[1]))
        group_key = rand("g", counter_id, d)
        ranked += [((rank, group_key), r) for rank, (_n, _k, r) in enumerate(order)]
    ranked.sort(key=lambda x: x[0])
    return [r for _key, r in ranked[:limit]]


def _local_day(column):
    """The local (``TIMEZONE``) date of a ``UTCDateTime`` column, computed by the database."""
    if db.session.get_bind().dialect.name == "sqlite":  # naive UTC text; a fixed offset
        offset = local_tz().utcoffset(datetime.now())
        return func.date(column, f"{int(offset.total_seconds()):+d} seconds")
    return func.date(func.timezone(current_app.config["TIMEZONE"], column))


def _day_counts(period: Period, agency_ids: list[int]) -> tuple[dict, dict]:
    """Counted responses per (counter, local day) and per (agency, local day)."""
    day = _local_day(Response.submitted_at)
    rows = db.session.execute(
        select(Response.agency_id, Response.counter_id, day, func.count())
        .where(window_filter(period, agency_ids))
        .group_by(Response.agency_id, Response.counter_id, day)
    ).all()
    counters: dict[tuple[int, str], int] = {}
    agencies: dict[tuple[int, str], int] = {}
    for a, c, d, n in rows:
        d = d if isinstance(d, str) else d.isoformat()
        counters[(c, d)] = counters.get((c, d), 0) + n
        agencies[(a, d)] = agencies.get((a, d), 0) + n
    return counters, agencies


def frozen(results: dict, agency_id: int) -> dict | None:
    """A published report's comments of one agency, as :func:`sample` gives them
    (None if it froze none). Reports published before the sample froze the latest
    comments with their minute and counter: they are shown with the day alone."""
    if "comments" not in results:
        return None
    found = results["comments"].get(str(agency_id))
    if found is None:
        return {"shown": [], "total": 0, "quarantined": 0}
    if isinstance(found, dict):
        return found
    tz = local_tz()
    shown = [
        {
            "day": datetime.fromisoformat(c["submitted_at"]).astimezone(tz).date().isoformat(),
            "counter": None,  # how many answered there that day was not frozen
            "overall": c["overall"],
            "text": c["text"],
            "quarantined": False,
        }
        for c in found
    ]
    return {"shown": shown, "total": None, "quarantined": None}


def comments(agency, period: Period, limit: int = COMMENT_LIMIT) -> list[dict]:
    """The period's comments at the agency's own counters: :func:`period_comments`."""
    return period_comments(period, [agency.id], limit).get(agency.id, [])


def period_comments(
    period: Period, agency_ids=None, limit: int = COMMENT_LIMIT
) -> dict[int, list[dict]]:
    """A fair sample of each agency's comments in ``period``, personal data removed, with
    the day but not the time, and no counter that could point to one person
    (:func:`sample`, which also counts them).

    :param agency_ids: only these agencies (default: all).
    :return: agency id → ``day, counter, overall, text, quarantined`` dicts.
    """
    return {a: found["shown"] for a, found in sample(period, agency_ids, limit).items()}


def frozen_comments(results: dict, agency_id: int) -> list[dict] | None:
    """A published report's comments of one agency (None if it froze none)."""
    found = frozen(results, agency_id)
    return None if found is None else found["shown"]
