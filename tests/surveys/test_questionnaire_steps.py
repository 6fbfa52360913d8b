"""The optional questionnaire over HTTP: one element per screen, saved screen by screen.

After the tap: five element screens (A…E), one screen of factual and profile
questions, the suggestion. Every screen says where the citizen is ("Phần 2/7"),
shows the faces' scale in the faces' order and has "Gửi" and "Bỏ qua phần còn
lại" before its questions; each is saved into the one response of the tap.
"""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey_app.extensions import db
from survey_app.surveys.models import Kiosk, Response
from survey_app.surveys.questionnaire import load_questionnaire
from survey_app.surveys.tokens import issue_kiosk_token
from tests import factories
from tests.helpers import csrf_from

#: The screens of sipas-2023.1 after the tap: address, progress, title, its questions.
SCREENS = [
    ("more", "Phần 1/7", "Tiếp cận dịch vụ", ["A1", "A2", "A3", "A4"]),
    ("more/2", "Phần 2/7", "Thủ tục hành chính", ["B1", "B2", "B3", "B4"]),
    ("more/3", "Phần 3/7", "Công chức tiếp nhận, giải quyết", [f"C{i}" for i in range(1, 7)]),
    ("more/4", "Phần 4/7", "Kết quả giải quyết", ["D1", "D2", "D3"]),
    ("more/5", "Phần 5/7", "Tiếp nhận, xử lý góp ý", ["E1", "E2", "E3", "E4"]),
    (
        "more/6",
        "Phần 6/7",
        "Về hồ sơ và về Ông/Bà",
        ["trips", "agencies_contacted", "respondent_type", "age_group", "gender"],
    ),
    ("comment", "Phần 7/7", "Góp ý của Ông/Bà", ["comment"]),
]


@pytest.fixture
def counter(app):
    with app.app_context():
        c = factories.counter(factories.agency("Sở Tư pháp"), name="Quầy Hộ tịch")
        db.session.commit()
        return SimpleNamespace(id=c.id, code=c.code)


def responses(app) -> list[SimpleNamespace]:
    """The stored responses, as plain data (answers: item code → value)."""
    with app.app_context():
        rows = db.session.scalars(
            select(Response).order_by(Response.id).options(selectinload(Response.answers))
        ).all()
        out = [
            SimpleNamespace(
                id=r.id,
                overall=r.overall,
                answers={a.item_code: a.value for a in r.answers},
                trips=r.trips,
                gender=r.gender,
                age_group=r.age_group,
                comment=r.comment,
                completed_at=r.completed_at,
            )
            for r in rows
        ]
        db.session.remove()
        return out


def tap(client, base: str, value: int = 4):
    html = client.get(base).get_data(as_text=True)
    reply = client.post(base, data={"csrf_token": csrf_from(html), "overall": str(value)})
    assert reply.status_code == 303
    return reply


def page_fields(html: str) -> dict:
    """What a screen's form carries besides the answers: the CSRF token and the page's key."""
    key = re.search(r'name="response" value="([0-9a-f]+)"', html)
    assert key, "the screen carries no response key"
    return {"csrf_token": csrf_from(html), "response": key.group(1)}


def send(client, path: str, answers: dict, finish: bool = False):
    """GET a screen, then send it with ``answers`` (and the skip button if ``finish``)."""
    page = client.get(path)
    assert page.status_code == 200, path
    data = page_fields(page.get_data(as_text=True)) | answers
    if finish:
        data["finish"] = "1"
    return client.post(path, data=data)


def checked(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(\w+)" value="(\w+)" checked', html))


def test_each_screen_has_its_progress_title_and_only_its_questions(client, counter):
    tap(client, f"/s/{counter.code}")
    all_codes = {code for *_, codes in SCREENS for code in codes}
    for path, progress, title, codes in SCREENS:
        page = client.get(f"/s/{counter.code}/{path}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, path
        title_tag = re.search(r"<title>(.*?)</title>", html).group(1)
        assert title_tag.startswith(f"{progress} — {title}"), title_tag
        h1 = re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html).group(1))
        assert h1.startswith(progress) and title in h1, h1
        shown = set(re.findall(r'name="(\w+)"', html)) & all_codes
        assert shown == set(codes), path


