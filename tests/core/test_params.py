"""Ids from requests: ASCII digits within an id column's range, or nothing (never a 500)."""

from __future__ import annotations

import pytest

from survey_app.auth.models import Role
from survey_app.core.params import MAX_ID, parse_id
from survey_app.extensions import db
from tests import factories
from tests.helpers import logged_in


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(MAX_ID), MAX_ID),
        (7, 7),
        ("0", None),
        (str(MAX_ID + 1), None),
        ("9" * 40, None),
        ("¹", None),  # str.isdigit() says yes, int() says no
        ("٣", None),  # an Arabic-Indic three: a digit to int(), not an id to us
        (" 4", None),
        ("-1", None),
        ("", None),
        (None, None),
        (True, None),
        (3.0, None),
    ],
)
def test_parse_id(value, expected):
    assert parse_id(value) == expected


@pytest.fixture
def admin(app):
    with app.app_context():
        email = factories.user(Role.admin).email
        db.session.commit()
        return email


@pytest.mark.parametrize("segment", ["99999999999999999999", str(MAX_ID + 1), "٣", "¹"])
def test_ids_in_urls_out_of_range_or_not_ascii_are_404(app, admin, segment):
    client = logged_in(app, admin)
    for path in (
        f"/staff/counters/{segment}",
        f"/staff/agencies/{segment}",
        f"/staff/feedback/{segment}",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("value", ["¹", "99999999999999999999", "٣"])
def test_odd_ids_in_query_strings_and_forms_are_ignored(app, admin, value):
    client = logged_in(app, admin)
    assert client.get(f"/staff/feedback/?agency={value}&procedure={value}").status_code == 200
    assert client.get(f"/staff/agencies/new?parent={value}").status_code == 200
    assert client.get(f"/staff/reports/report.xlsx?snapshot={value}").status_code == 404


def test_clean_text_drops_what_cannot_be_stored_and_keeps_the_rest():
    from survey_app.core.params import clean_json, clean_text

    assert (
        clean_text("Nhân\x00 viên\x07 tốt\ttận tình\r\nCảm ơn\ud800")
        == "Nhân viên tốt\ttận tình\r\nCảm ơn"
    )
    decomposed = "Nguye\u0302\u0303n"  # "Nguyễn" typed with combining marks
    assert clean_text(decomposed) == "Nguyễn"
    assert clean_json({"a\x00": ["x\x00y", 3, None, {"b": "\x1fz"}]}) == {
        "a": ["xy", 3, None, {"b": "z"}]
    }


def test_nul_and_control_characters_never_reach_the_database(app, client):
    from sqlalchemy import select

    from survey_app.surveys.models import Response
    from tests.helpers import csrf_from

    with app.app_context():
        code = factories.counter().code
        db.session.commit()
    html = client.get(f"/s/{code}").get_data(as_text=True)
    assert (
        client.post(f"/s/{code}", data={"csrf_token": csrf_from(html), "overall": "4"}).status_code
        == 303
    )
    token = csrf_from(client.get(f"/s/{code}/comment").get_data(as_text=True))
    reply = client.post(
        f"/s/{code}/comment", data={"csrf_token": token, "comment": "Nên\x00 có\x08 ghế"}
    )
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Response.comment)) == "Nên có ghế"


@pytest.mark.parametrize("path", ["/s/AB%00CD", "/s/ABC%0A", "/s/" + "A" * 300, "/s/AB%C3%A9"])
def test_counter_codes_that_we_never_issue_are_404_without_asking_the_database(client, path):
    assert client.get(path).status_code == 404


def test_a_value_the_database_refuses_is_a_400_not_a_500(database_url):
    """The safety net: a DataError (out of range, NUL on PostgreSQL…) is the request's fault."""
    from sqlalchemy import select
    from sqlalchemy.exc import DataError

    from survey_app import create_app
    from survey_app.agencies.models import Agency
    from survey_app.auth.permissions import public
    from survey_app.config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)

    @app.get("/_refused")
    @public
    def refused():
        if database_url.startswith("postgresql"):  # really ask PostgreSQL
            db.session.execute(select(Agency).where(Agency.name == "a\x00b")).all()
        raise DataError("SELECT …", {}, ValueError("value refused"))

    page = app.test_client().get("/_refused")
    assert page.status_code == 400 and "không thể lưu" in page.get_data(as_text=True)
