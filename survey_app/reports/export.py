"""CSV exports read by ``python -m analysis indices`` (see ``analysis/cli.py``).

- **Responses**: one row per response, ``response_id, agency, submitted_at,
  counter, procedure_field, questionnaire_version``, then Q0 (from
  ``Response.overall``) and one column per item of the questionnaire, 1–5 or
  empty (not answered, or N/A). Staff-flagged responses are left out, and so
  are the ones quarantined as ballot stuffing (``surveys.screening``), as in the reports.
- **Volumes**: ``agency, procedure_field, month, dossiers`` from
  :class:`~survey_app.agencies.models.DossierVolume`, ``month`` as ``YYYY-MM``
  (days, return channels and sources summed into the month).

Text cells (agency codes, questionnaire versions…) go through
:mod:`survey_app.core.spreadsheet`, so none starts a formula in a spreadsheet;
the numbers (ids, ratings, dossiers) are written as they are, for the analysis.

For people rather than the analysis (``for_people=True``, ``flask export … --for-people``),
the same rows carry Vietnamese column headers and local times (``dd/mm/yyyy HH:MM``,
Asia/Ho_Chi_Minh), months as ``mm/yyyy``, and the file starts with a byte-order mark so
that Excel reads it as UTF-8; ``python -m analysis`` reads only the default form.

Both stream: Core selects fetched in batches, never ORM objects. The answers
are pivoted in Python from a second select ordered like the first (by response
id), so each side is read once and memory stays flat whatever the range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TextIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from ..agencies.models import (
    ALL_CHANNELS,
    Agency,
    Counter,
    DossierVolume,
    Procedure,
    ProcedureField,
)
from ..core.spreadsheet import csv_writer
from ..core.time import local_day_bounds_utc, local_tz
from ..extensions import db
from ..surveys.models import Answer, QuestionnaireVersion, Response
from ..surveys.questionnaire import Questionnaire

#: Metadata columns of the responses export, in order (items follow).
RESPONSE_COLUMNS = (
    "response_id",
    "agency",
    "submitted_at",
    "counter",
    "procedure_field",
    "questionnaire_version",
)
VOLUME_COLUMNS = ("agency", "procedure_field", "month", "dossiers")
#: The same columns for people (translated when written).
RESPONSE_HEADINGS = (
    _l("Response number"),
    _l("Agency code"),
    _l("Submitted at (Vietnam time)"),
    _l("Counter code"),
    _l("Procedure field code"),
    _l("Questionnaire version"),
)
VOLUME_HEADINGS = (_l("Agency code"), _l("Procedure field code"), _l("Month"), _l("Dossiers"))
RETURN_CHANNEL_HEADING = _l("How the result was returned")
#: Rows fetched per round trip.
BATCH = 5000


@dataclass
class ResponsesExport:
    """What an export wrote.

    :ivar written: responses written.
    :ivar staff_excluded: staff-flagged responses in the range, left out.
    :ivar quarantined_excluded: quarantined responses in the range, left out.
    :ivar versions: questionnaire version → responses written.
    :ivar item_codes: the item columns (Q0 first).
    """

    written: int = 0
    staff_excluded: int = 0
    quarantined_excluded: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    item_codes: tuple[str, ...] = ()


def utc_range(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC covering the local days ``date_from`` to ``date_to`` inclusive."""
    if date_to < date_from:
        raise ValueError("--to is before --from")
    return local_day_bounds_utc(date_from)[0], local_day_bounds_utc(date_to)[1]


def item_columns(questionnaire: Questionnaire) -> tuple[str, ...]:
    """Q0 then the rated items, the order ``analysis`` reads them in."""
    return (questionnaire.overall.code, *questionnaire.item_codes)


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(value: datetime) -> str:
    return value.astimezone(local_tz()).strftime("%d/%m/%Y %H:%M")


def _in_range(start: datetime, end: datetime, version_id: int | None):
    cond = [Response.submitted_at >= start, Response.submitted_at < end]
    if version_id is not None:
        cond.append(Response.questionnaire_version_id == version_id)
    return and_(*cond)


def write_responses_csv(
    out: TextIO,
    date_from: date,
    date_to: date,
    questionnaire: Questionnaire,
    *,
    only_version: bool = False,
    for_people: bool = False,
    return_channel: bool = False,
) -> ResponsesExport:
    """Write the responses submitted on local days ``date_from`` … ``date_to``.

    :param out: a text stream opened with ``newline=""``.
    :param questionnaire: gives the item columns.
    :param only_version: keep only the responses that answered this
        questionnaire version (by default every version in the range is
        written, with its name in ``questionnaire_version``; the analysis
        refuses a mix).
    :param return_channel: add a ``return_channel`` column (``counter``, ``online``,
        ``post`` or empty when unknown) after ``questionnaire_version``.
    :return: counts, including the staff-flagged responses left out.
    """
    start, end = utc_range(date_from, date_to)
    codes = item_columns(questionnaire)
    summary = ResponsesExport(item_codes=codes)
    version_id = None
    if only_version:
        version_id = db.session.scalar(
            select(QuestionnaireVersion.id).where(
                QuestionnaireVersion.version == questionnaire.version
            )
        )
        if version_id is None:
            version_id = -1  # never used: nothing to export
    in_range = _in_range(start, end, version_id)
    summary.staff_excluded = db.session.scalar(
        select(func.count()).select_from(Response).where(in_range, Response.staff_flag.is_(True))
    )
    summary.quarantined_excluded = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(in_range, Response.staff_flag.is_(False), Response.quarantined.is_(True))
    )
    kept = and_(in_range, Response.staff_flag.is_(False), Response.quarantined.is_(False))

    writer = csv_writer(out, lineterminator="\n")
    extra = ("return_channel",) if return_channel else ()
    if for_people:
        out.write("\ufeff")
        extra = (str(RETURN_CHANNEL_HEADING),) if return_channel else ()
        writer.writerow((*(str(h) for h in RESPONSE_HEADINGS), *extra, *codes))
    else:
        writer.writerow((*RESPONSE_COLUMNS, *extra, *codes))
    when = _local if for_people else _iso_utc
    position = {code: j for j, code in enumerate(codes)}
    width = len(codes)
    versions = summary.versions
    for meta, overall, answers, returned in _responses_with_answers(kept, when):
        cells = [""] * width
        cells[0] = overall
        for code, value in answers:
            j = position.get(code)
            if j is not None and value is not None:
                cells[j] = value
        writer.writerow((*meta, *((returned or "",) if return_channel else ()), *cells))
        versions[meta[5]] = versions.get(meta[5], 0) + 1
        summary.written += 1
    return summary


