"""The public survey in a real phone browser: tap, optional steps, languages, no JavaScript, receipts.

Assertions are on URLs, HTTP statuses and what reached the database, not on
translated text.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from survey_app.extensions import db
from survey_app.surveys.models import Response
from tests.e2e.live import PHONE

pytestmark = pytest.mark.e2e

FACE = 'form.overall button[name="overall"][value="{}"]'
#: "Gửi" on a questionnaire screen: save this screen and go on.
DETAILS_SUBMIT = "form.details .bar button.primary"
COMMENT_SUBMIT = "form.comment .bar button.primary"
COMMENT = "Nhân viên nhiệt tình; nên có thêm ghế chờ. Cảm ơn!"


def responses_at(live, counter_id: int) -> list[dict]:
    """The responses stored for a counter, as plain dicts (answers: item → value)."""
    with live.app.app_context():
        rows = db.session.scalars(
            select(Response)
            .where(Response.counter_id == counter_id)
            .options(selectinload(Response.answers))
        ).all()
        out = [
            {
                "overall": r.overall,
                "channel": str(r.channel),
                "language": r.language,
                "answers": {a.item_code: a.value for a in r.answers},
                "trips": r.trips,
                "gender": r.gender,
                "comment": r.comment,
                "wants_feedback": r.wants_feedback,
                "started_at": r.started_at,
                "completed_at": r.completed_at,
                "receipt_token_hash": r.receipt_token_hash,
            }
            for r in rows
        ]
        db.session.remove()
        return out


def submit(page, selector: str, *, tap: bool = False):
    """Press a submit button and wait for the page it leads to; returns its HTTP response."""
    with page.expect_navigation() as navigation:
        if tap:
            page.locator(selector).tap()
        else:
            page.locator(selector).click()
    return navigation.value


def rate(page, value: int = 5):
    """Step 1: one tap on a face (the phone has a touch screen)."""
    assert page.locator('form.overall button[name="overall"]').count() == 5
    return submit(page, FACE.format(value), tap=True)


def complete_optional_steps(page, code: str) -> None:
    """The optional screens: three items (one "not applicable") on screens 1 and 3, nothing
    on 2, 4 and 5, two answers on the sixth, then a comment."""
    answers = {
        1: ['input[name="A1"][value="5"]', 'input[name="A4"][value="na"]'],
        3: ['input[name="C3"][value="4"]'],
        6: ['input[name="trips"][value="1"]', 'input[name="gender"][value="female"]'],
    }
    for screen in range(1, 7):
        address = "more" if screen == 1 else f"more/{screen}"
        assert re.search(rf"/s/{code}/{address}$", page.url), page.url
        for choice in answers.get(screen, []):
            page.check(choice)
            assert page.locator(choice).is_checked()
        reply = submit(page, DETAILS_SUBMIT)
        assert reply.status == 200
    assert re.search(rf"/s/{code}/comment$", page.url), page.url

    page.locator("textarea#comment").fill(COMMENT)
    reply = submit(page, COMMENT_SUBMIT)
    assert reply.status == 200
    assert re.search(rf"/s/{code}/thanks$", page.url), page.url


def assert_complete_response(stored: list[dict], language: str) -> None:
    assert len(stored) == 1, stored
    (response,) = stored
    assert response["overall"] == 5
    assert response["channel"] == "poster"
    assert response["language"] == language
    assert response["answers"] == {"A1": 5, "A4": None, "C3": 4}
    assert response["trips"] == 1
    assert response["gender"] == "female"
    assert response["comment"] == COMMENT
    assert response["wants_feedback"] is False
    assert response["started_at"] is not None  # the signed "page shown" time came back
    assert response["completed_at"] is not None


def test_tap_then_optional_steps_in_vietnamese(live, phone):
    counter = live.counter("Sở Tư pháp", "Quầy Hộ tịch")
    first = phone.goto(f"{live.url}/s/{counter.code}")
    assert first.status == 200
    assert phone.locator("html").get_attribute("lang") == "vi"

    # made for a phone: no sideways scrolling, faces big enough to tap, all within the screen
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    for face in phone.locator('form.overall button[name="overall"]').all():
        box = face.bounding_box()
        assert box["height"] >= 48 and box["x"] >= 0 and box["x"] + box["width"] <= 360, box

    reply = rate(phone, 5)
    assert reply.status == 200
    # the tap alone is a response, before any optional step
    (tapped,) = responses_at(live, counter.id)
    assert tapped["overall"] == 5 and tapped["answers"] == {} and tapped["completed_at"] is None

    complete_optional_steps(phone, counter.code)
    assert_complete_response(responses_at(live, counter.id), "vi")
    assert phone.watch.problems == []


def test_english_through_the_language_switch(live, phone):
    counter = live.counter()
    phone.goto(f"{live.url}/s/{counter.code}")
    assert phone.locator("html").get_attribute("lang") == "vi"
    switch = phone.locator("nav.lang a")
    assert switch.is_visible()
    with phone.expect_navigation():
        switch.tap()
    assert phone.locator("html").get_attribute("lang") == "en"
    assert re.search(rf"/s/{counter.code}\?lang=en$", phone.url), phone.url

    rate(phone, 5)
    # the choice sticks for the following pages (the form URLs carry no ?lang=)
    assert phone.locator("html").get_attribute("lang") == "en"
    complete_optional_steps(phone, counter.code)
    assert phone.locator("html").get_attribute("lang") == "en"
    assert_complete_response(responses_at(live, counter.id), "en")
    assert phone.watch.problems == []


def test_one_tap_works_without_javascript(live, phone_without_js):
    page = phone_without_js
    counter = live.counter()
    assert page.goto(f"{live.url}/s/{counter.code}").status == 200
    reply = rate(page, 2)
    assert reply.status == 200
    assert re.search(rf"/s/{counter.code}/more$", page.url), page.url
    stored = responses_at(live, counter.id)
    assert [(r["overall"], r["channel"], r["language"]) for r in stored] == [(2, "poster", "vi")]

    # the optional steps work without JavaScript too
    complete_optional_steps(page, counter.code)
    (response,) = responses_at(live, counter.id)
    assert response["overall"] == 2
    assert response["answers"] == {"A1": 5, "A4": None, "C3": 4}
    assert response["comment"] == COMMENT


def test_receipt_link_is_answered_once(live, phone):
    counter = live.counter()
    token = live.receipt_token(counter.code)
    link = f"{live.url}/r/{token}"

    assert phone.goto(link).status == 200
    reply = rate(phone, 4)
    assert reply.status == 200
    assert re.search(rf"/s/{counter.code}/more$", phone.url), phone.url
    (response,) = responses_at(live, counter.id)
    assert response["overall"] == 4
    assert response["channel"] == "receipt"
    assert response["receipt_token_hash"] == hashlib.sha256(token.encode()).hexdigest()

    # the same link again, e.g. scanned a second time from the receipt
    again = phone.goto(link)
    assert again.status == 409
    assert phone.locator('button[name="overall"]').count() == 0
    assert len(responses_at(live, counter.id)) == 1

    # ... and from another phone: the token, not the browser, is what was used up
    other = phone.context.browser.new_context(**PHONE)
    try:
        page = other.new_page()
        assert page.goto(link).status == 409
    finally:
        other.close()
    assert len(responses_at(live, counter.id)) == 1
    assert phone.watch.problems == []


def test_back_and_tap_again_is_not_a_second_response(live, phone):
    """A phone's Back button after the tap shows the faces again; a second tap is refused."""
    counter = live.counter()
    phone.goto(f"{live.url}/s/{counter.code}")
    rate(phone, 5)
    assert re.search(rf"/s/{counter.code}/more$", phone.url), phone.url

    phone.go_back()
    assert re.search(rf"/s/{counter.code}$", phone.url), phone.url
    reply = rate(phone, 1)
    assert reply.status == 409
    stored = responses_at(live, counter.id)
    assert [r["overall"] for r in stored] == [5]

    # the refusal offers to go on with the optional questions of the first tap
    more = phone.locator(f'main a[href$="/s/{counter.code}/more"]')
    assert more.count() == 1
    with phone.expect_navigation():
        more.tap()
    complete_optional_steps(phone, counter.code)
    assert_complete_response(responses_at(live, counter.id), "vi")


