"""The public survey over HTTP: steps, channels, bad input, duplicates, tokens."""

from __future__ import annotations

import gzip
import re
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from survey_app.agencies.models import Counter
from survey_app.extensions import db
from survey_app.surveys.models import Channel, Response
from tests import factories
from tests.helpers import csrf_from, login


@pytest.fixture
def counter(app):
    """A counter, as plain data: requests must not run inside a test's app context."""
    with app.app_context():
        c = factories.counter(factories.agency("Sở Tư pháp"), name="Quầy Hộ tịch")
        db.session.commit()
        return SimpleNamespace(id=c.id, code=c.code, agency_id=c.agency_id)


@pytest.fixture
def stored(app):
    """Call to get the responses in the database (with answers loaded)."""

    def responses():
        with app.app_context():
            rows = db.session.scalars(
                select(Response).options(
                    selectinload(Response.answers), joinedload(Response.questionnaire_version)
                )
            ).all()
            db.session.expunge_all()
            return rows

    return responses


def tap(client, code: str, value: int = 5, **extra):
    page = client.get(f"/s/{code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "overall": str(value)}
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html)
    if started:
        data["started"] = started.group(1)
    data.update(extra)
    return client.post(f"/s/{code}", data=data)


def test_survey_page_is_vietnamese_by_default_with_five_faces(client, counter):
    page = client.get(f"/s/{counter.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'lang="vi"' in html
    assert "Quầy Hộ tịch" in html and "Sở Tư pháp" in html
    assert html.count('name="overall"') == 5
    for label in (
        "Rất hài lòng",
        "Hài lòng",
        "Bình thường",
        "Không hài lòng",
        "Rất không hài lòng",
    ):
        assert label in html
    assert f'href="/s/{counter.code}?lang=en"' in html


def test_english_by_switch_and_it_sticks(client, counter):
    html = client.get(f"/s/{counter.code}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "Very satisfied" in html
    # the choice is remembered for the next pages
    html = client.get(f"/s/{counter.code}").get_data(as_text=True)
    assert "Very satisfied" in html


def test_one_tap_saves_a_complete_response(client, counter, stored):
    reply = tap(client, counter.code, 4)
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"/s/{counter.code}/more")
    (response,) = stored()
    assert response.overall == 4
    assert response.channel == Channel.poster
    assert response.agency_id == counter.agency_id
    assert response.language == "vi"
    assert response.questionnaire_version.version == "sipas-2023.1"
    assert response.started_at is not None and response.started_at <= response.submitted_at
    assert response.staff_flag is False
    assert len(response.client_hash) == 32
    assert response.answers == []


def test_full_questionnaire_then_comment(client, counter, stored):
    """Each screen is saved as it is sent, all into the one response of the tap."""
    tap(client, counter.code, 2)
    page = client.get(f"/s/{counter.code}/more")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Biển hiệu, chỉ dẫn rõ ràng" in html and "Không áp dụng" in html
    token = csrf_from(html)
    sent = {
        "more": {"A1": "5", "A2": "na"},
        "more/3": {"C5": "1"},
        "more/6": {"trips": "2", "agencies_contacted": "1", "age_group": "60_plus"},
    }
    for screen, data in sent.items():
        reply = client.post(f"/s/{counter.code}/{screen}", data={"csrf_token": token, **data})
        assert reply.status_code == 303, screen
    assert reply.headers["Location"].endswith("/comment")
    (response,) = stored()
    assert {(a.item_code, a.value) for a in response.answers} == {
        ("A1", 5),
        ("A2", None),
        ("C5", 1),
    }
    assert (response.trips, response.agencies_contacted, response.age_group) == (2, 1, "60_plus")
    assert response.completed_at is not None

    html = client.get(f"/s/{counter.code}/comment").get_data(as_text=True)
    reply = client.post(
        f"/s/{counter.code}/comment",
        data={"csrf_token": csrf_from(html), "comment": "Cần thêm ghế chờ", "wants_feedback": "y"},
    )
    assert reply.status_code == 303
    (response,) = stored()
    assert response.comment == "Cần thêm ghế chờ" and response.wants_feedback is True
    # straight on to the case's form, the suggestion carried over: no thank-you before the case
    assert reply.headers["Location"] == "/feedback/new?from=survey"
    form = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Cần thêm ghế chờ" in form and "Cảm ơn" not in form


def test_each_point_of_the_scale_is_named_for_screen_readers(client, counter):
    """A face alone tells a blind citizen nothing: each point says what it means."""
    tap(client, counter.code, 5)
    html = client.get(f"/s/{counter.code}/more").get_data(as_text=True)
    labels = re.findall(
        r'<label class="pt[^"]*"><input type="radio" name="A1" value="(\w+)">(.*?)</label>', html
    )
    names = {value: re.sub(r"<[^>]+>", "", text) for value, text in labels}
    assert names == {
        "5": "Rất hài lòng",
        "4": "Hài lòng",
        "3": "Bình thường",
        "2": "Không hài lòng",
        "1": "Rất không hài lòng",
        "na": "Không áp dụng",
    }
    html = client.get(f"/s/{counter.code}/more?lang=en").get_data(as_text=True)
    assert '<span class="vh">Satisfied</span>' in html


def test_resubmitting_step_two_replaces_answers(client, counter, stored):
    tap(client, counter.code, 5)
    html = client.get(f"/s/{counter.code}/more").get_data(as_text=True)
    token = csrf_from(html)
    client.post(f"/s/{counter.code}/more", data={"csrf_token": token, "A1": "5", "B1": "4"})
    client.post(f"/s/{counter.code}/more", data={"csrf_token": token, "A1": "3"})
    (response,) = stored()
    assert [(a.item_code, a.value) for a in response.answers] == [("A1", 3)]


def test_a_face_tap_is_stored_without_building_the_form(client, counter, stored, monkeypatch):
    """What the five buttons send is read directly (the form costs as much as the INSERT)."""
    from survey_app.surveys import forms

    page = client.get(f"/s/{counter.code}").get_data(as_text=True)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)

    def no_form(*args, **kwargs):
        raise AssertionError("a face tap built the form")

    monkeypatch.setattr(forms.OverallForm, "__init__", no_form)
    reply = client.post(
        f"/s/{counter.code}",
        data={"csrf_token": csrf_from(page), "overall": "2", "started": started},
    )
    assert reply.status_code == 303
    (response,) = stored()
    assert response.overall == 2
    assert response.started_at is not None


