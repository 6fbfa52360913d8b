"""Satisfaction reports for staff: province overview, agencies, charts, snapshots, downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..agencies.models import Agency
from ..auth.permissions import Permission, check_agency, requires
from ..core.params import parse_id
from ..core.time import now_utc
from ..extensions import db
from . import charts, services
from . import comments as report_comments
from .models import ReportSnapshot
from .periods import KINDS, Period, PeriodError

bp = Blueprint("reports", __name__, url_prefix="/staff/reports")

VERDICTS = {
    "above_target": _l("Above target"),
    "below_target": _l("Below target"),
    "inconclusive": _l("Inconclusive"),
    "insufficient_data": _l("Too few responses"),
}
KIND_LABELS = {
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "half": _l("Half-year"),
    "year": _l("Year"),
}
SORTS = ("index", "lower", "name", "n")
QUALITY_LABELS = {
    "burst": _l("Bursts from one counter"),
    "too_fast": _l("Completed too fast"),
    "straight_lining": _l("Same answer to every item"),
    "outside_hours": _l("Outside opening hours"),
    "counter_differs": _l("Counter differs from its agency"),
}


@bp.app_context_processor
def _helpers():
    return {
        "verdict_label": lambda v: VERDICTS.get(v, v or "—"),
        "kind_label_period": lambda k: KIND_LABELS.get(k, k),
        "quality_label": lambda k: QUALITY_LABELS.get(k, k),
    }


def _period() -> Period:
    label = request.args.get("period") or request.form.get("period")
    if not label:
        kind = request.args.get("kind", "month")
        return Period.containing(kind if kind in KINDS else "month", now_utc())
    try:
        return Period.parse(label)
    except PeriodError:
        abort(
            400,
            description=_(
                "Not a reporting period: %(label)s. Use 2022-03, 2022-Q1, 2022-H1 or 2022.",
                label=label,
            ),
        )


def _sorted(rows: list[dict], sort: str) -> list[dict]:
    def missing_last(key):
        return lambda r: (r.get(key) is None, -(r.get(key) or 0))

    if sort == "lower":
        return sorted(rows, key=missing_last("ci_low"))
    if sort == "index":
        return sorted(rows, key=missing_last("index"))
    if sort == "n":
        return sorted(rows, key=lambda r: -r["n"])
    return sorted(rows, key=lambda r: r["name"])


def _choices(period: Period) -> dict[str, list[Period]]:
    """Recent periods of each kind, for the picker's suggestions."""
    choices = {kind: Period.containing(kind, now_utc()).last(12) for kind in KINDS}
    choices[period.kind] = sorted(set(choices[period.kind]) | set(period.last(12)))
    return {kind: periods[::-1] for kind, periods in choices.items()}


def _render_report(report: dict, period: Period, snapshot: ReportSnapshot | None = None):
    sort = request.args.get("sort", "lower")
    if sort not in SORTS:
        sort = "lower"
    rows = services.visible_rows(report, current_user)
    ordered = _sorted(rows, sort)
    target = report["target"]
    return render_template(
        "reports/index.html",
        report=report,
        period=period,
        rows=ordered,
        sort=sort,
        snapshot=snapshot,
        choices=_choices(period),
        interval_svg=charts.interval_chart(ordered, target, _("Agencies: index and interval"))
        if ordered
        else "",
        funnel_svg=charts.funnel_chart(
            services.funnel(rows),
            target,
            _("Funnel plot"),
            _("Effective number of responses (n_eff)"),
        )
        if rows
        else "",
        snapshots=services.published_snapshots(period),
        below=[r for r in rows if r["verdict"] == "below_target"],
        ends_on=_ends_on(period),
    )


def _ends_on(period: Period):
    """The period's last day while it is still running, else ``None``."""
    if now_utc() >= period.window()[1]:
        return None
    return period.local_days()[1]


@bp.get("/")
@requires(Permission.view_reports)
def index():
    """A period's live report: province, agencies (sortable), charts, snapshots."""
    period = _period()
    return _render_report(services.compute_report(period), period)


@bp.get("/agencies/<int:agency_id>")
@requires(Permission.view_reports)
def agency(agency_id: int):
    """One agency in a period: elements, items, counters, trend, comments, quality flags."""
    agency = _agency_or_404(agency_id)
    period = _period()
    return _render_agency(
        agency,
        period,
        services.compute_report(period),
        services.trend(agency, period),
        report_comments.for_agency(period, agency.id),
    )


@bp.get("/snapshots/<int:snapshot_id>/agencies/<int:agency_id>")
@requires(Permission.view_reports)
def snapshot_agency(snapshot_id: int, agency_id: int):
    """One agency in a published report, with the comments and trend frozen with it."""
    snapshot = _snapshot_or_404(snapshot_id)
    agency = _agency_or_404(agency_id)
    period = Period.parse(snapshot.period)
    results = snapshot.results
    frozen = results.get("trends", {}).get(str(agency.id))
    return _render_agency(
        agency,
        period,
        results,
        frozen if frozen is not None else services.trend(agency, period),
        report_comments.frozen(results, agency.id),
        snapshot,
    )


