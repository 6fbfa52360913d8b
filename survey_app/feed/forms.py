"""The webhook subscription form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import FlaskForm
from .delivery import url_problem
from .events import EVENT_TYPES
from .services import SECRET_PATTERN

#: What each event type means, as the admin page says it.
EVENT_LABELS = {
    "case.received": _l("A case was received"),
    "case.screening": _l("Screening started"),
    "case.info_requested": _l("The citizen was asked for information"),
    "case.info_received": _l("The citizen's information arrived"),
    "case.rejected": _l("The case was not accepted"),
    "case.redirected_complaint": _l("Redirected as a complaint"),
    "case.transferred": _l("Transferred"),
    "case.accepted": _l("Accepted by an agency"),
    "case.assigned": _l("Given to a handler"),
    "case.in_progress": _l("Being answered"),
    "case.answered": _l("Answered, awaiting approval"),
    "case.approved": _l("Answer approved"),
    "case.published": _l("Answer published (with the answer)"),
    "case.closed": _l("Closed"),
    "case.reopened": _l("Reopened"),
    "case.deadline_extended": _l("Deadline extended"),
    "case.reclassified": _l("Reclassified (report, proposal or complaint)"),
}
assert set(EVENT_LABELS) == set(EVENT_TYPES)

_required = DataRequired(message=_l("This field is required."))


class WebhookForm(FlaskForm):
    """Where the feed's events are sent, which ones, and whether they are sent now."""

    name = StringField(
        _l("Name"),
        validators=[_required, Length(max=255, message=_l("At most %(n)d characters.", n=255))],
    )
    url = StringField(
        _l("Address (URL) that receives the events"),
        validators=[_required, Length(max=2000, message=_l("At most %(n)d characters.", n=2000))],
    )
    event_types = SelectMultipleField(
        _l("Events sent (none ticked: every event)"),
        choices=[SelectChoice(value, label) for value, label in EVENT_LABELS.items()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=True,
    )
    active = BooleanField(_l("Send events now (untick to pause)"), default=True)

    def validate_url(self, field) -> None:
        problem = url_problem((field.data or "").strip())
        if problem:
            raise ValidationError(problem)


class NewWebhookForm(WebhookForm):
    """A new subscription: the secret may come from the receiver, else one is made."""

    secret = StringField(
        _l("Signing secret (leave empty to have one generated)"),
        validators=[Optional()],
    )

    def validate_secret(self, field) -> None:
        if field.data and not SECRET_PATTERN.fullmatch(field.data.strip()):
            raise ValidationError(
                _l("A secret has 24 to 128 letters, digits or signs, without spaces.")
            )
