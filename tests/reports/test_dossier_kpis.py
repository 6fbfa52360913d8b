"""The on-time rate per agency beside satisfaction, and the channel mix, on the report
pages, in the PDF and in the XLSX (issue 18, points 4 and 6)."""

from __future__ import annotations

import io
from datetime import datetime
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from survey_app.agencies.dossiers import Figure, store_figures
from survey_app.agencies.models import IMPORT_SOURCE
from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.reports import documents, kpis, services
from survey_app.reports.periods import Period
from survey_app.surveys.models import Channel
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")
MONTH = MARCH.months()[0]


def _figure(agency, field, period, channel, received, resolved, on_time, late):
    return Figure(agency.id, field.id, period, MONTH, channel, received, resolved, on_time, late)


@pytest.fixture
def dossier_world(app):
    """March 2022, three agencies:

    - Sở Tư pháp (STP): 200 resolved, 192 on time, 8 late → 96 %, meets the 95 % target;
      12 responses: 8 by poster, 4 by invitation (2 returned at the counter, 2 online);
      dossiers returned: 120 counter, 60 online, 20 post (received 200);
    - Sở Xây dựng (SXD): 100 resolved, 90 on time, 10 late → 90 %, below the target,
      sent as two days; 3 web responses;
    - Sở Y tế (SYT): 6 resolved, 5 on time → too few for a rate: "5/6", no verdict.
    """
    with app.app_context():
        stp = factories.agency("Sở Tư pháp", code="STP")
        sxd = factories.agency("Sở Xây dựng", code="SXD")
        syt = factories.agency("Sở Y tế", code="SYT")
        ht = factories.field(code="HT")
        figures = [
            _figure(stp, ht, "2022-03", "counter", 120, 120, 118, 2),
            _figure(stp, ht, "2022-03", "online", 60, 60, 56, 4),
            _figure(stp, ht, "2022-03", "post", 20, 20, 18, 2),
            _figure(sxd, ht, "2022-03-01", "all", 60, 50, 45, 5),
            _figure(sxd, ht, "2022-03-02", "all", 50, 50, 45, 5),
            _figure(syt, ht, "2022-03", "all", 6, 6, 5, 1),
        ]
        store_figures("api:1", figures[:5])
        store_figures(IMPORT_SOURCE, figures[5:])
        counter = factories.counter(stp)
        for k in range(12):
            r = respond(counter, 5 if k < 11 else 2, when=datetime(2022, 3, 1, 9, k, tzinfo=VN))
            if k >= 8:
                r.channel = Channel.invite
                r.return_channel = "counter" if k < 10 else "online"
        web = factories.counter(sxd)
        for _ in range(3):
            respond(web, 4).channel = Channel.web
        admin = factories.user(Role.admin)
        db.session.commit()
        return SimpleNamespace(stp=stp.id, sxd=sxd.id, syt=syt.id, admin=admin.email)


def _figures(app):
    with app.app_context():
        report = services.compute_report(MARCH)
        return report, kpis.for_user(report, MARCH)


def test_the_on_time_rate_per_agency_with_its_target_and_small_numbers(app, dossier_world):
    report, data = _figures(app)
    rows = {r["code"]: r for r in data["agencies"]}
    stp, sxd, syt = rows["STP"]["dossiers"], rows["SXD"]["dossiers"], rows["SYT"]["dossiers"]
    assert (stp["received"], stp["resolved"], stp["on_time"], stp["late"]) == (200, 200, 192, 8)
    assert stp["on_time_share"] == pytest.approx(0.96) and stp["meets_target"] is True
    # the two days sent for SXD add up to its month
    assert (sxd["received"], sxd["resolved"], sxd["on_time"]) == (110, 100, 90)
    assert sxd["on_time_share"] == pytest.approx(0.90) and sxd["meets_target"] is False
    assert syt["too_few"] is True and syt["meets_target"] is None
    province = data["province"]["dossiers"]
    assert (province["timed"], province["on_time"]) == (306, 287)
    assert data["on_time_target"] == 0.95
    # beside satisfaction: the report's headline for the agency
    satisfaction = rows["STP"]["satisfaction"]
    assert satisfaction["indicator"] == "q0"
    assert satisfaction["index"] == pytest.approx(report["agencies"][0]["q0"]["index"])
    assert satisfaction["n"] == 12
    assert rows["SYT"]["satisfaction"] is None  # no response


def test_the_channel_mix_adds_up_to_one(app, dossier_world):
    _, data = _figures(app)
    rows = {r["code"]: r for r in data["agencies"]}
    stp = rows["STP"]["channels"]
    assert stp["survey"]["counts"] == {"poster": 8, "receipt": 0, "kiosk": 0, "web": 0, "invite": 4}
    assert stp["returned"]["counts"] == {"counter": 2, "online": 2, "post": 0, "unknown": 8}
    assert stp["dossiers"]["counts"] == {"counter": 120, "online": 60, "post": 20, "all": 0}
    assert stp["dossiers"]["shares"]["online"] == pytest.approx(0.3)
    province = data["province"]["channels"]
    assert province["survey"]["total"] == 15 and province["dossiers"]["total"] == 316
    assert province["dossiers"]["counts"]["all"] == 116
    for row in [*data["agencies"], data["province"]]:
        for mix in row["channels"].values():
            if mix["total"]:
                assert sum(mix["shares"].values()) == pytest.approx(1.0, abs=1e-12)
                assert sum(mix["counts"].values()) == mix["total"]


