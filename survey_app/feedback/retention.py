"""The retention purge: what is left once the retention period is over.

``docs/PERSONAL_DATA.md`` lists every place personal data can live; this module
erases or redacts each of them that the database and the attachment folder hold:

* a case closed, rejected, redirected or published longer ago than the retention
  period keeps its code, kind, agency, procedure, dates, states, its public
  summary and published answer (both minus the citizen's own name, phone,
  e-mail and address should staff have copied them in); its name, contacts and
  address are erased, its text, reasons and the audit lines about it are
  redacted, internal notes erased, attachments deleted (rows and files), and the
  notifications queued for it deleted;
* the survey comment the case came from is redacted with the case, and every
  survey comment once it is older than the retention period;
* the comments frozen in a published report are redacted again (with today's
  rules) once the report is older than the retention period;
* notifications sent, or given up on, longer ago than ``OUTBOX_RETENTION_DAYS``
  are deleted (recipient, subject and error included).

Every step is idempotent and safe with several servers at once: cases are taken
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a case already purged is taken
again only if something happened to it since (it was reopened), and the steps
over survey comments and snapshots remember how far they got
(:class:`~.models.RetentionMark`). Services flush; ``flask feedback purge``
commits each batch and only then deletes the batch's files.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from ..core.redact import redact
from ..core.time import now_utc
from ..extensions import db
from ..reports.models import ReportSnapshot
from ..surveys.models import Response
from . import attachments as files
from .audit import record
from .models import (
    AuditLog,
    CaseEvent,
    CaseState,
    FeedbackCase,
    OutboxMessage,
    RetentionMark,
)
from .outbox import MAX_ATTEMPTS

#: What replaces the citizen's own name, phone, e-mail and address where staff copied them.
NAME_MARK, PHONE_MARK, EMAIL_MARK, ADDRESS_MARK = (
    "[họ tên]",
    "[số điện thoại]",
    "[e-mail]",
    "[địa chỉ]",
)
#: Cases taken per transaction.
BATCH = 200
#: Survey comments read per query.
COMMENT_CHUNK = 1000
#: Where a step that never ran starts (before the first response or report).
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
#: Final states, and the column that says since when the case has been in them.
_ENDED_AT = {
    CaseState.closed: FeedbackCase.closed_at,
    CaseState.rejected: FeedbackCase.closed_at,
    CaseState.redirected_complaint: FeedbackCase.closed_at,
    CaseState.published: FeedbackCase.published_at,
}


@dataclass
class PurgeCounts:
    """How much a purge erased: counts only, never the data (they go to the audit log)."""

    cases: int = 0
    contact_fields: int = 0
    texts_redacted: int = 0
    notes_erased: int = 0
    attachments: int = 0
    outbox_messages: int = 0
    audit_lines: int = 0
    survey_comments: int = 0
    report_snapshots: int = 0

    def __iadd__(self, other: PurgeCounts) -> PurgeCounts:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def summary(self) -> str:
        """``"contact_fields=4, texts_redacted=2, …"`` (the non-zero counts)."""
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name)
        ]
        return ", ".join(parts) or "nothing"


@dataclass
class Batch:
    """One transaction's work: what was erased, and the files to delete once it is committed."""

    counts: PurgeCounts = field(default_factory=PurgeCounts)
    files: list[Path] = field(default_factory=list)


# -- scrubbing free text ---------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _loose(value: str) -> str:
    """A pattern for ``value`` as typed again: any run of spaces where it has one."""
    return r"\s+".join(re.escape(part) for part in _nfc(value).split())


def _phone_pattern(phone: str) -> str:
    """``0912345678`` or ``+84912345678`` written any usual way: (0912) 345 678, +84 912…"""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+84") or (digits.startswith("84") and len(digits) >= 11):
        digits = digits[2:]
    digits = digits.removeprefix("0")
    sep = r"[\s.\-()]*"
    return r"(?<!\d)\(?(?:\+\s*84|84|0)" + sep + sep.join(digits) + r"(?!\d)"