def test_the_english_screens_say_part_n_of_7(client, counter):
    tap(client, f"/s/{counter.code}")
    html = client.get(f"/s/{counter.code}/more/3?lang=en").get_data(as_text=True)
    assert "Part 3 of 7" in html and "The officials" in html
    assert ">Send</button>" in html and ">Skip the rest</button>" in html


def test_the_scale_runs_in_the_faces_order_with_the_same_faces(client, counter):
    """The faces of the first page go from Rất hài lòng to Rất không hài lòng; every
    item's scale goes the same way, with the same face drawings, then "not applicable"."""
    first = client.get(f"/s/{counter.code}").get_data(as_text=True)
    faces_order = re.findall(r'name="overall" value="(\d)"', first)
    faces_look = re.findall(r'<svg class="face (f\d)"', first)
    assert faces_order == ["5", "4", "3", "2", "1"]
    tap(client, f"/s/{counter.code}")
    for path, _, _, codes in SCREENS[:5]:
        html = client.get(f"/s/{counter.code}/{path}").get_data(as_text=True)
        for code in codes:
            item = re.search(
                rf'<legend>[^<]*</legend>(?:(?!</fieldset>).)*name="{code}"', html, re.S
            )
            block = html[item.start() : html.index("</fieldset>", item.start())]
            assert re.findall(rf'name="{code}" value="(\w+)"', block) == [*faces_order, "na"]
            assert re.findall(r'<svg class="face (f\d)"', block) == faces_look
            # the same drawing of each face as on the first page
            for value in faces_order:
                svg = re.compile(rf'<svg class="face f{value}".*?</svg>', re.S)
                assert svg.search(block).group(0) == svg.search(first).group(0)


def test_send_and_skip_come_before_the_questions_on_every_screen(client, counter):
    """In the page's order (what shows first on a phone, and what a screen reader and the
    Enter key meet first): the Send button, then Skip the rest, then the questions."""
    tap(client, f"/s/{counter.code}")
    for path, _, _, codes in SCREENS:
        html = client.get(f"/s/{counter.code}/{path}").get_data(as_text=True)
        form = html[html.index("<form") :]
        send_at = form.index('<button type="submit" class="primary">Gửi</button>')
        skip_at = form.index('name="finish" value="1">Bỏ qua phần còn lại</button>')
        first_question = min(form.index(f'name="{code}"') for code in codes)
        assert send_at < skip_at < first_question, path
        # the Send button is the form's first: Enter in the form saves and goes on
        assert form.index('type="submit"') == send_at + len("<button ")


def test_each_screen_is_saved_when_sent_and_leads_to_the_next(app, client, counter):
    base = f"/s/{counter.code}"
    tap(client, base, 3)
    [response] = responses(app)
    assert response.answers == {} and response.completed_at is None

    reply = send(client, f"{base}/more", {"A1": "5", "A4": "na"})
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"{base}/more/2")
    [response] = responses(app)
    assert response.answers == {"A1": 5, "A4": None}
    assert response.completed_at is not None

    # the citizen leaves here: what was given stays; the next screens add to it
    reply = send(client, f"{base}/more/2", {"B2": "2"})
    assert reply.headers["Location"].endswith(f"{base}/more/3")
    for path in ("more/3", "more/4", "more/5"):
        reply = send(client, f"{base}/{path}", {})
        assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"{base}/more/6")
    reply = send(client, f"{base}/more/6", {"trips": "1", "gender": "female"})
    assert reply.headers["Location"].endswith(f"{base}/comment")
    reply = send(client, f"{base}/comment", {"comment": "Nên có thêm ghế chờ"})
    assert reply.headers["Location"].endswith(f"{base}/thanks")

    [response] = responses(app)
    assert response.overall == 3
    assert response.answers == {"A1": 5, "A4": None, "B2": 2}
    assert (response.trips, response.gender, response.comment) == (
        1,
        "female",
        "Nên có thêm ghế chờ",
    )


def test_skip_the_rest_keeps_what_was_answered_and_ends(app, client, counter):
    base = f"/s/{counter.code}"
    tap(client, base)
    send(client, f"{base}/more", {"A1": "4"})
    # answers ticked on the screen where the citizen stops are kept too
    reply = send(client, f"{base}/more/2", {"B1": "1", "B3": "na"}, finish=True)
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"{base}/thanks")
    [response] = responses(app)
    assert response.answers == {"A1": 4, "B1": 1, "B3": None}
    assert response.comment is None and response.trips is None
    assert client.get(reply.headers["Location"]).status_code == 200

    # from the first screen without an answer: straight to the end, nothing written
    other = app.test_client()
    tap(other, base)
    reply = send(other, f"{base}/more", {}, finish=True)
    assert reply.headers["Location"].endswith(f"{base}/thanks")
    assert responses(app)[1].answers == {} and responses(app)[1].completed_at is None


