"""What each kind of notification says, on each channel.

Every kind has an e-mail (subject and body), a short text for SMS (and for Zalo when
falling back to SMS), and the parameters of its Zalo ZNS template. The texts are
msgids translated to Vietnamese (the default locale outside requests); the SMS texts
are written to fit in 3 UCS-2 parts (201 characters) with the longest values they
take (tests/notifications/test_messages.py checks both languages).

Kinds: citizens ``received``, ``needs_info``, ``transferred``, ``answered``,
``rate_invite``, ``state_changed``; staff ``new_case``, ``assigned``, ``reminder``,
``escalation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

CITIZEN_KINDS = (
    "received",
    "needs_info",
    "transferred",
    "answered",
    "rate_invite",
    "state_changed",
)
STAFF_KINDS = ("new_case", "assigned", "reminder", "escalation")
KINDS = CITIZEN_KINDS + STAFF_KINDS

#: Longest agency name put in an SMS (longer ones are cut with "…").
AGENCY_MAX = 40


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Message:
    """One notification, ready for any channel."""

    kind: str
    subject: str
    email_body: str
    #: The SMS text (and the Zalo message's text, used if it falls back to SMS).
    phone_text: str
    #: The Zalo ZNS template's parameters.
    data: dict[str, str] = field(default_factory=dict)


# -- citizens -----------------------------------------------------------------------------
def received(code: str, secret: str, url: str) -> Message:
    """The case was received: its code and tracking number (secret, as printed)."""
    return Message(
        "received",
        _("Your report or proposal %(code)s has been received", code=code),
        _(
            "Case code: %(code)s\nTracking number: %(secret)s\n\nFollow it at %(url)s",
            code=code,
            secret=secret,
            url=url,
        ),
        _(
            "Your report %(code)s was received. Tracking number: %(secret)s. Follow it at %(url)s",
            code=code,
            secret=secret,
            url=url,
        ),
        {"case_code": code, "tracking_number": secret, "link": url},
    )


def needs_info(code: str, state: str, reason: str, url: str) -> Message:
    """The agency needs more information from the citizen."""
    return Message(
        "needs_info",
        _("Case %(code)s: %(state)s", code=code, state=state),
        _(
            "%(what)s\n\nFollow the case at %(url)s with its code and tracking number.",
            what=reason,
            url=url,
        ),
        _(
            "Case %(code)s: the agency needs more information from you. Read what at %(url)s",
            code=code,
            url=url,
        ),
        {"case_code": code, "link": url},
    )


def transferred(code: str, agency: str, url: str) -> Message:
    """The case went to another agency, which will answer it."""
    return Message(
        "transferred",
        _("Case %(code)s was transferred to %(agency)s", code=code, agency=agency),
        _(
            "Your case %(code)s was transferred to %(agency)s, which will handle it.\n\n"
            "Follow the case at %(url)s with its code and tracking number.",
            code=code,
            agency=agency,
            url=url,
        ),
        _(
            "Case %(code)s was transferred to %(agency)s. Follow it at %(url)s",
            code=code,
            agency=_short(agency, AGENCY_MAX),
            url=url,
        ),
        {"case_code": code, "agency": _short(agency, 100), "link": url},
    )


def answered(code: str, state: str, url: str) -> Message:
    """The answer was published: a link to read it."""
    return Message(
        "answered",
        _("Case %(code)s: %(state)s", code=code, state=state),
        _(
            "The answer to your case has been published.\n\nRead it at %(url)s with the "
            "case's code and tracking number.",
            url=url,
        ),
        _("Case %(code)s has been answered. Read the answer at %(url)s", code=code, url=url),
        {"case_code": code, "link": url},
    )


def rate_invite(code: str, url: str) -> Message:
    """An invitation to say whether the answer settles the matter."""
    return Message(
        "rate_invite",
        _("Case %(code)s: are you satisfied with the answer?", code=code),
        _(
            "Please tell us whether the answer to your case %(code)s settles the matter: "
            "open %(url)s, enter the tracking number and choose your rating.",
            code=code,
            url=url,
        ),
        _(
            "Case %(code)s: are you satisfied with the answer? Rate it at %(url)s",
            code=code,
            url=url,
        ),
        {"case_code": code, "link": url},
    )


def state_changed(code: str, state: str, what: str, url: str) -> Message:
    """Any other change the citizen is told about (a rejection, an extension…)."""
    return Message(
        "state_changed",
        _("Case %(code)s: %(state)s", code=code, state=state),
        _(
            "%(what)s\n\nFollow the case at %(url)s with its code and tracking number.",
            what=what,
            url=url,
        ),
        _("Case %(code)s: %(state)s. Details at %(url)s", code=code, state=state, url=url),
        {"case_code": code, "state": state, "link": url},
    )


# -- staff --------------------------------------------------------------------------------
def new_case(code: str, agency: str, due: str, url: str) -> Message:
    """A new case in the queue of the user's agency."""
    return Message(
        "new_case",
        _("New case %(code)s in the queue of %(agency)s", code=code, agency=agency),
        _(
            "The case %(code)s is in the queue of %(agency)s, due on %(date)s.\n%(url)s",
            code=code,
            agency=agency,
            date=due,
            url=url,
        ),
        _("New case %(code)s in your queue, due %(date)s. %(url)s", code=code, date=due, url=url),
        {"case_code": code, "agency": _short(agency, 100), "due_date": due, "link": url},
    )


def assigned(code: str, due: str, url: str) -> Message:
    """A case assigned to the user."""
    return Message(
        "assigned",
        _("Case %(code)s has been assigned to you", code=code),
        _(
            "The case %(code)s has been assigned to you; it is due on %(date)s.\n%(url)s",
            code=code,
            date=due,
            url=url,
        ),
        _("Case %(code)s was assigned to you, due %(date)s. %(url)s", code=code, date=due, url=url),
        {"case_code": code, "due_date": due, "link": url},
    )


def reminder(code: str, state: str, left: int, due: str, url: str) -> Message:
    """A case due in ``left`` working days."""
    return Message(
        "reminder",
        _("Case %(code)s is due in %(n)d working days", code=code, n=left),
        _(
            "The case %(code)s (%(state)s) is due on %(date)s.\n%(url)s",
            code=code,
            state=state,
            date=due,
            url=url,
        ),
        _(
            "Case %(code)s is due in %(n)d working days (%(date)s). %(url)s",
            code=code,
            n=left,
            date=due,
            url=url,
        ),
        {"case_code": code, "days_left": str(left), "due_date": due, "link": url},
    )


def escalation(code: str, agency: str, state: str, due: str, url: str) -> Message:
    """An overdue case, for the coordinators."""
    return Message(
        "escalation",
        _("Overdue: case %(code)s was due on %(date)s", code=code, date=due),
        _(
            "The case %(code)s (%(agency)s, %(state)s) is overdue.\n%(url)s",
            code=code,
            agency=agency,
            state=state,
            url=url,
        ),
        _("Overdue: case %(code)s was due on %(date)s. %(url)s", code=code, date=due, url=url),
        {"case_code": code, "agency": _short(agency, 100), "due_date": due, "link": url},
    )
