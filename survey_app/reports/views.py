"""Satisfaction reports for staff: province overview, agencies, charts, snapshots, downloads."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..agencies.models import Agency
from ..auth.permissions import Permission, check_agency, has_permission, requires
from ..core.params import parse_id
from ..core.time import now_utc
from ..extensions import db
from . import charts, presentation, services
from . import comments as report_comments
from . import kpis as kpi_figures
from .models import ReportSnapshot
from .periods import KINDS, Period, PeriodError
from .presentation import HEADLINE_LABELS
from .scope import scoped_report
from .summary import summary_sentences
from .wording import share

bp = Blueprint("reports", __name__, url_prefix="/staff/reports")

VERDICTS = {
    "above_target": _l("Above target"),
    "below_target": _l("Below target"),
    "inconclusive": _l("Inconclusive"),
    "insufficient_data": _l("Insufficient data"),
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
        "may_publish": may_publish,
    }


@bp.context_processor
def _report_helpers():
    return presentation.template_helpers() | {"funnel_rows": charts.funnel_table}


def _latest_response_at():
    """:func:`services.latest_response_at`, read once per request."""
    if "latest_response_at" not in g:
        g.latest_response_at = services.latest_response_at()
    return g.latest_response_at


def _latest(kind: str) -> Period:
    """The latest period of ``kind`` with a response (the running one when none has)."""
    latest = _latest_response_at()
    return Period.containing(kind, latest if latest is not None else now_utc())


def _period() -> Period:
    label = request.args.get("period") or request.form.get("period")
    if not label:
        kind = request.args.get("kind", "month")
        return _latest(kind if kind in KINDS else "month")
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


#: Periods offered by the picker, per kind.
PICKER_LENGTH = {"month": 13, "quarter": 8, "half": 6, "year": 5}


def _choices(period: Period) -> list[Period]:
    """Periods of ``period``'s kind for the picker, newest first: the last ones with data,
    the running one and the one shown."""
    running = Period.containing(period.kind, now_utc())
    latest = _latest(period.kind)
    return sorted(set(latest.last(PICKER_LENGTH[period.kind])) | {running, period}, reverse=True)


def _render_report(report: dict, period: Period, snapshot: ReportSnapshot | None = None):
    sort = request.args.get("sort", "lower")
    if sort not in SORTS:
        sort = "lower"
    headline = presentation.headline_of(report)
    rows = services.visible_rows(report, current_user)
    quiet = services.visible_rows(report, current_user, "agencies_without_responses")
    ordered = presentation.sorted_rows(rows, sort, headline)
    target = report["target"]
    chart_rows = charts.interval_order(
        [{"name": r["name"]} | presentation.block_of(r, headline) for r in ordered]
    )
    figures = kpi_figures.for_user(
        report, period, current_user, [r["agency_id"] for r in ordered], live=not snapshot
    )
    seen = dict(report, agencies=rows, agencies_without_responses=quiet, kpis=figures)
    funnel = services.funnel(rows, target, headline, "n_use") if rows else None
    return render_template(
        "reports/index.html",
        report=report,
        period=period,
        headline=headline,
        rows=ordered,
        quiet=quiet,
        sort=sort,
        snapshot=snapshot,
        choices=_choices(period),
        chart_rows=chart_rows,
        funnel=funnel,
        interval_svg="".join(
            charts.interval_chart(
                chart_rows,
                target,
                ident="chart-agencies-narrow" if narrow else "chart-agencies",
                axis_title=_(
                    "%(indicator)s, with its %(level)s interval",
                    indicator=HEADLINE_LABELS[headline],
                    level=share(0.95, 0),
                ),
                narrow=narrow,
            )
            for narrow in (False, True)
        )
        if ordered
        else "",
        funnel_svg=charts.funnel_chart(
            funnel,
            target,
            axis_label=_("Effective number of responses, capped at the respondents (n_use)"),
        )
        if funnel
        else "",
        snapshots=services.published_snapshots(period),
        below=[
            r for r in rows if presentation.block_of(r, headline).get("verdict") == "below_target"
        ],
        totals=presentation.totals(rows, quiet),
        scope=presentation.scope_note(report, rows, quiet, current_user),
        ends_on=_ends_on(period),
        started=now_utc() >= period.window()[0],
        latest=_latest(period.kind) if _latest_response_at() is not None else None,
        next_period=period.next() if period.next().window()[0] <= now_utc() else None,
        kpis=figures,
        summary=summary_sentences(seen),
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
    headline = presentation.headline_of(report)
    row = services.agency_row(report, agency.id)

    def below(rows):
        return [
            r for r in rows if r["path"].startswith(agency.path) and r["agency_id"] != agency.id
        ]

    trend = [p | {"headline": presentation.block_of(p, headline)} for p in points]
    technical = [
        (presentation.element_name(report, code), b, (row.get("alpha") or {}).get(code))
        for code, b in (row["elements"].items() if row else ())
    ]
    return render_template(
        "reports/agency.html",
        agency=agency,
        ancestors=[a for a in agency.ancestors() if current_user.can_see_agency(a)],
        period=period,
        report=report,
        headline=headline,
        row=row,
        quiet_row=next(
            (
                r
                for r in report.get("agencies_without_responses") or []
                if r["agency_id"] == agency.id
            ),
            None,
        ),
        children=below(report["agencies"]),
        quiet_children=below(report.get("agencies_without_responses") or []),
        trend_svg=charts.trend_chart(
            [
                {"period": p["period"], "n": p["headline"].get("n") or 0} | p["headline"]
                for p in trend
            ],
            report["target"],
        ),
        trend=trend,
        comments=comments,
        snapshot=snapshot,
        counter_total=sum(
            presentation.block_of(c, headline).get("n") or 0
            for c in (row or {}).get("counters", [])
        ),
        technical_elements=technical,
        kpis=kpi_figures.for_agency(report, period, current_user, agency, live=not snapshot),
    )


def _publishable(period: Period) -> Period:
    """``period``, or a 400 when it has not started (nothing to publish)."""
    if now_utc() < period.window()[0]:
        abort(
            400,
            description=_(
                "The period %(period)s has not started yet: there is nothing to publish.",
                period=presentation.period_name(period),
            ),
        )
    return period


def _latest_published(period: Period):
    """The latest publication of ``period``: its id and fingerprint, not its (large) results."""
    return db.session.execute(
        select(ReportSnapshot.id, ReportSnapshot.fingerprint)
        .where(ReportSnapshot.period == period.label, ReportSnapshot.published_at.is_not(None))
        .order_by(ReportSnapshot.published_at.desc(), ReportSnapshot.id.desc())
        .limit(1)
    ).first()


@bp.get("/publish")
@requires(Permission.publish_reports)
def confirm_publish():
    """Ask before publishing: what publishing freezes and who will read it (no JavaScript)."""
    _may_publish_or_403()
    period = _publishable(_period())
    report = services.compute_report(period)
    latest = _latest_published(period)
    return render_template(
        "reports/publish.html",
        period=period,
        report=report,
        headline=presentation.headline_of(report),
        ends_on=_ends_on(period),
        unchanged=latest is not None and latest.fingerprint == services.fingerprint(period),
        previous_publications=len(services.published_snapshots(period)),
    )


def _may_publish_or_403() -> None:
    if not may_publish(current_user):
        # the report is the province's: an account of one agency sees only its part of it
        abort(
            403,
            description=_(
                "Only province-wide coordinators and administrators publish the province's report."
            ),
        )


def may_publish(user) -> bool:
    """Whether ``user`` may publish (and so freeze) the province's report: the
    permission, held by an account of the whole province, not of one agency."""
    return has_permission(user, Permission.publish_reports) and user.sees_whole_province


@bp.post("/publish")
@requires(Permission.publish_reports)
def publish():
    """Freeze the period's report as published (asked on :func:`confirm_publish`;
    province-wide coordinators and admins only)."""
    _may_publish_or_403()
    period = _publishable(_period())
    if (ends_on := _ends_on(period)) is not None and request.form.get("interim") != "y":
        abort(
            400,
            description=_(
                "The period %(period)s runs until %(date)s and its figures still change. "
                "To publish an interim report, tick the box that says so.",
                period=presentation.period_name(period),
                date=format_date(ends_on),
            ),
        )
    latest = _latest_published(period)
    if latest is not None and latest.fingerprint == services.fingerprint(period):
        # a second press of Publish, or nothing new since: the same report again is noise
        flash(
            _(
                "Report %(period)s is already published and its data have not changed since.",
                period=presentation.period_name(period),
            ),
            "info",
        )
        return redirect(url_for(".snapshot", snapshot_id=latest.id), code=303)
    snapshot = services.publish(period, current_user)
    db.session.commit()
    flash(_("Report %(period)s published.", period=presentation.period_name(period)), "success")
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
        published = snapshot.published_at
        report = dict(report, snapshot_published_at=published and published.isoformat())
    else:
        period = _period()
        report = services.compute_report(period)
    figures = kpi_figures.for_user(
        report, period, current_user, live="snapshot" not in request.args
    )
    report = scoped_report(report, current_user)  # a scoped reader's file says so
    report["kpis"] = figures
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