def _table(html: str, ident: str) -> str:
    start = html.index(f'id="{ident}"')
    return html[start : html.index("</table>", start)]


def _row(table: str, agency_id: int) -> str:
    return table[table.index(f'data-agency="{agency_id}"') :].split("</tr>")[0]


def test_the_report_page_shows_the_rate_beside_satisfaction_and_the_mix(app, dossier_world):
    client = logged_in(app, dossier_world.admin)
    html = client.get("/staff/reports/?period=2022-03&lang=en").get_data(as_text=True)
    table = _table(html, "kpi-dossiers")
    assert "Against the 95% target" in table
    stp = _row(table, dossier_world.stp)
    assert "96.0%" in stp and "192/200" in stp and "Meets the target" in stp
    assert "91.7%" in stp  # Q0: 11 of 12 satisfied, beside it
    assert "Below the target" in _row(table, dossier_world.sxd)
    syt = _row(table, dossier_world.syt)
    assert "5/6" in syt and "few dossiers" in syt and "%" not in syt.split("</td>")[-2]
    assert "Whole province" in table and "93.8%" in table  # 287 / 306
    mix = _table(html, "kpi-channels")
    stp_mix = _row(mix, dossier_world.stp)
    assert "66.7%" in stp_mix and "33.3%" in stp_mix  # posters 8/12, invitations 4/12
    sxd_mix = _row(mix, dossier_world.sxd)
    assert '<td class="num">3</td>' in sxd_mix  # 3 web responses: a count, not 100%
    returned = _row(_table(html, "kpi-return-channels"), dossier_world.stp)
    # respondents: 2 counter, 2 online, 8 unknown of 12; dossiers: 60 %, 30 %, 10 %
    assert returned.count("16.7%") == 2 and "66.7%" in returned
    assert "60.0%" in returned and "30.0%" in returned and "10.0%" in returned
    page = client.get(f"/staff/reports/agencies/{dossier_world.stp}?period=2022-03&lang=en")
    assert page.status_code == 200
    own = _table(page.get_data(as_text=True), "kpi-dossiers")
    assert "96.0%" in own and f'data-agency="{dossier_world.sxd}"' not in own


def test_the_pdf_and_the_xlsx_carry_the_rate_and_the_mix(app, dossier_world):
    with app.app_context():
        report = services.compute_report(MARCH)
        report = dict(report, kpis=kpis.for_user(report, MARCH))
        pdf, xlsx = documents.report_pdf(report), documents.report_xlsx(report)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Tỷ lệ hồ sơ đúng hạn (mục tiêu từ 95 % trở lên)" in text
    assert "96,0 % (192/200)" in text and "Đạt mục tiêu" in text
    assert "90,0 % (90/100)" in text and "Dưới mục tiêu" in text
    assert "5/6 (quá ít hồ sơ)" in text
    assert "Kênh tham gia khảo sát và kênh trả kết quả" in text
    assert "66,7 %" in text and "60,0 %" in text

    wb = load_workbook(io.BytesIO(xlsx))
    ws = wb["Hồ sơ đúng hạn"]
    header = [c.value for c in ws[1]]
    assert header[2] == "Tỷ lệ người dân, tổ chức hài lòng chung"
    assert "Tỷ lệ hồ sơ đúng hạn" in header and "So với mục tiêu 95\u00a0%" in header
    rate, goal = header.index("Tỷ lệ hồ sơ đúng hạn"), header.index("Mục tiêu")
    by_name = {r[1].value: r for r in ws.iter_rows(min_row=2) if r[1].value}
    stp = by_name["Sở Tư pháp"]
    assert stp[rate].value == pytest.approx(0.96) and stp[rate].number_format == "0.0%"
    assert stp[goal].value == 0.95 and stp[-1].value == "Đạt mục tiêu"
    assert stp[2].value == pytest.approx(11 / 12) and stp[3].value == 12
    syt = by_name["Sở Y tế"]
    assert syt[rate].value is None and syt[-1].value == "quá ít hồ sơ"  # 5/6: no rate
    assert by_name["Toàn tỉnh"][rate].value == pytest.approx(287 / 306)
    mix = wb["Kênh khảo sát"]
    header = [c.value for c in mix[1]]
    row = {r[1].value: [c.value for c in r] for r in mix.iter_rows(min_row=2) if r[1].value}
    stp = dict(zip(header, row["Sở Tư pháp"], strict=True))
    assert stp["Phiếu tin nhắn mời (số)"] == 4
    assert stp["Phiếu tin nhắn mời (tỷ lệ)"] == pytest.approx(4 / 12)
    assert stp["Hồ sơ bưu chính (tỷ lệ)"] == pytest.approx(0.1)
    shares = [v for h, v in stp.items() if h.startswith("Phiếu: trả") and h.endswith("(tỷ lệ)")]
    assert sum(shares) == pytest.approx(1.0)
