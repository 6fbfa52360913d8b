"""Staff pages with each role: counters, posters, agencies, users; scope by agency."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.agencies.models import Agency, AgencyKind, Counter
from survey_app.auth.models import Role, User
from survey_app.extensions import db
from survey_app.surveys.models import Channel
from survey_app.surveys.services import Origin, record_overall
from tests import factories
from tests.helpers import csrf_from, logged_in, login


@pytest.fixture
def world(app):
    """Province → two districts, each with a counter, and one user per role."""
    with app.app_context():
        province = factories.agency("UBND tỉnh Hải Dương", kind=AgencyKind.province, code="HD")
        district_a = factories.agency(
            "UBND huyện Nam Sách", province, AgencyKind.district, code="H-NS"
        )
        district_b = factories.agency(
            "UBND huyện Thanh Hà", province, AgencyKind.district, code="H-TH"
        )
        commune = factories.agency("Xã Nam Hồng", district_a, AgencyKind.commune, code="X-NH")
        counter_a = factories.counter(district_a, name="Quầy Một cửa Nam Sách")
        counter_c = factories.counter(commune, name="Quầy xã Nam Hồng")
        counter_b = factories.counter(district_b, name="Quầy Một cửa Thanh Hà")
        users = {
            "admin": factories.user(Role.admin).email,
            "coordinator": factories.user(Role.coordinator).email,
            "handler_a": factories.user(Role.handler, district_a).email,
            "viewer_a": factories.user(Role.viewer, district_a).email,
        }
        for _ in range(3):
            record_overall(counter_a, 5, Origin(Channel.poster, "vi", "x" * 32))
        db.session.commit()
        return SimpleNamespace(
            province=province.id,
            a=district_a.id,
            b=district_b.id,
            commune=commune.id,
            counter_a=counter_a.id,
            counter_b=counter_b.id,
            counter_c=counter_c.id,
            code_a=counter_a.code,
            users=users,
        )


def as_user(app, world, who):
    return logged_in(app, world.users[who])


def test_anonymous_is_sent_to_login(client, world):
    reply = client.get("/staff/")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_login_with_wrong_password_is_refused(client, world):
    reply = login(client, world.users["admin"], "wrong password!")
    assert reply.status_code == 400
    assert "Sai thư điện tử hoặc mật khẩu" in reply.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_login_redirect_only_to_local_pages(client, world):
    page = client.get("/login?next=https://evil.example/")
    reply = client.post(
        "/login?next=https://evil.example/",
        data={
            "email": world.users["admin"],
            "password": factories.PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert reply.headers["Location"].endswith("/staff/")


def test_a_login_next_with_a_line_break_goes_to_the_dashboard(client, world):
    page = client.get("/login")
    reply = client.post(
        "/login?next=/%0D%0AX:%20y",
        data={
            "email": world.users["admin"],
            "password": factories.PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/staff/")


def test_logout_is_a_post(app, world):
    client = as_user(app, world, "viewer_a")
    page = client.get("/staff/").get_data(as_text=True)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 303
    assert client.get("/staff/").status_code == 302


def test_handler_sees_own_subtree_counters_with_todays_count(app, world):
    client = as_user(app, world, "handler_a")
    html = client.get("/staff/").get_data(as_text=True)
    assert "Quầy Một cửa Nam Sách" in html and "Quầy xã Nam Hồng" in html
    assert "Quầy Một cửa Thanh Hà" not in html
    page = client.get(f"/staff/counters/{world.counter_a}").get_data(as_text=True)
    assert 'id="today-count">3<' in page
    assert f"https://hailong.example.gov.vn/s/{world.code_a}" in page


def test_handler_of_agency_a_gets_404_on_agency_b(app, world):
    client = as_user(app, world, "handler_a")
    assert client.get(f"/staff/counters/{world.counter_b}").status_code == 404
    assert client.get(f"/staff/counters/{world.counter_b}/poster.pdf").status_code == 404
    assert client.get(f"/staff/agencies/{world.b}").status_code == 404
    assert client.get(f"/staff/agencies/{world.b}/posters.pdf").status_code == 404


def test_handler_prints_posters_for_own_agency(app, world):
    client = as_user(app, world, "handler_a")
    reply = client.get(f"/staff/agencies/{world.a}/posters.pdf?size=A4")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    import io

    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(reply.data)).pages) == 2  # district counter + commune counter
    assert client.get(f"/staff/counters/{world.counter_a}/qr.svg").data.startswith(b"<svg")
    assert client.get(f"/staff/counters/{world.counter_a}/qr.png").data[:4] == b"\x89PNG"
    assert client.get(f"/staff/counters/{world.counter_a}/poster.pdf?size=B3").status_code == 400


def test_the_agency_page_offers_posters_only_when_there_is_something_to_print(app, world):
    client = as_user(app, world, "admin")
    district = client.get(f"/staff/agencies/{world.a}").get_data(as_text=True)
    assert f"/staff/agencies/{world.a}/posters.pdf?size=A5" in district and "2 áp phích" in district
    with app.app_context():
        db.session.get(Counter, world.counter_b).is_active = False
        db.session.commit()
    empty = client.get(f"/staff/agencies/{world.b}").get_data(as_text=True)
    assert "posters.pdf" not in empty and "không có áp phích nào để in" in empty
    # the address itself still answers, in the staff layout with its way back
    reply = client.get(f"/staff/agencies/{world.b}/posters.pdf")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 404 and "không có quầy đang hoạt động nào" in html
    assert "staff.css" in html and 'href="/staff/"' in html


def test_viewer_cannot_print_or_manage(app, world):
    client = as_user(app, world, "viewer_a")
    assert client.get(f"/staff/counters/{world.counter_a}").status_code == 200
    assert client.get(f"/staff/counters/{world.counter_a}/poster.pdf").status_code == 403
    for url in (
        "/staff/users",
        "/staff/agencies/new",
        "/staff/counters/new",
        f"/staff/counters/{world.counter_a}/edit",
    ):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("who", ["coordinator", "handler_a", "viewer_a"])
def test_only_admins_manage(app, world, who):
    client = as_user(app, world, who)
    assert client.get("/staff/users").status_code == 403
    assert client.get(f"/staff/agencies/{world.a}/edit").status_code == 403


def test_admin_creates_agency_under_a_district_and_it_is_placed_in_the_tree(app, world):
    client = as_user(app, world, "admin")
    page = client.get(f"/staff/agencies/new?parent={world.a}").get_data(as_text=True)
    reply = client.post(
        "/staff/agencies/new",
        data={
            "csrf_token": csrf_from(page),
            "code": "X-NAMTRUNG",
            "name": "Xã Nam Trung",
            "kind": "commune",
            "parent_id": str(world.a),
            "is_active": "y",
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "X-NAMTRUNG"))
        assert agency.parent_id == world.a
        assert agency.path == f"/{world.province}/{world.a}/{agency.id}/"


def test_agencies_deeper_than_the_tree_holds_are_refused_with_a_reason(app, world):
    """The path column holds MAX_DEPTH levels: one more was a DataError (500) on PostgreSQL."""
    from survey_app.agencies.services import MAX_DEPTH

    with app.app_context():
        parent = db.session.get(Agency, world.commune)  # depth 2
        while parent.depth < MAX_DEPTH:
            parent = factories.agency(parent=parent, kind=AgencyKind.other)
        deepest = parent.id
        db.session.commit()
    client = as_user(app, world, "admin")
    page = client.get("/staff/agencies/new").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "code": "SAU", "name": "Quá sâu", "kind": "other"}
    reply = client.post("/staff/agencies/new", data=data | {"parent_id": str(deepest)})
    assert reply.status_code == 400
    assert f"Cơ quan chỉ được nằm sâu tối đa {MAX_DEPTH} cấp." in reply.get_data(as_text=True)
    # moving a district under the deepest agency is refused; one level above it is not
    page = client.get(f"/staff/agencies/{world.b}/edit").get_data(as_text=True)
    edit = {"csrf_token": csrf_from(page), "code": "H-TH", "name": "UBND huyện Thanh Hà"}
    edit |= {"kind": "district", "is_active": "y"}
    reply = client.post(f"/staff/agencies/{world.b}/edit", data=edit | {"parent_id": str(deepest)})
    assert reply.status_code == 400 and "tối đa" in reply.get_data(as_text=True)
    with app.app_context():
        above = db.session.get(Agency, deepest).parent_id
    reply = client.post(f"/staff/agencies/{world.b}/edit", data=edit | {"parent_id": str(above)})
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.get(Agency, world.b).depth == MAX_DEPTH


def test_a_parent_of_only_spaces_is_no_parent(app, world):
    client = as_user(app, world, "admin")
    page = client.get("/staff/agencies/new").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "code": "S-MOI", "name": "Sở Mới", "kind": "department"}
    assert client.post("/staff/agencies/new", data=data | {"parent_id": " \t"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Agency).where(Agency.code == "S-MOI")).parent_id is None


def test_an_admin_of_one_district_places_agencies_only_inside_it(app, world):
    with app.app_context():
        email = factories.user(Role.admin, db.session.get(Agency, world.a)).email
        db.session.commit()
    client = logged_in(app, email)
    page = client.get("/staff/agencies/new").get_data(as_text=True)
    assert "UBND huyện Thanh Hà" not in page  # not offered as a parent
    data = {"csrf_token": csrf_from(page), "name": "Xã Mới", "kind": "commune"}
    for code, parent in (("X-1", str(world.b)), ("X-2", ""), ("X-3", str(world.province))):
        reply = client.post("/staff/agencies/new", data=data | {"code": code, "parent_id": parent})
        assert reply.status_code == 400, parent
    reply = client.post(
        "/staff/agencies/new", data=data | {"code": "X-4", "parent_id": str(world.a)}
    )
    assert reply.status_code == 303
    # its own district stays where it is (under the province it cannot choose)
    page = client.get(f"/staff/agencies/{world.a}/edit").get_data(as_text=True)
    edit = {
        "csrf_token": csrf_from(page),
        "code": "H-NS",
        "name": "UBND huyện Nam Sách",
        "kind": "district",
        "is_active": "y",
    }
    assert (
        client.post(
            f"/staff/agencies/{world.a}/edit", data=edit | {"parent_id": str(world.province)}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/staff/agencies/{world.a}/edit", data=edit | {"parent_id": str(world.b)}
        ).status_code
        == 400
    )
    with app.app_context():
        assert db.session.get(Agency, world.a).parent_id == world.province
        codes = set(db.session.scalars(select(Agency.code)))
        assert "X-4" in codes and not {"X-1", "X-2", "X-3"} & codes


def test_admin_moves_an_agency_and_its_subtree_follows(app, world):
    client = as_user(app, world, "admin")
    page = client.get(f"/staff/agencies/{world.a}/edit").get_data(as_text=True)
    reply = client.post(
        f"/staff/agencies/{world.a}/edit",
        data={
            "csrf_token": csrf_from(page),
            "code": "H-NS",
            "name": "UBND huyện Nam Sách",
            "kind": "district",
            "parent_id": str(world.b),
            "is_active": "y",
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        commune = db.session.get(Agency, world.commune)
        assert commune.path == f"/{world.province}/{world.b}/{world.a}/{world.commune}/"


def test_agency_cannot_be_moved_under_its_own_child(app, world):
    client = as_user(app, world, "admin")
    page = client.get(f"/staff/agencies/{world.a}/edit").get_data(as_text=True)
    reply = client.post(
        f"/staff/agencies/{world.a}/edit",
        data={
            "csrf_token": csrf_from(page),
            "code": "H-NS",
            "name": "UBND huyện Nam Sách",
            "kind": "district",
            "parent_id": str(world.commune),
            "is_active": "y",
        },
    )
    assert reply.status_code == 400
    assert "Không thể đặt một cơ quan trực thuộc chính nó" in reply.get_data(as_text=True)


def test_duplicate_agency_code_is_refused(app, world):
    client = as_user(app, world, "admin")
    page = client.get("/staff/agencies/new").get_data(as_text=True)
    reply = client.post(
        "/staff/agencies/new",
        data={
            "csrf_token": csrf_from(page),
            "code": "H-TH",
            "name": "Trùng mã",
            "kind": "district",
        },
    )
    assert reply.status_code == 400
    assert "Mã này đã được một cơ quan khác sử dụng" in reply.get_data(as_text=True)


def test_disabling_an_agency_disables_its_subtree_and_its_links(app, world):
    client = as_user(app, world, "admin")
    page = client.get(f"/staff/agencies/{world.a}/edit").get_data(as_text=True)
    client.post(
        f"/staff/agencies/{world.a}/edit",
        data={
            "csrf_token": csrf_from(page),
            "code": "H-NS",
            "name": "UBND huyện Nam Sách",
            "kind": "district",
            "parent_id": str(world.province),
        },
    )
    with app.app_context():
        assert db.session.get(Agency, world.commune).is_active is False
    assert app.test_client().get(f"/s/{world.code_a}").status_code == 404


def test_admin_creates_counter_with_a_fresh_code_and_edit_keeps_it(app, world):
    client = as_user(app, world, "admin")
    page = client.get("/staff/counters/new").get_data(as_text=True)
    reply = client.post(
        "/staff/counters/new",
        data={
            "csrf_token": csrf_from(page),
            "name": "Quầy 5",
            "agency_id": str(world.b),
            "location": "Tầng 2",
            "is_active": "y",
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        counter = db.session.scalar(select(Counter).where(Counter.name == "Quầy 5"))
        code, counter_id = counter.code, counter.id
    assert len(code) == 6 and app.test_client().get(f"/s/{code}").status_code == 200
    page = client.get(f"/staff/counters/{counter_id}/edit").get_data(as_text=True)
    client.post(
        f"/staff/counters/{counter_id}/edit",
        data={"csrf_token": csrf_from(page), "name": "Quầy 5 (mới)", "agency_id": str(world.a)},
    )
    with app.app_context():
        counter = db.session.get(Counter, counter_id)
        assert (counter.code, counter.name, counter.agency_id, counter.is_active) == (
            code,
            "Quầy 5 (mới)",
            world.a,
            False,
        )


@pytest.mark.parametrize("blank", ["   ", "\x00\x01", "\t"])
def test_names_of_only_spaces_or_control_characters_are_no_names(app, world, blank):
    """InputRequired looked at the raw input: an agency, counter, user or kiosk named
    "   " was saved with an empty name."""
    client = as_user(app, world, "admin")
    posts = {
        "/staff/agencies/new": {"code": "S-TRONG", "kind": "department", "name": blank},
        "/staff/counters/new": {"agency_id": str(world.b), "name": blank, "is_active": "y"},
        "/staff/users/new": {
            "email": "trong@example.gov.vn",
            "full_name": blank,
            "role": "admin",
            "password": "a long password",
        },
        f"/staff/counters/{world.counter_a}/kiosks": {"label": blank},
    }
    for url, data in posts.items():
        page = client.get(url).get_data(as_text=True)
        reply = client.post(url, data=data | {"csrf_token": csrf_from(page)})
        assert reply.status_code == 400, url
        assert "Trường này là bắt buộc." in reply.get_data(as_text=True), url
    with app.app_context():
        assert db.session.scalar(select(Agency).where(Agency.code == "S-TRONG")) is None
        assert db.session.scalar(select(User).where(User.email == "trong@example.gov.vn")) is None
        assert all(c.name.strip() for c in db.session.scalars(select(Counter)))


def test_admin_creates_a_handler_who_can_then_log_in(app, world):
    client = as_user(app, world, "admin")
    page = client.get("/staff/users/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "email": "New.Handler@example.gov.vn",
        "full_name": "Trần Thị B",
        "role": "handler",
        "agency_id": "",
        "password": "a long password",
    }
    reply = client.post("/staff/users/new", data=data)
    assert reply.status_code == 400  # a handler needs an agency
    assert "phải thuộc một cơ quan" in reply.get_data(as_text=True)
    data["agency_id"] = str(world.b)
    data["active"] = "y"
    assert client.post("/staff/users/new", data=data).status_code == 303
    other = app.test_client()
    assert login(other, "new.handler@example.gov.vn", "a long password").status_code == 303
    assert "Quầy Một cửa Thanh Hà" in other.get("/staff/").get_data(as_text=True)


def test_two_windows_saving_the_same_account_at_once_get_a_409(app, world, monkeypatch):
    """Both passed the duplicate check before either saved: the second was a 500
    (IntegrityError on the unique e-mail). Simulated: the check does not see the first."""
    from survey_app.staff.forms import UserForm

    client = as_user(app, world, "admin")
    page = client.get("/staff/users/new").get_data(as_text=True)
    monkeypatch.setattr(UserForm, "validate_email", lambda self, field: None)
    reply = client.post(
        "/staff/users/new",
        data={
            "csrf_token": csrf_from(page),
            "email": world.users["viewer_a"],
            "full_name": "Người thứ hai",
            "role": "admin",
            "password": "a long password",
        },
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 409 and "Traceback" not in html
    assert "cùng lúc" in html
    assert client.get("/staff/users").status_code == 200  # the session was rolled back
    with app.app_context():
        assert db.session.scalar(select(User).where(User.full_name == "Người thứ hai")) is None


def test_short_password_and_duplicate_email_are_refused(app, world):
    client = as_user(app, world, "admin")
    page = client.get("/staff/users/new").get_data(as_text=True)
    reply = client.post(
        "/staff/users/new",
        data={
            "csrf_token": csrf_from(page),
            "email": world.users["viewer_a"].upper(),
            "full_name": "X",
            "role": "admin",
            "password": "short",
        },
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert "ít nhất 12 ký tự" in html and "đã được một tài khoản khác sử dụng" in html


def test_admin_cannot_demote_or_disable_themselves(app, world):
    client = as_user(app, world, "admin")
    with app.app_context():
        me = db.session.scalar(select(User).where(User.email == world.users["admin"]))
        my_id = me.id
    page = client.get(f"/staff/users/{my_id}/edit").get_data(as_text=True)
    reply = client.post(
        f"/staff/users/{my_id}/edit",
        data={
            "csrf_token": csrf_from(page),
            "email": world.users["admin"],
            "full_name": "A",
            "role": "viewer",
            "agency_id": str(world.a),
            "active": "y",
        },
    )
    assert reply.status_code == 400
    with app.app_context():
        assert db.session.get(User, my_id).role == Role.admin


def test_disabled_account_cannot_log_in(app, world):
    with app.app_context():
        db.session.scalar(select(User).where(User.email == world.users["viewer_a"])).active = False
        db.session.commit()
    assert login(app.test_client(), world.users["viewer_a"]).status_code == 400


def test_staff_pages_in_english(app, world):
    client = as_user(app, world, "admin")
    html = client.get("/staff/?lang=en").get_data(as_text=True)
    assert "responses today" in html and "Log out" in html
    html = client.get("/staff/?lang=vi").get_data(as_text=True)
    assert "Đăng xuất" in html