@pytest.mark.parametrize("value", [" 3", "3 ", "03"])
def test_a_value_no_face_sends_is_left_to_the_form(client, counter, stored, value):
    """The form still decides what the direct reading does not take (WTForms' IntegerField
    reads these as 3), and the start time comes through the form then."""
    reply = tap(client, counter.code, overall=value)
    assert reply.status_code == 303
    (response,) = stored()
    assert response.overall == 3
    assert response.started_at is not None


@pytest.mark.parametrize("value", ["0", "6", "abc", ""])
def test_out_of_range_overall_is_refused_with_a_message(client, counter, value, stored):
    reply = tap(client, counter.code, 5, overall=value)
    assert reply.status_code == 400
    assert "Vui lòng chạm vào một trong năm khuôn mặt" in reply.get_data(as_text=True)
    assert stored() == []


def test_out_of_range_item_is_refused_and_nothing_is_half_saved(client, counter, stored):
    tap(client, counter.code, 5)
    html = client.get(f"/s/{counter.code}/more").get_data(as_text=True)
    token = csrf_from(html)
    client.post(f"/s/{counter.code}/more", data={"csrf_token": token, "A1": "4"})
    reply = client.post(f"/s/{counter.code}/more", data={"csrf_token": token, "A1": "5", "A2": "9"})
    assert reply.status_code == 400
    assert "Vui lòng chọn một trong các lựa chọn" in reply.get_data(as_text=True)
    (response,) = stored()
    assert [(a.item_code, a.value) for a in response.answers] == [("A1", 4)]