def test_skip_on_the_last_screen_keeps_the_suggestion(app, client, counter):
    base = f"/s/{counter.code}"
    tap(client, base)
    reply = send(client, f"{base}/comment", {"comment": "Cảm ơn cán bộ"}, finish=True)
    assert reply.headers["Location"].endswith(f"{base}/thanks")
    assert responses(app)[0].comment == "Cảm ơn cán bộ"


def test_going_back_shows_the_answers_given_and_changes_only_that_screen(app, client, counter):
    base = f"/s/{counter.code}"
    tap(client, base)
    send(client, f"{base}/more", {"A1": "5", "A2": "na"})
    send(client, f"{base}/more/2", {"B1": "3"})
    send(client, f"{base}/more/6", {"age_group": "60_plus"})

    html = client.get(f"{base}/more/2").get_data(as_text=True)
    assert f'class="back" href="{base}/more"' in html  # the back link: the screen before
    assert checked(html) == {"B1": "3"}
    assert f'class="back" href="{base}/more/6"' in client.get(f"{base}/comment").get_data(
        as_text=True
    )
    assert 'class="back"' not in client.get(f"{base}/more").get_data(as_text=True)

    html = client.get(f"{base}/more").get_data(as_text=True)
    assert checked(html) == {"A1": "5", "A2": "na"}
    assert checked(client.get(f"{base}/more/6").get_data(as_text=True)) == {"age_group": "60_plus"}
    reply = send(client, f"{base}/more", {"A1": "2", "A3": "4"})
    assert reply.headers["Location"].endswith(f"{base}/more/2")
    [response] = responses(app)
    assert response.answers == {"A1": 2, "A3": 4, "B1": 3}
    assert response.age_group == "60_plus"


def test_a_screen_sent_twice_is_saved_once(app, client, counter):
    """A double click, or Send again after Back: the same answers, the same response, the
    same next screen; the second send writes nothing."""
    base = f"/s/{counter.code}"
    tap(client, base)
    html = client.get(f"{base}/more/3").get_data(as_text=True)
    data = page_fields(html) | {"C1": "5", "C6": "4"}
    first = client.post(f"{base}/more/3", data=data)
    [after_first] = responses(app)
    second = client.post(f"{base}/more/3", data=data)
    assert [first.status_code, second.status_code] == [303, 303]
    assert first.headers["Location"] == second.headers["Location"]
    [response] = responses(app)
    assert response.answers == {"C1": 5, "C6": 4}
    assert response.completed_at == after_first.completed_at


def test_the_same_screen_sent_four_times_at_once_is_saved_once(app, client, counter):
    """Really at once, in threads: the response row is locked while a screen is saved, so
    the sends queue instead of the later ones failing on the first one's answers."""
    base = f"/s/{counter.code}"
    tap(client, base)
    html = client.get(f"{base}/more/3").get_data(as_text=True)
    data = page_fields(html) | {"C1": "5", "C2": "na", "C3": "1"}
    cookie = client.get_cookie("session").value
    barrier, replies = threading.Barrier(4), []

    def send_now() -> None:
        phone = app.test_client()
        phone.set_cookie("session", cookie)
        barrier.wait()
        replies.append(phone.post(f"{base}/more/3", data=data))

    threads = [threading.Thread(target=send_now) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in replies) == [303] * 4
    [response] = responses(app)
    assert response.answers == {"C1": 5, "C2": None, "C3": 1}


def test_every_screen_adds_to_the_one_response_of_the_tap(app, client, counter):
    base = f"/s/{counter.code}"
    tap(client, base, 5)
    for path, _, _, codes in SCREENS:
        answer = {"comment": "Tốt"} if path == "comment" else {}
        if path.startswith("more") and not path.endswith("6"):
            answer = {codes[0]: "4"}
        assert send(client, f"{base}/{path}", answer).status_code == 303
    [response] = responses(app)
    assert response.overall == 5
    assert response.answers == {"A1": 4, "B1": 4, "C1": 4, "D1": 4, "E1": 4}
    # the response keeps the version its answers belong to
    with app.app_context():
        stored = db.session.get(Response, response.id)
        assert stored.questionnaire_version.version == load_questionnaire().version


