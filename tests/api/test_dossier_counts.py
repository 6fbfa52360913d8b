"""``POST /api/v1/dossier-counts``: the one-stop system's dossier counts by API (issue 18, 6)."""

from __future__ import annotations

import threading
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.agencies import dossiers
from survey_app.agencies.dossiers import period_figures
from survey_app.agencies.importers import IMPORTERS
from survey_app.agencies.models import DossierVolume
from survey_app.api.services import create_api_client
from survey_app.extensions import db
from survey_app.reports.loading import period_volumes
from survey_app.reports.periods import Period
from tests import factories
from tests.api.openapi import check

URL = "/api/v1/dossier-counts"


@pytest.fixture
def world(app):
    with app.app_context():
        province = factories.agency("UBND tỉnh", code="HD")
        snv = factories.agency("Sở Nội vụ", parent=province, code="SNV")
        stp = factories.agency("Sở Tư pháp", parent=province, code="STP")
        ht = factories.field(code="HT", name="Hộ tịch")
        dd = factories.field(code="DD", name="Đất đai")
        _, key = create_api_client("Một cửa điện tử", scopes=("dossiers",))
        _, other_system = create_api_client("Hệ thống ngành đất đai", scopes=("dossiers",))
        _, links_only = create_api_client("Quầy in biên nhận")
        _, snv_only = create_api_client("Một cửa Sở Nội vụ", agency=snv, scopes=("dossiers",))
        db.session.commit()
        return SimpleNamespace(
            snv=snv.id,
            stp=stp.id,
            ht=ht.id,
            dd=dd.id,
            key=key,
            other_system=other_system,
            links_only=links_only,
            snv_only=snv_only,
        )


