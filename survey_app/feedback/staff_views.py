"""Staff pages for feedback: the queue, a case's page and its actions, staff intake, exports."""

from __future__ import annotations

import logging
import re
from datetime import date, time, timedelta
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..agencies.models import Agency, Procedure
from ..agencies.services import visible_agencies
from ..auth.models import User
from ..auth.permissions import Permission, has_permission, requires
from ..core import spreadsheet
from ..core.collation import tree_sorted, vi_sorted
from ..core.db import is_concurrent_change
from ..core.i18n import local_date
from ..core.params import form_text, page_number, parse_id
from ..core.redact import contains_personal_data, redact
from ..core.time import local_today, local_tz, now_utc
from ..extensions import db
from . import attachments, audit, notify, services, tasks, tracking
from .complaints import reclassify, reclassify_targets
from .models import AnswerTemplate, Attachment, CaseChannel, CaseKind, CaseState, FeedbackCase
from .queries import SCOPES, CaseFilters, apply_filters, state_counts, visible_cases
from .workflow import (
    COMPLAINT,
    STATE_LABELS,
    TransitionError,
    current_kind,
    deadline_title,
    explain_due,
    extend,
    transition,
    work_calendar,
)

bp = Blueprint("cases", __name__, url_prefix="/staff/feedback")
log = logging.getLogger(__name__)

#: Lengths of the public answer and of the question as published.
ANSWER_MAX, SUMMARY_MAX = 10_000, 5_000

PAGE_SIZE = 50
STAFF_CHANNELS = (CaseChannel.paper, CaseChannel.phone, CaseChannel.email)
CHANNEL_LABELS = {
    CaseChannel.web: _l("Web form"),
    CaseChannel.survey: _l("Survey suggestion"),
    CaseChannel.paper: _l("On paper"),
    CaseChannel.phone: _l("By phone"),
    CaseChannel.email: _l("By e-mail"),
    CaseChannel.api: _l("API"),
}


def _case_or_404(case_id: int) -> FeedbackCase:
    """The case if the current user may see it; 404 otherwise (ids reveal nothing)."""
    case = db.session.scalar(visible_cases(current_user).where(FeedbackCase.id == case_id))
    if case is None:
        abort(404)
    return case


def _filters_from_args() -> CaseFilters:
    args = request.args
    filters = CaseFilters(scope=args.get("scope", "agency"))
    if filters.scope not in SCOPES:
        filters.scope = "agency"
    if args.get("state") in CaseState.__members__:
        filters.state = CaseState(args["state"])
    if args.get("channel") in CaseChannel.__members__:
        filters.channel = CaseChannel(args["channel"])
    if (agency_id := parse_id(args.get("agency"))) is not None:
        filters.agency_id = agency_id
    if (procedure_id := parse_id(args.get("procedure"))) is not None:
        filters.procedure_id = procedure_id
    if args.get("agency") == "none":
        filters.unassigned_queue = True
    try:
        if args.get("due_before"):
            filters.due_before = date.fromisoformat(args["due_before"])
    except ValueError:
        abort(400, description=_("The date must look like 2026-03-31."))
    filters.overdue = args.get("overdue") == "1"
    filters.text = (args.get("q") or "")[:200]
    return filters


def _queue_statement(filters: CaseFilters):
    stmt = apply_filters(visible_cases(current_user), filters, current_user, local_today())
    return stmt


