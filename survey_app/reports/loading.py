"""Loading a period's responses from the database as arrays, and what identifies them.

Two Core queries per period return numbers only (the responses, times as
epoch seconds; then their answers, packed into integers by the database:
:mod:`.packing`), streamed from the cursor into numpy: no ORM objects and no
row per answer. Quarantined responses (:mod:`survey_app.surveys.screening`)
and staff-flagged responses (sent from a browser where staff were logged in)
are left out.

:func:`data_version` and :func:`fingerprint` say whether a report computed
earlier still describes the data (:mod:`.cache`, :mod:`.publishing`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import current_app
from sqlalchemy import and_, case, func, select

import analysis
from analysis import Questionnaire

from ..agencies.dossiers import period_figures
from ..agencies.models import Agency, Counter, DossierVolume, Procedure, ReturnChannel
from ..core.db import ROWS_IN_BINARY
from ..extensions import db
from ..surveys.models import Channel, Response
from ..surveys.questionnaire import DEFAULT_VERSION, QUESTIONNAIRE_DIR
from .packing import packed_answers_query, unpack_into
from .periods import Period


def questionnaire() -> Questionnaire:
    """The analysis view of the configured questionnaire version."""
    version = current_app.config.get("QUESTIONNAIRE_VERSION", DEFAULT_VERSION)
    return analysis.load_questionnaire(Path(QUESTIONNAIRE_DIR) / f"{version}.json")


#: Codes of ``PeriodData.survey_channel``: how the respondent reached the survey.
SURVEY_CHANNELS = tuple(c.value for c in Channel)
#: Codes of ``PeriodData.return_channel``: how the dossier's result went back.
RETURN_CHANNELS = tuple(c.value for c in ReturnChannel)


@dataclass
class PeriodData:
    """The responses of one period as arrays, plus what the report needs around them."""

    responses: analysis.Responses
    field: np.ndarray  # procedure field id per response, -1 when unknown
    duration: np.ndarray  # seconds from page shown to last step, NaN when unknown
    #: index into :data:`SURVEY_CHANNELS` per response
    survey_channel: np.ndarray | None = None
    #: index into :data:`RETURN_CHANNELS` per response, -1 when unknown
    return_channel: np.ndarray | None = None


def _code_of(column, values: tuple[str, ...]):
    """``column``'s value as its index in ``values`` (-1 for anything else), by the database."""
    return case({v: k for k, v in enumerate(values)}, value=column, else_=-1)


def window_filter(period: Period, agency_ids=None, *, quarantined: bool | None = False):
    """The period's responses sent by citizens (not staff-flagged).

    :param quarantined: ``False`` (default) leaves out the quarantined ones, as every
        figure does; ``True`` keeps only those; ``None`` keeps both.
    """
    start, end = period.window()
    conditions = [
        Response.submitted_at >= start,
        Response.submitted_at < end,
        Response.staff_flag.is_(False),
    ]
    if quarantined is not None:
        conditions.append(Response.quarantined.is_(quarantined))
    if agency_ids is not None:
        conditions.append(Response.agency_id.in_(list(agency_ids)))
    return and_(*conditions)


def _epoch(column):
    """Seconds since 1970 (UTC) of a ``UTCDateTime`` column, computed by the database."""
    if db.session.get_bind().dialect.name == "sqlite":  # naive UTC text
        return (func.julianday(column) - 2440587.5) * 86400.0
    # date_part gives a double directly; EXTRACT gives a numeric (PostgreSQL 14+), twice as slow
    return func.date_part("epoch", column)


def _arrays(statement, dtype: list[tuple[str, str]]) -> np.ndarray:
    """The rows of a Core ``statement`` as a structured array, streamed from the DB-API
    cursor (no Row objects, no per-value type processing; numbers in PostgreSQL's
    binary format)."""
    connection = db.session.connection().execution_options(**{ROWS_IN_BINARY: True})
    result = connection.execute(statement)
    try:
        return np.fromiter(result.cursor, dtype=np.dtype(dtype))
    finally:
        result.close()


