"""Forms of the report pages: who is sent the periodic reports by e-mail."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.models import Role
from ..core.forms import FlaskForm

#: The kinds of periodic report one may subscribe to, as the form offers them.
KIND_CHOICES = (
    ("month", _l("Monthly")),
    ("quarter", _l("Quarterly")),
    ("half", _l("Half-yearly")),
    ("year", _l("Yearly")),
)


class SubscriptionForm(FlaskForm):
    """Send the periodic reports to every account with a role, or to one address."""

    recipient = RadioField(
        _l("Recipient"),
        choices=[
            SelectChoice("role", _l("Every active account with a role (each gets its own scope)")),
            SelectChoice("email", _l("An address outside Hài Lòng (gets the province's report)")),
        ],
        default="role",
    )
    role = SelectField(_l("Role"), validators=[Optional()])
    email = EmailField(
        _l("E-mail"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            Optional(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=255, message=_l("At most %(n)d characters.", n=255)),
        ],
    )
    kinds = SelectMultipleField(
        _l("Reports"),
        choices=[SelectChoice(value, label) for value, label in KIND_CHOICES],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..staff.forms import role_label

        self.role.choices = [SelectChoice("", "—")] + [
            SelectChoice(r.value, role_label(r)) for r in Role
        ]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        ok = True
        if self.recipient.data == "role" and self.role.data not in {r.value for r in Role}:
            self.role.errors.append(_l("Choose the role whose accounts receive the reports."))
            ok = False
        if self.recipient.data == "email" and not (self.email.data or "").strip():
            self.email.errors.append(_l("Enter the e-mail address that receives the reports."))
            ok = False
        if not self.kinds.data:
            self.kinds.errors.append(_l("Choose at least one report."))
            ok = False
        return ok