@bp.get("/")
@requires(Permission.handle_feedback)
def queue():
    """My queue, my agency's queue, or everything (coordinators), with filters and counts."""
    filters = _filters_from_args()
    stmt = _queue_statement(filters)
    counts = state_counts(
        apply_filters(
            visible_cases(current_user),
            CaseFilters(scope=filters.scope),
            current_user,
            local_today(),
        )
    )
    page = page_number(request.args.get("page"))
    rows = (
        db.session.scalars(
            stmt.options(
                joinedload(FeedbackCase.agency),
                joinedload(FeedbackCase.procedure),
                joinedload(FeedbackCase.assignee),
            )
            .order_by(FeedbackCase.due_on.is_(None), FeedbackCase.due_on, FeedbackCase.id)
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
        .unique()
        .all()
    )
    agencies = tree_sorted(db.session.scalars(visible_agencies(current_user)).all())
    today = local_today()
    return render_template(
        "feedback/staff/queue.html",
        cases=rows[:PAGE_SIZE],
        has_more=len(rows) > PAGE_SIZE,
        page=page,
        filters=filters,
        counts=counts,
        labels=STATE_LABELS,
        agencies=agencies,
        today=today,
        soon=today + timedelta(days=3),
        mask_name=audit.mask_name,
        channels=CaseChannel,
        states=CaseState,
        channel_labels=CHANNEL_LABELS,
    )


@bp.get("/export.<any(csv,xlsx):fmt>")
@requires(Permission.handle_feedback)
def export(fmt: str):
    """The filtered queue as CSV or XLSX; personal data masked unless the role allows it."""
    filters = _filters_from_args()
    agency, procedure = aliased(Agency), aliased(Procedure)
    # plain columns, not ORM objects: a 24,000-case export spends its time in Python otherwise
    stmt = (
        _queue_statement(filters)
        .with_only_columns(
            FeedbackCase.id,
            FeedbackCase.code,
            FeedbackCase.kind,
            FeedbackCase.state,
            FeedbackCase.channel,
            agency.name,
            procedure.code,
            FeedbackCase.received_at,
            FeedbackCase.due_on,
            FeedbackCase.submitter_name,
            FeedbackCase.contact_phone,
            FeedbackCase.contact_email,
            FeedbackCase.content,
        )
        .outerjoin(agency, FeedbackCase.agency_id == agency.id)
        .outerjoin(procedure, FeedbackCase.procedure_id == procedure.id)
        .order_by(FeedbackCase.id)
    )
    unmasked = has_permission(current_user, Permission.unmasked_exports)
    header = [str(label) for label in EXPORT_HEADER]
    tz = local_tz()
    case_ids, rows = [], []
    for r in db.session.execute(stmt):
        case_ids.append(r[0])
        kind = COMPLAINT if r[3] == CaseState.redirected_complaint else r[2].value
        rows.append(
            [
                r[1],
                str(KIND_LABELS[kind]),
                str(STATE_LABELS[r[3]]),
                str(CHANNEL_LABELS[r[4]]),
                r[5] or "",
                r[6] or "",
                r[7].astimezone(tz).strftime(EXPORT_DATETIME),
                r[8].strftime(EXPORT_DATE) if r[8] else "",
                r[9] if unmasked else audit.mask_name(r[9]),
                r[10] if unmasked else audit.mask_phone(r[10]),
                r[11] if unmasked else audit.mask_email(r[11]),
                r[12] if unmasked else audit.mask_text(r[12], r[9]),
            ]
        )
    audit.record_export(
        current_user, fmt, case_ids, unmasked=unmasked, filters=_filters_described(filters)
    )
    db.session.commit()
    if fmt == "csv":  # BOM: Excel reads UTF-8
        body, mimetype = spreadsheet.csv_document(header, rows, bom=True), "text/csv"
    else:
        body = spreadsheet.xlsx_document("PAKN", header, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="pakn.{fmt}"'},
    )


#: The export's columns, in the reader's language.
EXPORT_HEADER = (
    _l("Case code"),
    _l("Kind"),
    _l("State"),
    _l("Received by"),
    _l("Agency"),
    _l("Procedure code"),
    _l("Received on (Vietnam time)"),
    _l("Due by"),
    _l("Full name"),
    _l("Phone"),
    _l("E-mail"),
    _l("Content"),
)
#: Times and dates in exports: local time, day first, as Vietnamese offices write them.
EXPORT_DATETIME, EXPORT_DATE = "%d/%m/%Y %H:%M", "%d/%m/%Y"


def _filters_described(filters: CaseFilters) -> str:
    """The export's filters for the audit log; the searched text only as "text search"
    (staff search by a citizen's name or phone, which the log must not keep)."""
    parts = [f"scope={filters.scope}"]
    for name in ("state", "channel", "agency_id", "procedure_id", "due_before"):
        if (value := getattr(filters, name)) is not None:
            parts.append(f"{name}={getattr(value, 'value', value)}")
    if filters.unassigned_queue:
        parts.append("agency=none")
    if filters.overdue:
        parts.append("overdue")
    if filters.text:
        parts.append("text search")
    return "filters: " + " ".join(parts)


def _handlers_for(case: FeedbackCase) -> list[User]:
    return tasks.handlers_for(case)


def _templates_for(case: FeedbackCase) -> list[AnswerTemplate]:
    """The answer templates of the case's agency and those for every agency, by title."""
    rows = db.session.scalars(
        select(AnswerTemplate).where(
            (AnswerTemplate.agency_id == case.agency_id) | AnswerTemplate.agency_id.is_(None)
        )
    ).all()
    return vi_sorted(rows, key=lambda t: t.title)


@bp.get("/<int:case_id>")
@requires(Permission.handle_feedback)
def case(case_id: int):
    """A case: content, personal data (the read is audited), timeline, due date and tasks."""
    return _case_page(_case_or_404(case_id))


def _case_page(
    case: FeedbackCase,
    error: str | None = None,
    refused: str | None = None,
    status: int = 400,
    typed: dict | None = None,
):
    """The case's page; after a refused form (a task's name, ``draft``, ``extension`` or
    ``reclassify``), with the message and what was typed in that form (or ``typed``),
    answered with ``status``.

    :param refused: the form to show open with what was typed, even without an error
        (a template inserted into the answer).
    """
    audit.record(current_user, "read_personal_data", case)
    db.session.commit()
    offered = tasks.offered(case, current_user)
    offered_names = {t.name for t in offered}
    can_coordinate = has_permission(current_user, Permission.coordinate_feedback)
    if refused == "draft":  # a draft's fields are those of the answer (or, once approved,
        # of the publication, where coordinators still write the public summary)
        refused = "publish" if "publish" in offered_names else "answer"
    shown = {
        **dict.fromkeys(offered_names, True),
        "extension": case.state in EXTENSION_STATES and not case.extension_reason,
        "reclassify": can_coordinate and bool(reclassify_targets(case)),
    }
    if typed is None:
        typed = dict(request.form.items()) if refused else {}
    # what was typed in a form the case's new state no longer offers: shown to copy
    unsaved = [
        (name, text)
        for name in TYPED_FIELDS
        if error and refused and not shown.get(refused) and (text := form_text(name))
    ]
    # the form sent (refused, or a template inserted) open; else the usual next step
    if refused:
        open_task = refused if refused in offered_names else None
    else:
        open_task = offered[0].name if offered else None
    handlers = _handlers_for(case)
    answering = "answer" in offered_names
    # a case entered from paper was received on a day, at no known time
    received_local = case.received_at.astimezone(local_tz())
    received_day_only = case.channel in STAFF_CHANNELS and received_local.time() == time(0)
    page = render_template(
        "feedback/staff/case.html",
        case=case,
        labels=STATE_LABELS,
        tasks=offered,
        open_task=open_task,
        reason_labels=tasks.REASON_LABELS,
        may_continue={t.name: tasks.may_continue(t, case, current_user) for t in offered},
        no_handlers=case.state in (CaseState.accepted, CaseState.assigned) and not handlers,
        deadline=explain_due(case),
        deadline_title=deadline_title(case),
        cal=work_calendar(),
        agencies=tree_sorted(db.session.scalars(select(Agency)).all()),
        handlers=handlers,
        approvers=tasks.approvers(case)
        if case.state in (CaseState.in_progress, CaseState.assigned, CaseState.answered)
        or answering
        else [],
        templates=_templates_for(case) if answering else [],
        today=local_today(),
        can_coordinate=can_coordinate,
        reclassify_to=reclassify_targets(case) if can_coordinate else (),
        kind_labels=KIND_LABELS,
        current_kind=current_kind(case),
        channel_labels=CHANNEL_LABELS,
        typed=typed,
        refused=refused,
        # what the public will see: a question to start from, the answer as published
        suggested_summary="" if case.public_summary else redact(case.content),
        answer_preview=redact(case.answer) if contains_personal_data(case.answer) else None,
        answer_max=ANSWER_MAX,
        summary_max=SUMMARY_MAX,
        unsaved=unsaved,
        tracking_guard=tracking.guard_of(case),
        received_day_only=received_day_only,
        received_on=received_local.date(),
        now=now_utc(),
        error=error,
        max_extension=current_app.config["FEEDBACK_EXTENSION_MAX_DAYS"],
    )
    return (page, status) if error else page


#: What a case is, as a coordinator reclassifies it.
KIND_LABELS = {
    "report": _l("Report (phản ánh)"),
    "proposal": _l("Proposal (kiến nghị)"),
    COMPLAINT: _l("Complaint or denunciation (khiếu nại, tố cáo)"),
}
#: States in which the extension form is offered.
EXTENSION_STATES = (
    CaseState.accepted,
    CaseState.assigned,
    CaseState.in_progress,
    CaseState.transferred,
)
#: The text fields of the case page's forms (kept, and shown to copy, when a change is
#: refused and its form is gone).
TYPED_FIELDS = ("reason", "note", "answer", "public_summary")
#: PostgreSQL's lock_not_available: the case's row stayed locked by another request
#: longer than ``lock_timeout`` (someone is saving this case right now).
ROW_LOCKED = "55P03"


class CaseChanged(Exception):
    """The case changed after the page the request was sent from was shown."""


@bp.get("/<int:case_id>/attachments/<int:attachment_id>")
@requires(Permission.handle_feedback)
def attachment(case_id: int, attachment_id: int):
    """A file the citizen attached, for staff who see the case (the read is audited)."""
    case = _case_or_404(case_id)
    found = db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    )
    if found is None:
        abort(404)
    if not attachments.path_of(found).is_file():
        abort(404, description=_("This file is no longer stored."))
    audit.record(current_user, "read_attachment", case, f"attachment {found.id}")
    db.session.commit()
    return attachments.send(found)


