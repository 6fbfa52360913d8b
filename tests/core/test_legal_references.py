"""The law as it stands: the one-stop mechanism's decree in force, two-tier local
government (no district level since 1 July 2025)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from survey_app.agencies.importers import IMPORTERS
from survey_app.agencies.models import Agency, AgencyKind
from survey_app.agencies.services import subtree_filter
from survey_app.extensions import db
from survey_app.staff.forms import kind_label

ROOT = Path(__file__).resolve().parents[2]
#: Where a law is cited for users or operators: code, templates, data, docs.
CITING = ("survey_app/**/*.py", "survey_app/**/*.html", "survey_app/**/*.json", "docs/*.md")


def _texts():
    yield ROOT / "README.md"
    for pattern in CITING:
        yield from ROOT.glob(pattern)


def test_the_one_stop_mechanism_is_cited_by_the_decree_in_force():
    """NĐ 61/2018/NĐ-CP was replaced by NĐ 118/2025/NĐ-CP on 1 July 2025: an older
    citation may stay only as history, beside the decree that replaced it."""
    assert "Decree 118/2025/NĐ-CP, in force since 1 July 2025" in (ROOT / "README.md").read_text(
        encoding="utf-8"
    )
    for path in _texts():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"61/2018", text):
            around = text[max(match.start() - 300, 0) : match.end() + 300]
            assert "118/2025" in around, f"{path}: Decree 61/2018 cited as if in force"


def test_the_district_kind_is_labelled_as_history(app):
    with app.test_request_context("/?lang=vi"):
        assert kind_label(AgencyKind.district) == "Cấp huyện (không còn từ 1/7/2025)"
    with app.test_request_context("/?lang=en"):
        assert kind_label(AgencyKind.district) == "District level (abolished on 1 July 2025)"


def test_a_two_tier_province_imports_and_scopes_without_a_district(app_ctx, tmp_path):
    path = tmp_path / "agencies.csv"
    path.write_text(
        "code,name,parent_code,kind\n"
        "HP,UBND thành phố Hải Phòng,,province\n"
        "X-NAMHONG,UBND xã Nam Hồng,HP,commune\n"
        "STP,Sở Tư pháp,HP,department\n",
        encoding="utf-8",
    )
    IMPORTERS["agencies"](path)
    db.session.flush()
    by_code = {a.code: a for a in db.session.scalars(select(Agency))}
    province, commune = by_code["HP"], by_code["X-NAMHONG"]
    assert (commune.parent_id, commune.depth) == (province.id, 1)
    subtree = db.session.scalars(select(Agency.code).where(subtree_filter(province))).all()
    assert sorted(subtree) == ["HP", "STP", "X-NAMHONG"]
