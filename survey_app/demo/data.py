"""The 2022 Hải Dương demo: structure from ``hai_duong_2022.json``, a synthetic year of responses.

The structure (agencies, counters with fixed public codes, procedures, dossier
volumes) goes through the CSV importers' checks (:func:`import_records`), so it
is upserted by code and loading twice changes nothing. Responses are drawn
with a seeded numpy generator, only when the demo counters have none yet, and
written with bulk inserts.

The synthetic year is built to have something to find: most agencies are
around 92–96% satisfied, a land-registry-heavy district about 80%, one
department about 86% and one just under 90%; access (A) and feedback handling
(E) score below the officials (C); the number of responses follows the dossier
volumes (a few per cent of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select

from ..agencies.importers import ImportFailed, import_records
from ..agencies.models import Agency, Counter, Procedure, ProcedureField
from ..core.time import local_tz
from ..extensions import db
from ..surveys.models import Answer, Channel, Response
from ..surveys.services import current_questionnaire, questionnaire_row

DEMO_FILE = Path(__file__).resolve().parent / "hai_duong_2022.json"
YEAR = 2022
#: Volumes do not depend on ``--seed`` (which is for the responses): the
#: structure stays the same whichever seed is used.
VOLUME_SEED = 20221214
#: Month-by-month factor on dossier volumes (Tết fell in early February 2022).
SEASON = (1.12, 0.72, 1.05, 1.0, 0.97, 1.02, 1.0, 1.03, 0.93, 1.02, 1.05, 1.1)
#: Weekdays without service in 2022: New Year (compensated), Tết, Hùng Kings
#: (compensated), 30/4–1/5 (compensated), National Day and the day before.
HOLIDAYS = frozenset(
    [
        date(2022, 1, 3),
        *(date(2022, 1, 31) + timedelta(days=d) for d in range(5)),
        date(2022, 4, 11),
        date(2022, 5, 2),
        date(2022, 5, 3),
        date(2022, 9, 1),
        date(2022, 9, 2),
    ]
)
#: Counter opening hours, local time: 7:30–11:30 and 13:30–17:00.
MORNING = (7 * 3600 + 1800, 11 * 3600 + 1800)
AFTERNOON = (13 * 3600 + 1800, 17 * 3600)

#: Response coverage (responses / dossiers) per agency is drawn in this range.
COVERAGE = (0.03, 0.07)
#: Latent-scale cut points between ratings 1|2, 2|3, 3|4 and 4|5; "satisfied"
#: (4 or 5) is a latent score above 0, so P(satisfied) = Φ(agency mean).
CUTS = np.array([-1.3, -0.6, 0.0, 1.4])
#: Element and item offsets on the latent scale (negative: less satisfied).
ELEMENT_OFFSET = {"A": -0.35, "B": 0.0, "C": 0.3, "D": 0.0, "E": -0.45}
ITEM_OFFSET = {"A2": -0.15, "A4": -0.3, "B3": 0.15, "C5": 0.1, "D3": -0.2, "E4": -0.15}
#: How much an item answer follows the respondent's overall mood.
ITEM_CORRELATION = 0.7
#: Share of items answered "not applicable", by item (default 2%).
NOT_APPLICABLE = {"A4": 0.45, "B3": 0.12, "D1": 0.2, "D2": 0.2, "D3": 0.25, "E1": 0.12, "E2": 0.12}
#: Share of step-2 respondents who never gave feedback: E3 and E4 are N/A for them.
NO_FEEDBACK_EXPERIENCE = 0.45
SKIPPED_ITEM = 0.03
CHANNELS = (Channel.poster, Channel.receipt, Channel.web, Channel.kiosk)
CHANNEL_SHARE = (0.78, 0.15, 0.05, 0.02)
ORGANISATION_SHARE = {"SKHDT": 0.6, "BQLKCN": 0.8, "SCT": 0.45, "SXD": 0.35, "SNNPTNT": 0.3}
ENGLISH_SHARE = {"BQLKCN": 0.15, "SKHDT": 0.05, "SLDTBXH": 0.04}


@cache
def demo_structure() -> dict[str, Any]:
    """The demo data file, parsed (once per process)."""
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def load_demo(
    if_empty: bool = False, with_responses: bool = True, seed: int = 2022, scale: float = 1.0
) -> str:
    """Load (or refresh) the demo structure and, once, a synthetic 2022 of responses.

    Flushes, never commits.

    :param if_empty: do nothing if the database already has any agency.
    :param with_responses: also generate responses (skipped if the demo
        counters already have some).
    :param seed: seed of the random generator for the responses.
    :param scale: multiplies the number of responses (tests use a small one).
    :return: a one-line summary for the command line.
    """
    if if_empty and db.session.scalar(select(Agency.id).limit(1)) is not None:
        return "demo: skipped, the database already has agencies"
    demo = demo_structure()
    volumes = demo_volumes(demo)
    try:
        import_records("agencies", demo["agencies"])
        columns = ("code", "agency_code", "name", "location")
        import_records("counters", [{k: c[k] for k in columns} for c in demo["counters"]])
        import_records("procedures", demo["procedures"])
        import_records(
            "volumes",
            [
                {"agency_code": a, "field_code": f, "month": f"{YEAR}-{m + 1:02d}", "dossiers": n}
                for (a, f), monthly in volumes.items()
                for m, n in enumerate(monthly)
            ],
        )
    except ImportFailed as exc:  # the database holds something the demo cannot reconcile
        problems = "; ".join(exc.errors)
        raise RuntimeError(f"demo data conflicts with the database: {problems}") from exc

    counter_ids = list(
        db.session.scalars(
            select(Counter.id).where(Counter.code.in_([c["code"] for c in demo["counters"]]))
        )
    )
    existing = _responses_at(counter_ids)
    note = ""
    if with_responses and existing == 0:
        _synthesise_responses(demo, volumes, np.random.default_rng(seed), scale)
    elif with_responses:
        note = " (already there, not regenerated)"
    fields = {p["field_code"] for p in demo["procedures"]}
    return (
        f"demo: {len(demo['agencies'])} agencies, {len(demo['counters'])} counters, "
        f"{len(demo['procedures'])} procedures, {len(fields)} fields, "
        f"{len(volumes) * 12:,} volume rows, {_responses_at(counter_ids):,} responses{note}"
    )


def _responses_at(counter_ids: list[int]) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Response).where(Response.counter_id.in_(counter_ids))
    )


def demo_volumes(demo: dict[str, Any]) -> dict[tuple[str, str], list[int]]:
    """Dossiers per (agency code, field code) for each month of the year, deterministic."""
    rng = np.random.default_rng(VOLUME_SEED)
    spec = demo["monthly_dossiers"]
    out: dict[tuple[str, str], list[int]] = {}
    for agency in demo["agencies"]:
        code = agency["code"]
        if code in spec["by_agency"]:
            base = spec["by_agency"][code]
        else:
            size = demo["size"].get(code, 1.0)
            factor = demo["field_factor"].get(code, {})
            base = {
                f: n * size * factor.get(f, 1.0)
                for f, n in spec["by_kind"].get(agency["kind"], {}).items()
            }
        for field_code, n in base.items():
            noise = rng.lognormal(0.0, 0.08, size=12)
            monthly = zip(SEASON, noise, strict=True)
            out[(code, field_code)] = [int(round(n * s * e)) for s, e in monthly]
    return out


@dataclass
class _Demo:
    """What the response generator needs from the database, by demo code."""

    agency_id: dict[str, int]
    counters: dict[str, list[tuple[int, list[str]]]]  # agency code → (counter id, fields)
    procedures: dict[str, list[int]]  # field code → procedure ids


def _lookups(demo: dict[str, Any]) -> _Demo:
    agencies = dict(db.session.execute(select(Agency.code, Agency.id)).all())
    counter_ids = dict(db.session.execute(select(Counter.code, Counter.id)).all())
    counters: dict[str, list[tuple[int, list[str]]]] = {}
    for c in demo["counters"]:
        counters.setdefault(c["agency_code"], []).append(
            (counter_ids[c["code"]], c.get("fields", []))
        )
    procedures: dict[str, list[int]] = {}
    for pid, field_code in db.session.execute(
        select(Procedure.id, ProcedureField.code)
        .join(ProcedureField)
        .where(Procedure.code.in_([p["code"] for p in demo["procedures"]]))
        .order_by(Procedure.code)
    ):
        procedures.setdefault(field_code, []).append(pid)
    return _Demo(agencies, counters, procedures)


def _working_days() -> list[np.ndarray]:
    """For each month, the ordinals of its working days."""
    months = []
    for m in range(1, 13):
        day, days = date(YEAR, m, 1), []
        while day.month == m:
            if day.weekday() < 5 and day not in HOLIDAYS:
                days.append(day.toordinal())
            day += timedelta(days=1)
        months.append(np.array(days))
    return months


def _utc(local_ordinals: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """UTC POSIX seconds of local (date ordinal, seconds after midnight) pairs."""
    tz = local_tz()
    offset = {
        o: datetime.combine(date.fromordinal(o), time(12), tzinfo=tz).utcoffset().total_seconds()
        for o in np.unique(local_ordinals).tolist()
    }
    epoch = date(1970, 1, 1).toordinal()
    offsets = np.array([offset[o] for o in local_ordinals.tolist()])
    return (local_ordinals - epoch) * 86400.0 + seconds - offsets


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> list[str]:
    raw = rng.bytes(n * nbytes).hex()
    width = 2 * nbytes
    return [raw[i : i + width] for i in range(0, len(raw), width)]


def _synthesise_responses(
    demo: dict[str, Any],
    volumes: dict[tuple[str, str], list[int]],
    rng: np.random.Generator,
    scale: float,
) -> int:
    """Draw and insert the year of responses; return how many."""
    ids = _lookups(demo)
    sat = demo["satisfaction"]
    agency_kind = {a["code"]: a["kind"] for a in demo["agencies"]}
    codes = sorted(ids.counters)  # agencies with demo counters
    working_days = _working_days()

    # 1. how many responses, where and when: a share of each month's dossiers
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("agency", "counter", "field", "day")}
    field_codes = sorted({f for (_, f) in volumes})
    for a_index, code in enumerate(codes):
        monthly = {f: v for (a, f), v in volumes.items() if a == code}
        if not monthly:
            continue
        coverage = rng.uniform(*COVERAGE)
        fields = sorted(monthly)
        for m in range(12):
            dossiers = np.array([monthly[f][m] for f in fields], dtype=float)
            n = rng.poisson(coverage * dossiers.sum() * scale)
            if n == 0:
                continue
            for f, k in zip(fields, rng.multinomial(n, dossiers / dossiers.sum()), strict=True):
                if k == 0:
                    continue
                counters = ids.counters[code]
                eligible = [cid for cid, fs in counters if not fs or f in fs]
                eligible = eligible or [cid for cid, _ in counters]
                parts["agency"].append(np.full(k, a_index))
                parts["counter"].append(np.array(eligible)[rng.integers(len(eligible), size=k)])
                parts["field"].append(np.full(k, field_codes.index(f)))
                parts["day"].append(working_days[m][rng.integers(len(working_days[m]), size=k)])
    if not parts["agency"]:
        return 0
    agency_i, counter_id, field_i, day = (np.concatenate(parts[k]) for k in parts)
    n = len(agency_i)
    morning = rng.random(n) < 0.62
    seconds = np.where(
        morning, rng.uniform(*MORNING, size=n), rng.uniform(*AFTERNOON, size=n)
    ).round()
    submitted = _utc(day, seconds)
    order = np.argsort(submitted, kind="stable")
    agency_i, counter_id, field_i, submitted = (
        agency_i[order],
        counter_id[order],
        field_i[order],
        submitted[order],
    )

    # 2. the overall rating: a latent mood around the agency's level
    share = np.array(
        [sat["agencies"].get(c, sat["default"].get(agency_kind[c], 0.94)) for c in codes]
    )
    mean = np.array([NormalDist().inv_cdf(p) for p in share])[agency_i]
    mood = rng.standard_normal(n)
    overall = 1 + (mean[:, None] + mood[:, None] > CUTS).sum(axis=1)

    # 3. the optional steps: the dissatisfied say more
    step2 = rng.random(n) < np.where(overall >= 4, 0.33, 0.5)
    commented = rng.random(n) < np.where(step2, 0.18, 0.025)
    questionnaire = current_questionnaire()
    version_id = questionnaire_row(questionnaire).id
    items = list(questionnaire.item_codes)
    element = [questionnaire.element_of(i).code for i in items]
    shift = np.array(
        [[sat["element_shift"].get(c, {}).get(e, 0.0) for e in element] for c in codes]
    )
    offset = np.array(
        [
            ELEMENT_OFFSET.get(e, 0.0) + ITEM_OFFSET.get(i, 0.0)
            for i, e in zip(items, element, strict=True)
        ]
    )
    s = np.flatnonzero(step2)
    latent = (
        mean[s, None]
        + shift[agency_i[s]]
        + offset
        + ITEM_CORRELATION * mood[s, None]
        + np.sqrt(1 - ITEM_CORRELATION**2) * rng.standard_normal((len(s), len(items)))
    )
    values = 1 + (latent[..., None] > CUTS).sum(axis=2)
    na = rng.random(values.shape) < np.array([NOT_APPLICABLE.get(i, 0.02) for i in items])
    no_feedback = rng.random(len(s)) < NO_FEEDBACK_EXPERIENCE
    for i, code in enumerate(items):
        if code in ("E3", "E4"):
            na[:, i] |= no_feedback
    skipped = rng.random(values.shape) < SKIPPED_ITEM

    satisfied = overall >= 4
    trips = np.where(
        satisfied,
        rng.choice(3, size=n, p=[0.1, 0.75, 0.15]),
        rng.choice(3, size=n, p=[0.05, 0.5, 0.45]),
    )
    contacted = rng.choice([1, 2, 3], size=n, p=[0.82, 0.13, 0.05])
    org_share = np.array([ORGANISATION_SHARE.get(c, 0.12) for c in codes])[agency_i]
    respondent = np.where(rng.random(n) < org_share, "organisation", "citizen")
    age = rng.choice(["under_30", "30_44", "45_59", "60_plus"], size=n, p=[0.22, 0.36, 0.28, 0.14])
    gender = rng.choice(["female", "male", "other"], size=n, p=[0.48, 0.5, 0.02])
    missing = rng.random((n, 5)) < [0.04, 0.05, 0.08, 0.1, 0.1]
    english = rng.random(n) < np.array([ENGLISH_SHARE.get(c, 0.02) for c in codes])[agency_i]
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
    comments = demo["comments"]
    negative = ~satisfied | (rng.random(n) < 0.2)
    pick = rng.integers(1 << 30, size=n)
    wants_feedback = negative & (rng.random(n) < 0.25)
    started = submitted - rng.uniform(3, 45, size=n)
    completed = (
        submitted
        + np.where(step2, rng.uniform(40, 240, size=n), 0)
        + np.where(commented, rng.uniform(15, 120, size=n), 0)
    )
    staff_flag = rng.random(n) < 0.002
    client_hash = _hex(rng, n, 16)
    token_hash = _hex(rng, n, 32)
    dossier_hash = _hex(rng, n, 32)
    procedure_pick = rng.integers(1 << 30, size=n)

    agency_id = np.array([ids.agency_id[c] for c in codes])[agency_i]
    rows = []
    for r in range(n):
        receipt = CHANNELS[channel[r]] is Channel.receipt
        field_procedures = ids.procedures.get(field_codes[field_i[r]], [])
        lang = "en" if english[r] else "vi"
        comment = None
        if commented[r]:
            tone = "negative" if negative[r] else "positive"
            pool = comments[tone + ("_en" if lang == "en" else "")]
            comment = pool[pick[r] % len(pool)]
        detailed = bool(step2[r])
        rows.append(
            {
                "counter_id": int(counter_id[r]),
                "agency_id": int(agency_id[r]),
                "procedure_id": (
                    field_procedures[procedure_pick[r] % len(field_procedures)]
                    if receipt and field_procedures
                    else None
                ),
                "questionnaire_version_id": version_id,
                "channel": CHANNELS[channel[r]],
                "language": lang,
                "overall": int(overall[r]),
                "started_at": datetime.fromtimestamp(float(started[r]), UTC),
                "submitted_at": datetime.fromtimestamp(float(submitted[r]), UTC),
                "completed_at": (
                    datetime.fromtimestamp(float(completed[r]), UTC)
                    if detailed or comment
                    else None
                ),
                "trips": int(trips[r]) if detailed and not missing[r, 0] else None,
                "agencies_contacted": int(contacted[r]) if detailed and not missing[r, 1] else None,
                "respondent_type": str(respondent[r]) if detailed and not missing[r, 2] else None,
                "age_group": str(age[r]) if detailed and not missing[r, 3] else None,
                "gender": str(gender[r]) if detailed and not missing[r, 4] else None,
                "comment": comment,
                "wants_feedback": bool(comment and wants_feedback[r]),
                "client_hash": client_hash[r],
                "staff_flag": bool(staff_flag[r]),
                "receipt_token_hash": token_hash[r] if receipt else None,
                "dossier_ref_hash": dossier_hash[r] if receipt else None,
            }
        )

    # A plain executemany is several times faster than INSERT … RETURNING with
    # ordered ids on PostgreSQL; the ids are then found by the client hashes,
    # which are random and unique (the demo counters had no responses before).
    db.session.execute(insert(Response.__table__), rows)
    id_of = dict(
        db.session.execute(
            select(Response.client_hash, Response.id).where(
                Response.counter_id.in_(np.unique(counter_id).tolist())
            )
        ).all()
    )
    answers = [
        {
            "response_id": id_of[client_hash[s[j]]],
            "item_code": code,
            "value": None if na[j, i] else int(values[j, i]),
        }
        for j in range(len(s))
        for i, code in enumerate(items)
        if not skipped[j, i]
    ]
    if answers:
        db.session.execute(insert(Answer.__table__), answers)
    return n