def test_a_page_left_open_from_an_earlier_rating_does_not_write_into_the_new_one(
    app, client, counter, monkeypatch
):
    monkeypatch.setitem(app.config, "DUPLICATE_WINDOW_SECONDS", 0)
    base = f"/s/{counter.code}"
    tap(client, base)
    old_page = client.get(f"{base}/more/2").get_data(as_text=True)
    tap(client, base)  # the same phone rates again (a new visit): a new response
    reply = client.post(f"{base}/more/2", data=page_fields(old_page) | {"B1": "1"})
    assert reply.status_code == 409
    html = reply.get_data(as_text=True)
    assert "chưa được lưu" in html
    # the screen is shown again for the new response, with that response's key
    assert page_fields(html)["response"] != page_fields(old_page)["response"]
    assert [r.answers for r in responses(app)] == [{}, {}]
    # the same goes for the suggestion
    old_comment = client.get(f"{base}/comment").get_data(as_text=True)
    tap(client, base)
    reply = client.post(f"{base}/comment", data=page_fields(old_comment) | {"comment": "Cũ"})
    assert reply.status_code == 409
    assert [r.comment for r in responses(app)] == [None, None, None]
    # whatever the field holds
    fields = page_fields(client.get(f"{base}/more").get_data(as_text=True))
    for key in ("ế" * 40, "0" * 16, " "):
        reply = client.post(f"{base}/more", data=fields | {"response": key, "A1": "5"})
        assert reply.status_code == 409, key
    assert all(r.answers == {} for r in responses(app))


def test_a_screen_after_the_hour_for_adding_answers_is_refused_and_keeps_the_rest(
    app, client, counter
):
    base = f"/s/{counter.code}"
    with freeze_time("2026-03-02 03:00:00"):
        tap(client, base)
        send(client, f"{base}/more", {"A1": "5"})
        html = client.get(f"{base}/more/2").get_data(as_text=True)
    with freeze_time("2026-03-02 04:00:30"):
        reply = client.post(f"{base}/more/2", data=page_fields(html) | {"B1": "2"})
        assert reply.status_code == 410
        assert "Đánh giá của Ông/Bà đã được ghi nhận" in reply.get_data(as_text=True)
    [response] = responses(app)
    assert response.answers == {"A1": 5}


@pytest.mark.parametrize("path", ["more/0", "more/7", "more/99", "more/x"])
def test_a_screen_that_does_not_exist_is_404(client, counter, path):
    tap(client, f"/s/{counter.code}")
    reply = client.get(f"/s/{counter.code}/{path}")
    assert reply.status_code == 404


def test_the_first_screen_has_one_address(client, counter):
    tap(client, f"/s/{counter.code}")
    reply = client.get(f"/s/{counter.code}/more/1")
    assert reply.status_code in (301, 308) and reply.headers["Location"].endswith(
        f"/s/{counter.code}/more"
    )


def test_an_answer_from_another_screen_is_not_stored_there(app, client, counter):
    base = f"/s/{counter.code}"
    tap(client, base)
    reply = send(client, f"{base}/more/2", {"B1": "4", "A1": "5", "trips": "1"})
    assert reply.status_code == 303
    [response] = responses(app)
    assert response.answers == {"B1": 4} and response.trips is None


def test_a_kiosk_goes_through_the_same_screens(app, client):
    with app.app_context():
        c = factories.counter(factories.agency(), name="Quầy 1")
        kiosk = Kiosk(counter=c, label="Máy tính bảng")
        db.session.add(kiosk)
        db.session.commit()
        path = f"/k/{issue_kiosk_token(kiosk.id, c.code)}"
    reply = tap(client, path)
    assert reply.headers["Location"].endswith(f"{path}/more")
    reply = send(client, f"{path}/more", {"A2": "5"})
    assert reply.headers["Location"].endswith(f"{path}/more/2")
    html = client.get(f"{path}/more/2").get_data(as_text=True)
    assert f'class="back" href="{path}/more"' in html and "Phần 2/7" in html
    reply = send(client, f"{path}/more/2", {"B4": "1"}, finish=True)
    assert reply.headers["Location"].endswith(f"{path}/thanks")
    [response] = responses(app)
    assert response.answers == {"A2": 5, "B4": 1}