def _check_version(case: FeedbackCase) -> None:
    """Refuse a change made on a stale page: someone else changed the case meanwhile.

    :raises CaseChanged: the page's version is not the case's.
    """
    sent = request.form.get("version", "")
    if not re.fullmatch(r"[0-9]{1,9}", sent) or int(sent) != case.version:
        raise CaseChanged


def _conflict(error: Exception) -> bool:
    """True if ``error`` means another request changed (or is changing) the same case."""
    if isinstance(error, CaseChanged) or is_concurrent_change(error):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == ROW_LOCKED


def _shows_conflicts(refused: str):
    """For a view that changes a case: when someone else changed it between the page
    and this request (a stale page, or two requests at the same moment: the versioned
    UPDATE matches no row, or PostgreSQL reports a serialization failure, a deadlock or
    a row lock held too long), nothing is saved and the answer is a 409 with the case
    as it is now and what the user typed in the ``refused`` form (for a task, the
    task's name), never a 500."""

    def decorate(view):
        @wraps(view)
        def wrapper(case_id: int, **kwargs):
            try:
                return view(case_id, **kwargs)
            except (CaseChanged, StaleDataError, DBAPIError) as error:
                if not _conflict(error):
                    raise
                db.session.rollback()
                log.info("case %s changed meanwhile: %s", case_id, type(error).__name__)
            case = db.session.scalar(visible_cases(current_user).where(FeedbackCase.id == case_id))
            if case is None:  # transferred out of the user's sight by that change
                abort(
                    409,
                    description=_(
                        "Someone else changed this case while you were working on it, and it "
                        "is no longer among the cases you handle. Nothing was saved."
                    ),
                )
            form = kwargs.get("name", refused)
            return _case_page(case, str(CHANGED_MEANWHILE), refused=form, status=409)

        return wrapper

    return decorate


