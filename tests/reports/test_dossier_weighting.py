"""The report's weights from the dossier counts the one-stop system sends by API, and
post-stratification by return channel (issue 18, points 4 and 6)."""

from __future__ import annotations

import pytest

from survey_app.agencies.dossiers import Figure, store_figures
from survey_app.agencies.models import api_source
from survey_app.api.services import create_api_client
from survey_app.extensions import db
from survey_app.reports import services
from survey_app.reports.periods import Period
from survey_app.surveys.models import Channel
from tests import factories
from tests.reports.conftest import respond

MARCH = Period.parse("2022-03")


def _send(client, key, records):
    reply = client.post(
        "/api/v1/dossier-counts",
        json={"records": records},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 200, reply.json
    return reply.json


def test_the_weights_use_the_counts_sent_by_api_days_rolled_up(app, client):
    """As the CSV-imported volumes do: 100 and 900 dossiers, here sent as days."""
    with app.app_context():
        small = factories.agency("Sở nhỏ", code="SMALL")
        large = factories.agency("Sở lớn", code="LARGE")
        factories.field(code="HT")
        for agency, share in ((small, 1.0), (large, 0.5)):
            counter = factories.counter(agency)
            for i in range(40):
                respond(counter, 5 if i < 40 * share else 1)
        _, key = create_api_client("Một cửa", scopes=("dossiers",))
        db.session.commit()
    # the reporting month March 2022 is the volume month 2022-03
    _send(
        client,
        key,
        [
            {"agency": "SMALL", "field": "HT", "period": "2022-03-01", "received": 60},
            {"agency": "SMALL", "field": "HT", "period": "2022-03-02", "received": 40},
            {"agency": "LARGE", "field": "HT", "period": "2022-03", "received": 900},
        ],
    )
    with app.app_context():
        report = services.compute_report(MARCH)
        assert report["weighting"]["used"] is True
        # unweighted 75 %; weighted by the dossiers sent: 0.1 · 1 + 0.9 · 0.5
        assert report["province"]["q0"]["index"] == pytest.approx(0.55)
        rows = {row["code"]: row for row in report["agencies"]}
        assert rows["SMALL"]["dossiers"] == 100 and rows["LARGE"]["dossiers"] == 900
    # a corrected re-send replaces the numbers: the report follows at once
    _send(client, key, [{"agency": "LARGE", "field": "HT", "period": "2022-03", "received": 100}])
    with app.app_context():
        report = services.compute_report(MARCH)
        assert report["province"]["q0"]["index"] == pytest.approx(0.75)


@pytest.fixture
def channel_world(app_ctx):
    """Agency A × field F, March 2022: 60 dossiers returned at the counter, 30 online,
    10 by post (sent by API). Invited respondents: three got their result at the
    counter (Q0 5, 4, 2), two online (4, 5), none by post (tests/analysis/
    test_split_cells.py computes the same example by hand)."""
    agency = factories.agency("Sở Tư pháp", code="STP")
    field = factories.field(code="HT")
    procedure = factories.procedure(agency, field)
    client, _ = create_api_client("Một cửa", scopes=("dossiers",))
    store_figures(
        api_source(client.id),
        [
            Figure(agency.id, field.id, "2022-03", MARCH.months()[0], channel, n)
            for channel, n in (("counter", 60), ("online", 30), ("post", 10))
        ],
    )
    counter = factories.counter(agency)
    responses = []
    for q0, returned in (
        (5, "counter"),
        (4, "counter"),
        (2, "counter"),
        (4, "online"),
        (5, "online"),
    ):
        r = respond(counter, q0, procedure=procedure)
        r.channel, r.return_channel = Channel.invite, returned
        responses.append(r)
    db.session.commit()
    return responses


@pytest.mark.parametrize(
    ("mode", "q0", "collapsed"),
    [("off", 4 / 5, None), ("cells", 7 / 9, 0), ("collapse", 7 / 9, 1)],
)
def test_post_stratification_by_return_channel(
    app, channel_world, monkeypatch, mode, q0, collapsed
):
    monkeypatch.setitem(app.config, "REPORT_RETURN_CHANNEL_WEIGHTING", mode)
    report = services.compute_report(MARCH)
    assert report["province"]["q0"]["index"] == pytest.approx(q0, abs=1e-12)
    info = report["weighting"]["return_channel"]
    assert info["mode"] == mode
    assert info["used"] is (mode != "off")
    if mode != "off":
        assert info["split_cells"] == 1 and info["collapsed"] == collapsed
        # the post channel's 10 dossiers: a gap unless collapsed
        assert report["weighting"]["coverage_gaps"] == (1 if mode == "cells" else 0)


def test_a_respondent_without_return_channel_keeps_the_cell_whole_unless_assumed(
    app, channel_world, monkeypatch
):
    """A poster respondent (Q0 1) has no return channel: the cell is not split (6
    respondents, one weight: 4/6 satisfied). Taking poster respondents as counter users
    (a setting) splits it: counter 60/4 = 15 each (2 of the 4 satisfied), online 30/2 =
    15 each (both satisfied): (2·15 + 2·15) / 90 = 2/3, the post gap left out."""
    counter = channel_world[0].counter
    respond(counter, 1, procedure=channel_world[0].procedure)
    db.session.commit()
    monkeypatch.setitem(app.config, "REPORT_RETURN_CHANNEL_WEIGHTING", "cells")
    report = services.compute_report(MARCH)
    assert report["weighting"]["return_channel"]["used"] is False
    assert report["province"]["q0"]["index"] == pytest.approx(4 / 6)
    monkeypatch.setitem(
        app.config, "REPORT_RETURN_CHANNEL_OF_SURVEY_CHANNEL", {"poster": "counter"}
    )
    report = services.compute_report(MARCH)
    assert report["weighting"]["return_channel"]["used"] is True
    # counter: 4 respondents, 2 satisfied, weight 15; online: 2 satisfied, weight 15
    assert report["province"]["q0"]["index"] == pytest.approx((2 * 15 + 2 * 15) / 90)


def test_the_summary_says_the_weights_follow_the_return_channel(app, channel_world, monkeypatch):
    from survey_app.reports.summary import summary_sentences

    monkeypatch.setitem(app.config, "REPORT_RETURN_CHANNEL_WEIGHTING", "cells")
    with app.test_request_context("/?lang=en", headers={"Accept-Language": "en"}):
        sentences = " ".join(summary_sentences(services.compute_report(MARCH)))
    assert "In 1 agency and field cell the dossiers are also split by how" in sentences


def test_the_exports_carry_the_return_channel_to_the_analysis_cli(app, channel_world, tmp_path):
    """``flask export responses|volumes --return-channel`` then ``python -m analysis
    indices --by-return-channel`` gives the report's 7/9 on the same example."""
    import io
    import json

    from analysis.cli import main

    runner = app.test_cli_runner()
    responses, volumes = tmp_path / "responses.csv", tmp_path / "volumes.csv"
    for kind, path in (("responses", responses), ("volumes", volumes)):
        result = runner.invoke(
            args=[
                "export",
                kind,
                "--from",
                "2022-02-15",
                "--to",
                "2022-03-14",
                "--return-channel",
                "--output",
                str(path),
            ]
        )
        assert result.exit_code == 0, result.output
    assert volumes.read_text().splitlines() == [
        "agency,procedure_field,month,dossiers,return_channel",
        "STP,HT,2022-03,60,counter",
        "STP,HT,2022-03,30,online",
        "STP,HT,2022-03,10,post",
    ]
    assert (
        responses.read_text()
        .splitlines()[0]
        .startswith(
            "response_id,agency,submitted_at,counter,procedure_field,questionnaire_version,"
            "return_channel,Q0,"
        )
    )
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["indices", str(responses), "--volumes", str(volumes), "--by-return-channel"],
        stdout=out,
        stderr=err,
    )
    assert status == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    assert doc["overall"]["items"]["Q0"]["index"] == pytest.approx(7 / 9, abs=1e-12)
