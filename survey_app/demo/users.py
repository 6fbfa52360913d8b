"""Demo staff accounts, so a newcomer can log in right after `make run`."""

from __future__ import annotations

from sqlalchemy import select

from ..agencies.models import Agency
from ..auth.models import Role, User
from ..auth.services import DEMO_PASSWORD, create_user
from ..extensions import db

#: (e-mail, name, role, agency code or None). One password for all, :data:`DEMO_PASSWORD`:
#: published, so the password policy refuses it for any other account.
DEMO_USERS = (
    ("admin@demo.hailong.vn", "Quản trị Demo", Role.admin, None),
    ("dieuphoi@demo.hailong.vn", "Điều phối Văn phòng UBND", Role.coordinator, None),
    ("namsach@demo.hailong.vn", "Cán bộ Một cửa Nam Sách", Role.handler, "H-NAMSACH"),
    # the leaders' account reads every agency's report (no feedback case)…
    ("lanhdao@demo.hailong.vn", "Lãnh đạo Sở Nội vụ", Role.report_reader, None),
    # …and a district's leader reads the reports of the district and its communes only
    ("thanhha@demo.hailong.vn", "Lãnh đạo UBND huyện Thanh Hà", Role.viewer, "H-THANHHA"),
)
__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "ensure_demo_users"]


def ensure_demo_users() -> list[str]:
    """Create the demo accounts that are missing, and give those that exist the role and
    agency :data:`DEMO_USERS` says (a demo loaded before the leader read the whole
    province is brought up to date); return the e-mails created or changed."""
    created = []
    for email, name, role, agency_code in DEMO_USERS:
        agency = None
        if agency_code:
            agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
            if agency is None:  # demo structure not loaded: skip scoped accounts
                continue
        existing = db.session.scalar(select(User).where(User.email == email))
        if existing is not None:
            if existing.role != role or existing.agency_id != (agency.id if agency else None):
                existing.role, existing.agency = role, agency
                created.append(email)
            continue
        # the one deliberate bypass of the policy, which refuses this published password
        create_user(email, name, DEMO_PASSWORD, role, agency, enforce_policy=False)
        created.append(email)
    db.session.flush()
    return created