CHANGED_MEANWHILE = _l(
    "Someone else changed this case while you were working on it. Nothing was saved: "
    "here is the case as it is now, with what you typed. Check their change, then send "
    "again if it is still needed."
)


def _after_change(
    case: FeedbackCase, case_id: int, message: str, before: notify.Before | None = None
):
    """Tell the citizen what they must know of the case's new state (and, with
    ``before``, a new agency's staff or a new assignee), commit, and go back to the case
    (or to the queue when the change took it out of the user's sight)."""
    if before is not None:
        notify.after_transition(case, before, current_user)  # a transfer, a new assignee
    if case.state in (CaseState.needs_info, CaseState.rejected, CaseState.redirected_complaint):
        notify.citizen_state_changed(case, case.public_reason or "")
    elif case.state == CaseState.published:
        notify.citizen_state_changed(case, _("The answer to your case has been published."))
    db.session.commit()
    flash(message, "success")
    if not db.session.scalar(visible_cases(current_user).where(FeedbackCase.id == case_id)):
        return redirect(url_for(".queue"), code=303)  # transferred out of the user's sight
    return redirect(url_for(".case", case_id=case_id), code=303)


@bp.post("/<int:case_id>/transition")
@requires(Permission.handle_feedback)
@_shows_conflicts("step")
def do_transition(case_id: int):
    """Move the case to one other state (for scripts; the case page offers tasks)."""
    case = _case_or_404(case_id)
    _check_version(case)
    to = request.form.get("to_state", "")
    if to not in CaseState.__members__:
        return _case_page(case, _("Choose the new state."), refused="step")
    agency = assignee = None
    if (agency_id := parse_id(request.form.get("agency_id"))) is not None:
        agency = db.session.get(Agency, agency_id)
    if (assignee_id := parse_id(request.form.get("assignee_id"))) is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or assignee not in _handlers_for(case):  # the handlers offered
            abort(400, description=_("Choose a handler of the case's agency."))
    before = notify.Before.of(case)
    try:
        transition(
            case,
            CaseState(to),
            current_user,
            reason=form_text("reason") or None,
            note=form_text("note") or None,
            agency=agency,
            assignee=assignee,
        )
    except TransitionError as exc:
        db.session.rollback()
        return _case_page(case, str(exc), refused="step")
    audit.record(current_user, "transition", case, f"→ {to}")
    return _after_change(
        case,
        case_id,
        _("Saved: the case is now “%(state)s”.", state=STATE_LABELS[case.state]),
        before,
    )


