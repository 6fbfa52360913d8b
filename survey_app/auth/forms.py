"""Login and change-password forms."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from ..core.forms import FlaskForm
from .services import password_problems, verify_password


class LoginForm(FlaskForm):
    """Staff login with e-mail and password."""

    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(message=_l("Enter your e-mail.")), Length(max=255)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(message=_l("Enter your password.")), Length(max=500)],
    )


class ChangePasswordForm(FlaskForm):
    """A staff member changes their own password."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(message=_l("Enter your current password.")), Length(max=500)],
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[InputRequired(message=_l("Enter a new password.")), Length(max=500)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(message=_l("Enter the new password again.")),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        #: Set when the current password given was checked and wrong (it counts as a
        #: wrong password at login does).
        self.wrong_current_password = False

    def validate_current_password(self, field) -> None:
        if not verify_password(self.user, field.data):
            self.wrong_current_password = True
            raise ValidationError(_l("This is not your current password."))

    def validate_new_password(self, field) -> None:
        problems = password_problems(field.data, self.user.email)
        if not problems and verify_password(self.user, field.data):
            problems = [_("The new password must differ from the current one.")]
        if problems:
            raise ValidationError(" ".join(problems))
