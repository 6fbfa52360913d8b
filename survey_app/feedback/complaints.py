"""Complaints and denunciations (khiếu nại, tố cáo, tố giác): recognised, never processed.

They are not reports or proposals (phản ánh, kiến nghị): the Law on Complaints 2011
and the Law on Denunciations 2018 send them to the citizen reception office (Ban
Tiếp công dân) or the inspectorate of the agency concerned. This service

- lets the citizen say what they send *before* the form (the choice page);
- reads a text's words only as a **suggestion** (:func:`complaint_words`, negations
  such as "tôi không khiếu nại, chỉ kiến nghị" understood) and asks the citizen to
  confirm; it never classifies a text by itself;
- records a confirmed complaint as a redirected case (:func:`record_redirect`), so it
  is counted, without the citizen's name or contact, and tells the citizen where to
  go (:func:`complaint_body`, a setting per agency over a province-wide default);
- lets a coordinator undo or make that classification (:func:`reclassify`), with the
  reason on the case's timeline and in the audit log.

The classification lives on :class:`~.models.FeedbackCase`:

- ``state == CaseState.redirected_complaint``: the case is a complaint or
  denunciation, redirected (the clock stopped, ``public_reason`` says where to go,
  ``closed_at`` set). It is not a deletion: the row, its text and its timeline stay,
  and :func:`reclassify` turns it back into a report or proposal in screening.
- ``kind`` (report / proposal) is what the case is *as* a report or proposal: kept
  while redirected, so that a reversal restores it unless the coordinator chooses
  the other.
- every change is a :class:`~.models.CaseEvent` (``action="reclassified"``, the reason,
  the coordinator) and an :class:`~.models.AuditLog` line (``action="reclassify"``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..agencies.models import Agency, Procedure
from ..auth.models import Role, User
from ..core.time import now_utc
from ..extensions import db
from . import audit
from .models import CaseChannel, CaseEvent, CaseKind, CaseState, FeedbackCase
from .workflow import COMPLAINT, TransitionError, current_kind, transition

S = CaseState


#: The words that suggest a complaint or denunciation, folded (no diacritics, lower case).
_WORDS = (
    r"khieu\s*nai",
    r"khieu\s*kien",
    r"to\s*cao",
    r"to\s*giac",
    r"complain(?:t|ts|ing|ed)?",
    r"denounc\w*",
    r"denunciation",
)
#: Words that deny what follows ("không khiếu nại", "chẳng phải tố cáo", "not a complaint").
_NEGATIONS = (
    r"khong",
    r"chang",
    r"cha",
    r"chu\s+khong",
    r"dau\s+co",
    r"dau\s+phai",
    r"not",
    r"no",
    r"never",
    r"\w+n't",
)
#: Words that may stand between a negation and the complaint word without ending the
#: denial: "không phải là đơn khiếu nại", "không có ý tố cáo", "not making a complaint".
_FILLERS = (
    r"phai",
    r"la",
    r"co",
    r"y",
    r"muon",
    r"dinh",
    r"he",
    r"don",
    r"thu",
    r"viec",
    r"nham",
    r"gui",
    r"lam",
    r"viet",
    r"mot",
    r"cai",
    r"de",
    r"nhu",
    r"can",
    r"a",
    r"an",
    r"to",
    r"make",
    r"making",
    r"file",
    r"filing",
    r"lodge",
    r"lodging",
    r"want",
    r"wish",
    r"intend",
    r"is",
    r"this",
)
_WORD = re.compile(rf"(?<!\w)(?:{'|'.join(_WORDS)})(?!\w)")
_NEGATED = re.compile(rf"(?<!\w)(?:{'|'.join(_NEGATIONS)})(?:\s+(?:{'|'.join(_FILLERS)}))*\s+$")


def fold(text: str) -> str:
    """``text`` lower case without diacritics (đ → d): words typed on a phone without
    accents ("khieu nai") read as the same words."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").casefold()