def _lines(text: str) -> str:
    """``text`` with the line breaks browsers send (CR LF) stored as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _answer_problem(case: FeedbackCase, answer_open: bool):
    """Apply the answer form's answer and public summary to ``case`` (nothing flushed),
    or say why not.

    :return: None when applied; else ``(message, typed)``: what to show and what the
        form should hold again (the summary masked when it held personal data).
    """
    answer = _lines(form_text("answer")) if answer_open else (case.answer or "")
    summary_sent = "public_summary" in request.form
    summary = _lines(form_text("public_summary")) if summary_sent else (case.public_summary or "")
    confirmed = (
        request.form.get("confirm_summary") == "y"
        if summary_sent
        else bool(case.public_summary_confirmed_at)
    )
    if len(answer) > ANSWER_MAX or len(summary) > SUMMARY_MAX:  # kept in the form, not lost
        return (
            _(
                "The answer can have at most %(a)d characters and the published question "
                "%(s)d; this one has %(n_a)d and %(n_s)d.",
                a=ANSWER_MAX,
                s=SUMMARY_MAX,
                n_a=len(answer),
                n_s=len(summary),
            ),
            None,
        )
    if summary_sent and confirmed and not summary:
        return _("Write the question as published before confirming it."), None
    if summary_sent and confirmed and contains_personal_data(summary):
        return (
            _(
                "The question as published still contains personal data (a phone number, an "
                "e-mail address, an ID number or a name). It is masked below: read it and "
                "confirm again."
            ),
            {**request.form, "public_summary": redact(summary), "confirm_summary": ""},
        )
    if answer_open and answer != (case.answer or ""):
        case.answer = answer or None
        audit.record(current_user, "answer", case)
    if summary_sent:
        reconfirmed = summary != (case.public_summary or "") or not case.public_summary_confirmed_at
        case.public_summary = summary or None
        if not (confirmed and summary):
            case.public_summary_confirmed_at = None  # an unconfirmed question is not published
        elif reconfirmed:
            case.public_summary_confirmed_at = now_utc()
            audit.record(current_user, "confirm_summary", case)  # who confirmed it, and when
    return None


#: States in which the answer can be saved as a draft.
ANSWER_STATES = (CaseState.accepted, CaseState.assigned, CaseState.in_progress, CaseState.answered)


@bp.post("/<int:case_id>/answer")
@requires(Permission.handle_feedback)
@_shows_conflicts("draft")
def save_answer(case_id: int):
    """Save the answer and the public summary as a draft, without sending them."""
    case = _case_or_404(case_id)
    _check_version(case)
    answer_open = case.state in ANSWER_STATES
    # after approval the answer is fixed; coordinators may still write the question
    summary_open = answer_open or (
        case.state == CaseState.approved
        and has_permission(current_user, Permission.coordinate_feedback)
    )
    if not summary_open:
        abort(409, description=_("The answer can only be edited while the case is being handled."))
    problem = _answer_problem(case, answer_open)
    if problem is not None:
        db.session.rollback()
        return _case_page(case, problem[0], refused="draft", typed=problem[1])
    audit.record(current_user, "answer", case)
    db.session.commit()
    flash(_("Draft saved: nothing was sent yet."), "success")
    return redirect(url_for(".case", case_id=case_id), code=303)


def _task_input(task: tasks.Task, case: FeedbackCase) -> tasks.TaskInput:
    """The task's own fields from the form (any other field sent is ignored)."""
    data = tasks.TaskInput(note=form_text("note") or None)
    if task.name in tasks.REASON_LABELS:
        data.reason = form_text("reason") or None
    if task.name in ("accept", "transfer") and has_permission(
        current_user, Permission.coordinate_feedback
    ):
        if (agency_id := parse_id(request.form.get("agency_id"))) is not None:
            data.agency = db.session.get(Agency, agency_id)
            if data.agency is None:
                raise TransitionError(_l("Choose the agency."))
    if task.name == "assign":
        if (assignee_id := parse_id(request.form.get("assignee_id"))) is not None:
            data.assignee = db.session.get(User, assignee_id)
            if data.assignee is None or data.assignee not in _handlers_for(case):
                raise TransitionError(_l("Choose a handler of the case's agency."))
    data.go_on = request.form.get("go_on") == "y"
    return data


