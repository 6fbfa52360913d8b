"""Staff pages for feedback: the queue, a case's page and its actions, staff intake, exports."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..agencies.models import Agency, Procedure
from ..agencies.services import subtree_filter, visible_agencies
from ..auth.models import Role, User
from ..auth.permissions import Permission, has_permission, requires
from ..core import spreadsheet
from ..core.i18n import local_date
from ..core.params import form_text, page_number, parse_id
from ..core.time import local_today
from ..extensions import db
from . import audit, notify, services
from .models import AnswerTemplate, CaseChannel, CaseKind, CaseState, FeedbackCase
from .queries import SCOPES, CaseFilters, apply_filters, state_counts, visible_cases
from .workflow import (
    STATE_LABELS,
    STEP_ORDER,
    TRANSITIONS,
    TransitionError,
    deadline_title,
    explain_due,
    extend,
    may_transition,
    transition,
    work_calendar,
)

bp = Blueprint("cases", __name__, url_prefix="/staff/feedback")

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
    agencies = db.session.scalars(visible_agencies(current_user)).all()
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
    header = [
        "code",
        "kind",
        "state",
        "channel",
        "agency",
        "procedure",
        "received_at",
        "due_on",
        "submitter_name",
        "contact_phone",
        "contact_email",
        "content",
    ]
    case_ids, rows = [], []
    for r in db.session.execute(stmt):
        case_ids.append(r[0])
        rows.append(
            [
                r[1],
                r[2].value,
                r[3].value,
                r[4].value,
                r[5] or "",
                r[6] or "",
                r[7].isoformat(),
                r[8].isoformat() if r[8] else "",
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
    if case.agency is None:
        return []
    return db.session.scalars(
        select(User)
        .join(Agency, User.agency_id == Agency.id)
        .where(subtree_filter(case.agency), User.role == Role.handler, User.active.is_(True))
        .order_by(User.full_name)
    ).all()


@bp.get("/<int:case_id>")
@requires(Permission.handle_feedback)
def case(case_id: int):
    """A case: content, personal data (the read is audited), timeline, due date and actions."""
    return _case_page(_case_or_404(case_id))


def _case_page(case: FeedbackCase, error: str | None = None, refused: str = "step"):
    """The case's page; after a refused ``step`` or ``extension``, with the message and
    what was typed in that form."""
    audit.record(current_user, "read_personal_data", case)
    db.session.commit()
    handlers = _handlers_for(case)
    allowed = [
        s
        for s in STEP_ORDER
        if s in TRANSITIONS[case.state]
        and may_transition(current_user, case, s)
        and (s != CaseState.assigned or handlers)  # nobody to assign it to
    ]
    templates = db.session.scalars(
        select(AnswerTemplate)
        .where((AnswerTemplate.agency_id == case.agency_id) | AnswerTemplate.agency_id.is_(None))
        .order_by(AnswerTemplate.title)
    ).all()
    page = render_template(
        "feedback/staff/case.html",
        case=case,
        labels=STATE_LABELS,
        allowed=allowed,
        no_handlers=CaseState.assigned in TRANSITIONS[case.state] and not handlers,
        deadline=explain_due(case),
        deadline_title=deadline_title(case),
        cal=work_calendar(),
        agencies=db.session.scalars(select(Agency).order_by(Agency.path)).all(),
        handlers=handlers,
        templates=templates,
        today=local_today(),
        can_coordinate=has_permission(current_user, Permission.coordinate_feedback),
        channel_labels=CHANNEL_LABELS,
        step=request.form if error and refused == "step" else {},
        extension=request.form if error and refused == "extension" else {},
        typed=request.form if error and refused == "answer" else {},
        answer_max=ANSWER_MAX,
        summary_max=SUMMARY_MAX,
        refused=refused if error else None,
        error=error,
    )
    return (page, 400) if error else page


def _check_version(case: FeedbackCase) -> None:
    """Refuse a change made on a stale page: someone else changed the case meanwhile."""
    sent = request.form.get("version", "")
    if not re.fullmatch(r"[0-9]{1,9}", sent) or int(sent) != case.version:
        abort(
            409,
            description=_(
                "Someone else changed this case while you were working on it. "
                "Nothing was saved: open the case again to see their change."
            ),
        )


def _commit_or_conflict() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        abort(
            409,
            description=_(
                "Someone else changed this case while you were working on it. "
                "Nothing was saved: open the case again to see their change."
            ),
        )


@bp.post("/<int:case_id>/transition")
@requires(Permission.handle_feedback)
def do_transition(case_id: int):
    """Move the case to another state (the workflow decides whether that is allowed)."""
    case = _case_or_404(case_id)
    _check_version(case)
    to = request.form.get("to_state", "")
    if to not in CaseState.__members__:
        return _case_page(case, _("Choose the new state."))
    agency = assignee = None
    if (agency_id := parse_id(request.form.get("agency_id"))) is not None:
        agency = db.session.get(Agency, agency_id)
    if (assignee_id := parse_id(request.form.get("assignee_id"))) is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or assignee not in _handlers_for(case):  # the handlers offered
            abort(400, description=_("Choose a handler of the case's agency."))
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
        return _case_page(case, str(exc))
    audit.record(current_user, "transition", case, f"→ {to}")
    if case.state in (CaseState.needs_info, CaseState.rejected, CaseState.redirected_complaint):
        notify.citizen_state_changed(case, case.public_reason or "")
    elif case.state == CaseState.published:
        notify.citizen_state_changed(case, _("The answer to your case has been published."))
    _commit_or_conflict()
    flash(_("Saved: the case is now “%(state)s”.", state=STATE_LABELS[case.state]), "success")
    if not db.session.scalar(visible_cases(current_user).where(FeedbackCase.id == case_id)):
        return redirect(url_for(".queue"), code=303)  # transferred out of the user's sight
    return redirect(url_for(".case", case_id=case_id), code=303)


@bp.post("/<int:case_id>/answer")
@requires(Permission.handle_feedback)
def save_answer(case_id: int):
    """Save the draft answer and the public summary (the question without personal data)."""
    case = _case_or_404(case_id)
    _check_version(case)
    if case.state not in (
        CaseState.assigned,
        CaseState.in_progress,
        CaseState.answered,
        CaseState.accepted,
    ):
        abort(409, description=_("The answer can only be edited while the case is being handled."))
    answer = form_text("answer")
    summary = form_text("public_summary")
    if len(answer) > ANSWER_MAX or len(summary) > SUMMARY_MAX:  # kept in the form, not lost
        db.session.rollback()
        return _case_page(
            case,
            _(
                "The answer can have at most %(a)d characters and the published question "
                "%(s)d; this one has %(n_a)d and %(n_s)d.",
                a=ANSWER_MAX,
                s=SUMMARY_MAX,
                n_a=len(answer),
                n_s=len(summary),
            ),
            refused="answer",
        )
    case.answer = answer or None
    case.public_summary = summary or None
    audit.record(current_user, "answer", case)
    _commit_or_conflict()
    flash(_("Answer saved."), "success")
    return redirect(url_for(".case", case_id=case_id), code=303)


@bp.post("/<int:case_id>/extend")
@requires(Permission.handle_feedback)
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
    _commit_or_conflict()
    flash(_("Deadline extended."), "success")
    return redirect(url_for(".case", case_id=case_id), code=303)


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
                        secret=secret,
                    ),
                    "success",
                )
                return redirect(url_for(".case", case_id=case.id), code=303)
    return render_template(
        "feedback/staff/new.html",
        errors=errors,
        form=form,
        channels=STAFF_CHANNELS,
        channel_labels=CHANNEL_LABELS,
    ), 400 if errors else 200