def load_period(
    period: Period, q: Questionnaire | None = None, agency_ids=None, *, details: bool = True
) -> PeriodData:
    """Responses of ``period`` (not staff-flagged) and their answers as arrays.

    Two Core queries that return numbers only, streamed from the cursor into
    numpy: the responses (times as epoch seconds), then their answers packed
    into integers by the database (:mod:`.packing`), one row per response
    that has any, unpacked with array shifts. No ORM objects, no per-row
    Python, and no row per answer.

    :param agency_ids: only these agencies (default: all).
    :param details: also the counters and the times (submission, duration),
        which the quality signals and the drill-down need; without them only
        what the weighting and the indices use (agency, field, answers).
    """
    q = q or questionnaire()
    where = window_filter(period, agency_ids)
    codes = q.item_codes
    columns = [Response.id, Response.agency_id]
    dtype = [("id", "i8"), ("agency", "i8")]
    if details:
        columns += [
            Response.counter_id,
            _epoch(Response.submitted_at),
            _epoch(Response.started_at),
            _epoch(Response.completed_at),
        ]
        dtype += [("counter", "i8"), ("submitted", "f8"), ("started", "f8"), ("completed", "f8")]
    columns += [
        Response.overall,
        func.coalesce(Procedure.field_id, -1),
        _code_of(Response.channel, SURVEY_CHANNELS),
        _code_of(Response.return_channel, RETURN_CHANNELS),
    ]
    dtype += [("overall", "i1"), ("field", "i8"), ("survey_channel", "i1"), ("return", "i1")]
    rows = _arrays(
        select(*columns)
        .outerjoin(Procedure, Procedure.id == Response.procedure_id)
        .where(where)
        .order_by(Response.id),
        dtype,
    )
    n = rows.size
    answers = np.zeros((n, len(codes)), dtype=np.int8)
    if n == 0:
        empty = analysis.Responses(answers, codes, np.zeros(0, dtype=np.int64))
        nothing = np.zeros(0, dtype=np.int8)
        return PeriodData(empty, np.zeros(0, dtype=np.int64), np.zeros(0), nothing, nothing)
    answers[:, 0] = rows["overall"]
    ids = rows["id"].copy()
    if len(codes) > 1:
        unpack_into(answers, ids, _arrays(*packed_answers_query(codes, ids, where)))
    if not details:
        responses = analysis.Responses(
            answers=answers, item_codes=codes, agency=rows["agency"].copy(), response_id=ids
        )
        return PeriodData(
            responses,
            rows["field"].copy(),
            np.full(n, np.nan),
            rows["survey_channel"].copy(),
            rows["return"].copy(),
        )
    # whole seconds (julianday's rounding error is far below a millisecond)
    submitted = np.floor(rows["submitted"] + 1e-3)
    end = np.where(np.isnan(rows["completed"]), rows["submitted"], rows["completed"])
    responses = analysis.Responses(
        answers=answers,
        item_codes=codes,
        agency=rows["agency"].copy(),
        submitted_at=submitted.astype("datetime64[s]"),
        response_id=ids,
        counter=rows["counter"].copy(),
    )
    duration = end - rows["started"]
    responses.extra["duration_seconds"] = duration
    return PeriodData(
        responses,
        rows["field"].copy(),
        duration,
        rows["survey_channel"].copy(),
        rows["return"].copy(),
    )


def quarantine_counts(period: Period) -> dict:
    """Responses of ``period`` left out as quarantined: in all, and per agency id."""
    rows = db.session.execute(
        select(Response.agency_id, func.count())
        .where(window_filter(period, quarantined=True))
        .group_by(Response.agency_id)
    ).all()
    by_agency = {str(a): int(n) for a, n in rows}
    return {"responses": sum(by_agency.values()), "by_agency": by_agency}


def period_volumes(period: Period) -> dict[tuple[int, int], int]:
    """Dossiers per (agency id, field id) over the months of ``period``."""
    rows = db.session.execute(
        select(DossierVolume.agency_id, DossierVolume.field_id, func.sum(DossierVolume.dossiers))
        .where(DossierVolume.month.in_(period.months()))
        .group_by(DossierVolume.agency_id, DossierVolume.field_id)
    ).all()
    return {(a, f): int(total or 0) for a, f, total in rows}


def period_channel_volumes(period: Period) -> dict[tuple[int, int, str], int]:
    """Dossiers per (agency id, field id, return channel) over the months of ``period``:
    ``counter``, ``online``, ``post``, or ``all`` for figures not broken down by channel."""
    return {
        key: figures["dossiers"]
        for key, figures in period_figures(period.months(), by_channel=True).items()
    }


def latest_response_at():
    """When the latest response that reports count was submitted (None: none yet)."""
    return db.session.scalar(
        select(func.max(Response.submitted_at)).where(
            Response.staff_flag.is_(False), Response.quarantined.is_(False)
        )
    )