#: For every visible element with its own text: its contrast ratio against the
#: background it is drawn on (WCAG 2 relative luminance), and its font size.
_TEXT_CONTRAST_JS = """
() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (!own || style.visibility === "hidden" || box.width <= 1 || box.height <= 1) continue;
    const [a, b] = [lum(rgb(style.color)), lum(background(el))];
    out.push({
      text: el.textContent.trim().slice(0, 40),
      ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
      size: parseFloat(style.fontSize),
    });
  }
  return out;
}
"""

_UNLABELLED_JS = """
() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                  && !(el.tagName === "BUTTON" && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80))
"""


def test_every_step_is_readable_and_easy_to_tap_for_older_people(live, phone):
    """Text contrast at least 4.5:1 (WCAG AA) and text at least 14 px on every step; every
    control labelled; the choices of every questionnaire screen at least 44 px high to tap."""
    counter = live.counter()
    pages = {}
    phone.goto(f"{live.url}/s/{counter.code}")
    pages["step 1"] = (phone.evaluate(_TEXT_CONTRAST_JS), phone.evaluate(_UNLABELLED_JS))
    rate(phone, 4)
    for screen in range(1, 7):
        name = f"screen {screen}"
        pages[name] = (phone.evaluate(_TEXT_CONTRAST_JS), phone.evaluate(_UNLABELLED_JS))
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, name
        targets = phone.locator("form.details fieldset label").all()
        assert targets, name
        small = [box for box in (t.bounding_box() for t in targets) if box["height"] < 44]
        assert small == [], (name, small[:3])
        submit(phone, DETAILS_SUBMIT)
    pages["suggestion"] = (phone.evaluate(_TEXT_CONTRAST_JS), phone.evaluate(_UNLABELLED_JS))
    submit(phone, COMMENT_SUBMIT)
    pages["thanks"] = (phone.evaluate(_TEXT_CONTRAST_JS), phone.evaluate(_UNLABELLED_JS))
    for name, (texts, unlabelled) in pages.items():
        assert texts, name
        low = [t for t in texts if t["ratio"] < 4.5]
        tiny = [t for t in texts if t["size"] < 14]
        assert low == [] and tiny == [] and unlabelled == [], (name, low, tiny, unlabelled)
    assert phone.watch.problems == []