def _agency_or_404(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404)
    check_agency(agency)
    return agency


def _render_agency(agency, period, report, points, comments, snapshot=None):
    row = services.agency_row(report, agency.id)
    children = [
        r
        for r in report["agencies"]
        if r["path"].startswith(agency.path) and r["agency_id"] != agency.id
    ]
    return render_template(
        "reports/agency.html",
        agency=agency,
        ancestors=[a for a in agency.ancestors() if current_user.can_see_agency(a)],
        period=period,
        report=report,
        row=row,
        children=children,
        trend_svg=charts.trend_chart(points, report["target"], _("Trend over 12 periods")),
        trend=points,
        comments=comments,
        snapshot=snapshot,
    )


@bp.post("/publish")
@requires(Permission.publish_reports)
def publish():
    """Freeze the period's report as published."""
    period = _period()
    if now_utc() < period.window()[0]:
        abort(
            400,
            description=_(
                "The period %(period)s has not started yet: there is nothing to publish.",
                period=period.label,
            ),
        )
    if (ends_on := _ends_on(period)) is not None and request.form.get("interim") != "y":
        abort(
            400,
            description=_(
                "The period %(period)s runs until %(date)s and its figures still change. "
                "To publish an interim report, tick the box that says so.",
                period=period.label,
                date=format_date(ends_on),
            ),
        )
    latest = db.session.execute(  # its id and fingerprint, not its (large) results
        select(ReportSnapshot.id, ReportSnapshot.fingerprint)
        .where(ReportSnapshot.period == period.label, ReportSnapshot.published_at.is_not(None))
        .order_by(ReportSnapshot.published_at.desc(), ReportSnapshot.id.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.fingerprint == services.fingerprint(period):
        # a second press of Publish, or nothing new since: the same report again is noise
        flash(
            _(
                "Report %(period)s is already published and its data have not changed since.",
                period=period.label,
            ),
            "info",
        )
        return redirect(url_for(".snapshot", snapshot_id=latest.id), code=303)
    snapshot = services.publish(period, current_user)
    db.session.commit()
    flash(_("Report %(period)s published.", period=period.label), "success")
    return redirect(url_for(".snapshot", snapshot_id=snapshot.id), code=303)


def _snapshot_or_404(snapshot_id: int) -> ReportSnapshot:
    snapshot = db.session.get(ReportSnapshot, snapshot_id)
    if snapshot is None or snapshot.published_at is None:
        abort(404)
    return snapshot


@bp.get("/snapshots")
@requires(Permission.view_reports)
def snapshots():
    """Every published report, newest first."""
    return render_template("reports/snapshots.html", snapshots=services.published_snapshots())


@bp.get("/snapshots/<int:snapshot_id>")
@requires(Permission.view_reports)
def snapshot(snapshot_id: int):
    """A published report exactly as it was published."""
    snapshot = _snapshot_or_404(snapshot_id)
    return _render_report(snapshot.results, Period.parse(snapshot.period), snapshot)


@bp.get("/snapshots/<int:snapshot_id>/changes")
@requires(Permission.view_reports)
def changes(snapshot_id: int):
    """What changed since publication: new responses and per-agency index differences."""
    snapshot = _snapshot_or_404(snapshot_id)
    period = Period.parse(snapshot.period)
    diff = services.compare(snapshot.results, services.compute_report(period))
    visible = {r["agency_id"] for r in services.visible_rows(snapshot.results, current_user)}
    live_visible = {
        r["agency_id"] for r in services.visible_rows({"agencies": diff["agencies"]}, current_user)
    }
    diff["agencies"] = [r for r in diff["agencies"] if r["agency_id"] in visible | live_visible]
    return render_template("reports/changes.html", snapshot=snapshot, period=period, diff=diff)


@bp.get("/report.<any(pdf,xlsx):fmt>")
@requires(Permission.view_reports)
def download(fmt: str):
    """The period's report (or a snapshot's, with ?snapshot=) as PDF or XLSX."""
    from . import documents

    if "snapshot" in request.args:
        snapshot = _snapshot_or_404(parse_id(request.args["snapshot"]) or 0)
        report, period = snapshot.results, Period.parse(snapshot.period)
    else:
        period = _period()
        report = services.compute_report(period)
    rows = services.visible_rows(report, current_user)
    report = dict(report, agencies=rows, funnel=services.funnel(rows) if rows else None)
    if fmt == "pdf":
        body, mimetype = documents.report_pdf(report), "application/pdf"
    else:
        body = documents.report_xlsx(report)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="bao-cao-hai-long-{period.label}.{fmt}"'
        },
    )


from . import quarantine  # noqa: E402,F401  (its routes are on this blueprint)
