"""Forms for feedback: the public form, the complaint redirect, tracking, the citizen's verdict.

The public forms check their CSRF token themselves (their views are exempt from the
app-wide check): an expired page is then shown again with everything the citizen
typed, and a message, instead of an error page that loses it all.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from ..core import phones
from ..core.forms import FlaskForm
from .services import CONTENT_MAX, PHONE, normalise_phone


class FeedbackForm(FlaskForm):
    """The public form for a report (phản ánh) or a proposal (kiến nghị).

    Complaints and denunciations are chosen before it (the choice page) or, when the
    text's words suggest one, confirmed after it (``complaint_answer``).
    """

    kind = RadioField(
        _l("Is it a report or a proposal?"),
        choices=[
            SelectChoice(
                "report",
                _l("A report (phản ánh): a procedure or how it is carried out causes a problem"),
            ),
            SelectChoice(
                "proposal", _l("A proposal (kiến nghị): a regulation or practice should change")
            ),
        ],
        validators=[InputRequired(message=_l("Choose whether it is a report or a proposal."))],
    )
    procedure_query = StringField(
        _l("Find the procedure concerned"), validators=[Optional(), Length(max=200)]
    )
    procedure_id = RadioField(
        _l("Procedure"), choices=[], validators=[Optional()], validate_choice=False
    )
    agency_id = SelectField(_l("Or the agency concerned"), validators=[Optional()])
    content = TextAreaField(
        _l("Content"),
        validators=[
            Optional(),
            Length(max=CONTENT_MAX, message=_l("At most %(n)d characters.", n=CONTENT_MAX)),
        ],
    )
    attachments = MultipleFileField(_l("Attachments (optional): photos or PDF"))
    submitter_name = StringField(_l("Full name"), validators=[Optional(), Length(max=255)])
    contact_phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=40), phones.MobilePhone()]
    )
    contact_email = EmailField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=255),
            Email(message=_l("Enter a valid e-mail address.")),
        ],
    )
    address = StringField(_l("Address (optional)"), validators=[Optional(), Length(max=500)])
    #: The citizen's answer when words of the text suggested a complaint or denunciation:
    #: ``feedback`` (send it as a report or proposal) or ``complaint`` (tell me where to go).
    complaint_answer = RadioField(
        _l("Is this a complaint or a denunciation?"),
        choices=[
            SelectChoice(
                "feedback",
                _l("No: it is a report or proposal. Send it to be handled and answered."),
            ),
            SelectChoice(
                "complaint",
                _l("Yes: it is a complaint or denunciation. Tell me where to send it."),
            ),
        ],
        validators=[Optional()],
    )
    #: A random key of the form's page: its sendings are one case (a double click).
    #: (any other value is ignored, not refused: services.idempotency_key)
    submit_key = HiddenField()

    def validate_contact_phone(self, field) -> None:
        if field.data and not PHONE.match(normalise_phone(field.data) or ""):
            raise ValidationError(_l("Enter a Vietnamese phone number, e.g. 0912 345 678."))


class ComplaintForm(FlaskForm):
    """The agency a complaint or denunciation is about: where the citizen is sent."""

    agency_id = SelectField(_l("Which agency is it about?"), validators=[Optional()])
    #: As on :class:`FeedbackForm`: the page's sendings are one record.
    submit_key = HiddenField()


class TrackForm(FlaskForm):
    """Look a case up with its code and secret."""

    code = StringField(
        _l("Case code"),
        validators=[InputRequired(message=_l("Enter the case code.")), Length(max=20)],
    )
    secret = StringField(
        _l("Tracking number"),
        # (12 digits, typed with the spaces or dashes they are printed with)
        validators=[InputRequired(message=_l("Enter the tracking number.")), Length(max=40)],
    )


class VerdictForm(FlaskForm):
    """The citizen agrees or disagrees with the published answer."""

    verdict = RadioField(
        choices=[
            SelectChoice("agree", _l("I agree with the answer")),
            SelectChoice("disagree", _l("I do not agree: please look at it again")),
        ],
        validators=[InputRequired(message=_l("Say whether you agree with the answer."))],
    )
    reason = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=2000)])
    #: The case's version when the page was shown (a change since then is not rated blind).
    version = HiddenField(validators=[Optional(), Length(max=12)])
