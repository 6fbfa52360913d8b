"""`flask demo load`: the 2022 Hải Dương structure and a synthetic year with real differences."""

from __future__ import annotations

import re
from collections import Counter as Tally
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from survey_app.agencies.models import (
    Agency,
    AgencyKind,
    Counter,
    DossierVolume,
    Procedure,
    ProcedureField,
)
from survey_app.agencies.services import CODE_ALPHABET, CODE_LENGTH
from survey_app.demo.data import demo_structure, load_demo
from survey_app.demo.users import DEMO_USERS
from survey_app.extensions import db
from survey_app.surveys.models import Answer, Channel, Response
from tests import factories

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
SUMMARY = re.compile(
    r"demo: (\d+) agencies, (\d+) counters, (\d+) procedures, (\d+) fields, "
    r"([\d,]+) volume rows, ([\d,]+) responses"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def structure_counts() -> tuple[int, ...]:
    return tuple(count(m) for m in (Agency, Counter, Procedure, ProcedureField, DossierVolume))


def by_code(code: str) -> Agency:
    return db.session.scalars(select(Agency).where(Agency.code == code)).one()


def test_structure_loads_and_a_second_load_changes_nothing(app_ctx):
    summary = load_demo(with_responses=False)
    db.session.commit()
    first = structure_counts()
    match = SUMMARY.fullmatch(summary)
    assert match, summary
    agencies, counters, procedures, fields, volumes, responses = match.groups()
    assert first == (
        int(agencies),
        int(counters),
        int(procedures),
        int(fields),
        int(volumes.replace(",", "")),
    )
    assert responses == "0" and count(Response) == 0
    paths = {a.code: a.path for a in db.session.scalars(select(Agency))}

    assert load_demo(with_responses=False) == summary
    db.session.commit()
    assert structure_counts() == first
    assert {a.code: a.path for a in db.session.scalars(select(Agency))} == paths


def test_structure_is_the_2022_hai_duong_one(app_ctx):
    load_demo(with_responses=False)
    root = by_code("HD")
    assert (root.name, root.kind, root.parent_id) == (
        "UBND tỉnh Hải Dương",
        AgencyKind.province,
        None,
    )
    top = {a.name: a for a in root.children}
    for name in (
        "Văn phòng UBND tỉnh",
        "Sở Nội vụ",
        "Sở Tư pháp",
        "Sở Kế hoạch và Đầu tư",
        "Sở Tài nguyên và Môi trường",
        "Sở Lao động - Thương binh và Xã hội",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Thanh tra tỉnh",
        "Ban Quản lý các khu công nghiệp tỉnh",
        "UBND thành phố Hải Dương",
        "UBND thị xã Kinh Môn",
        "UBND huyện Tứ Kỳ",
    ):
        assert name in top, name
    departments = [a for a in root.children if a.kind is AgencyKind.department]
    districts = [a for a in root.children if a.kind is AgencyKind.district]
    assert len(departments) == 18 and len(districts) == 12
    centre = by_code("TTPVHCC")
    assert centre.parent.code == "VP-UBND" and centre.depth == 2
    communes = db.session.scalars(select(Agency).where(Agency.kind == AgencyKind.commune)).all()
    assert 15 <= len(communes) <= 25
    assert all(c.parent.kind is AgencyKind.district and c.depth == 2 for c in communes)
    assert by_code("X-NAMHONG").parent.code == "H-NAMSACH"
    for _email, _name, _role, agency_code in DEMO_USERS:  # the demo accounts' agencies exist
        assert agency_code is None or by_code(agency_code)

    counters = db.session.scalars(select(Counter)).all()
    assert 35 <= len(counters) <= 45
    assert {c.code for c in counters} == {c["code"] for c in demo_structure()["counters"]}
    assert all(len(c.code) == CODE_LENGTH and set(c.code) <= set(CODE_ALPHABET) for c in counters)
    at_centre = [c for c in counters if c.location.startswith("Trung tâm Phục vụ hành chính công")]
    assert len(at_centre) > len(counters) / 3
    assert all(c.agency.kind is AgencyKind.department for c in at_centre)
    assert {d.id for d in districts} <= {c.agency_id for c in counters}

    procedures = db.session.scalars(select(Procedure)).all()
    assert 55 <= len(procedures) <= 75
    assert all(re.fullmatch(r"[12]\.\d{6}", p.code) for p in procedures)
    assert all(p.agency is not None for p in procedures)
    field_names = {f.name for f in db.session.scalars(select(ProcedureField))}
    assert {
        "Hộ tịch",
        "Chứng thực",
        "Lý lịch tư pháp",
        "Đất đai",
        "Xây dựng",
        "Đăng ký kinh doanh",
        "Giao thông đường bộ",
        "Tài nguyên nước",
    } <= field_names
    birth = db.session.scalars(select(Procedure).where(Procedure.code == "1.001193")).one()
    assert (birth.name, birth.field.name) == ("Đăng ký khai sinh", "Hộ tịch")

    months = db.session.scalars(select(DossierVolume.month).distinct()).all()
    assert sorted(months) == [date(2022, m, 1) for m in range(1, 13)]

    def yearly(agency_code: str, field_code: str) -> int:
        return db.session.scalar(
            select(func.sum(DossierVolume.dossiers))
            .join(Agency, DossierVolume.agency_id == Agency.id)
            .join(ProcedureField, DossierVolume.field_id == ProcedureField.id)
            .where(Agency.code == agency_code, ProcedureField.code == field_code)
        )

    # district level handles far more land, certification and civil-status dossiers
    assert yearly("H-NAMSACH", "DD") > yearly("STNMT", "DD")
    assert yearly("H-NAMSACH", "CT") > 20 * yearly("STP", "CT")
    assert yearly("H-NAMSACH", "HT") > yearly("X-NAMHONG", "HT") > 0


@pytest.fixture
def small_year(app_ctx):
    summary = load_demo(seed=7, scale=0.1)
    db.session.commit()
    return summary


def test_synthetic_responses_are_consistent(small_year):
    n = count(Response)
    assert 1500 <= n <= 5000, n
    assert small_year.endswith(f"{n:,} responses")
    mismatched = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .join(Counter, Response.counter_id == Counter.id)
        .where(Response.agency_id != Counter.agency_id)
    )
    assert mismatched == 0

    rows = db.session.execute(
        select(
            Response.started_at,
            Response.submitted_at,
            Response.completed_at,
            Response.client_hash,
            Response.channel,
            Response.language,
            Response.comment,
            Response.procedure_id,
            Response.receipt_token_hash,
        )
    ).all()
    for started, submitted, completed, *_ in rows:
        local = submitted.astimezone(LOCAL)
        assert submitted.tzinfo is not None and local.year == 2022
        assert local.weekday() < 5 and 7 * 60 + 30 <= local.hour * 60 + local.minute < 17 * 60
        assert started < submitted and (completed is None or completed > submitted)
    assert all(re.fullmatch(r"[0-9a-f]{32}", r.client_hash) for r in rows)
    assert len({r.client_hash for r in rows}) == n
    local_months = Tally(r.submitted_at.astimezone(LOCAL).month for r in rows)
    assert set(local_months) == set(range(1, 13))
    assert local_months[2] < local_months[3]  # Tết

    channels = Tally(r.channel for r in rows)
    assert channels[Channel.poster] > 0.6 * n
    assert channels[Channel.receipt] > 0 and channels[Channel.web] > 0
    receipts = [r for r in rows if r.channel is Channel.receipt]
    assert all(r.procedure_id is not None and r.receipt_token_hash for r in receipts)
    assert all(r.procedure_id is None for r in rows if r.channel is not Channel.receipt)
    assert sum(r.language == "vi" for r in rows) > 0.9 * n
    commented = [r.comment for r in rows if r.comment]
    assert 0.04 * n <= len(commented) <= 0.12 * n
    assert not any(re.search(r"\d{9,}|@", c) for c in commented)  # no phone numbers or e-mails

    detailed = db.session.scalar(select(func.count(func.distinct(Answer.response_id))))
    assert 0.25 * n <= detailed <= 0.45 * n
    out_of_range = db.session.scalar(
        select(func.count())
        .select_from(Answer)
        .where(Answer.value.is_not(None), ~Answer.value.between(1, 5))
    )
    assert out_of_range == 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(Response).where(~Response.overall.between(1, 5))
        )
        == 0
    )
    not_applicable = dict(
        db.session.execute(
            select(Answer.item_code, func.avg(Answer.value.is_(None).cast(db.Integer))).group_by(
                Answer.item_code
            )
        ).all()
    )
    assert not_applicable["A4"] > 0.3 and not_applicable["E4"] > 0.3 and not_applicable["C1"] < 0.1


