"""The optional questionnaire on a small phone (360×640), with and without JavaScript.

On every screen: "Gửi" and "Bỏ qua phần còn lại" are on the screen without
scrolling, and still there after scrolling to the last question (where the
screen is tall enough); every answer is at least 44 px high; nothing scrolls
sideways; a keyboard user's focused answer is never hidden under the buttons.
And the questionnaire can be completed, or left with the answers given kept.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey_app.extensions import db
from survey_app.surveys.models import Response
from tests.e2e.conftest import PageWatch
from tests.e2e.live import PHONE

pytestmark = pytest.mark.e2e

#: A cheap phone: 360×640 CSS pixels.
SMALL_PHONE = PHONE | {
    "viewport": {"width": 360, "height": 640},
    "screen": {"width": 360, "height": 640},
}
SEND = "form .bar button.primary"
SKIP = 'form .bar button[name="finish"]'
#: Every answer a citizen taps: faces, "not applicable" and the factual choices.
TARGETS = "form label.pt"


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def small_phone(request, browser, live):
    context = browser.new_context(**SMALL_PHONE, java_script_enabled=request.param)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    context.close()


def stored(live, counter_id: int) -> list[dict]:
    with live.app.app_context():
        rows = db.session.scalars(
            select(Response)
            .where(Response.counter_id == counter_id)
            .options(selectinload(Response.answers))
        ).all()
        out = [
            {
                "overall": r.overall,
                "answers": {a.item_code: a.value for a in r.answers},
                "trips": r.trips,
                "age_group": r.age_group,
                "comment": r.comment,
            }
            for r in rows
        ]
        db.session.remove()
        return out


def go(page, selector: str):
    with page.expect_navigation() as navigation:
        page.locator(selector).click()
    assert navigation.value.status == 200, page.url
    return navigation.value


def in_view(box: dict, width: int = 360, height: int = 640) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
    )


def check_screen(page, name: str) -> None:
    """What every screen must hold for an older citizen on a small phone."""
    assert page.evaluate("window.scrollY") == 0, name
    for selector in (SEND, SKIP):
        box = page.locator(selector).bounding_box()
        assert box and in_view(box), (name, selector, box)
        assert box["height"] >= 44 and box["width"] >= 44, (name, selector, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    small = [
        box
        for box in (t.bounding_box() for t in page.locator(TARGETS).all())
        if box["height"] < 44 or box["width"] < 44
    ]
    assert small == [], (name, small[:3])
    back = page.locator("a.back")
    if back.count():
        assert back.bounding_box()["height"] >= 44, name
    # after scrolling to the end, the two buttons are still on the screen
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    for selector in (SEND, SKIP):
        box = page.locator(selector).bounding_box()
        assert box and in_view(box), (name, "scrolled", selector, box)
    page.evaluate("window.scrollTo(0, 0)")


def test_every_screen_fits_a_small_phone_and_the_questionnaire_completes(live, small_phone):
    page = small_phone
    counter = live.counter("Sở Tư pháp", "Quầy Hộ tịch - Lý lịch tư pháp")
    page.goto(f"{live.url}/s/{counter.code}")
    with page.expect_navigation():
        page.locator('button[name="overall"][value="4"]').tap()
    answers = {
        1: ['input[name="A1"][value="5"]', 'input[name="A3"][value="na"]'],
        3: ['input[name="C1"][value="1"]'],
        5: ['input[name="E4"][value="3"]'],
        6: ['input[name="trips"][value="2"]', 'input[name="age_group"][value="60_plus"]'],
    }
    for screen in range(1, 7):
        progress = page.locator("h1 .progress").inner_text()
        assert progress == f"Phần {screen}/7", progress
        check_screen(page, f"screen {screen}")
        for choice in answers.get(screen, []):
            page.locator(choice).tap()
            assert page.locator(choice).is_checked()
        go(page, SEND)
    assert re.search(rf"/s/{counter.code}/comment$", page.url), page.url
    assert page.locator("h1 .progress").inner_text() == "Phần 7/7"
    check_screen(page, "suggestion")
    page.locator("textarea#comment").fill("Nên có thêm ghế chờ")
    go(page, SEND)
    assert re.search(rf"/s/{counter.code}/thanks$", page.url), page.url

    assert stored(live, counter.id) == [
        {
            "overall": 4,
            "answers": {"A1": 5, "A3": None, "C1": 1, "E4": 3},
            "trips": 2,
            "age_group": "60_plus",
            "comment": "Nên có thêm ghế chờ",
        }
    ]
    assert page.watch.problems == []


def test_skip_the_rest_midway_keeps_the_answers_and_back_shows_them(live, small_phone):
    page = small_phone
    counter = live.counter()
    page.goto(f"{live.url}/s/{counter.code}")
    with page.expect_navigation():
        page.locator('button[name="overall"][value="2"]').tap()
    page.locator('input[name="A2"][value="1"]').tap()
    go(page, SEND)
    # the phone's Back button: the first screen again, with its answer
    page.go_back()
    assert page.locator('input[name="A2"][value="1"]').is_checked()
    go(page, SEND)
    # and the screen's own back link
    go(page, "a.back")
    assert re.search(rf"/s/{counter.code}/more$", page.url), page.url
    assert page.locator('input[name="A2"][value="1"]').is_checked()
    go(page, SEND)
    page.locator('input[name="B3"][value="5"]').tap()
    go(page, SKIP)
    assert re.search(rf"/s/{counter.code}/thanks$", page.url), page.url
    assert stored(live, counter.id) == [
        {
            "overall": 2,
            "answers": {"A2": 1, "B3": 5},
            "trips": None,
            "age_group": None,
            "comment": None,
        }
    ]
    assert page.watch.problems == []


def test_a_focused_answer_is_never_hidden_under_the_buttons(live, small_phone):
    """WCAG 2.2 "focus not obscured": moving through the longest screen with the keyboard,
    each focused answer is shown below the buttons that stay at the top."""
    page = small_phone
    counter = live.counter()
    page.goto(f"{live.url}/s/{counter.code}")
    with page.expect_navigation():
        page.locator('button[name="overall"][value="5"]').tap()
    page.goto(f"{live.url}/s/{counter.code}/more/3")  # six items: the longest screen
    page.locator(SKIP).focus()
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.name")
        if name not in {f"C{i}" for i in range(1, 7)}:
            continue
        page.keyboard.press("ArrowRight")  # choose the next face, as a keyboard user does
        focused = page.evaluate(
            "(() => { const r = document.activeElement.getBoundingClientRect();"
            " return {top: r.top, bottom: r.bottom}; })()"
        )
        bar = page.locator(".bar").bounding_box()
        assert focused["top"] >= bar["y"] + bar["height"] - 1, (name, focused, bar)
        assert focused["bottom"] <= 640, (name, focused)
        seen.append(name)
    assert seen == [f"C{i}" for i in range(1, 7)]
