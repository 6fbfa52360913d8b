"""The change since the previous period, in sentences (:mod:`.summary`'s part 4 and
the end of its headline sentence).

A change is "clear" when it is significant (larger than chance alone would give,
ANALYSIS.md "Around the index"); the clearest improvement and decline are named,
with how many others changed clearly. Periods are named as running text writes
them ("tháng 10/2022", "năm 2021").
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from ..core.i18n import current_language, number
from . import presentation
from .periods import Period, PeriodError
from .wording import period_name, share


def change_sentence(change: dict, previous: str) -> str:
    size = number(abs(100 * change["difference"]), 1)
    if round(100 * change["difference"], 1) == 0:
        return _("It is unchanged since %(period)s.", period=previous)
    if change.get("significant"):
        if change["difference"] > 0:
            return _(
                "Since %(period)s it has risen by %(points)s percentage points, more than "
                "chance alone would give.",
                period=previous,
                points=size,
            )
        return _(
            "Since %(period)s it has fallen by %(points)s percentage points, more than "
            "chance alone would give.",
            period=previous,
            points=size,
        )
    if change["difference"] > 0:
        return _(
            "Since %(period)s it has risen by %(points)s percentage points, within what "
            "chance alone would give.",
            period=previous,
            points=size,
        )
    return _(
        "Since %(period)s it has fallen by %(points)s percentage points, within what "
        "chance alone would give.",
        period=previous,
        points=size,
    )


def changes(report: dict, headline: str) -> list[str]:
    rows = report.get("agencies") or []
    previous = previous_name(report)
    changed = [
        (r, presentation.block_of(r, headline).get("change"))
        for r in rows
        if (presentation.block_of(r, headline).get("change") or {}).get("difference") is not None
    ]
    if not rows:
        return []
    if not changed:
        return [_("There are no figures of %(period)s to compare with.", period=previous)]
    up = sorted(
        ((r, c) for r, c in changed if c.get("significant") and c["difference"] > 0),
        key=lambda rc: -rc[1]["difference"],
    )
    down = sorted(
        ((r, c) for r, c in changed if c.get("significant") and c["difference"] < 0),
        key=lambda rc: rc[1]["difference"],
    )
    if not up and not down:
        return [
            _(
                "No agency changed clearly since %(period)s (more than chance alone would give).",
                period=previous,
            )
        ]
    out = []
    for group, best_text, more_text in (
        (up, _improvement, _more_improved),
        (down, _decline, _more_declined),
    ):
        if not group:
            continue
        r, c = group[0]
        b = presentation.block_of(r, headline)
        text = best_text(
            period=previous,
            name=r["name"],
            points=number(abs(100 * c["difference"]), 1),
            before=share(c.get("previous")),
            now=share(b.get("index")),
        )
        if len(group) > 1:
            text += " " + more_text(len(group) - 1)
        out.append(text)
    if not up:
        out.append(_("No agency improved clearly since %(period)s.", period=previous))
    if not down:
        out.append(_("No agency declined clearly since %(period)s.", period=previous))
    return out


def _improvement(**values) -> str:
    return _(
        "Clearest improvement since %(period)s: %(name)s, up %(points)s percentage points "
        "(from %(before)s to %(now)s).",
        **values,
    )


def _decline(**values) -> str:
    return _(
        "Clearest decline since %(period)s: %(name)s, down %(points)s percentage points "
        "(from %(before)s to %(now)s).",
        **values,
    )


def _more_improved(n: int) -> str:
    return ngettext(
        "%(num)d more agency also improved clearly.",
        "%(num)d more agencies also improved clearly.",
        n,
    )


def _more_declined(n: int) -> str:
    return ngettext(
        "%(num)d more agency also declined clearly.",
        "%(num)d more agencies also declined clearly.",
        n,
    )


# -- periods ----------------------------------------------------------------------------


def period_label(label: str | None) -> str:
    try:
        return period_name(label) if label else ""
    except PeriodError:
        return label or ""


def previous_name(report: dict) -> str:
    """The period the changes are measured against, as people say it inside a sentence
    ("tháng 10/2022", "năm 2021" in Vietnamese)."""
    basis = report.get("change_basis") or {}
    try:
        name = period_name(basis.get("period") or Period.parse(report["period"]).previous())
    except (KeyError, PeriodError):
        return _("the previous period")
    return inside(name)


def inside(name: str) -> str:
    """A period's name inside a Vietnamese sentence, as running text writes it: "tháng
    10/2022", "quý I/2022", "năm 2021" (English names keep their capitals)."""
    return name[:1].lower() + name[1:] if current_language() == "vi" else name
