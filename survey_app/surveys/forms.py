"""Survey forms. Labels come from the questionnaire file; messages are translated here."""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.forms import FlaskForm
from .questionnaire import Questionnaire
from .steps import Screen, ScreenKind, question_screen

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


class ScreenFormBase(FlaskForm):
    """One screen of the optional questionnaire: an element's items, or the visit questions."""

    #: Which response the page was built for (see ``views._page_key``): a page left
    #: open from an earlier rating must not write into the latest one.
    response = HiddenField(label="")

    screen: Screen  # set on each built class

    def ratings(self) -> dict[str, int | None]:
        """Answered items: item code → 1–5, or None for "not applicable"."""
        out: dict[str, int | None] = {}
        if self.screen.kind is ScreenKind.element:
            for code in self.screen.codes:
                value = self[code].data
                if value:
                    out[code] = None if value == NOT_APPLICABLE else int(value)
        return out

    def factual_answers(self) -> dict[str, int | str | None]:
        """Answered factual and profile questions, with the questionnaire's typed values."""
        out: dict[str, int | str | None] = {}
        if self.screen.kind is ScreenKind.visit:
            for question in self.screen.questions:
                value = self[question.code].data
                if value:
                    out[question.code] = {str(o.value): o.value for o in question.options}[value]
        return out


@cache
def screen_form_class(questionnaire: Questionnaire, number: int) -> type[ScreenFormBase]:
    """The form class of question screen ``number`` (built once per version and screen).

    :raises LookupError: if ``number`` is not a question screen of ``questionnaire``.
    """
    screen = question_screen(questionnaire, number)
    if screen is None:
        raise LookupError(f"no question screen {number} in {questionnaire.version}")
    attrs: dict = {"screen": screen}
    if screen.kind is ScreenKind.element:
        scale = [SelectChoice(str(o.value)) for o in questionnaire.scale]
        for code in screen.codes:
            attrs[code] = RadioField(
                choices=[*scale, SelectChoice(NOT_APPLICABLE)],
                validators=[Optional()],
                validate_choice=True,
            )
    else:
        for question in screen.questions:
            attrs[question.code] = RadioField(
                choices=[SelectChoice(str(o.value)) for o in question.options],
                validators=[Optional()],
            )
    name = f"ScreenForm_{questionnaire.version}_{number}"
    form_class = type(name, (ScreenFormBase,), attrs)
    form_class.invalid_choice_message = _l("Please choose one of the options shown.")  # type: ignore[attr-defined]
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
    #: Which response the page was built for (as on the question screens).
    response = HiddenField(label="")

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