def _responses_with_answers(where, when=_iso_utc) -> Iterator[tuple[tuple, int, list, str | None]]:
    """``(metadata, overall, [(item_code, value), …], return channel)`` per response, by
    response id.

    Two selects read side by side (a merge on the response id): the responses
    with their codes, and their answers. Each streams in batches.
    """
    responses = (
        select(
            Response.id,
            Agency.code,
            Response.submitted_at,
            Counter.code,
            ProcedureField.code,
            QuestionnaireVersion.version,
            Response.overall,
            Response.return_channel,
        )
        .join(Agency, Agency.id == Response.agency_id)
        .join(Counter, Counter.id == Response.counter_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .outerjoin(Procedure, Procedure.id == Response.procedure_id)
        .outerjoin(ProcedureField, ProcedureField.id == Procedure.field_id)
        .where(where)
        .order_by(Response.id)
    )
    answers = (
        select(Answer.response_id, Answer.item_code, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(where)
        .order_by(Answer.response_id)
    )
    conn = db.session.connection().execution_options(yield_per=BATCH)
    answer_rows = iter(conn.execute(answers).tuples())
    pending = next(answer_rows, None)
    for rid, agency, submitted_at, counter, field_code, version, overall, returned in conn.execute(
        responses
    ).tuples():
        own = []
        while pending is not None and pending[0] <= rid:
            if pending[0] == rid:
                own.append((pending[1], pending[2]))
            pending = next(answer_rows, None)
        meta = (rid, agency, when(submitted_at), counter, field_code or "", version)
        yield meta, overall, own, returned


def write_volumes_csv(
    out: TextIO,
    date_from: date,
    date_to: date,
    *,
    for_people: bool = False,
    by_return_channel: bool = False,
) -> int:
    """Write the dossier volumes of the months whose first day is in ``date_from`` … ``date_to``.

    So a reporting range 15/2 → 14/4 gives the volumes of March and April (the
    reporting months it covers), a calendar range 1/1 → 31/3 those of
    January to March. A cell's days and sources are summed into its month.

    :param by_return_channel: add a ``return_channel`` column, one row per channel
        (``counter``, ``online``, ``post``) where the cell's figures give every
        dossier's channel, else one row for all channels (empty); for
        ``python -m analysis indices --by-return-channel``.
    :return: rows written.
    """
    if date_to < date_from:
        raise ValueError("--to is before --from")
    keys = [Agency.code, ProcedureField.code, DossierVolume.month]
    if by_return_channel:
        keys.append(DossierVolume.return_channel)
    rows = (
        select(*keys, func.sum(DossierVolume.dossiers))
        .join(Agency, Agency.id == DossierVolume.agency_id)
        .join(ProcedureField, ProcedureField.id == DossierVolume.field_id)
        .where(DossierVolume.month >= date_from, DossierVolume.month <= date_to)
        .group_by(*keys)
        .order_by(*keys)
    )
    writer = csv_writer(out, lineterminator="\n")
    extra = ("return_channel",) if by_return_channel else ()
    if for_people:
        out.write("\ufeff")
        extra = (str(RETURN_CHANNEL_HEADING),) if by_return_channel else ()
        writer.writerow([*(str(h) for h in VOLUME_HEADINGS), *extra])
    else:
        writer.writerow(VOLUME_COLUMNS + extra)
    month_format = "%m/%Y" if for_people else "%Y-%m"
    written = 0
    conn = db.session.connection().execution_options(yield_per=BATCH)
    cell, figures = None, []

    def flush() -> int:
        if not figures:
            return 0
        agency, field_code, month = cell
        shown = month.strftime(month_format)
        if not by_return_channel:
            writer.writerow((agency, field_code, shown, figures[0][1]))
            return 1
        if any(c == ALL_CHANNELS for c, _ in figures):  # the channels do not cover the cell
            total = sum(n for _, n in figures)
            writer.writerow((agency, field_code, shown, total, ""))
            return 1
        for c, n in figures:
            writer.writerow((agency, field_code, shown, n, c))
        return len(figures)

    for row in conn.execute(rows).tuples():
        agency, field_code, month = row[:3]
        channel_value = row[3] if by_return_channel else ALL_CHANNELS
        if (agency, field_code, month) != cell:
            written += flush()
            cell, figures = (agency, field_code, month), []
        figures.append((channel_value, int(row[-1] or 0)))
    written += flush()
    return written