def complaint_words(text: str) -> list[str]:
    """The words of ``text`` that suggest a complaint or denunciation, as written.

    A word denied by what precedes it in its clause ("tôi không khiếu nại, chỉ kiến
    nghị", "chẳng phải tố cáo", "đây không phải là đơn khiếu nại") does not count;
    one that is not ("tôi muốn tố giác…", "làm sao để khiếu nại?") does. This is only
    a suggestion to put to the citizen, never a decision.

    :return: the matches in the order they appear (empty: nothing suggests it).
    """
    text = unicodedata.normalize("NFC", text or "")
    folded = fold(text)
    # (folding keeps one character per NFC character, except đ: same length, same offsets)
    same_offsets = len(folded) == len(text)
    found = []
    for match in _WORD.finditer(folded):
        clause = re.split(r"[.,;:!?\n()\"“”–-]", folded[: match.start()])[-1]
        if _NEGATED.search(clause):
            continue
        found.append(text[match.start() : match.end()] if same_offsets else match.group(0))
    return found


def looks_like_complaint(text: str) -> bool:
    """True when words of ``text`` suggest a complaint or denunciation (see :func:`complaint_words`)."""
    return bool(complaint_words(text))


@dataclass(frozen=True)
class ComplaintBody:
    """Where complaints and denunciations about an agency are received."""

    #: e.g. "Ban Tiếp công dân tỉnh Hải Dương" or "Thanh tra Sở Tư pháp".
    name: str
    address: str
    phone: str
    #: The agency whose setting this is (None: the province-wide default of the config).
    agency: Agency | None = None

    @property
    def is_known(self) -> bool:
        return bool(self.name or self.address or self.phone)


def complaint_body(agency: Agency | None) -> ComplaintBody:
    """The body that receives complaints about ``agency``: its own setting, else the
    nearest agency above it that has one, else the province-wide default
    (``COMPLAINT_BODY_NAME``, ``COMPLAINT_BODY_ADDRESS``, ``COMPLAINT_BODY_PHONE``)."""
    chain = [*reversed(agency.ancestors()), agency] if agency is not None else []
    for candidate in [chain[-1], *chain[:-1]] if chain else []:
        if candidate.complaint_body_name or candidate.complaint_body_address:
            return ComplaintBody(
                name=candidate.complaint_body_name or "",
                address=candidate.complaint_body_address or "",
                phone=candidate.complaint_body_phone or "",
                agency=candidate,
            )
    config = current_app.config
    return ComplaintBody(
        name=config.get("COMPLAINT_BODY_NAME", ""),
        address=config.get("COMPLAINT_BODY_ADDRESS", ""),
        phone=config.get("COMPLAINT_BODY_PHONE", ""),
    )


COMPLAINT_EXPLANATION = _l(
    "This is a complaint (khiếu nại) or a denunciation (tố cáo). These are not handled "
    "as feedback on administrative procedures: they follow the Law on Complaints 2011 and the "
    "Law on Denunciations 2018. Please submit it to the citizen reception office (Ban Tiếp công "
    "dân) or the inspectorate (Thanh tra) of the agency concerned. Your submission has been "
    "recorded."
)


def record_redirect(
    *,
    agency: Agency | None,
    procedure: Procedure | None = None,
    content: str = "",
    kind: CaseKind = CaseKind.report,
    channel: CaseChannel = CaseChannel.web,
    response_id: int | None = None,
    idempotency_key: str | None = None,
    created_by: User | None = None,
) -> tuple[FeedbackCase, str]:
    """Record a complaint or denunciation the citizen confirmed, redirected at once.

    Only what counting it and a coordinator's review need is stored: the agency, the
    procedure, the text the citizen wrote (empty when they chose "complaint" before
    writing anything), when. No name, phone, e-mail or address: the citizen is told
    on the spot where to go, and follows the record with its code and tracking number.

    :param kind: what the case becomes if a coordinator finds it is a report or
        proposal after all (:func:`reclassify` may choose the other).
    :param idempotency_key: as :func:`~.services.submit` takes it.
    :return: the case (state ``redirected_complaint``) and its tracking secret in clear.
    """
    from . import services  # (services imports this module)

    case, secret = services.new_case(
        kind=kind,
        channel=channel,
        content=(content or "").strip(),
        agency=agency,
        procedure=procedure,
        created_by=created_by,
        response_id=response_id,
        idempotency_key=idempotency_key,
        complaint=True,
    )
    transition(
        case,
        S.redirected_complaint,
        None,
        action="redirected_complaint",
        reason=str(COMPLAINT_EXPLANATION),
    )
    return case, secret


#: States a coordinator may reclassify a report or proposal from, as a complaint:
#: any before the answer is written.
RECLASSIFIABLE = frozenset(
    {S.submitted, S.screening, S.needs_info, S.transferred, S.accepted, S.assigned, S.in_progress}
)


