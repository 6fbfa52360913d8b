"""Coordinator and admin pages: routing rules, answer templates, calendar overrides, audit log."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..agencies.models import Agency, Procedure, ProcedureField
from ..agencies.services import subtree_filter
from ..auth.models import User
from ..auth.permissions import Permission, has_permission, requires
from ..core.collation import tree_sorted, vi_sorted
from ..core.i18n import current_language
from ..core.params import form_text, page_number, parse_id
from ..core.time import local_today, now_utc
from ..extensions import db
from .audit import record
from .models import AnswerTemplate, AuditLog, CalendarOverride, FeedbackCase, RoutingRule
from .workdays import unconfirmed_years
from .workflow import Recount, recompute_open_deadlines, work_calendar

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

bp = Blueprint("feedback_admin", __name__, url_prefix="/staff/feedback/admin")


def _int(name: str) -> int | None:
    value = request.form.get(name, "")
    return parse_id(value)


def _province_wide() -> None:
    """Routing and the calendar act on every agency's cases: a coordinator or
    administrator of one agency may not change them (403)."""
    if not current_user.sees_whole_province:
        abort(403)


@bp.route("/routing", methods=["GET", "POST"])
@requires(Permission.coordinate_feedback)
def routing():
    """Rules sending new cases to agencies: by procedure, else by field."""
    _province_wide()
    if request.method == "POST":
        if "delete" in request.form:
            rule_id = parse_id(request.form["delete"]) or abort(404)
            rule = db.session.get(RoutingRule, rule_id) or abort(404)
            db.session.delete(rule)
            db.session.commit()
            flash(_("Rule deleted."), "success")
            return redirect(url_for(".routing"), code=303)
        agency = db.session.get(Agency, _int("agency_id") or 0)
        code = form_text("procedure_code")
        procedure = (
            db.session.scalar(select(Procedure).where(Procedure.code == code)) if code else None
        )
        field = db.session.get(ProcedureField, _int("field_id") or 0)
        problem = None
        if agency is None:
            problem = _("Choose the agency.")
        elif code and procedure is None:
            problem = _("Unknown procedure code.")
        elif (procedure is None) == (field is None):
            problem = _("Give either a procedure code or a field, not both.")
        elif procedure is not None and db.session.scalar(
            select(RoutingRule.id).where(RoutingRule.procedure_id == procedure.id)
        ):
            problem = _("This procedure already has a rule.")
        elif field is not None and db.session.scalar(
            select(RoutingRule.id).where(RoutingRule.field_id == field.id)
        ):
            problem = _("This field already has a rule.")
        if problem:
            flash(problem, "error")
        else:
            db.session.add(RoutingRule(agency=agency, procedure=procedure, field=field))
            db.session.commit()
            flash(_("Rule added."), "success")
            return redirect(url_for(".routing"), code=303)
    rules = db.session.scalars(
        select(RoutingRule)
        .options(
            joinedload(RoutingRule.agency),
            joinedload(RoutingRule.procedure),
            joinedload(RoutingRule.field),
        )
        .order_by(RoutingRule.id)
    ).all()
    return render_template(
        "feedback/admin/routing.html",
        rules=rules,
        agencies=tree_sorted(db.session.scalars(select(Agency)).all()),
        fields=vi_sorted(db.session.scalars(select(ProcedureField)).all(), key=lambda f: f.name),
    ), 400 if request.method == "POST" else 200


@bp.route("/templates", methods=["GET", "POST"])
@requires(Permission.handle_feedback)
def templates():
    """Canned answers: an agency's own (handlers) or for everyone (coordinators)."""
    # only province-wide coordinators manage every agency's templates; a coordinator
    # or administrator of one agency works on that agency's, as its handlers do
    coordinator = (
        has_permission(current_user, Permission.coordinate_feedback)
        and current_user.sees_whole_province
    )
    if request.method == "POST":
        if "delete" in request.form:
            template_id = parse_id(request.form["delete"]) or abort(404)
            template = db.session.get(AnswerTemplate, template_id) or abort(404)
            if not coordinator and template.agency_id != current_user.agency_id:
                abort(404)
            db.session.delete(template)
            db.session.commit()
            return redirect(url_for(".templates"), code=303)
        title = form_text("title")[:255]
        body = form_text("body")[:10000]
        agency_id = _int("agency_id") if coordinator else current_user.agency_id
        # (empty is "all agencies"; anything else must be an agency that exists)
        chosen = coordinator and (request.form.get("agency_id") or "").strip()
        if chosen and (agency_id is None or db.session.get(Agency, agency_id) is None):
            flash(_("Choose the agency."), "error")
        elif not title or not body:
            flash(_("Give the template a title and a text."), "error")
        else:
            db.session.add(AnswerTemplate(title=title, body=body, agency_id=agency_id))
            db.session.commit()
            flash(_("Template saved."), "success")
            return redirect(url_for(".templates"), code=303)
    stmt = (
        select(AnswerTemplate)
        .options(joinedload(AnswerTemplate.agency))
        .order_by(AnswerTemplate.title)
    )
    if not coordinator:
        stmt = stmt.where(
            (AnswerTemplate.agency_id == current_user.agency_id)
            | AnswerTemplate.agency_id.is_(None)
        )
    return render_template(
        "feedback/admin/templates.html",
        items=vi_sorted(db.session.scalars(stmt).all(), key=lambda t: t.title),
        coordinator=coordinator,
        agencies=tree_sorted(db.session.scalars(select(Agency)).all()),
    ), 400 if request.method == "POST" else 200