@bp.post(f"/<int:case_id>/task/<any({','.join(tasks.BY_NAME)}):name>")
@requires(Permission.handle_feedback)
@_shows_conflicts("task")
def do_task(case_id: int, name: str):
    """Take one of the case's tasks (accept, transfer, answer…) with its own fields."""
    case = _case_or_404(case_id)
    task = tasks.BY_NAME[name]
    _check_version(case)
    before = notify.Before.of(case)
    try:
        if name in ("answer", "approve", "publish"):
            problem = _answer_problem(case, answer_open=name == "answer")
            if problem is not None:
                db.session.rollback()
                return _case_page(case, problem[0], refused=name, typed=problem[1])
        state = tasks.run(task, case, current_user, _task_input(task, case))
    except TransitionError as exc:
        db.session.rollback()
        return _case_page(case, str(exc), refused=name)
    audit.record(current_user, "transition", case, f"{name} → {state.value}")
    return _after_change(
        case, case_id, _("Done: the case is now “%(state)s”.", state=STATE_LABELS[state]), before
    )


@bp.post("/<int:case_id>/insert-template")
@requires(Permission.handle_feedback)
def insert_template(case_id: int):
    """ "Insert a template" without JavaScript: the page again, the answer form holding what
    was typed with the template's text added at its end; nothing is saved."""
    case = _case_or_404(case_id)
    typed = dict(request.form.items())
    if tasks.path_of(tasks.BY_NAME["answer"], case, current_user) is None:
        # the case moved on meanwhile: no answer form to put it in; what was typed is shown
        return _case_page(case, str(CHANGED_MEANWHILE), refused="answer", status=409)
    template_id = parse_id(request.form.get("template_id"))
    template = next((t for t in _templates_for(case) if t.id == template_id), None)
    if template is None:
        return _case_page(case, _("Choose a template to insert."), refused="answer", typed=typed)
    before = _lines(typed.get("answer") or "").rstrip()
    typed["answer"] = f"{before}\n\n{template.body}" if before else template.body
    return _case_page(case, refused="answer", typed=typed)


@bp.post("/<int:case_id>/reclassify")
@requires(Permission.coordinate_feedback)
@_shows_conflicts("reclassify")
def do_reclassify(case_id: int):
    """A coordinator decides what the case is: feedback, or a complaint or denunciation."""
    case = _case_or_404(case_id)
    _check_version(case)
    try:
        reclassify(case, request.form.get("to_kind", ""), current_user, form_text("reason"))
    except TransitionError as exc:
        db.session.rollback()
        return _case_page(case, str(exc), refused="reclassify")
    if case.state == CaseState.screening and case.events[-1].from_state == (
        CaseState.redirected_complaint
    ):
        notify.citizen_state_changed(
            case,
            _(
                "Your submission is handled as a report or proposal after all: it is being "
                "screened again."
            ),
        )
    return _after_change(
        case,
        case_id,
        _("Reclassified: the case is now “%(kind)s”.", kind=KIND_LABELS[current_kind(case)]),
    )


