"""Where each role starts: the page a staff member lands on after logging in and from
the staff home (the "Hài Lòng" link), the work that is theirs first."""

from __future__ import annotations

from flask import url_for

from ..auth.models import Role, User


def landing_url(user: User) -> str:
    """The start page of ``user``'s role.

    - coordinators: the queue of every case they see;
    - handlers: their own cases;
    - report readers (leaders, Sở Nội vụ analysts): the report;
    - counter staff (viewers) and administrators: the counters.
    """
    if user.role == Role.coordinator:
        return url_for("cases.queue", scope="all")
    if user.role == Role.handler:
        return url_for("cases.queue", scope="mine")
    if user.role == Role.report_reader:
        return url_for("reports.index")
    return url_for("staff.dashboard")
