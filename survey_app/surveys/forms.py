"""Survey forms. Labels come from the questionnaire file; messages are translated here."""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.forms import FlaskForm
from .questionnaire import Questionnaire

NOT_APPLICABLE = "na"
COMMENT_MAX_LENGTH = 2000
#: What the five faces of step 1 send.
FACE_VALUES = frozenset({"1", "2", "3", "4", "5"})


class OverallForm(FlaskForm):
    """Step 1: the overall rating, one tap on a face."""

    class Meta:
        # The app-wide CSRFProtect checks the token of every POST before the view
        # runs; the form's own field would sign a fresh token on every tap only
        # to throw it away. The page renders the token with csrf_token().
        csrf = False

    # Labels are explicit (the page shows the questionnaire's own question), so
    # WTForms does not translate a default label for every tap.
    overall = IntegerField(
        label="",
        validators=[
            InputRequired(message=_l("Please tap one of the five faces.")),
            NumberRange(1, 5, message=_l("Please tap one of the five faces.")),
        ],
    )
    #: Signed time the page was shown, for the completion time.
    started = HiddenField(label="")

    @staticmethod
    def tapped_face(formdata) -> int | None:
        """The face tapped, when ``formdata`` carries exactly one of the values the page sends.

        Building this form costs about as much as the tap's INSERT, so a tap that
        sends what the five buttons send is read without it. Anything else (no
        value, out of range, text, padded) gives ``None``: the form is then built
        and validated as usual, accepting what it accepts and saying why not.
        """
        value = formdata.get("overall")
        return int(value) if value in FACE_VALUES else None


class DetailsFormBase(FlaskForm):
    """Step 2: the five-element questionnaire, the factual questions and the profile."""

    def ratings(self, questionnaire: Questionnaire) -> dict[str, int | None]:
        """Answered items: item code → 1–5, or None for "not applicable"."""
        out: dict[str, int | None] = {}
        for code in questionnaire.item_codes:
            value = self[code].data
            if value:
                out[code] = None if value == NOT_APPLICABLE else int(value)
        return out

    def factual_answers(self, questionnaire: Questionnaire) -> dict[str, int | str | None]:
        out: dict[str, int | str | None] = {}
        for question in questionnaire.factual + questionnaire.profile:
            value = self[question.code].data
            if not value:
                continue
            typed = {str(o.value): o.value for o in question.options}
            out[question.code] = typed[value]
        return out


@cache
def details_form_class(questionnaire: Questionnaire) -> type[DetailsFormBase]:
    """A form class for this questionnaire version (built once per version)."""
    invalid = _l("Please choose one of the options shown.")
    attrs = {}
    scale = [SelectChoice(str(o.value)) for o in questionnaire.scale]
    for code in questionnaire.item_codes:
        attrs[code] = RadioField(
            choices=[*scale, SelectChoice(NOT_APPLICABLE)],
            validators=[Optional()],
            validate_choice=True,
        )
    for question in questionnaire.factual + questionnaire.profile:
        attrs[question.code] = RadioField(
            choices=[SelectChoice(str(o.value)) for o in question.options],
            validators=[Optional()],
        )
    form_class = type(f"DetailsForm_{questionnaire.version}", (DetailsFormBase,), attrs)
    form_class.invalid_choice_message = invalid  # type: ignore[attr-defined]
    return form_class


class CommentForm(FlaskForm):
    """Step 3: an optional suggestion, and whether to file it as formal feedback."""

    comment = TextAreaField(
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX_LENGTH,
                message=_l(
                    "Please keep your suggestion under %(n)d characters.", n=COMMENT_MAX_LENGTH
                ),
            ),
        ]
    )
    wants_feedback = BooleanField()

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.wants_feedback.data and not (self.comment.data or "").strip():
            # (not an inline validator: Optional() stops the field's chain when it is empty)
            self.comment.errors = [
                _l("Write your suggestion first: it is what would be handled as a report.")
            ]
            return False
        return True
