"""The PDF and XLSX reports: opened with pypdf, pypdfium2 and openpyxl; the CLI writes both.

The PDF is an administrative report under NĐ 30/2020/NĐ-CP (issuing body, number, national
motto, place and date, "BÁO CÁO" and its subject, recipients, page numbers, signatures and
"Nơi nhận"), Vietnamese throughout; the XLSX has Vietnamese headers, number formats, frozen
headers, fitted widths and local date-times.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from datetime import UTC, datetime

import numpy as np
import pypdfium2
import pytest
from flask_babel import force_locale
from freezegun import freeze_time
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from survey_app.agencies.models import Agency, AgencyKind
from survey_app.auth.models import Role
from survey_app.demo.data import load_demo
from survey_app.extensions import db
from survey_app.reports import documents, kpis, presentation, services
from survey_app.reports.charts import layout as chart_layout
from survey_app.reports.periods import Period
from survey_app.reports.summary import summary_sentences
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import respond

MM = 72 / 25.4  # PDF points per millimetre
SUBJECT = (
    "Kết quả khảo sát mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan "
    "hành chính nhà nước"
)


@pytest.fixture
def year_report(app_ctx):
    load_demo(scale=0.3)
    db.session.commit()
    return services.compute_report(Period.parse("2022"))


def _text(page) -> str:
    return " ".join(page.extract_text().split())


def _pdf_text(pdf: bytes) -> str:
    return " ".join(_text(page) for page in PdfReader(io.BytesIO(pdf)).pages)


def _positions(page) -> list[tuple[str, float, float]]:
    """Each text run of a page with its position (mm from the left and from the top)."""
    runs = []
    height = float(page.mediabox.height)

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + cm[4]
            y = tm[5] * cm[3] + cm[5]
            runs.append((text.strip(), x / MM, (height - y) / MM))

    page.extract_text(visitor_text=visit)
    return runs


def _where(runs, start: str) -> tuple[float, float]:
    return next((x, y) for text, x, y in runs if text.startswith(start))


def _image(pdf: bytes, k: int, scale: float = 2) -> np.ndarray:
    page = pypdfium2.PdfDocument(pdf)[k]
    return np.asarray(page.render(scale=scale).to_pil().convert("L"))


# -- the PDF ------------------------------------------------------------------------------


def test_page_one_has_the_form_of_an_administrative_report(year_report):
    with freeze_time(datetime(2023, 1, 5, 3, 30, tzinfo=UTC)):
        pdf = documents.report_pdf(year_report)
    reader = PdfReader(io.BytesIO(pdf))
    first = _text(reader.pages[0])
    for words in (
        "UBND TỈNH HẢI DƯƠNG SỞ NỘI VỤ Số: /BC-SNV",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc",
        "Hải Dương, ngày tháng năm 20…",
        f"BÁO CÁO {SUBJECT}, Năm 2022 (15/12/2021–14/12/2022)",
        "Kính gửi: Ủy ban nhân dân tỉnh Hải Dương.",
        "I. TÓM TẮT KẾT QUẢ",
    ):
        assert words in first, words
    # the issuer top left, the motto top right, "BÁO CÁO" centred under them
    runs = _positions(reader.pages[0])
    issuer, motto = _where(runs, "SỞ NỘI VỤ"), _where(runs, "CỘNG HÒA")
    kind = _where(runs, "BÁO CÁO")
    assert issuer[0] < 70 < motto[0] and abs(issuer[1] - motto[1]) < 8 and motto[1] < 35
    assert kind[1] > motto[1] + 15 and 95 < kind[0] < 115
    assert min(x for _, x, _ in runs) >= 29.5  # the left margin is 30 mm
    # the summary in sentences, as summary_sentences writes them
    with force_locale("vi"):
        sentences = summary_sentences(year_report)
    text = _pdf_text(pdf)
    for sentence in sentences:
        assert f"- {' '.join(sentence.split())}" in text, sentence
    assert "dưới mục tiêu: UBND huyện Thanh Hà" in first
    # Vietnamese numbers and dates, never 87.2%
    assert not re.search(r"\d\.\d\s?%", text) and re.search(r"\d,\d %", text)
    responses = f"{year_report['n_responses']:,}".replace(",", ".")
    assert f"Số liệu dựa trên {responses} phiếu trả lời từ ngày 15/12/2021" in text
    assert "lập lúc 10:30 ngày 05/01/2023 (giờ Việt Nam)" in text  # local time, UTC+7
    # page numbers at the top from page 2 on
    assert not first.startswith("1 ")
    assert all(_text(p).startswith(f"{k} ") for k, p in enumerate(reader.pages[1:], start=2))
    assert b"LiberationSerif" in pdf  # the Times-like serif of the decree


def test_the_rules_under_the_issuer_the_motto_and_the_subject_are_drawn(year_report):
    image = _image(documents.report_pdf(year_report), 0, scale=2)
    px = 2 * MM  # pixels per mm

    def longest_run(row: np.ndarray) -> float:
        dark = np.concatenate([[False], row < 100, [False]])
        edges = np.flatnonzero(np.diff(dark.astype(int)))
        return max(edges[1::2] - edges[::2], default=0) / px

    top = image[: int(80 * px)]
    runs = [longest_run(row) for row in top]
    # the motto's rule (as long as "Độc lập - Tự do - Hạnh phúc", about 55 mm) and the
    # shorter ones under the issuer and under the subject; no text line is that solid
    assert max(runs) > 45
    assert sum(1 for r in runs if 12 < r < 45) >= 1
    # nothing in the left margin (30 mm) nor the right one (15 mm) of page 1
    assert (image[:, : int(29 * px)] < 200).sum() == 0
    assert (image[:, -int(14 * px) :] < 200).sum() == 0


def test_the_tables_charts_method_and_signatures(year_report):
    pdf = documents.report_pdf(year_report)
    text = _pdf_text(pdf)
    for words in (
        "II. KẾT QUẢ THEO CƠ QUAN",
        "1. Tỷ lệ người dân, tổ chức hài lòng chung theo cơ quan",
        "Số người trả lời câu hỏi hài lòng chung",
        "Kết luận so với mục tiêu 90 %",
        "2. Chỉ số SIPAS và 5 yếu tố theo cơ quan (giải thích nguyên nhân)",
        "Tiếp cận dịch vụ",  # elements by their names, not A–E
        "3. Cơ quan không có phiếu khảo sát trong kỳ",
        "III. BIỂU ĐỒ",
        "V. GHI CHÚ PHƯƠNG PHÁP",
        "Korn–Graubard",
        "n_use = min(n_eff, n)",
        "logit-t",
        "NCHS",
        "dưới 10 người trả lời",
    ):
        assert words in text, words
    assert "Độ tin cậy thấp: chỉ" in text  # low reliability in words, with the reason
    thanh_ha = next(r for r in year_report["agencies"] if r["code"] == "H-THANHHA")
    assert thanh_ha["q0"]["verdict"] == "below_target"
    assert re.search(r"UBND huyện Thanh Hà [\d.]+ \d+,\d % [\d,]+–[\d,]+ % \S+ Dưới mục tiêu", text)
    province = year_report["province"]["q0"]
    assert f"Toàn tỉnh {province['n']:,}".replace(",", ".") in text  # the rows add up
    for quiet in year_report["agencies_without_responses"]:
        assert quiet["name"] in text
    last = _text(PdfReader(io.BytesIO(pdf)).pages[-1])
    assert "NGƯỜI LẬP BÁO CÁO (Ký, ghi rõ họ tên) THỦ TRƯỞNG CƠ QUAN (Ký tên, đóng dấu)" in last
    assert last.endswith("Nơi nhận: - Như trên; - Lưu: VT.")


def _page_with(pdf: bytes, text: str) -> int:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return next(k for k, page in enumerate(pages) if text in page.extract_text())


def test_pdf_has_the_interval_chart_and_the_funnel_plot_of_the_headline(year_report):
    pdf = documents.report_pdf(year_report)
    k = _page_with(pdf, "hài lòng chung và khoảng tin cậy")
    assert int((_image(pdf, k, 1) < 200).sum()) > 2000  # the chart is drawn
    k = _page_with(pdf, "Biểu đồ phễu")
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[k].extract_text().split())
    assert "Giới hạn kiểm soát 95" in text and "Mục tiêu 90" in text
    image = np.asarray(pypdfium2.PdfDocument(pdf)[k].render(scale=2).to_pil().convert("RGB"))
    r, g, b = (image[..., i].astype(int) for i in range(3))
    # the target line (#0B3C7A) and the grey points inside the funnel
    blue = (b > 100) & (r < 40) & (g < 80)
    grey = (abs(r - 138) < 12) & (abs(g - 138) < 12) & (abs(b - 138) < 12)
    assert blue.sum() > 500 and grey.sum() > 100
    # the funnel is the headline's (Q0) against n_use, and the agencies outside it are named
    funnel = year_report["funnel"]
    assert funnel["indicator"] == "q0" and funnel["size"] == "n_use"
    below = [p for p in funnel["points"] if chart_layout.funnel_position(funnel, p)[0] == "below"]
    assert below and all(
        chart_layout.short_name(p["name"]) in text or p["name"] in text for p in below
    )
    # without a funnel (e.g. a scope with no agency) the page is left out
    assert "Biểu đồ phễu" not in _pdf_text(documents.report_pdf(dict(year_report, funnel=None)))


def test_the_headline_setting_decides_the_one_verdict(year_report):
    composite = dict(year_report, headline_indicator="composite")
    text = _pdf_text(documents.report_pdf(composite))
    assert "1. Chỉ số hài lòng SIPAS (5 yếu tố) theo cơ quan" in text
    assert "Số người trả lời bộ câu hỏi 5 yếu tố" in text
    assert "Tỷ lệ người dân, tổ chức hài lòng chung, dùng để giải thích nguyên nhân" in text
    province = year_report["province"]
    with force_locale("vi"):
        value = presentation.share(province["index"]).replace("\u00a0", " ")
    assert f"Chỉ số hài lòng SIPAS (5 yếu tố) toàn tỉnh là {value}" in text


def test_xlsx_has_both_charts_beside_their_data(year_report):

    body = documents.report_xlsx(year_report)
    wb = load_workbook(io.BytesIO(body))
    intervals = list(wb["Biểu đồ khoảng tin cậy"].iter_rows(min_row=2, values_only=True))
    rows = year_report["agencies"]
    assert len(intervals) == len(rows)
    # the headline (Q0), best first, agencies without a verdict last
    q0 = {r["name"]: r["q0"] for r in rows}
    first = q0[intervals[0][1]]
    assert intervals[0][3] == pytest.approx(first["index"])
    assert intervals[0][4] == pytest.approx(first["ci_low"])
    with_verdict = [r[3] for r in intervals if r[6] != "Chưa đủ dữ liệu"]
    assert with_verdict == sorted(with_verdict, reverse=True)
    funnel = list(wb["Biểu đồ phễu"].iter_rows(min_row=2, values_only=True))
    points = year_report["funnel"]["points"]
    assert sorted((r[0], round(r[3], 9)) for r in funnel[: len(points)]) == sorted(
        (p["name"], round(p["index"], 9)) for p in points
    )
    assert [r[6] for r in funnel[: len(year_report["funnel"]["n_use"])]] == pytest.approx(
        year_report["funnel"]["n_use"]
    )
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode() for n in charts]
    assert len(charts) == 2
    assert "errBars" in xml[0] and "Biểu đồ khoảng tin cậy" in xml[0]
    assert '<logBase val="10"' in xml[1] and "Biểu đồ phễu" in xml[1]


def test_the_issuer_recipients_and_signer_are_settings(year_report, app, monkeypatch):
    for name, value in {
        "REPORT_ISSUER_PARENT": "UBND thành phố Hải Phòng",
        "REPORT_ISSUER": "Sở Nội vụ",
        "REPORT_ISSUER_CODE": "snv",
        "REPORT_PLACE": "Hải Phòng",
        "REPORT_RECIPIENTS": "Ủy ban nhân dân thành phố; Bộ Nội vụ",
        "REPORT_DISTRIBUTION": "Như trên;Chủ tịch UBND thành phố;Lưu: VT, CCHC.",
        "REPORT_SIGNER_TITLE": "Giám đốc",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    pdf = documents.report_pdf(year_report)
    first = _text(PdfReader(io.BytesIO(pdf)).pages[0])
    assert first.startswith("UBND THÀNH PHỐ HẢI PHÒNG SỞ NỘI VỤ Số: /BC-SNV")
    assert "Hải Phòng, ngày tháng năm 20…" in first
    assert "Kính gửi: - Ủy ban nhân dân thành phố; - Bộ Nội vụ." in first
    last = _text(PdfReader(io.BytesIO(pdf)).pages[-1])
    assert "THỦ TRƯỞNG CƠ QUAN" not in last and "GIÁM ĐỐC (Ký tên, đóng dấu)" in last
    assert last.endswith("- Như trên; - Chủ tịch UBND thành phố; - Lưu: VT, CCHC.")
    book = load_workbook(io.BytesIO(documents.report_xlsx(year_report)))
    assert book["Tóm tắt"]["B3"].value == "SỞ NỘI VỤ — UBND THÀNH PHỐ HẢI PHÒNG"


def test_empty_period_documents(app_ctx):
    report = services.compute_report(Period.parse("2019-03"))
    pdf = documents.report_pdf(report)
    text = _pdf_text(pdf)
    assert f"BÁO CÁO {SUBJECT}, Tháng 3/2019 (15/02–14/03/2019)" in text
    assert "Không người dân nào trả lời khảo sát từ 15/02/2019 đến 14/03/2019" in text
    assert "II. KẾT QUẢ THEO CƠ QUAN" not in text
    assert "GHI CHÚ PHƯƠNG PHÁP" in text and "NGƯỜI LẬP BÁO CÁO" in text
    book = load_workbook(io.BytesIO(documents.report_xlsx(report)))
    assert book["Cơ quan"].max_row == 1
    summary = [c.value for c in book["Tóm tắt"]["B"]]
    assert any(str(v).startswith("Không người dân nào trả lời khảo sát") for v in summary)


def test_a_scoped_readers_documents_say_so_and_hold_only_their_agencies(app):
    with app.app_context():
        district = factories.agency("UBND huyện Thử", kind=AgencyKind.district)
        commune = factories.agency("UBND xã Thử", parent=district, kind=AgencyKind.commune)
        factories.agency("UBND xã Vắng", parent=district, kind=AgencyKind.commune)
        factories.agency("Sở Ngoài", kind=AgencyKind.department)
        for agency, n in ((district, 30), (commune, 12), (factories.agency("Sở Khác"), 30)):
            counter = factories.counter(agency)
            for k in range(n):
                respond(counter, 5 if k % 5 else 2)
        factories.counter(db.session.scalar(select(Agency).where(Agency.name == "UBND xã Vắng")))
        factories.counter(db.session.scalar(select(Agency).where(Agency.name == "Sở Ngoài")))
        viewer = factories.user(Role.viewer, district).email
        db.session.commit()
    client = logged_in(app, viewer)
    text = _pdf_text(client.get("/staff/reports/report.pdf?period=2022-03").data)
    assert "Báo cáo này chỉ gồm các cơ quan thuộc UBND huyện Thử" in text
    assert "UBND xã Vắng" in text  # in scope, without responses: listed
    assert "Sở Ngoài" not in text and "Sở Khác" not in text
    assert "Cộng 2 cơ quan trong bảng 42 Toàn tỉnh 72" in text  # what the rows add up to
    book = load_workbook(io.BytesIO(client.get("/staff/reports/report.xlsx?period=2022-03").data))
    assert book["Tóm tắt"]["A2"].value == "Phạm vi"
    names = [r[1] for r in book["Cơ quan"].iter_rows(min_row=2, values_only=True)]
    assert names == ["UBND huyện Thử", "UBND xã Thử", "UBND xã Vắng", "Toàn tỉnh"]


# -- the XLSX -----------------------------------------------------------------------------


def test_xlsx_opens_with_the_summary_and_the_reports_metadata(year_report):
    with freeze_time(datetime(2023, 1, 5, 3, 30, tzinfo=UTC)):
        book = load_workbook(io.BytesIO(documents.report_xlsx(year_report)))
    assert book.sheetnames == [
        "Tóm tắt",
        "Cơ quan",
        "Yếu tố",
        "Câu hỏi",
        "Độ bao phủ",
        "Chất lượng dữ liệu",
        "Quầy",
        "Biểu đồ khoảng tin cậy",
        "Biểu đồ phễu",
    ]
    ws = book["Tóm tắt"]
    rows = {r[0].value: r[1] for r in ws.iter_rows(min_row=2) if r[0].value}
    assert rows["Báo cáo"].value == f"{SUBJECT}, Năm 2022 (15/12/2021–14/12/2022)"
    assert rows["Số liệu từ ngày"].value == datetime(2021, 12, 15)
    assert rows["Số liệu từ ngày"].number_format == "dd/mm/yyyy"
    assert rows["Đến hết ngày"].value == datetime(2022, 12, 14)
    made = rows["Lập lúc (giờ Việt Nam)"]
    assert made.value == datetime(2023, 1, 5, 10, 30) and made.number_format == "dd/mm/yyyy hh:mm"
    assert rows["Chỉ tiêu chính (mang kết luận)"].value == "Tỷ lệ người dân, tổ chức hài lòng chung"
    headline = rows["Tỷ lệ người dân, tổ chức hài lòng chung toàn tỉnh"]
    assert headline.value == pytest.approx(year_report["province"]["q0"]["index"])
    assert headline.number_format == "0.0%"
    assert rows["Số phiếu"].value == year_report["n_responses"]
    assert rows["Số phiếu"].number_format == "#,##0"
    assert rows["Gia quyền theo số hồ sơ"].value == "có (hậu phân tầng)"
    with force_locale("vi"):
        sentences = summary_sentences(year_report)
    values = [r[1].value for r in ws.iter_rows(min_row=2)]
    start = values.index(sentences[0])
    assert values[start : start + len(sentences)] == sentences
    assert ws.freeze_panes == "A2" and ws["A1"].value == "Mục"


def test_xlsx_headers_formats_panes_and_widths(year_report):
    figures = kpis.for_user(year_report, Period.parse("2022"))
    book = load_workbook(io.BytesIO(documents.report_xlsx(dict(year_report, kpis=figures))))
    assert book.sheetnames[7] == "PAKN và chỉ số một cửa"
    codes = {"n", "n_eff", "n_use", "df", "deff", "se", "index", "Mã", "A", "Q0"}
    for ws in book.worksheets[1:8]:
        header = [c.value for c in ws[1]]
        assert all(isinstance(h, str) and h for h in header), ws.title
        assert not codes & set(header), ws.title
        for h in header:  # a technical figure is explained in Vietnamese
            if re.search(r"\b(n_eff|n_use|df|deff)\b", h):
                assert re.search(r"(Cỡ mẫu|Bậc tự do|Hệ số)", h), h
        assert ws.freeze_panes in ("C2", "D2"), ws.title
        assert ws.row_dimensions[1].height >= 15
        assert all(c.font.bold and c.alignment.wrap_text for c in ws[1]), ws.title
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(8 <= w <= 60 for w in widths), (ws.title, widths)
    agencies = book["Cơ quan"]
    header = [c.value for c in agencies[1]]
    assert header[:7] == [
        "Mã cơ quan",
        "Cơ quan",
        "Số người trả lời câu hỏi hài lòng chung",
        "Tỷ lệ người dân, tổ chức hài lòng chung",
        "Cận dưới (khoảng tin cậy 95 %)",
        "Cận trên (khoảng tin cậy 95 %)",
        "Kết luận so với mục tiêu 90 %",
    ]
    # the technical columns at the right
    assert header[-5].startswith("Cỡ mẫu hiệu dụng n_eff") and header[-1] == "Sai số chuẩn SE"
    longest = max(len(r["name"]) for r in year_report["agencies"])
    assert agencies.column_dimensions["B"].width == longest + 2
    rows = {r[0].value: r for r in agencies.iter_rows(min_row=2) if r[1].value}
    thanh_ha = next(r for r in year_report["agencies"] if r["code"] == "H-THANHHA")
    cells = rows["H-THANHHA"]
    assert cells[2].value == thanh_ha["q0"]["n"] and cells[2].number_format == "#,##0"
    assert cells[3].value == pytest.approx(thanh_ha["q0"]["index"])
    assert all(c.number_format == "0.0%" for c in cells[3:6])
    assert cells[6].value == "Dưới mục tiêu"
    assert cells[8].value is None  # no figures of 2021 to compare with
    # the agencies without responses are listed, the province closes the table
    quiet = year_report["agencies_without_responses"]
    body = list(agencies.iter_rows(min_row=2))
    assert [r[1].value for r in body[-1 - len(quiet) : -1]] == [r["name"] for r in quiet]
    assert all(r[6].value == "Không có phiếu trong kỳ" for r in body[-1 - len(quiet) : -1])
    total = body[-1]
    assert total[1].value == "Toàn tỉnh" and total[1].font.bold
    assert total[2].value == sum(r["q0"]["n"] for r in year_report["agencies"])
    # elements and items by their Vietnamese names, codes at the right
    elements = list(book["Yếu tố"].iter_rows(min_row=2, values_only=True))
    assert {r[2] for r in elements} >= {"Tiếp cận dịch vụ", "Thủ tục hành chính"}
    assert {r[8] for r in elements} == set(year_report["elements"])
    assert len(elements) == (len(year_report["agencies"]) + 1) * len(year_report["elements"])
    items = list(book["Câu hỏi"].iter_rows(min_row=2, values_only=True))
    assert any(r[3] == "Biển hiệu, chỉ dẫn rõ ràng" and r[9] == "A1" for r in items)
    coverage = {r[0]: r for r in book["Độ bao phủ"].iter_rows(min_row=2, values_only=True)}
    assert coverage["H-THANHHA"][3] == thanh_ha["dossiers"]


def test_xlsx_changes_in_points_and_reliability_in_words(year_report):
    changed = copy.deepcopy(year_report)
    row = changed["agencies"][0]
    row["q0"]["change"] = {"previous": 0.8, "difference": -0.0634, "significant": True}
    row["q0"]["flags"] = ["low_reliability_n"]
    row["q0"]["n_use"] = 12.0
    cells = list(load_workbook(io.BytesIO(documents.report_xlsx(changed)))["Cơ quan"][2])
    assert cells[1].value == row["name"]
    assert cells[7].value == "chỉ 12 phiếu hiệu dụng"
    assert cells[8].value == pytest.approx(-6.34) and cells[8].number_format == "+0.0;-0.0;0.0"
    assert cells[9].value == "có"


def test_cli_writes_both_files(app, runner, tmp_path):
    with app.app_context():
        load_demo(scale=0.1)
        db.session.commit()
    result = runner.invoke(
        args=["report", "monthly", "--period", "2022-03", "--output-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / "bao-cao-hai-long-2022-03.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and "Tháng 3/2022 (15/02–14/03/2022)" in _pdf_text(pdf)
    assert (tmp_path / "bao-cao-hai-long-2022-03.xlsx").exists()
    result = runner.invoke(
        args=["report", "quarterly", "--period", "2022-03", "--output-dir", str(tmp_path)]
    )
    assert result.exit_code != 0 and "not a quarter" in result.output
    result = runner.invoke(args=["report", "yearly", "--period", "20x2"])
    assert result.exit_code != 0 and "not a period" in result.output