def test_agencies_and_elements_really_differ(small_year):
    rows = db.session.execute(
        select(Agency.code, func.count(), func.avg((Response.overall >= 4).cast(db.Integer)))
        .join(Agency, Response.agency_id == Agency.id)
        .group_by(Agency.code)
    ).all()
    share = {code: float(avg) for code, n, avg in rows if n >= 30}
    assert len(share) >= 15
    below = [code for code, s in share.items() if s < 0.9]
    assert below and "H-THANHHA" in below and share["H-THANHHA"] < 0.86
    assert len(below) <= len(share) / 4
    assert sum(0.9 <= s <= 0.99 for s in share.values()) >= 0.7 * len(share)

    satisfied, answered = Tally(), Tally()
    for item, yes, n in db.session.execute(
        select(Answer.item_code, func.sum((Answer.value >= 4).cast(db.Integer)), func.count())
        .where(Answer.value.is_not(None))
        .group_by(Answer.item_code)
    ):
        satisfied[item[0]] += yes
        answered[item[0]] += n
    element = {e: satisfied[e] / answered[e] for e in answered}
    assert element["A"] + 0.05 < element["C"] and element["E"] + 0.05 < element["C"]

    # responses follow the dossier volumes: a few per cent of them (here scaled by 0.1)
    volumes = dict(
        db.session.execute(
            select(Agency.code, func.sum(DossierVolume.dossiers))
            .join(Agency, DossierVolume.agency_id == Agency.id)
            .group_by(Agency.code)
        ).all()
    )
    counts = {code: n for code, n, _ in rows}
    for code, n in counts.items():
        coverage = n / (volumes[code] * 0.1)
        assert 0.01 < coverage < 0.1, (code, coverage)