@dataclass
class Scrubber:
    """Takes one case's citizen out of free text: their own values first, then :func:`redact`."""

    patterns: list[tuple[re.Pattern[str], str]]

    @classmethod
    def for_case(cls, case: FeedbackCase) -> Scrubber:
        patterns: list[tuple[re.Pattern[str], str]] = []
        if case.contact_phone and len(re.sub(r"\D", "", case.contact_phone)) >= 9:
            patterns.append((re.compile(_phone_pattern(case.contact_phone)), PHONE_MARK))
        if case.contact_email:
            patterns.append((re.compile(re.escape(case.contact_email), re.IGNORECASE), EMAIL_MARK))
        if case.address and len(case.address.strip()) >= 5:
            patterns.append((re.compile(_loose(case.address), re.IGNORECASE), ADDRESS_MARK))
        name = (case.submitter_name or "").strip()
        # a one-word name ("An", "Hoa") is also a word of the language: only full names
        if len(name.split()) >= 2:
            # case-sensitive: names are written with capitals, words of the text are not
            patterns.append((re.compile(r"(?<!\w)" + _loose(name) + r"(?!\w)"), NAME_MARK))
        return cls(patterns)

    def known(self, text: str | None) -> str | None:
        """``text`` without this citizen's own name, phone, e-mail and address."""
        if not text:
            return text
        text = _nfc(text)
        for pattern, mark in self.patterns:
            text = pattern.sub(mark, text)
        return text

    def full(self, text: str | None) -> str | None:
        """:meth:`known`, then :func:`redact` (anyone's phone, e-mail, ID numbers…)."""
        if not text:
            return text
        return redact(self.known(text))


# -- cases -----------------------------------------------------------------------------------


def ended_before(cutoff: datetime):
    """SQL: the case ended (closed, rejected, redirected, or its answer published) before ``cutoff``."""
    return or_(
        *(
            and_(FeedbackCase.state == state, column.is_not(None), column < cutoff)
            for state, column in _ENDED_AT.items()
        )
    )


def _needs_purge():
    """SQL: never purged, or something happened to the case since (it was reopened)."""
    touched_since = exists().where(
        CaseEvent.case_id == FeedbackCase.id, CaseEvent.at > FeedbackCase.contact_erased_at
    )
    return or_(FeedbackCase.contact_erased_at.is_(None), touched_since)


def purge_cases(cutoff: datetime, retention_days: int, limit: int = BATCH) -> Batch:
    """Purge up to ``limit`` cases that ended before ``cutoff`` (see the module's docstring).

    Cases another server is purging at this moment are skipped (PostgreSQL).
    Flushes; the caller commits, then deletes ``Batch.files``.

    :param retention_days: for the audit line.
    :return: the counts and the attachment files to delete after the commit.
    """
    batch = Batch()
    cases = db.session.scalars(
        select(FeedbackCase)
        .where(ended_before(cutoff), _needs_purge())
        .order_by(FeedbackCase.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=FeedbackCase)
    ).all()
    for case in cases:
        counts = purge_case(case, batch.files)
        record(None, "purge", case, f"retention {retention_days} days: {counts.summary()}")
        batch.counts += counts
    db.session.flush()
    return batch


def _changed(obj, attr: str, value) -> int:
    if getattr(obj, attr) == value:
        return 0
    setattr(obj, attr, value)
    return 1


def purge_case(case: FeedbackCase, paths: list[Path]) -> PurgeCounts:
    """Erase and redact one case's personal data, whatever its state (see the module's
    docstring); flushes nothing.

    :param paths: the case's attachment files are added to it, to delete after the commit.
    :return: what was erased, counted.
    """
    counts = PurgeCounts(cases=1)
    scrub = Scrubber.for_case(case)  # before the values it looks for are erased
    for attr in ("content", "public_reason", "extension_reason"):
        counts.texts_redacted += _changed(case, attr, scrub.full(getattr(case, attr)))
    # published: they stay, minus what is certainly this citizen's
    for attr in ("answer", "public_summary"):
        counts.texts_redacted += _changed(case, attr, scrub.known(getattr(case, attr)))
    for attr in ("submitter_name", "contact_phone", "contact_email", "address"):
        counts.contact_fields += _changed(case, attr, None)
    for event in case.events:
        counts.texts_redacted += _changed(event, "reason", scrub.full(event.reason))
        counts.notes_erased += _changed(event, "note", None)
    for attachment in list(case.attachments):
        paths.append(files.path_of(attachment))
        case.attachments.remove(attachment)  # (delete-orphan: the row goes)
        counts.attachments += 1
    counts.outbox_messages += (
        db.session.execute(
            delete(OutboxMessage).where(_messages_about(case.id)),
            execution_options={"synchronize_session": False},
        ).rowcount
        or 0
    )
    for line in db.session.scalars(select(AuditLog).where(AuditLog.case_id == case.id)):
        counts.audit_lines += _changed(line, "detail", scrub.full(line.detail) or "")
    if case.response_id is not None:
        response = db.session.get(Response, case.response_id)
        if response is not None and response.comment:
            counts.survey_comments += _changed(response, "comment", scrub.full(response.comment))
    case.contact_erased_at = now_utc()
    return counts


