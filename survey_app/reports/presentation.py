"""How a report reads on the staff pages: one headline, reliability in words, names, periods.

Plain functions of a report dict — live, or a snapshot published by any
earlier version of the service (old snapshots lack newer keys and are read
as they were shown then) — and of the current language. The report
templates get them from the blueprint's context (:func:`template_helpers`).

- **One headline.** ``headline_indicator`` (``REPORT_HEADLINE``) says which
  indicator carries the verdict against the target; the other is the
  explanation. Reports published before the setting existed led with the
  composite index, so that is how they are read again.
- **Reliability.** The NCHS 2017 low-reliability flags of a block, and the
  reason a verdict is withheld, in words (ANALYSIS.md, "Reliability flags").
- **Names.** Elements and items by their names in the questionnaire file of
  the report's version, never by their codes.
- **Pages**: the agencies table's order, what it adds up to, and why a
  user's scope shows no agency.

Periods and numbers are written by :mod:`.wording`.
"""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.i18n import current_language, number, pick
from ..surveys.questionnaire import DEFAULT_VERSION, load_questionnaire
from .estimates import HEADLINES
from .wording import period_name, period_title, points, share, share_range

HEADLINE_LABELS = {
    "q0": _l("Share satisfied overall"),
    "composite": _l("SIPAS index (5 elements)"),
}
HEADLINE_HELP = {
    "q0": _l(
        "The share of respondents who chose “Satisfied” or “Very satisfied” on the overall "
        "question, which everyone answers: the plan's own measure of its target."
    ),
    "composite": _l(
        "The Ministry of Home Affairs' SIPAS index: the average of the five elements of the "
        "questionnaire (access, procedure, officials, result, feedback handling), from those "
        "who answered at least one of its questions."
    ),
}
#: Which respondents a table's n counts, per indicator.
N_LABELS = {
    "q0": _l("Respondents to the overall question"),
    "composite": _l("Respondents to the questionnaire"),
}


def headline_of(report: dict) -> str:
    """The indicator carrying the verdict: ``"q0"`` or ``"composite"`` (reports published
    before the setting existed led with the composite)."""
    value = report.get("headline_indicator")
    return value if value in HEADLINES else "composite"


def explanation_of(report: dict) -> str:
    """The indicator shown beside the headline as its explanation."""
    return "composite" if headline_of(report) == "q0" else "q0"


def block_of(row: dict | None, indicator: str) -> dict:
    """A row's block of ``indicator`` (the composite is the row itself; ``{}`` if absent)."""
    if not row:
        return {}
    if indicator == "q0":
        return row.get("q0") or {}
    return row


# -- reliability ----------------------------------------------------------------------


def reliability_notes(b: dict | None) -> list[str]:
    """Why an estimate is of low reliability (NCHS 2017), in words; empty when it is not.

    Short, to sit under a figure in a table; the thresholds (30 effective
    responses, 8 degrees of freedom, 30 points) are explained once per page.
    """
    if not b or b.get("index") is None:
        return []
    flags = set(b.get("flags") or ())
    notes = []
    if "low_reliability_n" in flags:
        size = b.get("n_use")
        if size is None:  # published before n_use was kept
            notes.append(_("fewer than 30 effective responses"))
        else:
            notes.append(_("only %(n)s effective responses", n=number(size, 1 if size < 10 else 0)))
    if "low_reliability_df" in flags and b.get("df") is not None:
        notes.append(_("only %(df)s degrees of freedom", df=b["df"]))
    if "low_reliability_width" in flags and b.get("ci_low") is not None:
        notes.append(
            _(
                "interval %(width)s points wide",
                width=number(100 * (b["ci_high"] - b["ci_low"]), 0),
            )
        )
    return notes


def insufficient_reason(b: dict | None, min_n: int | None) -> str | None:
    """Why an estimate has no verdict (``insufficient_data``), in words; else None."""
    if not b or b.get("verdict") != "insufficient_data":
        return None
    flags = set(b.get("flags") or ())
    if b.get("index") is None or "not_estimable" in flags or not b.get("n"):
        return _("nobody answered")
    if "small_n" in flags or (min_n and b["n"] < min_n):
        if min_n:
            return _(
                "%(n)s respondents, fewer than the %(min_n)s a verdict needs", n=b["n"], min_n=min_n
            )
        return _("too few respondents for a verdict")
    return _("no interval could be computed")


# -- names from the questionnaire file ------------------------------------------------


@cache
def _names(version: str) -> dict:
    try:
        q = load_questionnaire(version)
    except (LookupError, ValueError):
        if version == DEFAULT_VERSION:
            return {"overall": {}, "elements": {}, "items": {}, "members": {}}
        return _names(DEFAULT_VERSION)
    return {
        "overall": dict(q.overall.text),
        "elements": {e.code: dict(e.text) for e in q.elements},
        "items": {i.code: dict(i.text) for e in q.elements for i in e.items},
        "members": {e.code: [i.code for i in e.items] for e in q.elements},
    }


def names(report: dict) -> dict:
    """The questionnaire's texts for the report's version: ``overall``, ``elements``,
    ``items`` (code → ``{"vi", "en"}``) and ``members`` (element → item codes)."""
    return _names(report.get("questionnaire") or DEFAULT_VERSION)


def element_name(report: dict, code: str) -> str:
    """An element's name in the current language (its code only if the file lacks it)."""
    texts = names(report)["elements"].get(code)
    return pick(texts) if texts else code


def item_name(report: dict, code: str) -> str:
    """An item's text in the current language (the overall question's too)."""
    table = names(report)
    texts = table["items"].get(code)
    if texts is None and code == "Q0":
        texts = table["overall"]
    return pick(texts) if texts else code


