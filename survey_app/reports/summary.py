"""The report in a few sentences, for the first page of the PDF, the report page and an e-mail.

:func:`summary_sentences` reads a report dict (live, or a snapshot published
by any earlier version of the service: missing keys are read as absent) and
writes what a leader needs first, in the current language (the PDF forces
Vietnamese):

1. the province's headline figure (``headline_indicator``) with its interval,
   its verdict against the target in words, and its change since the
   previous period;
2. the agencies below the target, by name, with their figure;
3. how many agencies are above the target, inconclusive or without a verdict,
   how many carry a low-reliability mark, and those without any response;
4. the clearest improvement and decline since the previous period (changes
   larger than chance alone would give, :mod:`.summary_changes`);
5. the explanation indicator and the weakest element province-wide;
6. feedback handling and the one-stop figure, when the report carries its
   ``kpis``;
7. what the figures rest on: responses, days, weighting.

The agency counts are of the report's ``agencies`` and
``agencies_without_responses``: give a scoped reader's report (its rows
filtered) and the sentences speak of that scope; the province's figures stay
the province's.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..core.i18n import local_date, number
from . import presentation
from .summary_changes import change_sentence, changes, inside, period_label, previous_name
from .wording import share, share_range

#: The indicators as the subject of a sentence.
SUBJECTS = {
    "q0": _l("The share of people and organisations satisfied overall"),
    "composite": _l("The SIPAS satisfaction index (five elements)"),
}
#: The lowest agencies named when none is clearly below the target.
LOWEST = 3
#: Agencies named in a list of "other" agencies (no response) before only counting them.
NAMED_QUIET = 5


def summary_sentences(report: dict) -> list[str]:
    """The report in sentences, in the current language, most important first.

    :param report: a report dict (:func:`~.assembly.compute_report`, a
        snapshot's results, or either with its agency rows filtered to a
        reader's scope), optionally with ``kpis`` (:func:`~.kpis.for_user`).
    :return: one entry per point (an entry may hold two sentences); for a
        period without responses, what there is instead (dossiers, feedback).
    """
    if report.get("empty") or not report.get("province"):
        return _empty(report)
    headline = presentation.headline_of(report)
    out = [_headline(report, headline)]
    out += _agencies(report, headline)
    out += changes(report, headline)
    out.append(_explanation(report, headline))
    feedback = _feedback(report.get("kpis"))
    if feedback:
        out.append(feedback)
    one_stop = _one_stop(report.get("kpis"))
    if one_stop:
        out.append(one_stop)
    out.append(_basis(report))
    return out


# -- the parts --------------------------------------------------------------------------


def _level() -> str:
    return share(0.95, 0)


def _empty(report: dict) -> list[str]:
    window = report.get("window") or {}
    out = [
        _(
            "No citizen answered the survey from %(first)s to %(last)s, so there is no "
            "satisfaction figure for %(period)s.",
            first=local_date(window.get("first_day")),
            last=local_date(window.get("last_day")),
            period=inside(period_label(report.get("period"))),
        )
    ]
    dossiers = (report.get("coverage") or {}).get("dossiers")
    if dossiers:
        out.append(
            _(
                "The one-stop system recorded %(n)s dossiers handled in this period, but no "
                "survey response.",
                n=number(dossiers),
            )
        )
    feedback = _feedback(report.get("kpis"))
    if feedback:
        out.append(feedback)
    return out


def _headline(report: dict, headline: str) -> str:
    b = presentation.block_of(report["province"], headline)
    values = {
        "subject": SUBJECTS[headline],
        "value": share(b.get("index")),
        "level": _level(),
        "range": share_range(b.get("ci_low"), b.get("ci_high")),
        "target": share(report.get("target", 0.9), 0),
    }
    verdict = b.get("verdict")
    if verdict == "above_target":
        text = _(
            "%(subject)s across the province is %(value)s (%(level)s interval %(range)s): "
            "above the %(target)s target, since the whole interval lies above it.",
            **values,
        )
    elif verdict == "below_target":
        text = _(
            "%(subject)s across the province is %(value)s (%(level)s interval %(range)s): "
            "below the %(target)s target, since the whole interval lies below it.",
            **values,
        )
    elif verdict == "inconclusive":
        text = _(
            "%(subject)s across the province is %(value)s (%(level)s interval %(range)s): "
            "not clearly above or below the %(target)s target, since the interval contains it.",
            **values,
        )
    else:
        reason = presentation.insufficient_reason(b, report.get("min_n")) or ""
        text = _(
            "%(subject)s across the province is %(value)s: no verdict against the %(target)s "
            "target (%(reason)s).",
            reason=reason,
            **values,
        )
    notes = presentation.reliability_notes(b)
    if notes:
        text += " " + _("Low reliability: %(reasons)s.", reasons="; ".join(notes))
    change = b.get("change")
    if change and change.get("difference") is not None:
        text += " " + change_sentence(change, previous_name(report))
    return text


def _named(rows: list[dict], headline: str) -> str:
    return "; ".join(
        f"{r['name']} ({share(presentation.block_of(r, headline).get('index'))})" for r in rows
    )


def _agencies(report: dict, headline: str) -> list[str]:
    rows = report.get("agencies") or []
    quiet = report.get("agencies_without_responses") or []
    if not rows and not quiet:
        return [_("No agency of this report had a counter or handled dossiers in this period.")]
    out = []
    verdicts: dict[str, list[dict]] = {}
    for r in rows:
        verdict = presentation.block_of(r, headline).get("verdict") or "insufficient_data"
        verdicts.setdefault(verdict, []).append(r)
    below = sorted(
        verdicts.get("below_target", []),
        key=lambda r: presentation.block_of(r, headline).get("ci_high") or 0,
    )
    if below:
        out.append(
            ngettext(
                "%(num)d agency is below the target: %(names)s.",
                "%(num)d agencies are below the target: %(names)s.",
                len(below),
                names=_named(below, headline),
            )
        )
    elif rows:
        measured = sorted(
            verdicts.get("above_target", []) + verdicts.get("inconclusive", []),
            key=lambda r: (presentation.block_of(r, headline).get("index") or 0, r["name"]),
        )
        if measured:
            out.append(
                _(
                    "No agency is clearly below the target; the lowest: %(names)s.",
                    names=_named(measured[:LOWEST], headline),
                )
            )
        else:
            out.append(_("No agency is clearly below the target."))
    if rows:
        text = _(
            "Of the %(total)s agencies with responses, above the target: %(above)s; not clearly "
            "above or below (the interval contains %(target)s): %(inconclusive)s; no verdict "
            "(fewer than %(min_n)s respondents, or no interval): %(few)s.",
            total=number(len(rows)),
            above=number(len(verdicts.get("above_target", []))),
            inconclusive=number(len(verdicts.get("inconclusive", []))),
            few=number(len(verdicts.get("insufficient_data", []))),
            target=share(report.get("target", 0.9), 0),
            min_n=report.get("min_n") or 10,
        )
        shaky = sum(
            1 for r in rows if presentation.reliability_notes(presentation.block_of(r, headline))
        )
        if shaky:
            text += " " + ngettext(
                "%(num)d figure carries a low-reliability mark (few effective responses or a "
                "wide interval), with its reason in the table.",
                "%(num)d figures carry a low-reliability mark (few effective responses or a "
                "wide interval), with their reasons in the table.",
                shaky,
            )
        out.append(text)
    if quiet:
        if len(quiet) <= NAMED_QUIET:
            out.append(
                ngettext(
                    "%(num)d agency handled dossiers or has a survey counter but got no "
                    "response: %(names)s.",
                    "%(num)d agencies handled dossiers or have a survey counter but got no "
                    "response: %(names)s.",
                    len(quiet),
                    names="; ".join(r["name"] for r in quiet),
                )
            )
        else:
            out.append(
                ngettext(
                    "%(num)d agency handled dossiers or has a survey counter but got no "
                    "response; it is listed after the table.",
                    "%(num)d agencies handled dossiers or have a survey counter but got no "
                    "response; they are listed after the table.",
                    len(quiet),
                )
            )
    return out


def _explanation(report: dict, headline: str) -> str:
    other = presentation.explanation_of(report)
    b = presentation.block_of(report["province"], other)
    text = _(
        "%(subject)s, shown to explain the result (without a verdict of its own), is "
        "%(value)s (%(level)s interval %(range)s), from %(n)s respondents.",
        subject=SUBJECTS[other],
        value=share(b.get("index")),
        level=_level(),
        range=share_range(b.get("ci_low"), b.get("ci_high")),
        n=number(b.get("n") or 0),
    )
    return text + " " + presentation.weakest_element(report, report["province"])


def _feedback(kpis: dict | None) -> str | None:
    """Feedback handling in one sentence: the province's row, else the rows' sum."""
    if not kpis:
        return None
    rows = [kpis["province"]] if kpis.get("province") else kpis.get("agencies") or []
    if not rows:
        return None
    keys = ("received", "answered", "on_time", "overdue")
    f = {k: sum(r["feedback"][k] for r in rows) for k in keys}
    median = kpis["province"]["feedback"].get("median_days") if kpis.get("province") else None
    as_of = local_date(kpis.get("as_of"))
    if not any(f.values()):
        return _(
            "No feedback or petition was received or answered in this period, and none is "
            "overdue on %(date)s.",
            date=as_of,
        )
    values = {
        "received": number(f["received"]),
        "answered": number(f["answered"]),
        "on_time": number(f["on_time"]),
        "days": kpis.get("answer_days", 15),
        "overdue": number(f["overdue"]),
        "date": as_of,
    }
    if median is not None and f["answered"]:
        return _(
            "Feedback and petitions: %(received)s received and %(answered)s answered in the "
            "period, %(on_time)s of them within the legal %(days)s working days (half of them "
            "within %(median)s working days); %(overdue)s overdue on %(date)s.",
            median=number(median, 1 if median % 1 else 0),
            **values,
        )
    return _(
        "Feedback and petitions: %(received)s received and %(answered)s answered in the "
        "period, %(on_time)s of them within the legal %(days)s working days; %(overdue)s "
        "overdue on %(date)s.",
        **values,
    )


def _one_stop(kpis: dict | None) -> str | None:
    """The share of respondents who needed at most one trip, when enough answered."""
    if not kpis or not kpis.get("province"):
        return None
    trip = kpis["province"]["one_stop"]["one_trip"]
    if not trip.get("n") or trip["n"] < kpis.get("small_count", 10) or trip.get("share") is None:
        return None
    return _(
        "%(share)s of the %(n)s respondents asked needed at most one trip to complete their "
        "dossier (%(level)s interval %(range)s).",
        share=share(trip["share"]),
        n=number(trip["n"]),
        level=_level(),
        range=share_range(trip.get("ci_low"), trip.get("ci_high")),
    )


def _basis(report: dict) -> str:
    window = report.get("window") or {}
    weighting = report.get("weighting") or {}
    values = {
        "n": number(report.get("n_responses") or 0),
        "first": local_date(window.get("first_day")),
        "last": local_date(window.get("last_day")),
        "q": number((report.get("province") or {}).get("n") or 0),
    }
    text = _(
        "The figures rest on %(n)s responses from %(first)s to %(last)s (%(q)s of them also "
        "answered the questionnaire).",
        **values,
    )
    dossiers = (report.get("coverage") or {}).get("dossiers")
    if weighting.get("used"):
        text += " " + _(
            "They are weighted to the %(d)s dossiers the agencies handled (post-stratification), "
            "so that each agency and field counts as much as its dossiers.",
            d=number(dossiers or 0),
        )
        by_channel = weighting.get("return_channel") or {}
        if by_channel.get("used"):
            text += " " + ngettext(
                "In %(num)d agency and field cell the dossiers are also split by how their "
                "results went back (at the counter, online, by post), so that citizens served "
                "online or by post count as much as their dossiers.",
                "In %(num)d agency and field cells the dossiers are also split by how their "
                "results went back (at the counter, online, by post), so that citizens served "
                "online or by post count as much as their dossiers.",
                int(by_channel.get("split_cells") or 0),
            )
    elif weighting.get("agencies_without_volume"):
        text += " " + _("They are not weighted: dossier volumes are missing for some agencies.")
    else:
        text += " " + _("They are not weighted: there are no dossier volumes for this period.")
    return text