def _messages_about(case_id: int):
    """SQL: the notifications about one case, by the dedupe keys :mod:`.notify` gives them
    (a phone message's key is the e-mail's with ``:sms`` or ``:zalo`` after it)."""
    return or_(
        *(OutboxMessage.dedupe_key == f"{kind}:{case_id}" for kind in ("received", "rate")),
        *(
            OutboxMessage.dedupe_key.like(f"{kind}:{case_id}:%")
            for kind in (
                "received",
                "rate",
                "citizen",
                "transferred",
                "remind",
                "overdue",
                "new",
                "assigned",
            )
        ),
    )


# -- the outbox ------------------------------------------------------------------------------


def purge_outbox(before: datetime) -> int:
    """Delete notifications sent, or given up on, before ``before``; return how many.

    Messages still being retried stay, whatever their age.
    """
    result = db.session.execute(
        delete(OutboxMessage).where(
            or_(
                OutboxMessage.sent_at < before,
                and_(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.attempts >= MAX_ATTEMPTS,
                    OutboxMessage.created_at < before,
                ),
            )
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


# -- survey comments and report snapshots ----------------------------------------------------


def _mark(name: str) -> RetentionMark:
    """The mark of step ``name``, created (at the beginning of time) if it is missing."""
    mark = db.session.get(RetentionMark, name, with_for_update=True)
    if mark is not None:
        return mark
    try:
        with db.session.begin_nested():
            mark = RetentionMark(name=name, done_until=_BEGINNING)
            db.session.add(mark)
    except IntegrityError:  # another server created it at the same moment
        mark = db.session.get(RetentionMark, name, with_for_update=True, populate_existing=True)
    return mark


def redact_survey_comments(cutoff: datetime) -> int:
    """Redact the survey comments given before ``cutoff`` and not yet redacted; return how many
    changed. Ratings and answers are anonymous and stay as they are."""
    mark = _mark("survey_comments")
    start = mark.done_until
    if start >= cutoff:
        return 0
    changed = 0
    last_id = None
    while True:
        stmt = (
            select(Response.id, Response.comment)
            .where(
                Response.submitted_at >= start,
                Response.submitted_at < cutoff,
                Response.comment.is_not(None),
            )
            .order_by(Response.id)
            .limit(COMMENT_CHUNK)
        )
        if last_id is not None:
            stmt = stmt.where(Response.id > last_id)
        rows = db.session.execute(stmt).all()
        if not rows:
            break
        last_id = rows[-1][0]
        redacted = ((rid, comment, redact(comment)) for rid, comment in rows)
        updates = [{"id": rid, "comment": new} for rid, old, new in redacted if new != old]
        if updates:
            db.session.execute(update(Response), updates)
            changed += len(updates)
    mark.done_until = cutoff
    db.session.flush()
    return changed


def redact_report_snapshots(cutoff: datetime) -> int:
    """Redact again, with today's rules, the comments frozen in reports published before
    ``cutoff``; return how many snapshots changed. The figures stay as published."""
    mark = _mark("report_snapshots")
    start = mark.done_until
    if start >= cutoff:
        return 0
    changed = 0
    snapshots = db.session.scalars(
        select(ReportSnapshot).where(
            ReportSnapshot.created_at >= start, ReportSnapshot.created_at < cutoff
        )
    )
    for snapshot in snapshots:
        frozen = (snapshot.results or {}).get("comments")
        if not isinstance(frozen, dict):
            continue
        cleaned = {
            agency: [
                dict(c, text=redact(c["text"]))
                if isinstance(c, dict) and isinstance(c.get("text"), str)
                else c
                for c in found
            ]
            for agency, found in frozen.items()
        }
        if cleaned != frozen:
            snapshot.results = {**snapshot.results, "comments": cleaned}
            flag_modified(snapshot, "results")
            changed += 1
    mark.done_until = cutoff
    db.session.flush()
    return changed


def delete_files(paths: list[Path]) -> None:
    """Delete attachment files whose rows are gone (call after the commit)."""
    for path in paths:
        path.unlink(missing_ok=True)