def test_a_database_failure_while_replacing_answers_keeps_the_earlier_ones(
    client, counter, stored, monkeypatch
):
    """A screen's old answers are deleted and the new ones written in one transaction:
    if the database fails before the commit, nothing of it stays."""
    from sqlalchemy.exc import OperationalError

    from survey_app.surveys import steps

    tap(client, counter.code, 5)
    token = csrf_from(client.get(f"/s/{counter.code}/more").get_data(as_text=True))
    client.post(f"/s/{counter.code}/more", data={"csrf_token": token, "A1": "4", "A2": "3"})
    client.post(f"/s/{counter.code}/more/6", data={"csrf_token": token, "trips": "1"})
    record_screen = steps.record_screen

    def fails_after_writing(*args, **kwargs):
        record_screen(*args, **kwargs)  # old answers deleted, new ones flushed
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(steps, "record_screen", fails_after_writing)
    reply = client.post(f"/s/{counter.code}/more", data={"csrf_token": token, "A1": "1"})
    assert reply.status_code == 503
    reply = client.post(f"/s/{counter.code}/more/6", data={"csrf_token": token, "trips": "2"})
    assert reply.status_code == 503
    (response,) = stored()
    assert [(a.item_code, a.value) for a in response.answers] == [("A1", 4), ("A2", 3)]
    assert response.trips == 1


def test_a_database_failure_on_the_tap_is_a_503_and_the_citizen_can_tap_again(
    app, client, counter, stored, monkeypatch
):
    """The tap is stored in a transaction of its own: if the database fails there the
    citizen gets the 503 page, nothing is stored, and this phone is not marked as having
    answered, so the same tap goes through once the database is back."""
    from contextlib import contextmanager

    from sqlalchemy.exc import OperationalError

    with app.app_context():
        engine = db.engine
    token = csrf_from(client.get(f"/s/{counter.code}").get_data(as_text=True))

    @contextmanager
    def database_down():
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        yield  # pragma: no cover

    with monkeypatch.context() as patch:
        patch.setattr(engine, "begin", database_down)
        reply = client.post(f"/s/{counter.code}", data={"csrf_token": token, "overall": "2"})
    assert reply.status_code == 503
    assert stored() == []
    reply = client.post(f"/s/{counter.code}", data={"csrf_token": token, "overall": "2"})
    assert reply.status_code == 303
    assert [r.overall for r in stored()] == [2]


def test_missing_csrf_token_is_a_clear_400(client, counter, stored):
    reply = client.post(f"/s/{counter.code}", data={"overall": "5"})
    assert reply.status_code == 400
    assert "Biểu mẫu đã hết hạn" in reply.get_data(as_text=True)
    assert stored() == []


def test_unknown_and_disabled_counters_are_404(app, client, counter):
    assert client.get("/s/NOPE99").status_code == 404
    assert client.get(f"/s/{counter.code.lower()}").status_code == 200  # typed in lower case
    with app.app_context():
        db.session.get(Counter, counter.id).is_active = False
        db.session.commit()
    reply = client.get(f"/s/{counter.code}")
    assert reply.status_code == 404
    assert "không còn tham gia khảo sát" in reply.get_data(as_text=True)


def test_tap_on_a_counter_withdrawn_after_the_page_was_shown_is_404_and_stores_nothing(
    app, client, counter, stored
):
    """The tap's INSERT itself checks the counter (and its agency) is still active."""
    page = client.get(f"/s/{counter.code}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "overall": "5"}
    with app.app_context():
        db.session.get(Counter, counter.id).agency.is_active = False
        db.session.commit()
    reply = client.post(f"/s/{counter.code}", data=data)
    assert reply.status_code == 404
    assert "không còn tham gia khảo sát" in reply.get_data(as_text=True)
    with app.app_context():
        agency = db.session.get(Counter, counter.id).agency
        agency.is_active = True
        db.session.get(Counter, counter.id).is_active = False
        db.session.commit()
    assert client.post(f"/s/{counter.code}", data=data).status_code == 404
    assert stored() == []


def test_tap_at_a_code_typed_in_lower_case_is_stored_at_that_counter(client, counter, stored):
    reply = tap(client, counter.code.lower(), 3)
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"/s/{counter.code}/more")
    [response] = stored()
    assert (response.counter_id, response.agency_id, response.overall) == (
        counter.id,
        counter.agency_id,
        3,
    )


