"""The charts on the report pages of the demo: the headline plotted, the text alternative,
the data table beside each chart, the scope respected, nothing the CSP would block."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from survey_app.agencies.models import Agency
from survey_app.extensions import db
from survey_app.reports import services
from survey_app.reports.charts import layout as chart_layout
from survey_app.reports.periods import Period
from tests.reports.test_views import as_user, demo  # noqa: F401  (the demo fixture)

NS = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> dict[str, ET.Element]:
    return {
        (root := ET.fromstring(m.group(0))).get("id"): root
        for m in re.finditer(r"<svg .*?</svg>", html, re.S)
    }


def _table_rows(html: str, ident: str) -> list[str]:
    table = html[html.index(f'id="{ident}"') :]
    table = table[: table.index("</table>")]
    return re.findall(r"<tr><td>(.*?)</td>", table)


def test_report_page_charts_plot_the_headline_with_their_tables(app, demo):  # noqa: F811
    client = as_user(app, demo, "coordinator")
    html = client.get("/staff/reports/?period=2022-11").get_data(as_text=True)
    with app.app_context():
        report = services.compute_report(Period.parse("2022-11"))
    rows = report["agencies"]
    below = [r["name"] for r in rows if r["q0"]["verdict"] == "below_target"]
    assert below
    svgs = _svgs(html)
    assert set(svgs) == {"chart-agencies", "chart-agencies-narrow", "chart-funnel"}
    agencies = svgs["chart-agencies"]
    assert agencies.get("role") == "img" and agencies.get("class") == "chart wide"
    assert svgs["chart-agencies-narrow"].get("class") == "chart narrow"
    assert svgs["chart-agencies-narrow"].find(f"{NS}desc").text == agencies.find(f"{NS}desc").text
    desc = agencies.find(f"{NS}desc").text
    assert f"{len(below)} cơ quan dưới mục tiêu: " in desc and all(n in desc for n in below)
    # one mark per agency, placed by the headline (Q0), its verdict as the shape
    marks = [p for p in agencies.iter(f"{NS}polygon") if p.find(f"{NS}title") is not None]
    assert len(marks) == sum(1 for r in rows if r["q0"]["index"] is not None)
    for mark in marks:
        name = mark.find(f"{NS}title").text.split(":")[0]
        row = next(r for r in rows if r["name"] == name)
        assert mark.get("data-status") == chart_layout.status_of(row["q0"])
    # the data beside each chart
    assert sorted(_table_rows(html, "chart-agencies-data")) == sorted(r["name"] for r in rows)
    funnel = services.funnel(rows, indicator="q0", size="n_use") if rows else None
    assert len(_table_rows(html, "chart-funnel-data")) == len(funnel["points"])
    assert '<details class="chart-data">' in html and ' style="' not in html
    assert "<script" not in html.split("</header>")[-1]
    funnel_desc = svgs["chart-funnel"].find(f"{NS}desc").text
    assert funnel_desc.startswith("Ngoài phễu:") or funnel_desc.startswith("Mọi cơ quan")


def test_a_scoped_viewers_charts_hold_only_their_agencies(app, demo):  # noqa: F811
    client = as_user(app, demo, "handler_thanhha")
    html = client.get("/staff/reports/?period=2022-11").get_data(as_text=True)
    svgs = _svgs(html)
    marks = [
        p.find(f"{NS}title").text
        for p in svgs["chart-agencies"].iter(f"{NS}polygon")
        if p.find(f"{NS}title") is not None
    ]
    with app.app_context():
        report = services.compute_report(Period.parse("2022-11"))
        district = db.session.get(Agency, demo.ids["H-THANHHA"])
        inside = {r["name"] for r in report["agencies"] if r["path"].startswith(district.path)}
    assert inside and len(inside) < len(report["agencies"])
    assert {m.split(":")[0] for m in marks} == inside
    assert set(_table_rows(html, "chart-agencies-data")) == inside


def test_agency_page_trend_names_the_periods(app, demo):  # noqa: F811
    client = as_user(app, demo, "coordinator")
    reply = client.get(f"/staff/reports/agencies/{demo.ids['H-THANHHA']}?period=2022-11")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    (trend,) = _svgs(html).values()
    assert trend.get("id") == "chart-trend" and trend.get("role") == "img"
    tooltips = [t.text for t in trend.iter(f"{NS}title")]
    assert any(t and t.startswith("Tháng 11/2022") for t in tooltips)
    assert trend.find(f"{NS}desc").text.startswith("Từ Tháng 12/2021 đến Tháng 11/2022")
    texts = ["".join(t.itertext()) for t in trend.iter(f"{NS}text")]
    assert "Mục tiêu 90\u00a0%" in " ".join(texts)
    assert 'id="trend"' in html  # the same figures as a table under it
