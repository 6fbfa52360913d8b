"""axe-core on every citizen page, on a phone, with and without JavaScript: zero violations.

axe-core comes from the npm registry (``tests/e2e/package.json``, installed by
``npm ci`` in ``.ci/run`` and ``make test``). The tests skip, saying so, when it
is not installed, and fail instead when ``REQUIRE_BROWSER`` is set (as CI does).

axe runs its default rules -- WCAG 2.0/2.1 A and AA and the best practices
(landmarks, one ``h1``, headings in order…) -- plus WCAG 2.2 AA's target size
and the duplicate ids.

How the page without JavaScript is audited: axe is itself a script, and with
scripts turned off in the browser its promises never settle (Chromium runs no
callback of the page). So the page is first shown by a browser with JavaScript
off, and exactly the document that browser built (``<noscript>`` content
included, no script having run) is then served at the same address to a
browser with JavaScript on, with its ``<script>`` elements taken out: the
styles and images load from the live app as before, so contrast and layout are
what the citizen without JavaScript sees, and axe is evaluated there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from survey_app.agencies.models import Counter
from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind, CaseState
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import transition
from survey_app.surveys.kiosks import create_kiosk, kiosk_token
from tests import factories
from tests.e2e.conftest import PageWatch
from tests.e2e.live import PHONE

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
S = CaseState

#: axe's default set (everything but the experimental, AAA and deprecated rules), plus
#: WCAG 2.2 AA's target size and the duplicate ids (obsolete in WCAG 2.2, still worth it).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {
        rule: {"enabled": True} for rule in ("target-size", "duplicate-id", "duplicate-id-active")
    },
}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        reason = f"axe-core is not installed ({AXE}): run `npm ci` in tests/e2e"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


class Auditor:
    """Runs axe on the page a phone shows, collecting every violation by page name."""

    def __init__(self, browser, source: str, javascript: bool):
        self.browser, self.source, self.javascript = browser, source, javascript
        self.found: dict[str, list[str]] = {}
        self.names: list[str] = []

    def __call__(self, page, name: str, *, allow: frozenset[str] = frozenset()) -> None:
        self.names.append(name)
        if self.javascript:
            violations = self._run(page)
        else:
            violations = self._run_as_served_without_js(page)
        violations = [v for v in violations if v.split(" ", 1)[0] not in allow]
        if violations:
            self.found[name] = violations

    def _run(self, page) -> list[str]:
        page.evaluate(self.source)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
            for v in results["violations"]
        ]

    def _run_as_served_without_js(self, page) -> list[str]:
        html = page.content()
        html = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S | re.I)
        html = re.sub(r"</?noscript\b[^>]*>", "", html, flags=re.I)  # shown without JS
        context = self.browser.new_context(**PHONE)
        try:
            audit_page = context.new_page()
            url = page.url.split("#")[0]
            audit_page.route(
                url,
                lambda route: route.fulfill(
                    status=200, content_type="text/html; charset=utf-8", body=html
                ),
            )
            audit_page.goto(url)
            return self._run(audit_page)
        finally:
            context.close()

    def assert_clean(self) -> None:
        report = "\n".join(
            f"{name}:\n  " + "\n  ".join(problems) for name, problems in self.found.items()
        )
        assert self.found == {}, f"axe violations on {len(self.found)} page(s):\n{report}"


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def citizen(request, browser, live, axe_source):
    """A phone (JavaScript on or off) and the auditor of the pages it shows."""
    context = browser.new_context(**PHONE, java_script_enabled=request.param)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page, Auditor(browser, axe_source, request.param)
    context.close()


def go(page, selector: str, *, status: int = 200):
    with page.expect_navigation() as navigation:
        page.locator(selector).first.click()
    assert navigation.value.status == status, (selector, page.url, navigation.value.status)


def open_(page, url: str, *, status: int = 200) -> None:
    reply = page.goto(url)
    assert reply.status == status, (url, reply.status)


def test_the_audit_finds_violations_with_and_without_javascript(live, citizen):
    """The auditor itself: a page with known faults is not passed, in either mode."""
    page, audit = citizen
    bad = (
        "<!doctype html><html><head><title>x</title></head><body>"
        "<main><h1>x</h1><img src='/static/none.png'><input type=text>"
        "<noscript><a href='/'></a></noscript></main></body></html>"
    )
    page.route(f"{live.url}/bad", lambda route: route.fulfill(body=bad, content_type="text/html"))
    page.goto(f"{live.url}/bad")
    audit(page, "bad")
    found = {v.split(" ", 1)[0] for v in audit.found["bad"]}
    assert {"html-has-lang", "image-alt", "label"} <= found, found
    # the empty link inside <noscript> is seen only by the page without JavaScript
    assert ("link-name" in found) is (not audit.javascript), found


# -- the survey ---------------------------------------------------------------------------


def test_the_survey_from_the_poster_to_the_thanks(live, citizen):
    page, audit = citizen
    counter = live.counter("Sở Tư pháp", "Quầy Hộ tịch")
    open_(page, f"{live.url}/")
    audit(page, "home")
    open_(page, f"{live.url}/s/{counter.code}")
    audit(page, "one-tap")
    open_(page, f"{live.url}/s/{counter.code}?lang=en")
    audit(page, "one-tap (English)")
    open_(page, f"{live.url}/s/{counter.code}?lang=vi")

    go(page, 'button[name="overall"][value="4"]')
    audit(page, "after the tap")
    if page.locator(f"a[href$='/s/{counter.code}/more']").count():  # the invitation to go on
        go(page, f"a[href$='/s/{counter.code}/more']")
    screens = 0
    while "/more" in page.url:
        screens += 1
        audit(page, f"questionnaire {page.url.rsplit('/s/', 1)[1]}")
        if screens == 1:  # an answer that cannot be read: the screen shows its error
            page.evaluate(
                "() => { const i = document.querySelector('form input[type=radio]');"
                " i.value = 'x'; i.checked = true; }"
            )
            with page.expect_navigation():
                page.locator("form button.primary").first.click()
            assert "/more" in page.url and page.locator(".error").count(), page.url
            audit(page, "questionnaire screen with an error")
        go(page, "form button.primary")
        assert screens < 20, page.url
    assert screens >= 1
    if "/comment" in page.url:
        audit(page, "comment")
        page.locator("textarea").first.fill("Đề nghị bố trí thêm ghế chờ cho người cao tuổi.")
        if page.locator("input[name=wants_feedback]").count():  # to be turned into a case
            page.check("input[name=wants_feedback]")
        go(page, "form button.primary, form button[type=submit]")
    # the suggestion is carried over to a formal case's form at once (no thank-you
    # before the case exists); the thank-you page then says it is not sent yet
    assert re.search(r"/feedback/new\?from=survey$", page.url), page.url
    audit(page, "suggestion to a formal case")
    open_(page, f"{live.url}/s/{counter.code}/thanks")
    audit(page, "thank-you, the suggestion not sent yet")

    # the same poster again from this phone: the "already answered" page
    open_(page, f"{live.url}/s/{counter.code}")
    audit(page, "already answered or rate again")
    audit.assert_clean()
    assert page.watch.problems == []


def test_the_receipt_link_and_the_kiosk(live, citizen):
    page, audit = citizen
    counter = live.counter("Sở Xây dựng", "Quầy Cấp phép")
    link = f"{live.url}/r/{live.receipt_token(counter.code)}"
    open_(page, link)
    audit(page, "receipt one-tap")
    go(page, 'button[name="overall"][value="5"]')
    open_(page, link, status=409)
    audit(page, "receipt already answered")
    with live.app.app_context():
        kiosk = create_kiosk(db.session.get(Counter, counter.id), "Máy tính bảng 1", None, None)
        token = kiosk_token(kiosk)
        db.session.commit()
    open_(page, f"{live.url}/k/{token}")
    # A kiosk is a shared tablet: without JavaScript a meta refresh takes it back to its
    # first screen after KIOSK_IDLE_SECONDS for the next citizen (and out of the last
    # one's answers) -- WCAG 2.2.1's "essential" exception; with JavaScript every touch
    # restarts the wait (kiosk.js). Only that rule, only on kiosk pages.
    kiosk = frozenset({"meta-refresh"})
    audit(page, "kiosk one-tap", allow=kiosk)
    go(page, 'button[name="overall"][value="3"]')
    audit(page, "kiosk after the tap", allow=kiosk)
    audit.assert_clean()


# -- reports, proposals, tracking, published answers ----------------------------------------


@pytest.fixture
def published(live):
    """A procedure with a case published with its answer, and an open case with its secret."""
    with live.app.app_context():
        agency = factories.agency()
        procedure = factories.procedure(agency)
        coordinator = factories.user(Role.coordinator)
        done, _ = submit(
            Submission(
                kind=CaseKind.proposal,
                content="Đề nghị niêm yết thời gian trả kết quả tại quầy.",
                submitter_name="Lê Thị Cúc",
                contact_phone="0987654321",
                consent=True,
                procedure=procedure,
            ),
            CaseChannel.web,
        )
        for step in (S.screening, S.accepted, S.assigned, S.in_progress):
            transition(
                done, step, coordinator, assignee=coordinator if step == S.assigned else None
            )
        done.answer = "Sở đã niêm yết thời gian trả kết quả tại mọi quầy."
        done.public_summary = "Đề nghị niêm yết thời gian trả kết quả tại quầy."
        done.public_summary_confirmed_at = now_utc()
        for step in (S.answered, S.approved, S.published):
            transition(done, step, coordinator)
        open_case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content="Quầy yêu cầu nộp thêm bản sao không có trong quy định.",
                submitter_name="Nguyễn Văn An",
                contact_phone="0912345678",
                consent=True,
                procedure=procedure,
            ),
            CaseChannel.web,
        )
        db.session.commit()
        out = {"public_id": done.public_id, "code": open_case.code, "secret": secret}
        db.session.remove()
        return out


def test_the_feedback_form_its_errors_and_what_follows(live, citizen):
    page, audit = citizen
    open_(page, f"{live.url}/feedback/new")
    audit(page, "feedback form")
    for kind in ("report", "proposal", "complaint"):
        reply = page.goto(f"{live.url}/feedback/new?kind={kind}")
        assert reply.status == 200
        audit(page, f"feedback form ({kind})")
    open_(page, f"{live.url}/feedback/new")
    # sent empty: every error shown
    go(page, "form.feedback button.primary", status=400)
    audit(page, "feedback form with errors")

    # a complete report: the page after sending (code and tracking number)
    if page.locator("input[name=kind][value=report]").count():
        page.check("input[name=kind][value=report]")
    page.locator("textarea[name=content]").fill("Quầy đòi nộp bản sao giấy khai sinh.")
    page.locator("input[name=submitter_name]").fill("Nguyễn Văn An")
    page.locator("input[name=contact_phone]").fill("0912 345 678")
    if page.locator("input[name=consent]").count():
        page.check("input[name=consent]")
    go(page, "form.feedback button.primary")
    assert "/feedback/new" not in page.url, page.url
    audit(page, "feedback receipt")
    audit.assert_clean()


def test_tracking_the_case_page_and_published_answers(live, citizen, published):
    page, audit = citizen
    open_(page, f"{live.url}/feedback/track")
    audit(page, "tracking lookup")
    page.locator("input[name=code]").fill(published["code"])
    page.locator("input[name=secret]").fill("000000000000")
    with page.expect_navigation() as navigation:
        page.locator("form.code button.primary").click()
    assert navigation.value.status in (400, 403, 404), navigation.value.status
    audit(page, "tracking lookup, wrong number")

    page.locator("input[name=code]").fill(published["code"])
    page.locator("input[name=secret]").fill(published["secret"])
    go(page, "form.code button.primary")
    assert page.url.endswith(f"/feedback/track/{published['code']}"), page.url
    audit(page, "case page")

    open_(page, f"{live.url}/feedback/answers")
    audit(page, "published answers")
    assert page.locator(f"#answer-{published['public_id']}").count() == 1
    open_(page, f"{live.url}/feedback/answers?q=niem+yet")
    audit(page, "published answers, searched")
    detail = page.locator(f"a[href*='{published['public_id']}']")
    if detail.count():
        go(page, f"a[href*='{published['public_id']}']")
        audit(page, "published answer")
    audit.assert_clean()


# -- error pages and the other public pages -----------------------------------------------


def test_error_pages(live, citizen):
    page, audit = citizen
    open_(page, f"{live.url}/no-such-page", status=404)
    audit(page, "404")
    open_(page, f"{live.url}/s/NOSUCHCODE", status=404)
    audit(page, "404 (unknown counter)")
    open_(page, f"{live.url}/r/not-a-receipt-token", status=400)
    audit(page, "400 (bad receipt link)")
    open_(page, f"{live.url}/feedback/answers?page=x")
    audit(page, "answers with a bad page number")
    audit.assert_clean()


PRIVATE = re.compile(r"^/(staff|login|logout|account|api|metrics|healthz|readyz|static|open311)\b")


def test_every_public_page_linked_from_the_home_page_and_the_footer(live, citizen):
    """Whatever public page the header, the footer or the home page links to (the privacy
    notice among them) is audited too."""
    page, audit = citizen
    open_(page, f"{live.url}/")
    hrefs = page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    paths = sorted(
        {
            h.split("#")[0]
            for h in hrefs
            if h.startswith("/") and not h.startswith("//") and not PRIVATE.match(h)
        }
        - {""}
    )
    assert paths, hrefs
    for path in paths:
        reply = page.goto(f"{live.url}{path}")
        assert reply.status == 200, (path, reply.status)
        audit(page, path)
    audit.assert_clean()