@bp.app_template_global()
def calendar_gaps() -> list[int]:
    """The current and next year without a confirmed announcement, for those who may change
    the calendar (admins and province-wide coordinators); nothing for anyone else."""
    user = current_user
    if not (
        user.is_authenticated
        and has_permission(user, Permission.coordinate_feedback)
        and user.sees_whole_province
    ):
        return []
    return unconfirmed_years(local_today(), work_calendar().official)


def _calendar_year(today: date) -> int:
    """``?year=`` (2000–2100), by default the current year; anything else is a 400."""
    text = request.args.get("year")
    if text is None:
        return today.year
    year = parse_id(text)
    if year is None or not 2000 <= year <= 2100:
        abort(400, description=_("The year must be between 2000 and 2100."))
    return year


def _recounted(result: Recount) -> str:
    return (
        ngettext(
            "%(num)d running case was recounted (pause totals and due dates);",
            "%(num)d running cases were recounted (pause totals and due dates);",
            result.cases,
        )
        + " "
        + ngettext(
            "%(num)d changed.",
            "%(num)d changed.",
            result.changed,
        )
    )


@bp.route("/calendar", methods=["GET", "POST"])
@requires(Permission.coordinate_feedback)
def calendar():
    """A year's days off and worked weekend days, each with what decided it (the holidays
    package, a confirmed announcement, an admin's override); adding and removing overrides
    recounts every running case."""
    _province_wide()
    today = local_today()
    if request.method == "POST":
        if "delete" in request.form:
            row_id = parse_id(request.form["delete"]) or abort(404)
            row = db.session.get(CalendarOverride, row_id) or abort(404)
            day = row.day
            record(current_user, "calendar_day_removed", detail=f"{day.isoformat()}")
            db.session.delete(row)
            db.session.flush()
            result = recompute_open_deadlines()
            db.session.commit()
            flash(_("Override removed.") + " " + _recounted(result), "success")
            return redirect(url_for(".calendar", year=day.year), code=303)
        text = (request.form.get("day") or "").strip()
        try:  # (fromisoformat alone also takes 20260331 and 2026-W14-2)
            day = date.fromisoformat(text) if ISO_DAY.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            flash(_("The date must look like 2026-03-31."), "error")
        elif not 2000 <= day.year <= 2100:
            flash(_("The date must be in the years 2000–2100."), "error")
        else:
            working = request.form.get("is_working_day") == "1"
            existing = db.session.scalar(
                select(CalendarOverride).where(CalendarOverride.day == day)
            )
            row = existing or CalendarOverride(day=day)
            row.is_working_day = working
            row.note = form_text("note")[:255]
            row.created_by_id = current_user.id
            row.created_at = now_utc()
            db.session.add(row)
            kind = "working day" if working else "day off"
            record(current_user, "calendar_day_set", detail=f"{day.isoformat()} {kind}: {row.note}")
            db.session.flush()
            result = recompute_open_deadlines()
            db.session.commit()
            flash(_("Saved.") + " " + _recounted(result), "success")
            return redirect(url_for(".calendar", year=day.year), code=303)
    year = _calendar_year(today)
    cal = work_calendar()
    rows = db.session.scalars(
        select(CalendarOverride)
        .options(joinedload(CalendarOverride.created_by))
        .order_by(CalendarOverride.day.desc())
    ).all()
    official = cal.official
    return render_template(
        "feedback/admin/calendar.html",
        rows=rows,
        year=year,
        years=sorted(set(official.years) | {today.year, today.year + 1, year}),
        days=cal.year_exceptions(year, current_language()),
        differences=cal.package_differences(year),
        overrides={r.day: r for r in rows},
        official=official,
        official_year=official.years.get(year),
    ), (400 if request.method == "POST" else 200)


@bp.get("/audit")
@requires(Permission.view_audit)
def audit_log():
    """Who read personal data or changed a case, newest first (admins)."""
    page = page_number(request.args.get("page"))
    stmt = (
        select(AuditLog)
        .options(
            joinedload(AuditLog.user), joinedload(AuditLog.case), joinedload(AuditLog.target_user)
        )
        .order_by(AuditLog.id.desc())
    )
    if not current_user.sees_whole_province:
        # an administrator of one agency sees what was done to its cases, by its staff
        # and to its staff's accounts
        scope = (
            subtree_filter(current_user.agency)
            if current_user.agency is not None
            else Agency.id.is_(None)
        )
        staff = select(User.id).join(Agency, User.agency_id == Agency.id).where(scope)
        stmt = stmt.where(
            AuditLog.case_id.in_(
                select(FeedbackCase.id)
                .join(Agency, FeedbackCase.agency_id == Agency.id)
                .where(scope)
            )
            | AuditLog.user_id.in_(staff)
            | AuditLog.target_user_id.in_(staff)
        )
    if (case_id := parse_id(request.args.get("case"))) is not None:
        stmt = stmt.where(AuditLog.case_id == case_id)
    else:  # an export's line per case shows in that case's trail, not thousands here
        stmt = stmt.where(AuditLog.action != "export_case")
    rows = db.session.scalars(stmt.limit(101).offset((page - 1) * 100)).all()
    return render_template(
        "feedback/admin/audit.html", rows=rows[:100], has_more=len(rows) > 100, page=page
    )
