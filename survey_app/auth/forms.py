"""Login form."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from ..core.forms import FlaskForm


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