def _quoted(text: str) -> str:
    """A questionnaire text quoted inside a sentence: first letter in lower case."""
    return text[:1].lower() + text[1:] if text else text


def _inside(text: str) -> str:
    """An element's name inside an English sentence ("the procedure"); Vietnamese names
    keep their capital, as names of the SIPAS elements."""
    return _quoted(text) if current_language() == "en" else text


def weakest_element(report: dict, row: dict) -> str:
    """One sentence on the weakest element of an agency (or the province), when the data
    support it.

    The elements with a verdict (enough respondents, an interval) are compared.
    The weakest is named only when its interval lies wholly below the best
    one's; then the lowest of its items (with enough respondents) is named as
    the main cause. Otherwise the sentence says the elements do not differ
    clearly, or that too few people answered the questionnaire to compare.
    """
    min_n = report.get("min_n") or 0
    elements = [
        (code, b)
        for code, b in (row.get("elements") or {}).items()
        if b.get("verdict") != "insufficient_data"
        and b.get("index") is not None
        and b.get("ci_low") is not None
        and b.get("ci_high") is not None
    ]
    if len(elements) < 2:
        return _(
            "Too few people answered the questionnaire (%(n)s) to compare its elements.",
            n=number(row.get("n") or 0),
        )
    weakest_code, weakest = min(elements, key=lambda e: e[1]["index"])
    best_code, best = max(elements, key=lambda e: e[1]["index"])
    if not weakest["ci_high"] < best["ci_low"]:
        return _(
            "The elements do not differ clearly: the lowest, %(low)s (%(low_pct)s), and the "
            "highest, %(high)s (%(high_pct)s), are within each other's margin of error.",
            low=_inside(element_name(report, weakest_code)),
            low_pct=share(weakest["index"]),
            high=_inside(element_name(report, best_code)),
            high_pct=share(best["index"]),
        )
    items = [
        (code, row["items"][code])
        for code in names(report)["members"].get(weakest_code, [])
        if code in (row.get("items") or {})
        and row["items"][code].get("index") is not None
        and (row["items"][code].get("n") or 0) >= max(min_n, 1)
    ]
    if not items:
        return _(
            "Weakest: %(element)s (%(pct)s).",
            element=element_name(report, weakest_code),
            pct=share(weakest["index"]),
        )
    item_code, item = min(items, key=lambda i: i[1]["index"])
    return _(
        "Weakest: %(element)s (%(pct)s), mainly because of “%(item)s” (%(item_pct)s).",
        element=element_name(report, weakest_code),
        pct=share(weakest["index"]),
        item=_quoted(item_name(report, item_code)),
        item_pct=share(item["index"]),
    )


# -- pages -------------------------------------------------------------------------------


def sorted_rows(rows: list[dict], sort: str, indicator: str) -> list[dict]:
    """Rows sorted by the headline ``indicator``'s lower bound, index, n, or by name."""

    def value(r, key):
        return block_of(r, indicator).get(key)

    def missing_last(key):
        return lambda r: (value(r, key) is None, -(value(r, key) or 0))

    if sort == "lower":
        return sorted(rows, key=missing_last("ci_low"))
    if sort == "index":
        return sorted(rows, key=missing_last("index"))
    if sort == "n":
        return sorted(rows, key=lambda r: -(value(r, "n") or 0))
    return sorted(rows, key=lambda r: r["name"])


def totals(rows: list[dict], quiet: list[dict]) -> dict:
    """What the agencies table adds up to: respondents to each indicator, dossiers."""
    return {
        "q0": sum((r.get("q0") or {}).get("n") or 0 for r in rows),
        "composite": sum(r.get("n") or 0 for r in rows),
        "dossiers": sum(r.get("dossiers") or 0 for r in rows)
        + sum(r.get("dossiers") or 0 for r in quiet),
        "agencies": len(rows) + len(quiet),
    }


def scope_note(report: dict, rows: list[dict], quiet: list[dict], user) -> str | None:
    """Why a report that has data shows no agency to this user, in words (else None)."""
    if report.get("empty") or rows or quiet:
        return None
    if user.sees_whole_province:
        return _(
            "No agency has a counter or handled dossiers in this period, so there is no agency "
            "to report on."
        )
    if user.agency is None:
        return _(
            "Your account is not attached to an agency, so it reads no agency's report. An "
            "administrator can attach it to an agency."
        )
    return _(
        "Your account reads the reports of %(agency)s and the agencies under it. None of them "
        "has a counter or handled dossiers in this period, so there is nothing to report for "
        "them: citizens rate the offices where they carry out procedures. Every agency's "
        "figures are read by province-wide accounts.",
        agency=user.agency.name,
    )


def template_helpers() -> dict:
    """What the report templates call (the reports blueprint's context)."""
    return {
        "headline_of": headline_of,
        "explanation_of": explanation_of,
        "block_of": block_of,
        "headline_label": lambda k: HEADLINE_LABELS.get(k, k),
        "headline_help": lambda k: HEADLINE_HELP.get(k, ""),
        "n_label": lambda k: N_LABELS.get(k, ""),
        "share": share,
        "share_range": share_range,
        "points": points,
        "reliability_notes": reliability_notes,
        "insufficient_reason": insufficient_reason,
        "element_name": element_name,
        "item_name": item_name,
        "element_items": lambda report, code: names(report)["members"].get(code, []),
        "weakest_element": weakest_element,
        "period_name": period_name,
        "period_title": period_title,
    }