def agencies_without_responses(responding, volumes: dict[tuple[int, int], int]) -> list[dict]:
    """Agencies a report must list although none of their citizens answered.

    Those that handled dossiers in the period (``volumes``) and the active
    agencies with an active counter, less the ``responding`` ones: a report
    that dropped them would hide the offices nobody rated.

    :return: ``agency_id, code, name, parent_id, path, dossiers, counters``
        dicts, in the order of the agency tree.
    """
    dossiers: dict[int, int] = {}
    for (a, _f), v in volumes.items():
        dossiers[a] = dossiers.get(a, 0) + int(v)
    counters = dict(
        db.session.execute(
            select(Counter.agency_id, func.count(Counter.id))
            .join(Agency, Agency.id == Counter.agency_id)
            .where(Counter.is_active.is_(True), Agency.is_active.is_(True))
            .group_by(Counter.agency_id)
        ).all()
    )
    wanted = ({a for a, v in dossiers.items() if v > 0} | set(counters)) - set(responding)
    if not wanted:
        return []
    agencies = db.session.scalars(select(Agency).where(Agency.id.in_(sorted(wanted))))
    return sorted(
        (
            {
                "agency_id": a.id,
                "code": a.code,
                "name": a.name,
                "parent_id": a.parent_id,
                "path": a.path,
                "dossiers": dossiers.get(a.id, 0),
                "counters": int(counters.get(a.id, 0)),
            }
            for a in agencies
        ),
        key=lambda row: row["path"],
    )


def fingerprint(period: Period) -> dict:
    """What the report's inputs were: response count, highest id, volumes checksum.

    Comparing fingerprints tells whether a report would still come out the same.
    """
    count, max_id = db.session.execute(
        select(func.count(Response.id), func.max(Response.id)).where(window_filter(period))
    ).one()
    return {"responses": int(count), "max_id": int(max_id or 0), "volumes": _volumes_digest(period)}


def fingerprint_of(version: tuple) -> dict:
    """:func:`fingerprint` from a :func:`data_version` of the same period (read together)."""
    return {"responses": version[4], "max_id": version[6], "volumes": version[8]}


def _volumes_digest(period: Period) -> str:
    # every figure the report reads: received per agency × field × return channel (the
    # weights) and the resolved, on-time and late counts (the on-time rate)
    figures = period_figures(period.months(), by_channel=True)
    rows = sorted((list(key), sorted(value.items())) for key, value in figures.items())
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def data_version(period: Period) -> tuple:
    """A cheap key that changes whenever the period's report could change.

    One aggregate query over the window (count, sum and maximum of the ids of
    the non-staff responses, latest ``completed_at`` — set whenever details
    or a comment are added), the volumes' checksum and the active counters
    (count, highest id), plus the settings the report depends on and the
    database it comes from.
    """
    count, id_sum, max_id, completed = db.session.execute(
        select(
            func.count(Response.id),
            func.sum(Response.id),
            func.max(Response.id),
            func.max(Response.completed_at),
        ).where(window_filter(period))
    ).one()
    # the agencies listed without responses depend on the counters
    counters = db.session.execute(
        select(func.count(Counter.id), func.max(Counter.id)).where(Counter.is_active.is_(True))
    ).one()
    return (
        str(db.engine.url),
        period.label,
        bool(current_app.config.get("REPORT_CALENDAR_MONTHS", False)),
        current_app.config.get("QUESTIONNAIRE_VERSION", DEFAULT_VERSION),
        int(count),
        int(id_sum or 0),
        int(max_id or 0),
        str(completed),
        _volumes_digest(period),
        str(current_app.config.get("REPORT_HEADLINE", "q0")),
        int(current_app.config.get("REPORT_MIN_N", 10)),
        tuple(int(v or 0) for v in counters),
        return_channel_setting(),
    )


def return_channel_setting() -> tuple[str, tuple]:
    """``REPORT_RETURN_CHANNEL_WEIGHTING`` (``off``, ``cells`` or ``collapse``) and the
    survey channels assumed to mean a return channel
    (``REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL``), as the weighting reads them."""
    mode = str(current_app.config.get("REPORT_RETURN_CHANNEL_WEIGHTING", "off")).strip().lower()
    assumed = current_app.config.get("REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL") or {}
    return mode, tuple(sorted(assumed.items()))
