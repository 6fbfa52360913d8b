"""Review of the responses the ballot-stuffing screening quarantined: list, restore, confirm.

Coordinators and admins see the bursts of their scope; restoring or confirming
one needs a province-wide account, since an agency's staff would otherwise
judge the ratings of their own agency. Every decision is in the audit log.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..auth.permissions import Permission, requires
from ..core.params import form_text, page_number, parse_id
from ..extensions import db
from ..surveys import screening
from ..surveys.models import BurstState, ResponseBurst
from .views import bp

STATES = {
    "quarantined": _l("Waiting for review"),
    "confirmed": _l("Confirmed: ballot stuffing"),
    "restored": _l("Restored: counted"),
}
RULES = {
    "counter": _l("more responses at the counter than its usual rate allows"),
    "address": _l("too many responses from one address"),
    "client": _l("too many responses from one address and browser"),
}
WINDOWS = {600: _l("10 minutes"), 3600: _l("1 hour"), 86400: _l("24 hours")}
#: Longest note a reviewer may write.
NOTE_MAX = 500
PAGE_SIZE = 50


@bp.get("/quarantine")
@requires(Permission.review_quarantine)
def quarantine():
    """Bursts of responses the screening quarantined, in the user's scope, newest first."""
    shown = request.args.get("state", "quarantined")
    state = BurstState(shown) if shown in STATES else None
    if shown not in STATES:
        shown = "all"
    page = page_number(request.args.get("page"))
    query = screening.visible_bursts(current_user, state).options(
        joinedload(ResponseBurst.counter),
        joinedload(ResponseBurst.agency),
        joinedload(ResponseBurst.reviewed_by),
    )
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "reports/quarantine.html",
        bursts=rows[:PAGE_SIZE],
        has_more=len(rows) > PAGE_SIZE,
        page=page,
        shown=shown,
        states=STATES,
        rules=RULES,
        windows=WINDOWS,
        can_review=current_user.sees_whole_province,
        note_max=NOTE_MAX,
    )


@bp.post("/quarantine/review")
@requires(Permission.review_quarantine)
def quarantine_review():
    """Restore a burst's responses to the reports, or confirm them as ballot stuffing."""
    if not current_user.sees_whole_province:
        abort(
            403,
            description=_(
                "Only a province-wide coordinator or administrator restores or confirms "
                "quarantined responses."
            ),
        )
    burst = db.session.get(ResponseBurst, parse_id(request.form.get("burst")) or 0)
    if burst is None:
        abort(404)
    action = request.form.get("action")
    note = form_text("note")
    if action not in ("restore", "confirm"):
        abort(400, description=_("Choose to restore or to confirm the burst."))
    if len(note) > NOTE_MAX:
        abort(400, description=_("The note has at most %(n)d characters.", n=NOTE_MAX))
    if action == "restore":
        screening.restore(burst, current_user, note)
        message = _("%(n)d responses restored: the reports count them again.", n=burst.n_responses)
    else:
        screening.confirm(burst, current_user, note)
        message = _(
            "%(n)d responses confirmed as ballot stuffing: the reports leave them out.",
            n=burst.n_responses,
        )
    db.session.commit()
    flash(message, "success")
    state = request.form.get("state")
    return redirect(url_for(".quarantine", state=state if state in STATES else None), code=303)
