"""The coordinator's page: how many "result returned" events came in, how many were
invited, and how many answered, in a period and the viewer's scope."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from ..auth.permissions import Permission, requires
from ..core.forms import FlaskForm
from ..core.time import local_day_bounds_utc, local_today
from . import services
from .models import Outcome

bp = Blueprint("invites", __name__, url_prefix="/staff/invites")

#: Longest period the page counts at once.
MAX_DAYS = 366

OUTCOME_LABELS = {
    Outcome.invited: _l("Invited by SMS"),
    Outcome.not_sampled: _l("Not drawn for an invitation"),
    Outcome.recently_invited: _l("Number invited earlier in the period"),
    Outcome.opted_out: _l("Number refuses messages"),
    Outcome.stale: _l("Result returned too long ago"),
}
RETURN_LABELS = {
    "counter": _l("At a counter"),
    "online": _l("Online"),
    "post": _l("By post"),
}


class _DayField(DateField):
    """A date (``2026-03-31``, as a browser's date picker sends it) with a translated error."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("The date must look like 2026-03-31.")) from None


class PeriodForm(FlaskForm):
    """The days to count (local dates, both included)."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    first = _DayField(_l("From"), validators=[Optional()])
    last = _DayField(_l("To"), validators=[Optional()])

    def validate_last(self, field) -> None:
        first, last = self.first.data, field.data
        if first is not None and last is not None:
            if first > last:
                raise ValidationError(_("The last day must not be before the first."))
            if (last - first).days >= MAX_DAYS:
                raise ValidationError(_("Choose at most %(n)d days.", n=MAX_DAYS))


def _days(form: PeriodForm) -> tuple[date, date]:
    last = form.last.data or local_today()
    first = form.first.data or last - timedelta(days=29)
    if first > last:
        first = last - timedelta(days=29)
    return first, last


@bp.get("/")
@requires(Permission.view_reports)
def stats():
    """Events received, invitations sent and answered, in a period (last 30 days by default)."""
    form = PeriodForm(request.args)
    valid = form.validate() if request.args else True
    first, last = _days(form) if valid else (None, None)
    counts = None
    if valid:
        start, _end = local_day_bounds_utc(first)
        _start, end = local_day_bounds_utc(last)
        scope = None if current_user.sees_whole_province else current_user.agency
        if scope is not None or current_user.sees_whole_province:
            counts = services.counts(start, end, scope)
        else:
            counts = services.Counts(0, 0, 0, {o.value: 0 for o in Outcome}, {})
    return (
        render_template(
            "invites/stats.html",
            form=form,
            counts=counts,
            first=first,
            last=last,
            outcome_labels={k.value: v for k, v in OUTCOME_LABELS.items()},
            return_labels=RETURN_LABELS,
        ),
        200 if valid else 400,
    )
