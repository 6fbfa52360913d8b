"""The e-mail of a periodic report, in Vietnamese sentences: the period as people say
it, the report's summary (:mod:`.summary`: the province's headline figure with its
interval and verdict, the agencies below by name, the counts, the clearest changes…)
and where the figures come from (:mod:`.mailing` sends it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core.i18n import local_date, local_datetime
from .models import ReportSnapshot
from .periods import Period
from .summary import summary_sentences

if TYPE_CHECKING:
    from .mailing import Recipient

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def period_words(period: Period) -> str:
    """The period as people say it, with its days: "Tháng 11/2022 (15/10/2022–14/11/2022)"."""
    if period.kind == "month":
        name = _("Month %(number)d/%(year)d", number=period.number, year=period.year)
    elif period.kind == "quarter":
        name = _("Quarter %(roman)s/%(year)d", roman=ROMAN[period.number], year=period.year)
    elif period.kind == "half":
        name = (
            _("First half of %(year)d", year=period.year)
            if period.number == 1
            else _("Second half of %(year)d", year=period.year)
        )
    else:
        name = _("Year %(year)d", year=period.year)
    first, last = period.local_days()
    return f"{name} ({local_date(first, 'dd/MM/yyyy')}–{local_date(last, 'dd/MM/yyyy')})"


def summary(report: dict, period: Period, snapshot: ReportSnapshot | None) -> list[str]:
    """The report in Vietnamese sentences (the caller forces the locale): the scope when
    the recipient's report is filtered, the report's own summary
    (:func:`~.summary.summary_sentences`, as on the first page of the PDF and on the
    report page), and where the figures come from.

    :param report: a :func:`document_report` (its ``agencies`` are the recipient's).
    """
    lines = []
    scope = report.get("scope")
    if scope and scope.get("agency_name"):
        lines.append(
            _(
                "This report only includes the agencies within %(agency)s (your account's scope).",
                agency=scope["agency_name"],
            )
            + " "
            + _("The province's figures are the whole province's.")
        )
    lines += summary_sentences(report)
    lines.append(_source(snapshot))
    return lines


def _source(snapshot: ReportSnapshot | None) -> str:
    if snapshot is not None:
        return _(
            "These figures are those of the report published on %(when)s.",
            when=local_datetime(snapshot.published_at, "dd/MM/yyyy HH:mm"),
        )
    return _(
        "The report of this period has not been published: these figures were computed when "
        "this e-mail was sent and may still change with late responses."
    )


def compose(
    report: dict, period: Period, snapshot: ReportSnapshot | None, recipient: Recipient
) -> tuple[str, str, str]:
    """The subject, the body and the PDF's file name of the mail to ``recipient``, in
    Vietnamese.

    :param report: the recipient's :func:`document_report`.
    """
    with force_locale("vi"):
        words = period_words(period)
        scope = report.get("scope")
        subject = _("Satisfaction report: %(period)s", period=words)
        if scope and scope.get("agency_name"):
            subject += f" · {scope['agency_name']}"
        user = recipient.user
        lines = [
            _("Dear %(name)s,", name=user.full_name) if user else _("Dear Sir or Madam,"),
            "",
            _(
                "The report on citizens' and businesses' satisfaction for %(period)s, in brief:",
                period=words,
            ),
            "",
        ]
        lines += [f"- {line}" for line in summary(report, period, snapshot)]
        filename = f"bao-cao-hai-long-{period.label}.pdf"
        lines += ["", _("The full report is attached (PDF, %(name)s).", name=filename)]
        if user is not None:
            base = current_app.config["PUBLIC_BASE_URL"]
            path = (
                f"/staff/reports/snapshots/{snapshot.id}"
                if snapshot is not None
                else f"/staff/reports/?period={period.label}"
            )
            lines.append(_("On Hài Lòng (log in first): %(url)s", url=base + path))
        lines += [
            "",
            _(
                "You receive this e-mail because your account's role is on the list of "
                "recipients of this report."
            )
            if user
            else _(
                "You receive this e-mail because your address is on the list of recipients "
                "of this report."
            ),
            _("To stop receiving it, ask a Hài Lòng administrator."),
        ]
    return subject, "\n".join(lines) + "\n", filename
