"""Plain factory functions for test data. Each flushes and returns the object."""

from __future__ import annotations

import itertools

from survey_app.agencies import services as agency_services
from survey_app.agencies.models import Agency, AgencyKind, Counter, Procedure, ProcedureField
from survey_app.auth.models import Role, User
from survey_app.auth.services import create_user
from survey_app.extensions import db

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def agency(
    name: str | None = None,
    parent: Agency | None = None,
    kind=AgencyKind.department,
    code: str | None = None,
) -> Agency:
    n = next(_seq)
    return agency_services.create_agency(
        code or f"AG{n}", name or f"Sở thử nghiệm {n}", parent, kind
    )


def counter(
    agency_: Agency | None = None, name: str | None = None, code: str | None = None
) -> Counter:
    agency_ = agency_ or agency()
    return agency_services.create_counter(
        agency_, name or f"Quầy số {next(_seq)}", "Tầng 1", code=code
    )


def field(code: str | None = None, name: str = "Hộ tịch") -> ProcedureField:
    f = ProcedureField(code=code or f"F{next(_seq)}", name=name)
    db.session.add(f)
    db.session.flush()
    return f


def procedure(
    agency_: Agency | None = None, field_: ProcedureField | None = None, code: str | None = None
) -> Procedure:
    p = Procedure(
        code=code or f"1.00{next(_seq):04d}",
        name="Đăng ký khai sinh",
        field=field_ or field(),
        agency=agency_,
    )
    db.session.add(p)
    db.session.flush()
    return p


def user(role: Role = Role.admin, agency_: Agency | None = None, email: str | None = None) -> User:
    return create_user(
        email or f"user{next(_seq)}@example.gov.vn", "Nguyễn Văn A", PASSWORD, role, agency_
    )