def reclassify_options(case: FeedbackCase, user: User | None) -> list[str]:
    """What ``user`` may reclassify ``case`` as, for the staff case page's actions:
    some of ``"report"``, ``"proposal"``, ``"complaint"`` (empty for other roles, for a
    case past the answer, and for a complaint's record that has no text)."""
    if user is None or user.role not in (Role.coordinator, Role.admin):
        return []
    return reclassify_targets(case)


def reclassify_targets(case: FeedbackCase) -> list[str]:
    """What ``case`` may be reclassified as now, whoever asks (see :func:`reclassify_options`)."""
    if case.state == S.redirected_complaint:
        return (
            [CaseKind.report.value, CaseKind.proposal.value] if (case.content or "").strip() else []
        )
    if case.state not in RECLASSIFIABLE:
        return []
    other = CaseKind.proposal if case.kind == CaseKind.report else CaseKind.report
    return [other.value, COMPLAINT]


def reclassify(
    case: FeedbackCase,
    to_kind: str | CaseKind,
    user: User,
    reason: str,
    *,
    note: str | None = None,
) -> FeedbackCase:
    """A coordinator's (or admin's) decision on what a case is: a report, a proposal,
    or a complaint or denunciation. Reversible, audited, never a deletion.

    - to ``"complaint"`` from a report or proposal not yet answered
      (:data:`RECLASSIFIABLE`): the case is redirected (state
      ``redirected_complaint``, clock stopped, ``reason`` shown to the citizen with
      where to go); its ``kind`` is kept for a later reversal.
    - to ``report`` or ``proposal`` from a redirected complaint: back to
      ``screening`` with a new screening clock from today, ``kind`` set; the
      redirect's public reason and closing date are cleared. A record with no text
      (the citizen chose "complaint" before writing) cannot be reopened.
    - between ``report`` and ``proposal``: only ``kind`` changes (the code stays: the
      citizen tracks it with that code).

    Each change adds a ``reclassified`` event to the case's timeline (``note`` is
    internal, never shown to the citizen) and a ``reclassify`` line to the audit log.
    Flushes; the caller commits.

    :param to_kind: ``"complaint"``, ``"report"`` or ``"proposal"`` (or a :class:`CaseKind`).
    :param reason: required; shown to the citizen on the case page.
    :raises TransitionError: a role other than coordinator or admin, no reason, an
        unknown kind, a case already of that kind, or one past the answer.
    """
    if user is None or user.role not in (Role.coordinator, Role.admin):
        raise TransitionError(_l("Only coordinators reclassify a case."))
    if not (reason and reason.strip()):
        raise TransitionError(_l("Give a reason for this step."))
    reason = reason.strip()
    target = str(to_kind)
    if target not in (COMPLAINT, CaseKind.report.value, CaseKind.proposal.value):
        raise TransitionError(_l("Choose report, proposal or complaint."))
    before = current_kind(case)
    if target == before:
        raise TransitionError(_l("The case is already classified so."))

    if target == COMPLAINT:
        if case.state not in RECLASSIFIABLE:
            raise TransitionError(
                _l("A case that has been answered cannot be reclassified as a complaint.")
            )
        transition(
            case,
            S.redirected_complaint,
            user,
            action="reclassified",
            reason=reason,
            note=_note(before, target, note),
            reclassifying=True,
        )
    elif before == COMPLAINT:
        if not (case.content or "").strip():
            raise TransitionError(
                _l("This record has no text: there is no report or proposal to handle.")
            )
        case.kind = CaseKind(target)
        transition(
            case,
            S.screening,
            user,
            action="reclassified",
            reason=reason,
            note=_note(before, target, note),
            reclassifying=True,
        )
    else:
        case.kind = CaseKind(target)
        case.events.append(
            CaseEvent(
                actor=user,
                action="reclassified",
                from_state=case.state,
                to_state=case.state,
                from_agency_id=case.agency_id,
                to_agency_id=case.agency_id,
                reason=reason,
                note=_note(before, target, note),
                at=now_utc(),
            )
        )
    audit.record(user, "reclassify", case, f"{before} → {target}: {reason}")
    db.session.flush()
    return case


def _note(before: str, target: str, note: str | None) -> str:
    """The internal note of a reclassification: from what to what, then the coordinator's note."""
    return "\n".join(filter(None, [f"{before} → {target}", note]))
