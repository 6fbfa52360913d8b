"""The e-mail of a periodic report, in Vietnamese sentences: the period as people say
it, the province's headline figure with its interval and verdict, the agencies below,
above and inconclusive, the lowest by name, the responses, and where the figures come
from (:mod:`.mailing` sends it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core.i18n import local_date, local_datetime, number, percent
from .models import ReportSnapshot
from .periods import Period

if TYPE_CHECKING:
    from .mailing import Recipient

#: The agencies named in the summary ("the lowest ones").
LOWEST = 3
#: Agencies below the target named at most (the rest counted).
BELOW_NAMED = 10
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


def _headline(report: dict) -> tuple[str, str]:
    """Which indicator carries the verdict (the report's ``headline_indicator``; a report
    without one led with the composite) and its name in the mail."""
    if report.get("headline_indicator") == "q0":
        return "q0", _("the share of respondents satisfied overall")
    return "composite", _("the satisfaction index (SIPAS composite of the five elements)")


def _block(row: dict, indicator: str) -> dict:
    return (row.get("q0") or {}) if indicator == "q0" else row


def _value(b: dict) -> str:
    return percent(b.get("index"))


def _verdict_sentence(what: str, b: dict, target: float) -> str:
    values = {
        "what": what,
        "value": _value(b),
        "low": percent(b.get("ci_low")),
        "high": percent(b.get("ci_high")),
        "target": percent(target, 0),
    }
    verdict = b.get("verdict")
    if verdict == "above_target":
        return _(
            "Province-wide, %(what)s is %(value)s (95%% interval %(low)s – %(high)s): "
            "above the %(target)s target.",
            **values,
        )
    if verdict == "below_target":
        return _(
            "Province-wide, %(what)s is %(value)s (95%% interval %(low)s – %(high)s): "
            "below the %(target)s target.",
            **values,
        )
    if verdict == "inconclusive":
        return _(
            "Province-wide, %(what)s is %(value)s (95%% interval %(low)s – %(high)s): the "
            "interval includes the %(target)s target, so it can be said neither to meet nor "
            "to miss it.",
            **values,
        )
    return _(
        "Province-wide, %(what)s is %(value)s: too few responses to compare it with the "
        "%(target)s target.",
        **values,
    )


def _named(rows: list[dict], indicator: str) -> str:
    return "; ".join(f"{r['name']} ({_value(_block(r, indicator))})" for r in rows)


def summary(report: dict, period: Period, snapshot: ReportSnapshot | None) -> list[str]:
    """The report in a few Vietnamese sentences (the caller forces the locale): the
    province's headline figure with its interval and verdict, how many agencies are
    below, above and inconclusive, the lowest by name, the responses, and where the
    figures come from.

    :param report: a :func:`document_report` (its ``agencies`` are the recipient's).
    """
    lines = []
    scope = report.get("scope")
    rows = report.get("agencies") or []
    if scope and scope.get("agency_name"):
        lines.append(
            _(
                "This report only includes the agencies within %(agency)s (your account's scope).",
                agency=scope["agency_name"],
            )
            + " "
            + _("The province's figures are the whole province's.")
        )
    if report.get("empty") or not report.get("province"):
        lines.append(_("No responses in this period."))
        return lines + [_source(snapshot)]
    indicator, what = _headline(report)
    target = report.get("target", 0.9)
    lines.append(_verdict_sentence(what, _block(report["province"], indicator), target))
    verdicts = [_block(r, indicator).get("verdict") for r in rows]
    if rows:
        lines.append(
            _(
                "Of the %(n)s agencies with responses: %(below)s below the target, %(above)s "
                "above it, %(inconclusive)s inconclusive, %(few)s with too few responses.",
                n=number(len(rows)),
                below=number(verdicts.count("below_target")),
                above=number(verdicts.count("above_target")),
                inconclusive=number(verdicts.count("inconclusive")),
                few=number(len(rows) - sum(verdicts.count(v) for v in _DECIDED)),
            )
        )
        # the lowest among the agencies with enough responses for a verdict
        measured = [
            r
            for r in rows
            if _block(r, indicator).get("index") is not None
            and _block(r, indicator).get("verdict") in _DECIDED
        ]
        measured.sort(key=lambda r: (_block(r, indicator)["index"], r["name"]))
        below = [r for r in measured if _block(r, indicator).get("verdict") == "below_target"]
        if below:
            text = _(
                "Below the target, lowest first: %(names)s.",
                names=_named(below[:BELOW_NAMED], indicator),
            )
            if len(below) > BELOW_NAMED:
                text += " " + _("And %(n)s more.", n=number(len(below) - BELOW_NAMED))
            lines.append(text)
        elif measured:
            lines.append(
                _(
                    "No agency is below the target for certain; the lowest: %(names)s.",
                    names=_named(measured[:LOWEST], indicator),
                )
            )
    elif scope:
        lines.append(_("No agency within your scope has responses in this period."))
    lines.append(
        _("%(n)s responses in the period.", n=number(report.get("n_responses", 0)))
        + " "
        + (
            _("Weighted to the dossiers handled.")
            if (report.get("weighting") or {}).get("used")
            else _("Not weighted: dossier volumes are missing.")
        )
    )
    lines.append(_source(snapshot))
    return lines


_DECIDED = ("below_target", "above_target", "inconclusive")


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
