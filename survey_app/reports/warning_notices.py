"""Early warning in words: the mail to the agency's admins, the dashboard's cards, and
acknowledging a warning.

Everything a busy admin reads says which counter, what happened (how many of the
recent raters were not satisfied, against the usual share), since when, and how
sure the check is (its false-alarm rate, stated per counter). Mails go through
the outbox in Vietnamese (the default locale outside requests), once per warning
and admin (dedupe key ``warning:<id>:<user id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager, joinedload

from ..agencies.models import Agency
from ..agencies.services import subtree_filter
from ..auth.models import Role, User
from ..core.i18n import local_date, local_datetime, percent
from ..core.time import local_tz
from ..extensions import db
from ..feedback import audit
from ..feedback.outbox import enqueue
from .periods import Period
from .warning_models import SatisfactionWarning, SatisfactionWatch, WarningStatus


def share(value: float | None) -> str:
    """A share as people say it: whole percent, one decimal under 2 %."""
    if value is None:
        return "—"
    return percent(value, 0 if value >= 0.02 else 1)


def place(warning: SatisfactionWarning) -> str:
    """ "Quầy Hộ tịch (Sở Tư pháp)", or the agency with all its counters."""
    if warning.counter is not None:
        return _(
            "%(counter)s (%(agency)s)", counter=warning.counter.name, agency=warning.agency.name
        )
    return _("%(agency)s, all its counters together", agency=warning.agency.name)


def _every(days: float) -> str:
    """ "2 years", "18 months": how often a false alarm comes."""
    months = days / 30.44
    if months < 24:
        return ngettext("%(num)d month", "%(num)d months", max(1, round(months)))
    return ngettext("%(num)d year", "%(num)d years", round(days / 365.25))


def _days(days: float) -> str:
    return ngettext("%(num)d day", "%(num)d days", max(1, round(days)))


def what_happened(warning: SatisfactionWarning) -> str:
    """The alarm in one sentence: how many of the recent raters were not satisfied."""
    return _(
        "%(bad)d of the %(taps)d people who rated it from %(start)s to %(end)s "
        "were not satisfied; usually about %(usual)s are.",
        bad=warning.recent_dissatisfied,
        taps=warning.recent_taps,
        start=local_date(_local_day(warning.watch_started_at)),
        end=local_date(_local_day(warning.signal_at)),
        usual=share(warning.baseline_share),
    )


def how_sure(warning: SatisfactionWarning) -> str:
    """The false-alarm rate and the detection delay, at the subject's usual taps per day."""
    if warning.counter is not None:
        false_alarms = _(
            "When nothing has changed, this check gives a false warning no more than "
            "about once every %(every)s at each counter.",
            every=_every(warning.arl0_days),
        )
    else:
        false_alarms = _(
            "When nothing has changed, this check gives a false warning no more than "
            "about once every %(every)s for each agency as a whole.",
            every=_every(warning.arl0_days),
        )
    delay = _(
        "A rise to about %(shift)s not satisfied is noticed after %(days)s on average.",
        shift=share(warning.shift_share),
        days=_days(warning.arl1_days),
    )
    return f"{false_alarms} {delay}"


def still_bad(warning: SatisfactionWarning) -> str:
    """Alarms after the first: the counter stayed dissatisfied."""
    if warning.signals <= 1:
        return ""
    return _(
        "Still not back to usual: %(n)d alarms so far, the last at %(last)s.",
        n=warning.signals,
        last=local_datetime(warning.last_signal_at),
    )


def _local_day(value: datetime) -> date:
    return value.astimezone(local_tz()).date()


def _report_path(warning: SatisfactionWarning) -> str:
    period = Period.containing("month", warning.signal_at)
    return f"/staff/reports/agencies/{warning.agency_id}?period={period.label}"


def report_url(warning: SatisfactionWarning) -> str:
    """The agency's page of the monthly report that contains the alarm (in a request)."""
    period = Period.containing("month", warning.signal_at)
    return url_for("reports.agency", agency_id=warning.agency_id, period=period.label)


