"""``flask report monthly|quarterly|half-yearly|yearly --period P|previous [--output-dir DIR]``
and ``flask report warnings`` (early warning), and ``flask report send [--period P]``
(the reports by e-mail, :mod:`.mailing`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask.cli import AppGroup

from ..core.clitypes import writing
from .periods import Period, PeriodError

report_cli = AppGroup("report", help="Satisfaction reports as PDF and XLSX files.")


def _period(kind: str, label: str) -> Period:
    """``previous``: the last period whose window has closed (for timers); else a label."""
    if label.strip().lower() == "previous":
        from ..core.time import now_utc

        return Period.containing(kind, now_utc()).previous()
    return Period.parse(label)


def _write(kind: str, label: str, output_dir: str) -> None:
    from . import documents, kpis, services

    try:
        period = _period(kind, label)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    if period.kind != kind:
        raise click.BadParameter(f"{label!r} is not a {kind} period", param_hint="--period")
    report = services.compute_report(period)
    report = dict(report, kpis=kpis.for_user(report, period, live=True))  # the whole province
    out = Path(output_dir)
    stem = out / f"bao-cao-hai-long-{period.label}"
    pdf, xlsx = documents.report_pdf(report), documents.report_xlsx(report)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".pdf").write_bytes(pdf)
        stem.with_suffix(".xlsx").write_bytes(xlsx)
    weighted = "weighted" if report["weighting"].get("used") else "not weighted"
    click.echo(
        f"report {period.label}: {report['n_responses']} responses, {weighted}; "
        f"wrote {stem}.pdf and {stem}.xlsx"
    )


def _command(name: str, kind: str, example: str):
    @report_cli.command(name, help=f"Write the {kind} report (e.g. --period {example}).")
    @click.option(
        "--period",
        "label",
        required=True,
        help=f"Period label, e.g. {example}, or 'previous' (the last closed {kind}).",
    )
    @click.option("--output-dir", default=".", type=click.Path(file_okay=False))
    def command(label: str, output_dir: str) -> None:
        _write(kind, label, output_dir)

    return command


monthly = _command("monthly", "month", "2022-03")
quarterly = _command("quarterly", "quarter", "2022-Q1")
half_yearly = _command("half-yearly", "half", "2022-H1")
yearly = _command("yearly", "year", "2022")


@report_cli.command("warnings")
def warnings_command() -> None:
    """Early warning: flag counters and agencies whose citizens turn dissatisfied and tell
    their admins (cron, hourly or daily; safe to run twice and on several servers at once)."""
    from ..core.time import now_utc
    from ..extensions import db
    from . import warnings

    try:
        warnings.settings()
    except ValueError as exc:
        raise click.ClickException(f"{exc}; nothing was checked") from None
    # one short transaction per counter: a concurrent run never waits long on this one
    result = warnings.run(now_utc(), after_each=db.session.commit)
    db.session.commit()
    click.echo(
        f"checked {result.counters} counter(s), {result.not_monitored} of them not monitored "
        f"yet (too few taps), and {result.agencies} agency(ies) as a whole; warnings opened: "
        f"{len(result.opened)}, closed: {result.closed}, open or acknowledged now: "
        f"{warnings.unclosed_count()}; mails queued: {result.mails}"
    )
    for warning in result.opened:
        click.echo(
            f"  new warning {warning.id}: {warning.subject}, {warning.recent_dissatisfied} of "
            f"{warning.recent_taps} recent taps dissatisfied (usually "
            f"{100 * warning.baseline_share:.1f} %)"
        )


@report_cli.command("send")
@click.option(
    "--period",
    "labels",
    multiple=True,
    help="Send this closed period's report (e.g. 2022-11, 2022-Q4; repeatable). "
    "Default: each subscribed kind's last closed period, if it closed less than "
    "REPORT_MAIL_DAYS ago.",
)
def send(labels: tuple[str, ...]) -> None:
    """E-mail the reports of closed periods to their subscribers, with the PDF (cron, daily).

    Queues the mails in the outbox (`flask outbox send` sends them); one per period and
    address, so running it again, or on several servers, queues nothing twice.
    """
    from ..core.time import now_utc
    from ..extensions import db
    from . import mailing

    now = now_utc()
    try:
        periods = [Period.parse(label) for label in labels] or mailing.due_periods(now)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    if not periods:
        click.echo("report send: no period to send (none closed recently, or no subscription)")
        return
    for period in periods:
        if now < mailing.closes_at(period):
            raise click.BadParameter(
                f"{period.label} has not closed yet: it can be sent from "
                f"{period.local_days()[1] + timedelta(days=1):%Y-%m-%d} (local time)",
                param_hint="--period",
            )
    for period in periods:
        result = mailing.send_period(period, now)
        db.session.commit()
        source = f", figures {result.source}" if result.source else ""
        click.echo(
            f"report {period.label}: {result.queued} mail(s) queued, "
            f"{result.already} already sent or queued{source}"
        )
