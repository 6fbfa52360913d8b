"""GET /api/v1/feed: the feed scope, stable order, paging by an opaque cursor, bad
cursors and limits, agency-limited keys; every answer validated against docs/openapi.json."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.api.services import create_api_client
from survey_app.extensions import db
from survey_app.feed import services
from survey_app.feed.models import FeedEvent
from survey_app.feedback.models import CaseState
from survey_app.feedback.workflow import transition
from tests.api.openapi import check

from .conftest import file_case


@pytest.fixture
def keys(app, province):
    with app.app_context():
        justice = db.session.get(Agency, province.justice_id)
        _, feed = create_api_client("LGSP tỉnh", scopes=("feed",))
        _, plain = create_api_client("Một cửa điện tử")
        _, justice_only = create_api_client("Sở Tư pháp", agency=justice, scopes=("feed",))
        db.session.commit()
        return {"feed": feed, "plain": plain, "justice": justice_only}


def get(client, key, query=""):
    reply = client.get(f"/api/v1/feed{query}", headers={"Authorization": f"Bearer {key}"})
    check(reply, f"/api/v1/feed{query}")
    return reply


def seed(app, n_cases: int = 3) -> list[str]:
    """n cases at the justice department, each screened: 2 events a case, in order."""
    with app.app_context():
        public_ids = []
        for _ in range(n_cases):
            case, _ = file_case()
            db.session.commit()
            transition(case, CaseState.screening, None)
            db.session.commit()
            public_ids.append(case.public_id)
        return public_ids


def test_the_feed_pages_through_every_event_in_order(app, client, keys):
    public_ids = seed(app, 3)
    first = get(client, keys["feed"], "?limit=4")
    assert first.status_code == 200 and first.json["has_more"] is True
    events = [item["event"] for item in first.json["items"]]
    second = get(client, keys["feed"], f"?limit=4&after={first.json['next_cursor']}")
    assert second.json["has_more"] is False and len(second.json["items"]) == 2
    events += [item["event"] for item in second.json["items"]]
    assert [(e["case"]["public_id"], e["type"]) for e in events] == [
        (p, t) for p in public_ids for t in ("case.received", "case.screening")
    ]
    assert len({e["id"] for e in events}) == 6
    # nothing new: an empty page and the same cursor, to poll with
    third = get(client, keys["feed"], f"?after={second.json['next_cursor']}")
    assert third.json == {"items": [], "next_cursor": second.json["next_cursor"], "has_more": False}
    # a new event appears after the cursor, and only it
    with app.app_context():
        case, _ = file_case()
        db.session.commit()
    fourth = get(client, keys["feed"], f"?after={third.json['next_cursor']}")
    assert [i["event"]["type"] for i in fourth.json["items"]] == ["case.received"]
    # an item's own cursor resumes right after it; the order is stable from any point
    resumed = get(client, keys["feed"], f"?limit=2&after={first.json['items'][1]['cursor']}")
    assert [i["event"]["id"] for i in resumed.json["items"]] == [e["id"] for e in events[2:4]]
    # the items are the webhooks' bodies
    with app.app_context():
        stored = db.session.scalar(select(FeedEvent).where(FeedEvent.uid == events[0]["id"]))
        import json

        assert json.loads(stored.payload) == events[0]


def test_the_cursor_is_opaque_and_a_bad_one_is_refused_with_a_clear_message(app, client, keys):
    seed(app, 1)
    cursor = get(client, keys["feed"]).json["next_cursor"]
    assert not cursor.isdigit()
    assert services.decode_cursor(cursor) == 2
    for bad in ("abc", "12", "%%%", "cDEyYQ", "x" * 41, services.encode_cursor(5)[:-1] + "!"):
        reply = client.get(
            "/api/v1/feed",
            query_string={"after": bad},
            headers={"Authorization": f"Bearer {keys['feed']}"},
        )
        assert reply.status_code == 400, bad
        assert "cursor" in reply.json["error"]["message"]
    reply = get(client, keys["feed"], "?after=abc")
    assert reply.status_code == 400


@pytest.mark.parametrize("limit", ["", "0", "501", "-1", "ten", "1.5", "１０"])
def test_the_limit_is_bounded(client, keys, limit):
    reply = client.get(
        "/api/v1/feed", query_string={"limit": limit}, headers={"X-API-Key": keys["feed"]}
    )
    assert reply.status_code == 400 and "limit" in reply.json["error"]["message"]


def test_a_key_needs_the_feed_scope(app, client, keys):
    seed(app, 1)
    assert get(client, "hl_not-a-key").status_code == 401
    refused = get(client, keys["plain"])
    assert refused.status_code == 403 and "feed" in refused.json["error"]["message"]
    assert client.get("/api/v1/feed").status_code == 401


def test_a_key_limited_to_an_agency_reads_only_its_events(app, client, keys, province):
    seed(app, 1)
    with app.app_context():
        file_case("1.000105")  # the labour department's procedure
        db.session.commit()
    everything = get(client, keys["feed"]).json["items"]
    justice = get(client, keys["justice"]).json["items"]
    assert {i["event"]["case"]["agency"]["code"] for i in everything} == {"STP", "SLD"}
    assert {i["event"]["case"]["agency"]["code"] for i in justice} == {"STP"}
    assert len(justice) == 2


def test_api_keys_get_the_feed_scope_from_the_command_line(app, runner):
    result = runner.invoke(args=["api-keys", "create", "--name", "LGSP", "--scope", "feed"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["api-keys", "list"]).output
    assert "scopes: feed" in listed
    bad = runner.invoke(args=["api-keys", "create", "--name", "X", "--scope", "admin"])
    assert bad.exit_code != 0
