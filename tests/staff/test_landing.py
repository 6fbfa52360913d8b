"""Each role lands on its own work, the counter list is searchable, and agency and
counter lists are in Vietnamese alphabetical order."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from survey_app.auth.models import Role
from survey_app.extensions import db
from tests import factories
from tests.helpers import csrf_from, logged_in, login


@pytest.fixture
def world(app):
    with app.app_context():
        root = factories.agency("UBND tỉnh Hải Dương", code="UBND")
        y_te = factories.agency("Sở Y tế", root, code="SYT")
        dai = factories.agency("Đài Phát thanh và Truyền hình", root, code="DPT")
        ban = factories.agency("Ban Dân tộc", root, code="BDT")
        counters = [
            factories.counter(y_te, "Quầy số 10", code="YT10"),
            factories.counter(y_te, "Quầy số 2", code="YT02"),
            factories.counter(dai, "Quầy Hộ tịch", code="DHT1"),
            factories.counter(ban, "Quầy Đất đai", code="BDD1"),
        ]
        users = {
            "admin": factories.user(Role.admin),
            "coordinator": factories.user(Role.coordinator),
            "handler": factories.user(Role.handler, y_te),
            "viewer": factories.user(Role.viewer, root),
            "report_reader": factories.user(Role.report_reader),
        }
        db.session.commit()
        return SimpleNamespace(
            emails={k: u.email for k, u in users.items()},
            agencies={"root": root.id, "y_te": y_te.id, "dai": dai.id, "ban": ban.id},
            counters=[c.code for c in counters],
        )


LANDINGS = {
    "coordinator": "/staff/feedback/?scope=all",
    "handler": "/staff/feedback/?scope=mine",
    "report_reader": "/staff/reports/",
    "viewer": "/staff/",
    "admin": "/staff/",
}


@pytest.mark.parametrize("who", sorted(LANDINGS))
def test_each_role_lands_on_its_own_work_after_login(app, world, who):
    client = app.test_client()
    reply = login(client, world.emails[who])
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(LANDINGS[who])
    assert client.get(LANDINGS[who]).status_code == 200


@pytest.mark.parametrize("who", sorted(LANDINGS))
def test_the_staff_home_is_the_roles_landing_page(app, world, who):
    client = logged_in(app, world.emails[who])
    reply = client.get("/staff/home")
    assert reply.status_code == 303 and reply.headers["Location"].endswith(LANDINGS[who])
    page = client.get("/staff/agencies").get_data(as_text=True)
    assert '<a class="brand" href="/staff/home">' in page


def test_a_next_page_still_wins_over_the_landing_page(app, world):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    reply = client.post(
        "/login?next=/staff/agencies",
        data={
            "email": world.emails["handler"],
            "password": factories.PASSWORD,
            "csrf_token": csrf_from(page),
        },
    )
    assert reply.headers["Location"].endswith("/staff/agencies")


def test_anonymous_staff_home_asks_to_log_in(client, world):
    reply = client.get("/staff/home")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def _counter_codes(html: str) -> list[str]:
    return re.findall(r"<td><code>([A-Z0-9]+)</code></td>", html)


def test_counters_are_listed_in_vietnamese_order(app, world):
    html = logged_in(app, world.emails["viewer"]).get("/staff/").get_data(as_text=True)
    # Ban Dân tộc, Đài Phát thanh (Đ after D), Sở Y tế; in it "số 2" before "số 10"
    assert _counter_codes(html) == ["BDD1", "DHT1", "YT02", "YT10"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ho tich", ["DHT1"]),  # no accents typed
        ("Quầy số", ["YT02", "YT10"]),
        ("yt10", ["YT10"]),  # the code, any case
        ("đất", ["BDD1"]),
        ("y te", ["YT02", "YT10"]),  # the agency's name
        ("không có", []),
    ],
)
def test_the_counter_list_is_searchable_without_javascript(app, world, query, expected):
    client = logged_in(app, world.emails["viewer"])
    reply = client.get("/staff/", query_string={"q": query})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert _counter_codes(html) == expected
    assert '<form method="get" class="search" role="search"' in html
    assert f'name="q" type="search" value="{query}"' in html


def test_agency_menus_are_in_vietnamese_order(app, world):
    client = logged_in(app, world.emails["admin"])
    tree = client.get("/staff/agencies").get_data(as_text=True)
    names = re.findall(r'<li class="d\d"><a href="/staff/agencies/\d+">([^<]+)</a>', tree)
    assert names == [
        "UBND tỉnh Hải Dương",
        "Ban Dân tộc",
        "Đài Phát thanh và Truyền hình",
        "Sở Y tế",
    ]
    form = client.get("/staff/counters/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="agency_id".*?</select>', form, re.S).group(0)
    assert [int(v) for v in re.findall(r'value="(\d+)"', select)] == [
        world.agencies[k] for k in ("root", "ban", "dai", "y_te")
    ]
    queue = client.get("/staff/feedback/").get_data(as_text=True)
    select = re.search(r'<select name="agency">.*?</select>', queue, re.S).group(0)
    assert [int(v) for v in re.findall(r'value="(\d+)"', select)] == [
        world.agencies[k] for k in ("root", "ban", "dai", "y_te")
    ]