def post(client, key, records, raw=None):
    headers = {"Accept-Language": "en"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body = raw if raw is not None else {"records": records}
    reply = client.post(URL, json=body, headers=headers)
    check(reply, URL, "POST")
    return reply


def rows(app):
    with app.app_context():
        return [
            (
                r.source.split(":")[0],
                r.agency.code,
                r.field.code,
                r.period,
                r.return_channel,
                r.dossiers,
                r.resolved,
                r.resolved_on_time,
                r.resolved_late,
            )
            for r in db.session.scalars(
                select(DossierVolume).order_by(
                    DossierVolume.source, DossierVolume.period, DossierVolume.return_channel
                )
            )
        ]


RECORD = {
    "agency": "SNV",
    "field": "HT",
    "period": "2026-11",
    "return_channel": "online",
    "received": 120,
    "resolved": 110,
    "resolved_on_time": 104,
    "resolved_late": 6,
}


# --- keys and scope ---------------------------------------------------------------


def test_a_key_is_required_and_it_needs_the_dossiers_scope(app, client, world):
    assert post(client, None, [RECORD]).status_code == 401
    assert post(client, "hl_not-a-key", [RECORD]).status_code == 401
    refused = post(client, world.links_only, [RECORD])
    assert refused.status_code == 403
    assert "dossiers" in refused.json["error"]["message"]
    assert rows(app) == []
    assert post(client, world.key, [RECORD]).status_code == 200


def test_a_key_limited_to_an_agency_sends_for_that_agency_only(app, client, world):
    reply = post(client, world.snv_only, [RECORD, dict(RECORD, agency="STP")])
    assert reply.status_code == 422
    assert set(reply.json["error"]["fields"]) == {"records[1].agency"}
    assert rows(app) == []
    assert post(client, world.snv_only, [RECORD]).status_code == 200


def test_the_cli_creates_a_key_with_the_scope(app, runner, world):
    result = runner.invoke(args=["api-keys", "create", "--name", "Một cửa", "--scope", "dossiers"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["api-keys", "list"]).output
    assert "Một cửa\tall counters\tscopes: dossiers" in listed
    wrong = runner.invoke(args=["api-keys", "create", "--name", "X", "--scope", "everything"])
    assert wrong.exit_code != 0


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"agency": "NOPE"}, "agency", "Unknown agency"),
        ({"agency": None}, "agency", "Required"),
        ({"field": "XX"}, "field", "Unknown procedure field"),
        ({"period": "2026-13"}, "period", "YYYY-MM"),
        ({"period": "2026-02-30"}, "period", "YYYY-MM"),
        ({"period": "11/2026"}, "period", "YYYY-MM"),
        ({"period": "2099-01"}, "period", "future"),
        ({"return_channel": "fax"}, "return_channel", "counter"),
        ({"received": -1}, "received", "negative"),
        ({"received": None}, "received", "Required"),
        ({"received": 1.5}, "received", "whole number"),
        ({"received": "12"}, "received", "whole number"),
        ({"received": True}, "received", "whole number"),
        ({"received": 2**31}, "received", "Too large"),
        ({"resolved_late": -2}, "resolved_late", "negative"),
        ({"resolved_on_time": 100, "resolved_late": 11}, "resolved", "111"),
        ({"resolved_late": None}, "resolved_late", "together"),
        ({"resolved": None}, "resolved", "Required"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_invalid_records_get_a_422_naming_the_field_and_nothing_is_stored(
    app, client, world, change, field, words
):
    good = dict(RECORD, field="DD")
    bad = {k: v for k, v in (RECORD | change).items() if v is not None}
    reply = post(client, world.key, [good, bad])
    assert reply.status_code == 422
    fields = reply.json["error"]["fields"]
    assert list(fields) == [f"records[1].{field}"]
    assert words.lower() in fields[f"records[1].{field}"].lower()
    assert rows(app) == []  # all or nothing: the good record is not stored either


@pytest.mark.parametrize(
    "body", [{}, {"records": []}, {"records": "SNV"}, {"records": [RECORD] * 5001}]
)
def test_the_records_list_itself_is_checked(client, world, body):
    reply = post(client, world.key, None, raw=body)
    assert reply.status_code == 422
    assert list(reply.json["error"]["fields"]) == ["records"]


def test_a_body_that_is_not_a_json_object_is_a_400(client, world):
    reply = client.post(URL, data="records", headers={"Authorization": f"Bearer {world.key}"})
    check(reply, URL, "POST")
    assert reply.status_code == 400


def test_two_records_for_the_same_dossiers_in_one_request_are_refused(app, client, world):
    same = post(client, world.key, [RECORD, dict(RECORD, received=1)])
    assert same.status_code == 422
    assert "records[0]" in same.json["error"]["fields"]["records[1]"]
    month_and_day = post(client, world.key, [RECORD, dict(RECORD, period="2026-11-03")])
    assert month_and_day.status_code == 422
    channels = post(
        client, world.key, [RECORD, {k: v for k, v in RECORD.items() if k != "return_channel"}]
    )
    assert channels.status_code == 422
    assert rows(app) == []


# --- idempotency ------------------------------------------------------------------------


def test_a_re_send_replaces_the_numbers_never_adds(app, client, world):
    first = post(client, world.key, [RECORD])
    assert first.status_code == 200
    assert first.json == {
        "received": 1,
        "created": 1,
        "replaced": 0,
        "unchanged": 0,
        "superseded": 0,
        "months": ["2026-11"],
    }
    again = post(client, world.key, [RECORD])
    assert (again.json["created"], again.json["unchanged"]) == (0, 1)
    corrected = post(client, world.key, [dict(RECORD, received=130, resolved=115, resolved_late=7)])
    assert (corrected.json["created"], corrected.json["replaced"]) == (0, 1)
    assert rows(app) == [("api", "SNV", "HT", "2026-11", "online", 130, 115, 104, 7)]


def test_each_system_is_its_own_source_and_sources_add_up(app, client, world):
    post(client, world.key, [RECORD])
    other = dict(RECORD, received=30, resolved=20, resolved_on_time=18, resolved_late=2)
    assert post(client, world.other_system, [other]).status_code == 200
    post(client, world.key, [dict(RECORD, received=100)])  # replaces only its own
    assert [r[5] for r in rows(app)] == [100, 30]
    with app.app_context():
        figures = period_figures([date(2026, 11, 1)])
    assert figures[(world.snv, world.ht)] == {
        "dossiers": 130,
        "resolved": 130,
        "timed": 130,
        "on_time": 122,
        "late": 8,
    }


def test_the_csv_import_and_the_api_feed_the_same_table(app, client, world, tmp_path):
    path = tmp_path / "volumes.csv"
    path.write_text(
        "agency_code,field_code,month,dossiers,return_channel,resolved,resolved_on_time,"
        "resolved_late\nSNV,HT,2026-11,50,counter,40,38,2\nSTP,DD,2026-11,9,,,,\n",
        encoding="utf-8",
    )
    with app.app_context():
        IMPORTERS["volumes"](path)
        db.session.commit()
    post(client, world.key, [RECORD])
    assert rows(app) == [
        ("api", "SNV", "HT", "2026-11", "online", 120, 110, 104, 6),
        ("import", "STP", "DD", "2026-11", "all", 9, None, None, None),
        ("import", "SNV", "HT", "2026-11", "counter", 50, 40, 38, 2),
    ]
    with app.app_context():
        assert period_volumes(Period.parse("2026-11")) == {
            (world.snv, world.ht): 170,
            (world.stp, world.dd): 9,
        }


def test_days_roll_up_into_their_month(app, client, world):
    days = [
        dict(
            RECORD,
            period=f"2026-11-{d:02d}",
            received=d,
            resolved=d,
            resolved_on_time=d - 1,
            resolved_late=1,
        )
        for d in (3, 4, 5)
    ]
    assert post(client, world.key, days).status_code == 200
    # a re-sent day replaces that day only
    post(
        client,
        world.key,
        [dict(days[1], received=40, resolved=40, resolved_on_time=40, resolved_late=0)],
    )
    with app.app_context():
        by_channel = period_figures([date(2026, 11, 1)], by_channel=True)
        assert by_channel == {
            (world.snv, world.ht, "online"): {
                "dossiers": 3 + 40 + 5,
                "resolved": 3 + 40 + 5,
                "timed": 3 + 40 + 5,
                "on_time": 2 + 40 + 4,
                "late": 2,
            }
        }
        assert period_volumes(Period.parse("2026-11")) == {(world.snv, world.ht): 48}


def test_a_month_replaces_its_days_and_all_channels_replace_one_channel(app, client, world):
    post(client, world.key, [dict(RECORD, period="2026-11-03"), dict(RECORD, period="2026-11-04")])
    month = post(client, world.key, [dict(RECORD, received=500)])
    assert (month.json["created"], month.json["superseded"]) == (1, 2)
    assert [(r[3], r[5]) for r in rows(app)] == [("2026-11", 500)]
    everything = {k: v for k, v in RECORD.items() if k != "return_channel"}
    reply = post(client, world.key, [dict(everything, received=900)])
    assert reply.json["superseded"] == 1
    assert [(r[3], r[4], r[5]) for r in rows(app)] == [("2026-11", "all", 900)]
    with app.app_context():
        assert period_volumes(Period.parse("2026-11")) == {(world.snv, world.ht): 900}


def test_concurrent_re_sends_leave_one_row(app, world):
    """The same figure sent twice at once: both answered, one row."""
    replies: list = [None, None]

    def run(i):
        replies[i] = post(app.test_client(), world.key, [dict(RECORD, received=200 + i)])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in replies] == [200, 200]
    assert sorted(r.json["created"] for r in replies) == [0, 1]
    found = rows(app)
    assert len(found) == 1 and found[0][5] in (200, 201)


def test_racing_writers_that_both_decided_to_create_leave_one_row(app, world):
    """Requests of one key queue on the key's row (``last_used_at``); the store itself
    does not rely on that: two writers held until both have read the table and decided
    to create the figure still leave one row (``INSERT … ON CONFLICT DO UPDATE``)."""
    barrier = threading.Barrier(2, timeout=20)
    real = dossiers._upsert
    outcomes: list = [None, None]

    def held(rows_):
        barrier.wait()
        return real(rows_)

    def run(i):
        with app.app_context():
            figure = dossiers.Figure(
                world.snv, world.ht, "2026-11", date(2026, 11, 1), "online", 300 + i
            )
            outcomes[i] = dossiers.store_figures("api:race", [figure])
            db.session.commit()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dossiers, "_upsert", held)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [o.created for o in outcomes] == [1, 1]
    found = rows(app)
    assert len(found) == 1 and found[0][5] in (300, 301)
