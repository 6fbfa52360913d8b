"""Kiosk links an admin controls (replace, last valid day), and kiosk taps judged by the kiosk."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.core.time import local_today, now_utc
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog
from survey_app.reports.periods import Period
from survey_app.reports.services import load_period
from survey_app.surveys import kiosks as kiosk_services
from survey_app.surveys.models import Channel, Kiosk, Response
from survey_app.surveys.tokens import _kiosk_serializer, issue_kiosk_token
from tests import factories
from tests.helpers import csrf_from, logged_in

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def setup(app):
    with app.app_context():
        agency = factories.agency("Sở Tư pháp")
        counter = factories.counter(agency, name="Quầy Hộ tịch")
        admin = factories.user(Role.admin, agency, email="admin@example.vn")
        kiosk = Kiosk(counter=counter, label="Máy cửa 1")
        db.session.add(kiosk)
        db.session.commit()
        return SimpleNamespace(
            kiosk_id=kiosk.id,
            counter_id=counter.id,
            counter_code=counter.code,
            agency_id=agency.id,
            path=f"/k/{issue_kiosk_token(kiosk.id, counter.code)}",
            admin=admin.email,
            page=f"/staff/counters/{counter.id}/kiosks",
        )


def _tap(client, path, value=4):
    html = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), "overall": str(value)})


def _links(html: str) -> list[str]:
    return re.findall(r'value="https?://[^"]*(/k/[^"]+)"', html)


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditLog.detail).where(AuditLog.action == action)).all()


# -- replacing a link ---------------------------------------------------------------------


def test_replacing_the_link_kills_every_copy_of_the_old_one_at_once(app, setup):
    tablet = app.test_client()
    assert _tap(tablet, setup.path).status_code == 303
    admin = logged_in(app, setup.admin)
    html = admin.get(setup.page).get_data(as_text=True)
    assert _links(html) == [setup.path]
    reply = admin.post(
        f"{setup.page}/{setup.kiosk_id}/replace-link", data={"csrf_token": csrf_from(html)}
    )
    assert reply.status_code == 303
    html = admin.get(reply.headers["Location"]).get_data(as_text=True)
    assert "đường dẫn cũ không còn hoạt động" in html
    (new_path,) = _links(html)
    assert new_path != setup.path and "<svg" in html  # the new QR code to scan
    # the old link, in any spelling, on the tablet or elsewhere: a clear 410, nothing stored
    for old in (setup.path, setup.path + "=", f"{setup.path}/more"):
        gone = tablet.get(old)
        assert gone.status_code == 410, old
        assert "đã được thay bằng đường dẫn mới" in gone.get_data(as_text=True)
        assert 'http-equiv="refresh"' not in gone.get_data(as_text=True)
    english = app.test_client().get(setup.path, headers=ENGLISH)
    assert "has been replaced by a new one" in english.get_data(as_text=True)
    assert _tap(app.test_client(), new_path).status_code == 303
    assert _audit(app, "kiosk_link_replaced") == [
        f"kiosk {setup.kiosk_id} at {setup.counter_code}: link 2"
    ]


def test_a_link_from_before_links_had_numbers_works_until_it_is_replaced(app, setup):
    """Tablets set up before the change keep working after the deploy (they count as link 1)."""
    with app.app_context():
        old_token = _kiosk_serializer().dumps({"k": setup.kiosk_id, "c": setup.counter_code})
    assert _tap(app.test_client(), f"/k/{old_token}").status_code == 303
    with app.app_context():
        kiosk_services.replace_link(db.session.get(Kiosk, setup.kiosk_id))
        db.session.commit()
    assert app.test_client().get(f"/k/{old_token}").status_code == 410


def test_a_stale_page_of_an_old_link_cannot_store_a_rating(app, setup):
    """A tap from a page opened before the link was replaced is refused too."""
    tablet = app.test_client()
    html = tablet.get(setup.path).get_data(as_text=True)
    with app.app_context():
        kiosk_services.replace_link(db.session.get(Kiosk, setup.kiosk_id))
        db.session.commit()
    reply = tablet.post(setup.path, data={"csrf_token": csrf_from(html), "overall": "5"})
    assert reply.status_code == 410
    with app.app_context():
        assert db.session.scalars(select(Response)).all() == []


# -- how long a link works ----------------------------------------------------------------


def test_a_new_kiosk_gets_a_last_valid_day_that_the_admin_chooses(app, setup):
    admin = logged_in(app, setup.admin)
    html = admin.get(setup.page).get_data(as_text=True)
    default = local_today_in(app) + timedelta(days=app.config["KIOSK_LINK_DAYS"])
    assert f'name="valid_until" type="date" value="{default.isoformat()}"' in html
    chosen = local_today_in(app) + timedelta(days=30)
    reply = admin.post(
        setup.page,
        data={"csrf_token": csrf_from(html), "label": "Máy ở sảnh", "valid_until": chosen},
    )
    assert reply.status_code == 303
    with app.app_context():
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.label == "Máy ở sảnh"))
        assert kiosk_services.valid_until(kiosk) == chosen
    html = admin.get(setup.page).get_data(as_text=True)
    assert f"Có hiệu lực đến ngày {chosen:%d/%m/%Y}" in html
    assert "Không có ngày hết hạn" in html  # the fixture's kiosk, from before dates


def local_today_in(app) -> date:
    with app.app_context():
        return local_today()


def test_the_link_stops_after_its_last_valid_day_with_a_clear_page(app, setup):
    with freeze_time("2026-12-10 03:00:00"):  # 10:00 in Hà Nội
        with app.app_context():
            kiosk = db.session.get(Kiosk, setup.kiosk_id)
            kiosk_services.set_valid_until(kiosk, date(2026, 12, 10))
            db.session.commit()
        assert _tap(app.test_client(), setup.path).status_code == 303
    with freeze_time("2026-12-10 16:59:59"):  # 23:59:59 local: still the last valid day
        assert app.test_client().get(setup.path).status_code == 200
    with freeze_time("2026-12-10 17:00:00"):  # midnight in Hà Nội
        gone = app.test_client().get(setup.path)
        assert gone.status_code == 410
        html = gone.get_data(as_text=True)
        assert "chỉ có hiệu lực đến ngày 10/12/2026" in html
        assert 'http-equiv="refresh"' not in html  # a dead link does not loop
        english = app.test_client().get(setup.path, headers=ENGLISH)
        assert "was valid until 10 Dec 2026" in english.get_data(as_text=True)
        # half-way through a survey, the next step is refused the same way
        assert app.test_client().get(f"{setup.path}/more").status_code == 410


def test_a_later_date_brings_an_expired_link_back_and_an_empty_one_removes_the_end(app, setup):
    with app.app_context():
        kiosk = db.session.get(Kiosk, setup.kiosk_id)
        kiosk.link_expires_at = kiosk_services.expiry_of(local_today() - timedelta(days=1))
        db.session.commit()
    assert app.test_client().get(setup.path).status_code == 410
    admin = logged_in(app, setup.admin)
    html = admin.get(setup.page).get_data(as_text=True)
    assert "Đã hết hạn" in html
    later = local_today_in(app) + timedelta(days=90)
    reply = admin.post(
        f"{setup.page}/{setup.kiosk_id}/valid-until",
        data={"csrf_token": csrf_from(html), "valid_until": later.isoformat()},
    )
    assert reply.status_code == 303
    assert app.test_client().get(setup.path).status_code == 200
    reply = admin.post(
        f"{setup.page}/{setup.kiosk_id}/valid-until",
        data={"csrf_token": csrf_from(html), "valid_until": ""},
    )
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.get(Kiosk, setup.kiosk_id).link_expires_at is None
    assert _audit(app, "kiosk_link_valid_until") == [
        f"kiosk {setup.kiosk_id} at {setup.counter_code}: {later.isoformat()}",
        f"kiosk {setup.kiosk_id} at {setup.counter_code}: no end date",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-01-01", "Ngày không được ở trong quá khứ."),
        ("31/12/2026", "Ngày phải có dạng 2026-03-31."),
        ("9999-12-31", "Ngày phải thuộc các năm 2000–2100."),
        ("2026-13-45", "Ngày phải có dạng 2026-03-31."),
    ],
)
def test_a_bad_date_is_a_clear_400_and_changes_nothing(app, setup, value, message):
    admin = logged_in(app, setup.admin)
    html = admin.get(setup.page).get_data(as_text=True)
    reply = admin.post(
        f"{setup.page}/{setup.kiosk_id}/valid-until",
        data={"csrf_token": csrf_from(html), "valid_until": value},
    )
    assert reply.status_code == 400
    assert message in reply.get_data(as_text=True)
    added = admin.post(
        setup.page, data={"csrf_token": csrf_from(html), "label": "Máy 2", "valid_until": value}
    )
    assert added.status_code == 400 and message in added.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Kiosk, setup.kiosk_id).link_expires_at is None
        assert db.session.scalar(select(db.func.count()).select_from(Kiosk)) == 1


@pytest.mark.parametrize("role", [Role.viewer, Role.handler, Role.coordinator])
def test_only_counter_managers_replace_links_or_change_dates(app, setup, role):
    with app.app_context():
        email = factories.user(role, db.session.get(factories.Agency, setup.agency_id)).email
        db.session.commit()
    client = logged_in(app, email)
    token = csrf_from(client.get("/staff/").get_data(as_text=True))
    for action, data in (("replace-link", {}), ("valid-until", {"valid_until": "2030-01-01"})):
        reply = client.post(
            f"{setup.page}/{setup.kiosk_id}/{action}", data={"csrf_token": token, **data}
        )
        assert reply.status_code == 403
    assert app.test_client().get(setup.path).status_code == 200


def test_an_admin_of_another_agency_cannot_replace_the_link(app, setup):
    with app.app_context():
        stranger = factories.user(Role.admin, factories.agency("UBND huyện Thanh Hà")).email
        db.session.commit()
    client = logged_in(app, stranger)
    token = csrf_from(client.get("/staff/").get_data(as_text=True))
    reply = client.post(f"{setup.page}/{setup.kiosk_id}/replace-link", data={"csrf_token": token})
    assert reply.status_code == 404
    assert app.test_client().get(setup.path).status_code == 200


def test_a_withdrawn_kiosk_has_no_link_to_replace(app, setup):
    admin = logged_in(app, setup.admin)
    token = csrf_from(admin.get(setup.page).get_data(as_text=True))
    admin.post(f"{setup.page}/{setup.kiosk_id}/revoke", data={"csrf_token": token})
    reply = admin.post(f"{setup.page}/{setup.kiosk_id}/replace-link", data={"csrf_token": token})
    assert reply.status_code == 404
    assert app.test_client().get(setup.path).status_code == 410


# -- a staff login left on the tablet -----------------------------------------------------


def test_a_staff_login_on_the_tablet_does_not_void_its_citizens_ratings(app, setup):
    tablet = logged_in(app, setup.admin)  # the admin set the tablet up and stayed logged in
    for value in (5, 2, 4):
        assert _tap(tablet, setup.path, value).status_code == 303
    html = tablet.get(f"{setup.path}/more").get_data(as_text=True)
    assert (
        tablet.post(f"{setup.path}/more", data={"csrf_token": csrf_from(html)}).status_code == 303
    )
    html = tablet.get(f"{setup.path}/comment").get_data(as_text=True)
    reply = tablet.post(
        f"{setup.path}/comment", data={"csrf_token": csrf_from(html), "comment": "Rất nhanh"}
    )
    assert reply.status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(Response).order_by(Response.id)).all()
        assert [(r.channel, r.staff_flag) for r in rows] == [(Channel.kiosk, False)] * 3
        assert rows[-1].completed_at is not None and rows[-1].comment == "Rất nhanh"
        # the reports count them
        assert len(load_period(Period.containing("month", now_utc())).field) == 3
    # a logged-in browser on the counter's poster is still a staff member's rating
    poster = f"/s/{setup.counter_code}"
    assert _tap(logged_in(app, setup.admin), poster).status_code == 303
    with app.app_context():
        last = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
        assert (last.channel, last.staff_flag) == (Channel.poster, True)