def test_responses_are_not_regenerated_and_the_seed_reproduces_them(small_year):
    def snapshot():
        return db.session.execute(
            select(
                Response.counter_id, Response.overall, Response.submitted_at, Response.comment
            ).order_by(Response.submitted_at, Response.counter_id, Response.overall)
        ).all()

    before = snapshot()
    answers = count(Answer)
    again = load_demo(seed=7, scale=0.1)
    db.session.commit()
    assert again.endswith("(already there, not regenerated)")
    assert snapshot() == before and count(Answer) == answers

    db.session.execute(delete(Answer))
    db.session.execute(delete(Response))
    load_demo(seed=7, scale=0.1)
    db.session.commit()
    assert snapshot() == before and count(Answer) == answers
    db.session.execute(delete(Answer))
    db.session.execute(delete(Response))
    load_demo(seed=8, scale=0.1)
    assert snapshot() != before


def test_the_full_year_has_a_realistic_size(app_ctx):
    summary = load_demo()
    db.session.commit()
    n = count(Response)
    assert 20_000 <= n <= 40_000
    assert summary.endswith(f"{n:,} responses")
    first, last = db.session.execute(select(func.min(Response.id), func.max(Response.id))).one()
    assert last - first + 1 == n


def test_if_empty_does_nothing_on_a_database_with_agencies(app, runner):
    with app.app_context():
        factories.agency(code="REAL", name="Sở thật")
        db.session.commit()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "demo: skipped, the database already has agencies" in result.output
    with app.app_context():
        assert db.session.scalars(select(Agency.code)).all() == ["REAL"]
        assert [count(m) for m in (Counter, Procedure, DossierVolume, Response)] == [0, 0, 0, 0]


def test_cli_loads_the_demo_into_an_empty_database(app, runner):
    result = runner.invoke(args=["demo", "load", "--if-empty", "--no-responses"])
    assert result.exit_code == 0, result.output
    assert SUMMARY.search(result.output)
    with app.app_context():
        assert count(Agency) == len(demo_structure()["agencies"])
        assert count(Response) == 0
        assert by_code("H-NAMSACH").created_at < datetime.now(LOCAL)


def test_if_empty_on_a_real_database_adds_no_demo_accounts(app, runner):
    from sqlalchemy import select

    from survey_app.auth.models import User
    from survey_app.extensions import db
    from tests import factories

    with app.app_context():
        factories.agency("UBND thành phố Hải Phòng", code="HP")
        db.session.commit()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0 and "skipped" in result.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_demo_load_creates_the_demo_accounts_once(app, runner):
    from sqlalchemy import func, select

    from survey_app.auth.models import User
    from survey_app.extensions import db

    assert runner.invoke(args=["demo", "load", "--no-responses"]).exit_code == 0
    assert runner.invoke(args=["demo", "load", "--no-responses"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)


def test_demo_load_refuses_to_run_in_production(app, database_url):
    """Its accounts' password is public: on a production server the command stops with a
    clear message and a non-zero exit, and nothing is written."""
    from survey_app import create_app
    from survey_app.auth.models import User

    production = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "p" * 40,
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    result = production.test_cli_runner().invoke(args=["demo", "load", "--no-responses"])
    assert result.exit_code != 0
    assert "refuses to run when APP_ENV=production" in result.output
    result = production.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code != 0
    with production.app_context():
        assert [count(m) for m in (Agency, Counter, User)] == [0, 0, 0]
        db.session.remove()
        db.engine.dispose()
