"""Forms for the admin pages: agencies, counters, users."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from ..agencies import services as agency_services
from ..agencies.models import Agency, AgencyKind
from ..agencies.services import visible_agencies
from ..auth.models import Role, User
from ..auth.services import password_problems
from ..core.collation import tree_sorted
from ..core.forms import FlaskForm
from ..core.params import parse_id
from ..extensions import db

#: DataRequired, not InputRequired: a value of spaces (or of control characters, which
#: the form cleans away) is no value
_required = DataRequired(message=_l("This field is required."))


def agency_choices(include_none: bool, none_label, within=None) -> list[SelectChoice]:
    """Agencies as indented choices, in tree order, siblings in Vietnamese alphabetical order.

    :param within: only the agencies this user's scope includes (and no "none"
        choice unless the user sees the whole province).
    """
    query = select(Agency).order_by(Agency.path)
    if within is not None:
        query = visible_agencies(within)
        include_none = include_none and within.sees_whole_province
    agencies = tree_sorted(db.session.scalars(query).all())
    choices = [SelectChoice("", str(none_label))] if include_none else []
    choices += [SelectChoice(str(a.id), "— " * a.depth + a.name) for a in agencies]
    return choices


def kind_label(kind: AgencyKind) -> str:
    return str(
        {
            AgencyKind.province: _l("Province"),
            AgencyKind.department: _l("Department"),
            AgencyKind.district: _l("District level (abolished on 1 July 2025)"),
            AgencyKind.commune: _l("Commune"),
            AgencyKind.other: _l("Other"),
        }[kind]
    )


def role_label(role: Role) -> str:
    return str(
        {
            Role.admin: _l("Administrator"),
            Role.coordinator: _l("Coordinator"),
            Role.handler: _l("Agency handler"),
            Role.viewer: _l("Viewer"),
            Role.report_reader: _l("Province-wide report reader"),
        }[role]
    )


class AgencyForm(FlaskForm):
    """Create or edit an agency."""

    code = StringField(
        _l("Code"),
        validators=[
            _required,
            Length(max=40, message=_l("At most %(n)d characters.", n=40)),
            Regexp(
                r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, dot, dash and underscore only.")
            ),
        ],
    )
    name = StringField(
        _l("Name"),
        validators=[_required, Length(max=255, message=_l("At most %(n)d characters.", n=255))],
    )
    kind = SelectField(_l("Kind"), validators=[_required])
    parent_id = SelectField(_l("Parent agency"), validators=[Optional()])
    is_active = BooleanField(_l("Active"), default=True)
    #: Where complaints and denunciations about the agency go (shown to redirected citizens).
    complaint_body_name = StringField(
        _l("Body that receives complaints and denunciations"),
        validators=[Optional(), Length(max=255, message=_l("At most %(n)d characters.", n=255))],
    )
    complaint_body_address = StringField(
        _l("Its address"),
        validators=[Optional(), Length(max=500, message=_l("At most %(n)d characters.", n=500))],
    )
    complaint_body_phone = StringField(
        _l("Its phone"),
        validators=[Optional(), Length(max=60, message=_l("At most %(n)d characters.", n=60))],
    )

    def __init__(self, *args, agency: Agency | None = None, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.kind.choices = [SelectChoice(k.value, kind_label(k)) for k in AgencyKind]
        # An admin of one agency places agencies within it only; the agency's
        # present parent stays a choice, so that it can be saved where it is.
        choices = agency_choices(True, _l("(none: top level)"), within=editor)
        if agency is not None and not any(c.value == str(agency.parent_id or "") for c in choices):
            parent = agency.parent
            choices.insert(
                0,
                SelectChoice(
                    str(agency.parent_id or ""), parent.name if parent else _l("(none: top level)")
                ),
            )
        self.parent_id.choices = choices
        self._may_be_top_level = any(c.value == "" for c in choices)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.parent_id.data and not self._may_be_top_level:
            # (Optional() lets an empty choice through before the choices are checked)
            self.parent_id.errors = [_l("Choose the parent agency.")]
            return False
        return True

    def validate_code(self, field) -> None:
        existing = db.session.scalar(select(Agency).where(Agency.code == field.data.strip()))
        if existing is not None and existing is not self.agency:
            raise ValidationError(_l("Another agency already uses this code."))

    def validate_parent_id(self, field) -> None:
        parent_id = parse_id(field.data)
        if parent_id is None:
            return
        parent = db.session.get(Agency, parent_id)
        if parent is None:
            return
        if self.agency is not None and parent.is_within(self.agency):
            raise ValidationError(
                _l("An agency cannot be placed under itself or its own sub-agencies.")
            )
        if agency_services.too_deep(parent, self.agency):
            raise ValidationError(
                _l("Agencies can be at most %(n)d levels down.", n=agency_services.MAX_DEPTH)
            )


class CounterForm(FlaskForm):
    """Create or edit a counter (service point)."""

    name = StringField(
        _l("Name"),
        validators=[_required, Length(max=255, message=_l("At most %(n)d characters.", n=255))],
    )
    agency_id = SelectField(_l("Agency"), validators=[_required])
    location = StringField(
        _l("Location"),
        validators=[Optional(), Length(max=255, message=_l("At most %(n)d characters.", n=255))],
    )
    is_active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = agency_choices(False, "")


class UserForm(FlaskForm):
    """Create or edit a staff account."""

    email = EmailField(
        _l("E-mail"),
        validators=[_required, Email(message=_l("Enter a valid e-mail address.")), Length(max=255)],
    )
    full_name = StringField(
        _l("Full name"),
        validators=[_required, Length(max=255, message=_l("At most %(n)d characters.", n=255))],
    )
    role = SelectField(_l("Role"), validators=[_required])
    agency_id = SelectField(_l("Agency"), validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=500)])
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, user: User | None = None, editor: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # an administrator of one agency gives out accounts within that agency only (so
        # never the province-wide report reader's role)
        self.editor = editor
        self.role.choices = [
            SelectChoice(r.value, role_label(r))
            for r in Role
            if r != Role.report_reader or editor is None or editor.sees_whole_province
        ]
        self.agency_id.choices = agency_choices(True, _l("(whole province)"), within=editor)

    def validate_email(self, field) -> None:
        email = field.data.strip().lower()
        existing = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if existing is not None and existing is not self.user:
            raise ValidationError(_l("Another account already uses this e-mail."))

    def validate_password(self, field) -> None:
        if self.user is None and not field.data:
            raise ValidationError(_l("Set a password for the new account."))
        if field.data:
            problems = password_problems(field.data, self.email.data or "")
            if problems:
                raise ValidationError(" ".join(problems))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.role.data in (Role.handler, Role.viewer) and not self.agency_id.data:
            self.agency_id.errors.append(_l("Handlers and viewers must belong to an agency."))
            return False
        # (an administrator of one agency is not offered the role: see __init__)
        if self.role.data == Role.report_reader and self.agency_id.data:
            self.agency_id.errors.append(
                _l(
                    "A province-wide report reader reads every agency's reports: "
                    "choose “(whole province)”."
                )
            )
            return False
        if (
            self.editor is not None
            and not self.editor.sees_whole_province
            and not self.agency_id.data
        ):
            # Optional() lets the empty choice through even when it is not offered
            self.agency_id.errors.append(_l("Choose an agency within your own."))
            return False
        return True