def recipients(warning: SatisfactionWarning) -> list[User]:
    """The active admins of the warning's agency or of an agency above it; if there are
    none, the province-wide admins, so that somebody hears of it."""
    ids = [int(part) for part in warning.agency.path.strip("/").split("/") if part]
    admins = select(User).where(User.role == Role.admin, User.active.is_(True)).order_by(User.id)
    found = db.session.scalars(admins.where(User.agency_id.in_(ids))).all()
    return list(found or db.session.scalars(admins.where(User.agency_id.is_(None))).all())


def notify(warning: SatisfactionWarning) -> int:
    """Queue the mail to each recipient not yet told of this warning.

    :return: mails queued now (0 when every recipient already has theirs).
    """
    base = current_app.config["PUBLIC_BASE_URL"]
    where = place(warning)
    subject = _("Early warning: citizens less satisfied at %(place)s", place=where)
    body = "\n\n".join(
        part
        for part in (
            _(
                "At %(place)s, %(bad)d of the %(taps)d people who rated it recently were "
                "not satisfied (usually about %(usual)s).",
                place=where,
                bad=warning.recent_dissatisfied,
                taps=warning.recent_taps,
                usual=share(warning.baseline_share),
            ),
            _(
                "They rated it between %(start)s and %(end)s, when the check raised the warning.",
                start=local_datetime(warning.watch_started_at),
                end=local_datetime(warning.signal_at),
            ),
            still_bad(warning),
            _(
                "Please look at what has changed there (staff, waiting times, procedures) "
                "and at the recent comments in the report: %(report)s",
                report=base + _report_path(warning),
            ),
            _(
                "Then acknowledge the warning on the staff page, so that your colleagues "
                "know it is being dealt with: %(url)s",
                url=f"{base}/staff/",
            ),
            how_sure(warning),
        )
        if part
    )
    return sum(
        enqueue(user.email, subject, body, dedupe_key=f"warning:{warning.id}:{user.id}")
        for user in recipients(warning)
    )


# -- the staff dashboard ------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A warning as the dashboard shows it."""

    warning: SatisfactionWarning
    place: str
    what: str
    still_bad: str
    how_sure: str
    report_url: str


def visible(user: User) -> list[Card]:
    """Warnings not closed within ``user``'s scope: open ones first, newest first."""
    query = (
        select(SatisfactionWarning)
        .join(Agency, SatisfactionWarning.agency_id == Agency.id)
        .options(
            contains_eager(SatisfactionWarning.agency),
            joinedload(SatisfactionWarning.counter),
            joinedload(SatisfactionWarning.acknowledged_by),
        )
        .where(SatisfactionWarning.closed_at.is_(None))
        .order_by(
            case((SatisfactionWarning.status == WarningStatus.open, 0), else_=1),
            SatisfactionWarning.signal_at.desc(),
        )
    )
    if not user.sees_whole_province:
        if user.agency is None:
            return []
        query = query.where(subtree_filter(user.agency))
    return [
        Card(w, place(w), what_happened(w), still_bad(w), how_sure(w), report_url(w))
        for w in db.session.scalars(query).all()
    ]


def watches(counter_ids: list[int]) -> dict[int, SatisfactionWatch]:
    """The detector's last look at each of these counters."""
    if not counter_ids:
        return {}
    rows = db.session.scalars(
        select(SatisfactionWatch).where(SatisfactionWatch.counter_id.in_(counter_ids))
    )
    return {row.counter_id: row for row in rows}


def last_checked() -> datetime | None:
    """When the detector last ran (over any counter)."""
    return db.session.scalar(select(func.max(SatisfactionWatch.checked_at)))


def acknowledge(warning: SatisfactionWarning, user: User, now: datetime) -> bool:
    """Mark an open warning as seen by ``user`` (audited). It stays watched, and
    closes by itself when the counter is back to its usual level.

    :return: False if it was already acknowledged or closed.
    """
    if warning.status != WarningStatus.open:
        return False
    warning.status = WarningStatus.acknowledged
    warning.acknowledged_at = now
    warning.acknowledged_by_id = user.id
    audit.record(user, "acknowledge_warning", None, f"{warning.subject}: {place(warning)}")
    db.session.flush()
    return True