def test_without_a_duplicate_window_every_tap_is_stored(app, counter, stored, monkeypatch):
    monkeypatch.setitem(app.config, "DUPLICATE_WINDOW_SECONDS", 0)
    first, second = app.test_client(), app.test_client()
    assert tap(first, counter.code, 5).status_code == 303
    assert tap(second, counter.code, 4).status_code == 303
    assert tap(first, counter.code, 3).status_code == 303
    assert sorted(r.overall for r in stored()) == [3, 4, 5]


def test_a_tap_at_another_counter_is_not_a_duplicate(app, counter, stored):
    with app.app_context():
        other = factories.counter(db.session.get(Counter, counter.id).agency, name="Quầy 2")
        db.session.commit()
        other_code = other.code
    phone = app.test_client()
    assert tap(phone, counter.code, 5).status_code == 303
    assert tap(app.test_client(), other_code, 2).status_code == 303
    assert sorted(r.overall for r in stored()) == [2, 5]


@pytest.mark.parametrize(
    "size, content_type",
    [
        (200_000, "application/x-www-form-urlencoded"),  # over MAX_CONTENT_LENGTH
        (40_000, "multipart/form-data"),  # a text part over MAX_FORM_MEMORY_SIZE
    ],
)
def test_oversized_body_is_413_with_a_message_in_the_visitors_language(
    client, counter, size, content_type
):
    tap(client, counter.code, 5)
    html = client.get(f"/s/{counter.code}/comment").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "comment": "x" * size}
    reply = client.post(f"/s/{counter.code}/comment", data=data, content_type=content_type)
    assert reply.status_code == 413
    assert "Nội dung Ông/Bà gửi quá lớn" in reply.get_data(as_text=True)
    reply = client.post(f"/s/{counter.code}/comment?lang=en", data=data, content_type=content_type)
    assert reply.status_code == 413
    assert "What you sent is too large" in reply.get_data(as_text=True)


def test_answers_of_only_spaces_count_as_unanswered(client, counter, stored):
    tap(client, counter.code, 4)
    html = client.get(f"/s/{counter.code}/more").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "A1": " ", "A2": "\t"}
    reply = client.post(f"/s/{counter.code}/more", data=data | {"A3": "3"})
    assert reply.status_code == 303
    data = {"csrf_token": csrf_from(html), "trips": "\u00a0", "gender": " "}
    reply = client.post(f"/s/{counter.code}/more/6", data=data | {"age_group": "30_44"})
    assert reply.status_code == 303
    (response,) = stored()
    assert {(a.item_code, a.value) for a in response.answers} == {("A3", 3)}
    assert (response.trips, response.gender, response.age_group) == (None, None, "30_44")


def test_an_answer_not_offered_is_refused_in_vietnamese(client, counter, stored):
    tap(client, counter.code, 4)
    html = client.get(f"/s/{counter.code}/more").get_data(as_text=True)
    reply = client.post(f"/s/{counter.code}/more", data={"csrf_token": csrf_from(html), "A1": "9"})
    assert reply.status_code == 400
    assert "Not a valid choice" not in reply.get_data(as_text=True)
    assert stored()[0].answers == []


def test_comment_too_long_is_refused(client, counter, stored):
    tap(client, counter.code, 5)
    html = client.get(f"/s/{counter.code}/comment").get_data(as_text=True)
    reply = client.post(
        f"/s/{counter.code}/comment", data={"csrf_token": csrf_from(html), "comment": "x" * 2001}
    )
    assert reply.status_code == 400
    assert stored()[0].comment is None


def test_asking_for_formal_handling_of_an_empty_suggestion_says_what_is_missing(
    client, counter, stored
):
    tap(client, counter.code, 5)
    html = client.get(f"/s/{counter.code}/comment").get_data(as_text=True)
    reply = client.post(
        f"/s/{counter.code}/comment",
        data={"csrf_token": csrf_from(html), "comment": "  ", "wants_feedback": "y"},
    )
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Vui lòng viết góp ý trước" in html
    assert 'name="wants_feedback" value="y" checked' in html  # the choice is kept
    assert stored()[0].wants_feedback is False