@bp.post("/<int:case_id>/extend")
@requires(Permission.handle_feedback)
@_shows_conflicts("extension")
def do_extend(case_id: int):
    """The single extension of the answer deadline, with its reason."""
    case = _case_or_404(case_id)
    _check_version(case)
    days = request.form.get("days", "")
    try:
        extend(
            case,
            current_user,
            int(days) if re.fullmatch(r"[0-9]{1,3}", days) else 0,
            form_text("reason"),
        )
    except TransitionError as exc:
        db.session.rollback()
        return _case_page(case, str(exc), refused="extension")
    audit.record(current_user, "extend", case, days)
    notify.citizen_state_changed(
        case,
        _(
            "The deadline was extended to %(date)s: %(reason)s",
            date=local_date(case.due_on) if case.due_on else "-",
            reason=case.extension_reason,
        ),
    )
    db.session.commit()
    flash(_("Deadline extended."), "success")
    return redirect(url_for(".case", case_id=case_id), code=303)


#: How far back a case entered by staff may have been received: a letter older than this
#: is an error of typing, not a letter that took three months to be entered.
RECEIVED_MAX_DAYS_BACK = 90


def _received_on(text: str) -> tuple[date | None, str | None]:
    """The intake form's day of receipt: ``(day, None)``, or ``(None, why not)``.
    Empty is today; a day in the future or more than ``RECEIVED_MAX_DAYS_BACK`` days
    ago is refused."""
    today = local_today()
    text = text.strip()
    if not text:
        return today, None
    try:
        day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        return None, _("Enter the day as the date picker shows it, e.g. 2026-03-31.")
    if day > today:
        return None, _("The day received cannot be in the future.")
    if day < today - timedelta(days=RECEIVED_MAX_DAYS_BACK):
        return None, _(
            "The day received can be at most %(n)d days ago: check the date.",
            n=RECEIVED_MAX_DAYS_BACK,
        )
    return day, None


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.handle_feedback)
def new():
    """Staff enter a case received on paper, by phone or by e-mail."""
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        channel = form.get("channel", "")
        kind = form.get("kind", "")
        if channel not in {c.value for c in STAFF_CHANNELS}:
            errors["channel"] = _("Choose how the case was received.")
        if kind not in ("report", "proposal", "complaint"):
            errors["kind"] = _("Choose what you want to send.")
        received_on, problem = _received_on(form.get("received_on", ""))
        if problem:
            errors["received_on"] = problem
        procedure = None
        if procedure_code := form_text("procedure_code")[:40]:
            procedure = db.session.scalar(select(Procedure).where(Procedure.code == procedure_code))
            if procedure is None:
                errors["procedure_code"] = _("Unknown procedure code.")
        if not errors:
            sub = services.Submission(
                kind=CaseKind.proposal if kind == "proposal" else CaseKind.report,
                content=form.get("content", ""),
                submitter_name=form.get("submitter_name"),
                contact_phone=form.get("contact_phone"),
                contact_email=form.get("contact_email"),
                address=form.get("address"),
                procedure=procedure,
                consent=form.get("consent") == "y",
                is_complaint=kind == "complaint",
                received_on=received_on,
            )
            try:
                case, secret = services.submit(sub, CaseChannel(channel), created_by=current_user)
            except services.IntakeError as exc:
                errors = exc.errors
            else:
                audit.record(current_user, "create", case, channel)
                notify.citizen_received(case, secret)
                db.session.commit()
                flash(
                    _(
                        "Case %(code)s created. Give the citizen the tracking number %(secret)s.",
                        code=case.code,
                        secret=tracking.format_secret(secret),
                    ),
                    "success",
                )
                return redirect(url_for(".case", case_id=case.id), code=303)
    return render_template(
        "feedback/staff/new.html",
        errors=errors,
        form=form,
        today=local_today(),
        earliest=local_today() - timedelta(days=RECEIVED_MAX_DAYS_BACK),
        channels=STAFF_CHANNELS,
        channel_labels=CHANNEL_LABELS,
    ), 400 if errors else 200
