"""`flask import agencies|counters|procedures|volumes`: all or nothing, problems by line."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.agencies import importers
from survey_app.agencies.importers import IMPORTERS, ImportFailed, import_records
from survey_app.agencies.models import (
    Agency,
    AgencyKind,
    Counter,
    DossierVolume,
    Procedure,
    ProcedureField,
)
from survey_app.agencies.services import CODE_ALPHABET, set_agency_active
from survey_app.extensions import db
from tests import factories

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def write(tmp_path):
    """Write ``text`` (or bytes) to a CSV file and return its path."""
    count = 0

    def _write(content: str | bytes, encoding: str = "utf-8") -> Path:
        nonlocal count
        count += 1
        path = tmp_path / f"file{count}.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


def failure(kind: str, path: Path) -> list[str]:
    with pytest.raises(ImportFailed) as info:
        IMPORTERS[kind](path)
    db.session.rollback()
    return info.value.errors


def agency(code: str) -> Agency:
    return db.session.scalars(select(Agency).where(Agency.code == code)).one()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def tree() -> dict[str, tuple]:
    agencies = db.session.scalars(select(Agency))
    return {a.code: (a.name, a.parent_id, a.path, a.kind) for a in agencies}


# --- the command, with the example files ----------------------------------------------


def test_example_files_import_in_order_and_a_second_run_changes_nothing(app, runner):
    outputs = {}
    for kind in ("agencies", "counters", "procedures", "volumes"):
        result = runner.invoke(args=["import", kind, str(EXAMPLES / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
        outputs[kind] = result.output.strip()
    assert outputs == {
        "agencies": "agencies: 6 created, 0 updated, 0 unchanged",
        "counters": "counters: 3 created, 0 updated, 0 unchanged",
        "procedures": "procedures: 4 created, 0 updated, 0 unchanged",
        "volumes": "volumes: 5 created, 0 updated, 0 unchanged",
    }
    with app.app_context():
        hd, district, commune = agency("HD"), agency("H-NAMSACH"), agency("X-NAMHONG")
        # the commune came before its district in the file
        assert commune.parent_id == district.id
        assert commune.path == f"/{hd.id}/{district.id}/{commune.id}/"
        assert (hd.kind, commune.kind, agency("TTPVHCC").kind) == (
            AgencyKind.province,
            AgencyKind.commune,
            AgencyKind.other,
        )
        assert agency("TTPVHCC").parent.code == "VP-UBND"
        kept = db.session.scalars(select(Counter).where(Counter.code == "X8FJE4")).one()
        assert kept.agency.code == "STP" and kept.location.endswith("quầy số 01")
        generated = db.session.scalars(select(Counter).where(Counter.code != "X8FJE4")).all()
        assert len(generated) == 2
        assert all(len(c.code) == 6 and set(c.code) <= set(CODE_ALPHABET) for c in generated)
        land = db.session.scalars(select(Procedure).where(Procedure.code == "1.004227")).one()
        assert (land.field.code, land.field.name, land.agency) == ("DD", "Đất đai", None)
        assert count(ProcedureField) == 3
        volume = db.session.scalars(
            select(DossierVolume).join(Agency).where(Agency.code == "X-NAMHONG")
        ).one()
        assert (volume.field.code, volume.month, volume.dossiers) == ("HT", date(2022, 1, 1), 66)

    for kind, rows in (("agencies", 6), ("counters", 3), ("procedures", 4), ("volumes", 5)):
        result = runner.invoke(args=["import", kind, str(EXAMPLES / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"{kind}: 0 created, 0 updated, {rows} unchanged"
    with app.app_context():
        assert [count(m) for m in (Agency, Counter, Procedure, DossierVolume)] == [6, 3, 4, 5]


def test_command_prints_every_problem_and_imports_nothing(app, runner, write):
    path = write(
        "code,name,parent_code,kind\n"
        "HD,UBND tỉnh Hải Dương,,province\n"
        "SNV,Sở Nội vụ,HD,department\n"
        "STP,Sở Tư pháp,HD,department\n"
        "SNV,Sở Nội vụ (lặp),HD,department\n"
        "STC,Sở Tài chính,HD,department\n"
        "SXD,Sở Xây dựng,SXYZ,department\n"
    )
    result = runner.invoke(args=["import", "agencies", str(path)])
    assert result.exit_code == 1
    assert f"{path.name}: line 5: code 'SNV' is already on line 3" in result.output
    assert f"{path.name}: line 7: unknown parent_code 'SXYZ'" in result.output
    assert "nothing imported: 2 problem(s) found" in result.output
    with app.app_context():
        assert count(Agency) == 0


def test_a_file_with_one_bad_line_leaves_the_database_unchanged(app_ctx, write):
    IMPORTERS["agencies"](EXAMPLES / "agencies.csv")
    IMPORTERS["counters"](EXAMPLES / "counters.csv")
    db.session.commit()
    before = tree()

    errors = failure(
        "agencies",
        write(
            "code,name,parent_code,kind\n"
            "HD,UBND tỉnh Hải Dương (đổi tên),,province\n"  # would rename
            "H-NAMSACH,UBND huyện Nam Sách,STP,district\n"  # would move a subtree
            "SNV,Sở Nội vụ,HD,department\n"  # would create
            "SYT,Sở Y tế,HD,bộ\n"  # the one bad line
        ),
    )
    assert errors == [
        "line 5: unknown kind 'bộ' (use province, department, district, commune or other)"
    ]
    assert tree() == before

    errors = failure(
        "counters",
        write(
            "agency_code,name,code,location,active\n"
            "STP,Quầy mới,,Tầng 2,1\n"
            "STP,Quầy Lý lịch tư pháp,X8FJE4,Tầng 3,0\n"
            "NOPE,Quầy ma,,,\n"
        ),
    )
    assert errors == ["line 4: unknown agency_code 'NOPE'"]
    assert count(Counter) == 3
    kept = db.session.scalars(select(Counter).where(Counter.code == "X8FJE4")).one()
    assert kept.is_active and kept.location.endswith("quầy số 01")


# --- reading the file -------------------------------------------------------------------


def test_excel_bom_semicolons_nfd_text_and_blank_rows_are_accepted(app_ctx, write):
    nfd = unicodedata.normalize("NFD", "UBND tỉnh Hải Dương")  # as some Mac tools write it
    assert nfd != "UBND tỉnh Hải Dương"
    path = write(
        "\ufeffCode;Name;Parent_Code;Kind\r\n"
        f"HD;{nfd};;province\r\n"
        ";;;\r\n"
        "\r\n"
        'SNV;" Sở   Nội vụ ";HD;DEPARTMENT\r\n'
    )
    result = IMPORTERS["agencies"](path)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert agency("HD").name == "UBND tỉnh Hải Dương"
    assert agency("SNV").name == "Sở Nội vụ"
    assert agency("SNV").kind is AgencyKind.department


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "code,name,kind\nA,An,other\n",
            ["line 1: missing column 'parent_code' (expected: code, name, parent_code, kind)"],
        ),
        (
            "code,name,parent_code,colour\nA,An,,red\n",
            ["line 1: unknown column 'colour' (expected: code, name, parent_code, kind)"],
        ),
        ("code,name,parent_code,Code\n", ["line 1: column 'code' appears twice"]),
        ("code,,name,parent_code\n", ["line 1: a column has no name in the header"]),
        ("", ["the file is empty: a header row is required"]),
        ("\n\n", ["the file is empty: a header row is required"]),
        (
            "code,name,parent_code\nA,An,,x\nB,Bê,\n",
            ["line 2: 4 values but the header has 3 columns"],
        ),
        ('code,name,parent_code\nA,"An"x,\n', None),  # malformed quoting: a csv error
    ],
)
def test_header_and_structure_problems(app_ctx, write, content, expected):
    errors = failure("agencies", write(content))
    if expected is None:
        assert len(errors) == 1 and errors[0].startswith("line 2: the file is not valid CSV")
    else:
        assert errors == expected


def test_a_header_without_rows_imports_nothing(app_ctx, write):
    result = IMPORTERS["volumes"](write("agency_code,field_code,month,dossiers\n"))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)


def test_non_utf8_and_excel_workbooks_are_refused_with_a_hint(app_ctx, write):
    legacy = "code,name,parent_code\nHD,Hai Duong,\nHDG,Dương,HD\n".encode("cp1258")  # Windows-1258
    errors = failure("agencies", write(legacy))
    assert len(errors) == 1
    assert errors[0].startswith("line 3: the file is not UTF-8 text") and "CSV UTF-8" in errors[0]

    errors = failure("agencies", write("code,name\n", encoding="utf-16"))
    assert errors[0].startswith("line 1: the file is not UTF-8 text")

    errors = failure("agencies", write(b"PK\x03\x04\x14\x00\x06\x00rest of a zip"))
    assert errors == [
        "this is an Excel workbook, not a CSV file: in Excel use "
        "Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'"
    ]
    assert count(Agency) == 0


def test_files_too_large_or_too_long_are_refused(app_ctx, write, monkeypatch):
    rows = "code,name,parent_code\n" + "".join(f"A{i},Cơ quan {i},\n" for i in range(4))
    monkeypatch.setattr(importers, "MAX_ROWS", 3)
    assert failure("agencies", write(rows)) == [
        "the file has more than 3 data rows: split it into smaller files"
    ]
    monkeypatch.setattr(importers, "MAX_BYTES", 50)
    errors = failure("agencies", write(rows))
    assert len(errors) == 1
    assert errors[0].startswith("the file is 0.0 MB, more than the") and "split it" in errors[0]
    assert count(Agency) == 0


def test_the_default_limits_are_20_mb_and_200000_rows():
    assert importers.MAX_BYTES == 20 * 1024 * 1024
    assert importers.MAX_ROWS == 200_000


def test_very_many_problems_are_summarised(app_ctx, write, monkeypatch, runner):
    monkeypatch.setattr(importers, "MAX_ERRORS_SHOWN", 2)
    path = write("code,name,parent_code\n" + "X,,\n" * 5)
    errors = failure("agencies", path)
    assert errors[:2] == ["line 2: name is empty", "line 3: name is empty"]
    assert errors[2] == "… and 7 more problems (9 in all)"  # 5 empty names + 4 duplicates
    assert len(errors) == 3
    result = runner.invoke(args=["import", "agencies", str(path)])
    assert "nothing imported: 9 problem(s) found" in result.output  # not the 3 lines shown


def test_a_device_without_a_size_is_read_only_up_to_the_limit(app_ctx, monkeypatch):
    """/dev/zero has size 0: it was read until memory ran out."""
    monkeypatch.setattr(importers, "MAX_BYTES", 2**20)
    with pytest.raises(ImportFailed) as info:
        IMPORTERS["agencies"](Path("/dev/zero"))
    assert info.value.errors == [
        "the file is more than the 1 MB limit: split it into smaller files"
    ]


# --- agencies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "HD,Tỉnh,,province\nSXD,Sở Xây dựng,SXYZ,department\n",
            ["line 3: unknown parent_code 'SXYZ'"],
        ),
        ("HD,Tỉnh,,\nHD,Tỉnh lặp,,\n", ["line 3: code 'HD' is already on line 2"]),
        ("HD,,,\n,Không mã,,\n", ["line 2: name is empty", "line 3: code is empty"]),
        (
            "HD,Tỉnh,,tỉnh\n",
            ["line 2: unknown kind 'tỉnh' (use province, department, district, commune or other)"],
        ),
        ("HD,Tỉnh,HD,\n", ["line 2: agency 'HD' cannot be its own parent"]),
        (
            "S N V,Sở Nội vụ,,\n",
            ["line 2: code 'S N V' must be up to 40 letters, digits, '.', '-' or '_'"],
        ),
        (
            "HD,Tỉnh,,\nA,An,B,\nB,Bê,C,\nC,Xê,A,\n",
            ["line 3: parent_code 'B' would make a cycle: A → B → C → A"],
        ),
        ("HD," + "x" * 256 + ",,\n", ["line 2: name is longer than 255 characters"]),
        (
            "HD,Tỉnh\x00,,\nSNV,Sở\x1b[31m,HD,\n",  # PostgreSQL: a DataError traceback
            [
                "line 2: name contains a control character (such as NUL)",
                "line 3: name contains a control character (such as NUL)",
            ],
        ),
    ],
)
def test_agency_problems_name_their_line(app_ctx, write, rows, expected):
    errors = failure("agencies", write("code,name,parent_code,kind\n" + rows))
    assert errors == expected
    assert count(Agency) == 0


def test_a_cycle_through_agencies_already_in_the_database_is_refused(app_ctx, write):
    IMPORTERS["agencies"](write("code,name,parent_code\nHD,Tỉnh,\nH-NS,Huyện,HD\nX-NH,Xã,H-NS\n"))
    db.session.commit()
    errors = failure("agencies", write("code,name,parent_code\nHD,Tỉnh,X-NH\n"))
    assert errors == ["line 2: parent_code 'X-NH' would make a cycle: HD → X-NH → H-NS → HD"]
    assert agency("HD").parent_id is None


def test_agencies_are_updated_and_moved_with_their_subtree(app_ctx, write):
    IMPORTERS["agencies"](EXAMPLES / "agencies.csv")
    db.session.commit()
    result = IMPORTERS["agencies"](
        write(
            "code,name,parent_code,kind\n"
            "HD,UBND tỉnh Hải Dương,,province\n"  # unchanged
            "STP,Sở Tư pháp tỉnh Hải Dương,HD,\n"  # renamed, kind kept
            "H-NAMSACH,UBND huyện Nam Sách,VP-UBND,other\n"  # moved with its commune; kind
            "TTPVHCC,Trung tâm Phục vụ hành chính công tỉnh,,\n"  # moved to the top level
            "SNV,Sở Nội vụ,HD,department\n"  # new
        )
    )
    assert (result.created, result.updated, result.unchanged) == (1, 3, 1)
    stp, district, commune = agency("STP"), agency("H-NAMSACH"), agency("X-NAMHONG")
    assert (stp.name, stp.kind) == ("Sở Tư pháp tỉnh Hải Dương", AgencyKind.department)
    assert district.kind is AgencyKind.other
    office = agency("VP-UBND")
    assert district.path == f"{office.path}{district.id}/"
    assert commune.path == f"{district.path}{commune.id}/"
    centre = agency("TTPVHCC")
    assert (centre.parent_id, centre.path) == (None, f"/{centre.id}/")


def test_swapping_parent_and_child_in_one_file_works(app_ctx, write):
    IMPORTERS["agencies"](write("code,name,parent_code\nA,An,\nB,Bê,A\n"))
    result = IMPORTERS["agencies"](write("code,name,parent_code\nA,An,B\nB,Bê,\n"))
    assert (result.created, result.updated, result.unchanged) == (0, 2, 0)
    a, b = agency("A"), agency("B")
    assert (b.path, a.path) == (f"/{b.id}/", f"/{b.id}/{a.id}/")


# --- counters -------------------------------------------------------------------------


@pytest.fixture
def two_agencies(app_ctx):
    snv = factories.agency(code="SNV", name="Sở Nội vụ")
    stp = factories.agency(code="STP", name="Sở Tư pháp")
    db.session.commit()
    return snv, stp


def test_counters_are_created_updated_and_matched(two_agencies, write):
    snv, stp = two_agencies
    header = "agency_code,name,code,location,active\n"
    result = IMPORTERS["counters"](
        write(
            header
            + "SNV,Quầy số 1,abc123,Tầng 1,\n"  # lower case accepted, stored upper case
            + "SNV,Quầy số 2,,Tầng 1,no\n"
            + "STP,Quầy số 1,,,TRUE\n"
        )
    )
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    one = db.session.scalars(select(Counter).where(Counter.code == "ABC123")).one()
    two = db.session.scalars(select(Counter).where(Counter.name == "Quầy số 2")).one()
    assert one.agency_id == snv.id and one.is_active
    assert not two.is_active and two.location == "Tầng 1"
    db.session.commit()

    result = IMPORTERS["counters"](
        write(
            header
            + "STP,Quầy số 1 (chuyển),ABC123,,\n"  # moved to STP, renamed, location kept
            + "SNV,Quầy số 2,,Tầng 2,1\n"  # matched by agency and name
            + "STP,Quầy số 1,,,\n"  # unchanged
        )
    )
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert (one.agency_id, one.name, one.location) == (stp.id, "Quầy số 1 (chuyển)", "Tầng 1")
    assert (two.location, two.is_active) == ("Tầng 2", True)
    assert count(Counter) == 3


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("NOPE,Quầy,,,\n", ["line 2: unknown agency_code 'NOPE'"]),
        ("SNV,,,,\n", ["line 2: name is empty"]),
        (
            "SNV,Quầy,AB,,\nSNV,Quầy 2,ÂB12,,\nSNV,Quầy 3,AB-123,,\n",
            [
                "line 2: code 'AB' must be 3–16 letters A–Z or digits",
                "line 3: code 'ÂB12' must be 3–16 letters A–Z or digits",
                "line 4: code 'AB-123' must be 3–16 letters A–Z or digits",
            ],
        ),
        ("SNV,Quầy,ABC123,,\nSTP,Quầy,abc123,,\n", ["line 3: code 'ABC123' is already on line 2"]),
        ("SNV,Quầy,,,\nSNV,Quầy,,,\n", ["line 3: counter 'Quầy' at 'SNV' is already on line 2"]),
        ("SNV,Quầy,,,có\n", ["line 2: active 'có' must be 1/0, true/false or yes/no"]),
    ],
)
def test_counter_problems_name_their_line(two_agencies, write, rows, expected):
    errors = failure("counters", write("agency_code,name,code,location,active\n" + rows))
    assert errors == expected
    assert count(Counter) == 0


def test_ambiguous_names_twice_matched_counters_and_disabled_agencies(two_agencies, write):
    snv, stp = two_agencies
    first = factories.counter(snv, name="Quầy chung", code="AAA111")
    factories.counter(snv, name="Quầy chung", code="BBB222")
    set_agency_active(stp, False)
    db.session.commit()
    errors = failure(
        "counters",
        write(
            "agency_code,name,code\n"
            "SNV,Quầy chung,\n"
            "SNV,Quầy chung,AAA111\n"
            "STP,Quầy mới,\n"
            "STP,Quầy mới có mã,CCC333\n"
        ),
    )
    assert errors == [
        "line 2: 2 counters at 'SNV' are named 'Quầy chung': give the code of the one to update",
        "line 4: agency 'STP' is disabled: it cannot get new counters",
        "line 5: agency 'STP' is disabled: it cannot get new counters",
    ]
    factories.counter(stp, name="Quầy cũ", code="DDD444")
    db.session.commit()
    errors = failure("counters", write("agency_code,name,code\nSTP,Quầy cũ,\nSTP,Quầy cũ,DDD444\n"))
    assert errors == ["line 3: counter 'DDD444' is already on line 2"]
    # updating a counter of a disabled agency is allowed
    result = IMPORTERS["counters"](write("agency_code,name,code\nSTP,Quầy cũ (sửa),DDD444\n"))
    assert result.updated == 1
    assert first.name == "Quầy chung"


# --- procedures -----------------------------------------------------------------------


def test_procedures_create_fields_and_count_renames(two_agencies, write):
    header = "code,name,field_code,field_name,agency_code\n"
    result = IMPORTERS["procedures"](
        write(
            header
            + "1.001193,Đăng ký khai sinh,HT,Hộ tịch,STP\n"
            + "1.000894,Đăng ký kết hôn,HT,,STP\n"  # field named on another line
            + "2.000488,Cấp Phiếu lý lịch tư pháp,LLTP,Lý lịch tư pháp,\n"
        )
    )
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    db.session.commit()

    result = IMPORTERS[
        "procedures"
    ](
        write(
            header
            + "1.001193,Đăng ký khai sinh,HT,Hộ tịch - Chứng thực,\n"  # renames the field; agency kept
            + "1.000894,Đăng ký kết hôn,HT,,SNV\n"  # new agency
            + "2.000488,Cấp Phiếu lý lịch tư pháp,LLTP,,\n"  # unchanged
        )
    )
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    birth = db.session.scalars(select(Procedure).where(Procedure.code == "1.001193")).one()
    marriage = db.session.scalars(select(Procedure).where(Procedure.code == "1.000894")).one()
    assert birth.field.name == "Hộ tịch - Chứng thực" and birth.agency.code == "STP"
    assert marriage.agency.code == "SNV"
    assert count(ProcedureField) == 2


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "1.001193,Khai sinh,HT,,\n",
            ["line 2: field_code 'HT' is new: its field_name is required"],
        ),
        (
            "1.001193,Khai sinh,HT,Hộ tịch,\n1.000894,Kết hôn,HT,Hộ tịch khác,\n",
            ["line 3: field 'HT' is named 'Hộ tịch khác' here but 'Hộ tịch' on line 2"],
        ),
        ("1.001193,Khai sinh,HT,Hộ tịch,NOPE\n", ["line 2: unknown agency_code 'NOPE'"]),
        (
            "1.001193,Khai sinh,HT,Hộ tịch,\n1.001193,Khai sinh,HT,Hộ tịch,\n",
            ["line 3: code '1.001193' is already on line 2"],
        ),
        (
            ",,,Hộ tịch,\n",
            ["line 2: code is empty", "line 2: name is empty", "line 2: field_code is empty"],
        ),
    ],
)
def test_procedure_problems_name_their_line(two_agencies, write, rows, expected):
    errors = failure("procedures", write("code,name,field_code,field_name,agency_code\n" + rows))
    assert errors == expected
    assert count(Procedure) == 0 and count(ProcedureField) == 0


# --- volumes --------------------------------------------------------------------------


@pytest.fixture
def volume_world(two_agencies):
    factories.field(code="HT", name="Hộ tịch")
    factories.field(code="DD", name="Đất đai")
    db.session.commit()
    return two_agencies


def test_volumes_are_upserted_on_agency_field_and_month(volume_world, write):
    header = "agency_code,field_code,month,dossiers\n"
    result = IMPORTERS["volumes"](
        write(header + "SNV,HT,2022-01,120\nSNV,HT,2022-2,0\nSTP,DD,2022-01,7\n")
    )
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    db.session.commit()
    result = IMPORTERS["volumes"](
        write(header + "SNV,HT,2022-01,125\nSNV,HT,2022-02,0\nSTP,HT,2022-01,9\n")
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    db.session.commit()
    rows = db.session.execute(
        select(Agency.code, ProcedureField.code, DossierVolume.month, DossierVolume.dossiers)
        .join(Agency, DossierVolume.agency_id == Agency.id)
        .join(ProcedureField, DossierVolume.field_id == ProcedureField.id)
        .order_by(Agency.code, ProcedureField.code, DossierVolume.month)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("SNV", "HT", date(2022, 1, 1), 125),
        ("SNV", "HT", date(2022, 2, 1), 0),
        ("STP", "DD", date(2022, 1, 1), 7),
        ("STP", "HT", date(2022, 1, 1), 9),
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("NOPE,HT,2022-01,1\n", ["line 2: unknown agency_code 'NOPE'"]),
        ("SNV,XX,2022-01,1\n", ["line 2: unknown field_code 'XX'"]),
        (
            "SNV,HT,2022-13,1\nSNV,HT,01/2022,1\nSNV,HT,,1\nSNV,HT,1999-12,1\n",
            [
                "line 2: month '2022-13' must be YYYY-MM, e.g. 2022-07",
                "line 3: month '01/2022' must be YYYY-MM, e.g. 2022-07",
                "line 4: month is empty",
                "line 5: month '1999-12' is outside the years 2000–2100",
            ],
        ),
        ("SNV,HT,2022-01,-5\n", ["line 2: dossiers must not be negative (got -5)"]),
        (
            'SNV,HT,2022-01,"1,234"\nSNV,HT,2022-02,1.234.567\n',
            [
                f"line {n}: dossiers '{v}' must be a whole number written without "
                "thousands separators, e.g. 1234"
                for n, v in ((2, "1,234"), (3, "1.234.567"))
            ],
        ),
        (
            "SNV,HT,2022-01,12.5\nSNV,HT,2022-02,nhiều\nSNV,HT,2022-03,\n",
            [
                "line 2: dossiers '12.5' must be a whole number",
                "line 3: dossiers 'nhiều' must be a whole number",
                "line 4: dossiers is empty",
            ],
        ),
        ("SNV,HT,2022-01,99999999999\n", ["line 2: dossiers 99999999999 is too large"]),
        (
            "SNV,HT,2022-01," + "9" * 5000 + "\n",  # int() refuses more than 4300 digits
            ["line 2: dossiers " + "9" * 20 + "… is too large"],
        ),
        (
            "SNV,HT,2022-01,1\nSTP,HT,2022-01,1\nSNV,HT,2022-1,2\n",
            ["line 4: agency 'SNV', field 'HT', month 2022-01 is already on line 2"],
        ),
    ],
)
def test_volume_problems_name_their_line(volume_world, write, rows, expected):
    errors = failure("volumes", write("agency_code,field_code,month,dossiers\n" + rows))
    assert errors == expected
    assert count(DossierVolume) == 0


FULL_HEADER = (
    "agency_code,field_code,month,dossiers,return_channel,resolved,resolved_on_time,resolved_late\n"
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "SNV,HT,2022-01,10,fax,,,\n",
            ["line 2: return_channel 'fax' must be counter, online, post or empty (all channels)"],
        ),
        (
            "SNV,HT,2022-01,10,,10,9,2\n",
            ["line 2: resolved_on_time + resolved_late (11) is more than resolved (10)"],
        ),
        (
            "SNV,HT,2022-01,10,,10,9,\nSNV,HT,2022-02,10,,,9,1\n",
            [
                "line 2: resolved_late is empty: give on-time and late counts together",
                "line 3: resolved is empty: on-time and late counts need it",
            ],
        ),
        ("SNV,HT,2022-01,10,,-1,,\n", ["line 2: resolved must not be negative (got -1)"]),
        (
            "SNV,HT,2022-01,10,counter,,,\nSNV,HT,2022-01,20,,,,\n",
            [
                "line 3: a figure for all return channels and one for a single channel of "
                "the same agency, field and month would count dossiers twice (line 2)"
            ],
        ),
        (
            "SNV,HT,2022-01,10,post,,,\nSNV,HT,2022-01,20,POST,,,\n",
            [
                "line 3: agency 'SNV', field 'HT', month 2022-01, return channel post "
                "is already on line 2"
            ],
        ),
    ],
)
def test_volume_columns_for_channels_and_on_time_name_their_line(
    volume_world, write, rows, expected
):
    assert failure("volumes", write(FULL_HEADER + rows)) == expected
    assert count(DossierVolume) == 0


def test_volumes_by_return_channel_with_on_time_counts(volume_world, write, runner):
    result = IMPORTERS["volumes"](
        write(FULL_HEADER + "SNV,HT,2022-01,60,counter,50,45,5\nSNV,HT,2022-01,40,online,40,40,0\n")
    )
    assert (result.created, result.superseded) == (2, 0)
    db.session.commit()
    rows = db.session.execute(
        select(
            DossierVolume.source,
            DossierVolume.return_channel,
            DossierVolume.period,
            DossierVolume.dossiers,
            DossierVolume.resolved,
            DossierVolume.resolved_on_time,
            DossierVolume.resolved_late,
        ).order_by(DossierVolume.return_channel)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("import", "counter", "2022-01", 60, 50, 45, 5),
        ("import", "online", "2022-01", 40, 40, 40, 0),
    ]
    # a later file with the month for all channels replaces the two, never adds
    path = write("agency_code,field_code,month,dossiers\nSNV,HT,2022-01,100\n")
    out = runner.invoke(args=["import", "volumes", str(path)])
    assert out.exit_code == 0, out.output
    assert (
        "1 created" in out.output
        and "2 replaced by figures covering the same dossiers" in out.output
    )
    rows = db.session.execute(select(DossierVolume.return_channel, DossierVolume.dossiers)).all()
    assert [tuple(r) for r in rows] == [("all", 100)]


# --- records in memory (the demo loader's path) ------------------------------------------


def test_import_records_runs_the_same_checks(app_ctx):
    result = import_records(
        "agencies",
        [
            {"code": "HD", "name": "Tỉnh", "parent_code": "", "kind": "province"},
            {"code": "SNV", "name": "Sở Nội vụ", "parent_code": "HD"},
        ],
    )
    assert result.created == 2 and agency("SNV").parent.code == "HD"
    with pytest.raises(ImportFailed) as info:
        import_records("agencies", [{"code": "SYT", "name": "Sở Y tế", "parent_code": "X"}])
    assert info.value.errors == ["line 2: unknown parent_code 'X'"]
    with pytest.raises(ImportFailed) as info:
        import_records("agencies", [{"code": "SYT", "name": "Sở Y tế"}])
    assert info.value.errors == [
        "line 1: missing column 'parent_code' (expected: code, name, parent_code, kind)"
    ]


def test_a_tree_deeper_than_the_path_column_holds_is_refused(app_ctx, write):
    """Agency.path keeps one id per level in 500 characters: on PostgreSQL a chain of
    100 levels was a DataError traceback."""
    from survey_app.agencies.services import MAX_DEPTH

    chain = "".join(f"A{i},Cấp {i},{f'A{i - 1}' if i else ''}\n" for i in range(MAX_DEPTH + 3))
    errors = failure("agencies", write("code,name,parent_code\n" + chain))
    assert errors == [
        f"line {MAX_DEPTH + 3 + i}: the tree would be more than {MAX_DEPTH} levels deep "
        "under this agency"
        for i in range(2)
    ]
    assert count(Agency) == 0
    # exactly MAX_DEPTH levels below the top fit; moving a subtree under them does not
    IMPORTERS["agencies"](write("code,name,parent_code\n" + chain.rsplit("\n", 3)[0] + "\n"))
    assert max(a.depth for a in db.session.scalars(select(Agency))) == MAX_DEPTH
    IMPORTERS["agencies"](write("code,name,parent_code\nB0,Khác,\nB1,Con,B0\n"))
    errors = failure("agencies", write(f"code,name,parent_code\nB0,Khác,A{MAX_DEPTH - 1}\n"))
    assert errors == [
        f"line 2: the tree would be more than {MAX_DEPTH} levels deep under this agency"
    ]


@pytest.mark.parametrize("existing", [False, True])
def test_a_counter_named_without_a_code_and_again_with_one_is_ambiguous(
    two_agencies, write, existing
):
    """Both lines were applied (two counters of that name), so importing the same
    file again failed: a row without a code must name its counter alone."""
    snv, _ = two_agencies
    if existing:
        factories.counter(snv, name="Quầy 1", code="AAA111")
        db.session.commit()
    before = count(Counter)
    errors = failure("counters", write("agency_code,name,code\nSNV,Quầy 1,\nSNV,Quầy 1,BBB222\n"))
    assert errors == [
        "line 2: counter 'Quầy 1' at 'SNV' is also on line 3: "
        "give the code of each, or different names"
    ]
    assert count(Counter) == before