def test_steps_two_and_three_need_a_rating_from_this_browser(client, app, counter):
    assert client.get(f"/s/{counter.code}/more").status_code == 404
    tap(client, counter.code, 5)
    other = app.test_client()
    assert other.get(f"/s/{counter.code}/more").status_code == 404


def test_second_tap_from_same_browser_is_suppressed(client, counter, stored):
    assert tap(client, counter.code, 5).status_code == 303
    reply = tap(client, counter.code, 1)
    assert reply.status_code == 409
    assert "đã trả lời" in reply.get_data(as_text=True)
    assert len(stored()) == 1


def _page_fields(client, code: str) -> dict:
    html = client.get(f"/s/{code}").get_data(as_text=True)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_from(html), "started": started}


def test_a_double_tap_from_one_page_stores_one_response(app, counter, stored):
    """Both requests of a double tap leave the phone with the page's cookie (the second
    is sent before the first is answered): the session cannot tell, the page's number
    can. Both go on to step 2 of the one response."""
    first = app.test_client()
    fields = _page_fields(first, counter.code)
    second = app.test_client()  # the same browser as it was when the page was shown
    second.set_cookie("session", first.get_cookie("session").value)
    replies = [
        c.post(f"/s/{counter.code}", data=fields | {"overall": "5"}) for c in (first, second)
    ]
    assert [r.status_code for r in replies] == [303, 303]
    assert replies[0].headers["Location"] == replies[1].headers["Location"]
    [response] = stored()
    assert response.start_nonce and len(response.start_nonce) <= 32
    # step 2 continues that response from whichever reply the browser kept
    assert second.get(replies[1].headers["Location"]).status_code == 200
    # a new page is a new tap (once the duplicate window allows it)
    third = app.test_client()
    assert tap(third, counter.code, 2).status_code == 303
    assert len(stored()) == 2


def test_four_taps_from_one_page_at_the_same_moment_store_one_response(app, counter, stored):
    """Really at once, in threads: the unique number decides (on PostgreSQL the losing
    INSERTs wait for the winner's commit, then find its response)."""
    import threading

    first = app.test_client()
    fields = _page_fields(first, counter.code)
    cookie = first.get_cookie("session").value
    barrier, replies = threading.Barrier(4), []

    def tap_now() -> None:
        phone = app.test_client()
        phone.set_cookie("session", cookie)
        barrier.wait()
        replies.append(phone.post(f"/s/{counter.code}", data=fields | {"overall": "1"}))

    threads = [threading.Thread(target=tap_now) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in replies) == [303] * 4
    assert len(stored()) == 1


def test_two_pages_shown_at_the_same_second_are_two_taps(app, counter, stored, monkeypatch):
    monkeypatch.setitem(app.config, "DUPLICATE_WINDOW_SECONDS", 0)
    with freeze_time("2026-03-02 03:00:00"):
        phones = [app.test_client() for _ in range(2)]
        pages = [_page_fields(phone, counter.code) for phone in phones]
        assert pages[0]["started"] != pages[1]["started"]
        for phone, fields in zip(phones, pages, strict=True):
            reply = phone.post(f"/s/{counter.code}", data=fields | {"overall": "4"})
            assert reply.status_code == 303
    assert len(stored()) == 2


def test_a_page_shown_before_pages_had_a_number_still_counts(app, counter, stored):
    """Pages already open when this version is deployed signed the counter code alone."""
    from survey_app.surveys import views as survey_views

    client = app.test_client()
    fields = _page_fields(client, counter.code)
    with app.test_request_context():
        fields["started"] = survey_views._start_signer().dumps(counter.code)
    assert client.post(f"/s/{counter.code}", data=fields | {"overall": "3"}).status_code == 303
    [response] = stored()
    assert response.started_at is not None and response.start_nonce is None


