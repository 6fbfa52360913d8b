"""Agencies and counters: creation, moves in the tree, public codes, scoping."""

from __future__ import annotations

import secrets

from sqlalchemy import Select, select, update

from ..extensions import db
from .models import Agency, AgencyKind, Counter

#: Counter codes avoid characters that are confused when typed from a poster.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
#: Levels below the top (province → commune is 1; a department's sub-units, or the
#: district level before July 2025, add more). ``Agency.path`` holds one id per level
#: in 500 characters: 30 levels of ten-digit ids still fit.
MAX_DEPTH = 30


def new_counter_code() -> str:
    """A random, unused public counter code (6 characters, ~1 billion possibilities)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(Counter.id).where(Counter.code == code)) is None:
            return code


def _set_path(agency: Agency) -> None:
    parent_path = agency.parent.path if agency.parent is not None else "/"
    agency.path = f"{parent_path}{agency.id}/"


def subtree_height(agency: Agency) -> int:
    """Levels below ``agency`` in its subtree (0 for an agency without sub-agencies)."""
    paths = db.session.scalars(select(Agency.path).where(subtree_filter(agency)))
    return max((path.count("/") for path in paths), default=agency.path.count("/")) - (
        agency.path.count("/")
    )


def too_deep(parent: Agency | None, agency: Agency | None = None) -> bool:
    """True if placing ``agency`` (and its subtree) or a new agency under ``parent``
    would put an agency more than :data:`MAX_DEPTH` levels down."""
    if parent is None:
        return False
    height = subtree_height(agency) if agency is not None and agency.id else 0
    return parent.depth + 1 + height > MAX_DEPTH


def create_agency(
    code: str, name: str, parent: Agency | None = None, kind: AgencyKind = AgencyKind.other
) -> Agency:
    """Add an agency under ``parent`` (or as a root).

    :raises ValueError: if it would be more than :data:`MAX_DEPTH` levels down.
    """
    if too_deep(parent):
        raise ValueError(f"agencies can be at most {MAX_DEPTH} levels down")
    agency = Agency(code=code.strip(), name=name.strip(), parent=parent, kind=kind)
    db.session.add(agency)
    db.session.flush()  # the id is part of the path
    _set_path(agency)
    db.session.flush()
    return agency


def move_agency(agency: Agency, new_parent: Agency | None) -> Agency:
    """Re-parent ``agency`` and rewrite the paths of its whole subtree.

    :raises ValueError: if ``new_parent`` is the agency itself or one of its descendants,
        or if the subtree would reach more than :data:`MAX_DEPTH` levels down.
    """
    if new_parent is not None and new_parent.is_within(agency):
        raise ValueError("an agency cannot be moved under itself")
    if too_deep(new_parent, agency):
        raise ValueError(f"agencies can be at most {MAX_DEPTH} levels down")
    old_path = agency.path
    agency.parent = new_parent
    _set_path(agency)
    new_path = agency.path
    db.session.flush()
    if old_path != new_path:
        descendants = db.session.scalars(
            select(Agency).where(Agency.path.startswith(old_path), Agency.id != agency.id)
        )
        for child in descendants:
            child.path = new_path + child.path[len(old_path) :]
        db.session.flush()
    return agency


def subtree_filter(root: Agency):
    """A SQL condition selecting ``root`` and every agency below it."""
    return Agency.path.startswith(root.path, autoescape=True)


def visible_agencies(user) -> Select[tuple[Agency]]:
    """Agencies inside ``user``'s scope, ordered by their place in the tree."""
    query = select(Agency).order_by(Agency.path)
    if not user.sees_whole_province:
        if user.agency is None:
            return query.where(Agency.id.is_(None))
        query = query.where(subtree_filter(user.agency))
    return query


def visible_counters(user) -> Select[tuple[Counter]]:
    query = select(Counter).join(Agency).order_by(Agency.path, Counter.name)
    if not user.sees_whole_province:
        if user.agency is None:
            return query.where(Counter.id.is_(None))
        query = query.where(subtree_filter(user.agency))
    return query


def create_counter(
    agency: Agency, name: str, location: str = "", code: str | None = None
) -> Counter:
    """Add a counter to ``agency`` with a new public code (or the given one, for imports)."""
    counter = Counter(
        agency=agency, name=name.strip(), location=location.strip(), code=code or new_counter_code()
    )
    db.session.add(counter)
    db.session.flush()
    return counter


def set_agency_active(agency: Agency, active: bool) -> None:
    """Disable or re-enable an agency; disabling also disables its subtree."""
    if active:
        agency.is_active = True
    else:
        db.session.execute(update(Agency).where(subtree_filter(agency)).values(is_active=False))
    db.session.flush()


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics, so "dang ky khai sinh" finds "Đăng ký khai sinh"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_procedures(query: str, limit: int = 20) -> list:
    """Active procedures whose code or name contains every word of ``query``, accents ignored.

    Done in Python: SQLite's lower() does not know Vietnamese letters, and a
    province's catalogue is a few thousand rows.
    """
    from .models import Procedure

    # distinct words, at most eight: a query of a hundred words costs as much as eight
    words = list(dict.fromkeys(fold(query).split()))[:8]
    if not words:
        return []
    rows = db.session.execute(
        select(Procedure.id, Procedure.code, Procedure.name).where(Procedure.is_active.is_(True))
    )
    ids = [row.id for row in rows if all(w in fold(f"{row.code} {row.name}") for w in words)][
        :limit
    ]
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(select(Procedure).where(Procedure.id.in_(ids)))}
    return [found[i] for i in ids]