def test_the_double_tap_check_can_be_off_for_load_generators(app, counter, stored, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_DOUBLE_TAP_CHECK", False)
    monkeypatch.setitem(app.config, "DUPLICATE_WINDOW_SECONDS", 0)
    client = app.test_client()
    fields = _page_fields(client, counter.code)
    for overall in (5, 4):
        assert (
            client.post(f"/s/{counter.code}", data=fields | {"overall": str(overall)}).status_code
            == 303
        )
    assert len(stored()) == 2


def test_phones_sharing_an_address_and_browser_type_are_different_citizens(app, counter, stored):
    """Phones on the office Wi-Fi share one address, and most Android phones send the
    same User-Agent: their taps are all stored, with the same client hash for later
    fraud analysis. Only the browser that already answered is turned away."""
    phones = [app.test_client() for _ in range(3)]
    for overall, phone in enumerate(phones, start=3):
        assert tap(phone, counter.code, overall).status_code == 303
    assert tap(phones[0], counter.code, 1).status_code == 409
    responses = stored()
    assert sorted(r.overall for r in responses) == [3, 4, 5]
    assert len({r.client_hash for r in responses}) == 1


def test_same_browser_may_answer_again_after_the_window(app, client, counter, stored):
    with freeze_time("2026-03-02 03:00:00"):
        assert tap(client, counter.code, 5).status_code == 303
    with freeze_time("2026-03-02 03:09:00"):
        assert tap(client, counter.code, 4).status_code == 409
    with freeze_time("2026-03-02 03:11:00"):
        assert tap(client, counter.code, 4).status_code == 303
    assert sorted(r.overall for r in stored()) == [4, 5]


def test_response_from_a_logged_in_staff_browser_is_flagged(app, client, counter, stored):
    with app.app_context():
        email = factories.user().email
        db.session.commit()
    login(client, email)
    tap(client, counter.code, 5)
    (response,) = stored()
    assert response.staff_flag is True


def test_link_from_another_site_counts_as_web(client, counter, stored):
    page = client.get(f"/s/{counter.code}", headers={"Referer": "https://dichvucong.gov.vn/x"})
    html = page.get_data(as_text=True)
    client.post(
        f"/s/{counter.code}",
        data={
            "csrf_token": csrf_from(html),
            "overall": "5",
            "channel": re.search(r'name="channel" value="(\w+)"', html).group(1),
        },
    )
    assert stored()[0].channel == Channel.web


def test_no_personal_data_columns_in_responses(app_ctx):
    columns = set(Response.__table__.columns.keys())
    for forbidden in ("ip", "ip_address", "user_agent", "name", "phone", "email", "address"):
        assert forbidden not in columns


_ASSET = re.compile(
    r'<(?:link[^>]*rel="(?:stylesheet|icon|preload)"[^>]*href|script[^>]*src|img[^>]*src)="([^"]+)"'
)


def _transferred(client, path: str) -> tuple[int, list[str]]:
    """Bytes sent, gzip-compressed, for the page at ``path`` and everything it loads."""
    body = client.get(path).data
    html = body.decode()
    assets = _ASSET.findall(html)
    total = len(gzip.compress(body))
    for src in assets:
        assert not src.startswith(("http:", "https:", "//")), f"third-party asset {src} on {path}"
        if src.startswith("data:"):
            continue  # inline: already counted with the page
        asset = client.get(src)
        assert asset.status_code == 200, src
        total += len(gzip.compress(asset.data))
    return total, assets


def test_survey_pages_fit_the_30kb_budget(client, counter):
    """Every step's HTML (each screen of the questionnaire) and every stylesheet, script and
    image it loads, gzip-compressed, ≤ 30 KB, and nothing from another site."""
    fresh = client.application.test_client()
    sizes = {"step1": _transferred(fresh, f"/s/{counter.code}")}
    tap(client, counter.code, 5)
    screens = ["more", *(f"more/{n}" for n in range(2, 7)), "comment"]
    for step in (*screens, "thanks"):
        sizes[step] = _transferred(client, f"/s/{counter.code}/{step}")
    assert all(assets for _, assets in sizes.values()), sizes  # the stylesheet, at least
    assert max(size for size, _ in sizes.values()) <= 30 * 1024, sizes


def test_pages_use_no_third_party_assets(client, counter):
    html = client.get(f"/s/{counter.code}").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html.replace("hreflang", ""))
