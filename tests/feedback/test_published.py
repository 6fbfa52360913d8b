"""Published answers: only what staff confirmed reaches the public; random public ids;
the public search is bounded, rate-limited, indexed and time-capped."""

from __future__ import annotations

import re
import time
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback import published
from survey_app.feedback.models import (
    PUBLIC_ID_ALPHABET,
    AuditLog,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
)
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import transition
from tests import factories
from tests.helpers import csrf_from, logged_in

S = CaseState
CONTENT = (
    "Tôi là Nguyễn Văn An, gọi (0912) 345 678 hoặc an.nguyen [at] gmail [dot] com. "
    "Quầy đòi nộp bản sao sổ hộ khẩu khi đăng ký khai sinh."
)


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        field = factories.field(code="HT", name="Hộ tịch")
        procedure = factories.procedure(agency, field, code="1.001193")
        coordinator = factories.user(Role.coordinator)
        handler = factories.user(Role.handler, agency)
        db.session.commit()
        return SimpleNamespace(
            agency=agency.id,
            procedure=procedure.id,
            coordinator=coordinator.email,
            handler=handler.email,
            coordinator_id=coordinator.id,
        )


def _case(world, content=CONTENT, *, procedure=True, state=S.in_progress) -> FeedbackCase:
    """A case at the agency, moved on to ``state`` (in the caller's app context)."""
    coordinator = db.session.get(factories.User, world.coordinator_id)
    case, _secret = submit(
        Submission(
            kind=CaseKind.report,
            content=content,
            submitter_name="Lê Thị Cúc",
            contact_phone="0987654321",
            consent=True,
            procedure=db.session.get(factories.Procedure, world.procedure) if procedure else None,
            agency=db.session.get(factories.Agency, world.agency),
        ),
        CaseChannel.web,
    )
    for step in (S.screening, S.accepted, S.assigned, S.in_progress):
        if case.state == state:
            break
        transition(case, step, coordinator, assignee=coordinator if step == S.assigned else None)
    return case


def _publish(world, case: FeedbackCase, summary: str, answer: str) -> FeedbackCase:
    coordinator = db.session.get(factories.User, world.coordinator_id)
    case.answer = answer
    case.public_summary, case.public_summary_confirmed_at = summary, now_utc()
    for step in (S.answered, S.approved, S.published):
        transition(case, step, coordinator)
    return case


def _version(html):
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _post(client, case_id, action, **data):
    page = client.get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    return client.post(
        f"/staff/feedback/{case_id}/{action}",
        data={"csrf_token": csrf_from(page), "version": _version(page), **data},
    )


def _summary_box(html: str) -> str:
    box = r'<textarea id="(?:[a-z_]+-)?public_summary"[^>]*>(.*?)</textarea>'
    return re.search(box, html, re.S).group(1)


# -- publishing needs a question staff confirmed --------------------------------------------


def test_publishing_needs_a_confirmed_question_without_personal_data(app, client, world):
    """A case published without a staff-written summary showed the citizen's own text."""
    with app.app_context():
        case = _case(world)
        db.session.commit()
        case_id, code = case.id, case.code
    staff = logged_in(app, world.coordinator)
    page = staff.get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    suggested = _summary_box(page)  # the citizen's text, masked, as a start
    assert "[số điện thoại]" in suggested and "[họ tên]" in suggested and "[e-mail]" in suggested
    assert "0912" not in suggested and "Nguyễn Văn An" not in suggested
    assert "summary-suggested" in page and 'class="note summary-status"' in page

    # saved as suggested but not confirmed: the answer can go on, publication cannot
    reply = _post(
        staff,
        case_id,
        "answer",
        answer="Sở đã chấn chỉnh quầy; liên hệ đường dây nóng 0220 3853 123.",
        public_summary="Quầy đòi bản sao sổ hộ khẩu khi đăng ký khai sinh.",
    )
    assert reply.status_code == 303
    for step in ("answered", "approved"):
        assert _post(staff, case_id, "transition", to_state=step).status_code == 303
    refused = _post(staff, case_id, "transition", to_state="published")
    assert refused.status_code == 400
    assert "viết nội dung công khai" in refused.get_data(as_text=True)

    # approved: the coordinator may still write the question; personal data is refused
    page = staff.get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    assert 'name="answer"' not in page and 'name="public_summary"' in page
    leaky = "Ông Trần Văn Bình (0912) 345 678 phản ánh quầy đòi bản sao sổ hộ khẩu."
    refused = _post(staff, case_id, "answer", public_summary=leaky, confirm_summary="y")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "vẫn còn thông tin cá nhân" in html
    masked = _summary_box(html)
    assert "[số điện thoại]" in masked and "[họ tên]" in masked and "0912" not in masked
    with app.app_context():
        case = db.session.get(FeedbackCase, case_id)
        assert case.public_summary_confirmed_at is None and "Bình" not in case.public_summary

    summary = "Quầy đòi bản sao sổ hộ khẩu khi đăng ký khai sinh."
    reply = _post(staff, case_id, "answer", public_summary=summary, confirm_summary="y")
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.get(FeedbackCase, case_id).public_summary_confirmed_at is not None
    assert _post(staff, case_id, "transition", to_state="published").status_code == 303
    with app.app_context():
        case = db.session.get(FeedbackCase, case_id)
        assert case.state == S.published and case.public_summary == summary
        assert (
            case.public_answer == "Sở đã chấn chỉnh quầy; liên hệ đường dây nóng [số điện thoại]."
        )
        assert ("confirm_summary", case_id) in {
            (a.action, a.case_id) for a in db.session.scalars(select(AuditLog))
        }
        public_id = case.public_id

    listing = client.get("/feedback/answers").get_data(as_text=True)
    assert summary in listing and "đường dây nóng [số điện thoại]" in listing
    for private in ("0912", "3853 123", "Nguyễn Văn An", "an.nguyen", "Lê Thị Cúc", code):
        assert private not in listing, private
    assert f'id="answer-{public_id}"' in listing


def test_the_answer_form_previews_the_masked_answer(app, world):
    with app.app_context():
        case = _case(world)
        case.answer = "Mời ông gọi lại số 0912 345 678."
        db.session.commit()
        case_id = case.id
    page = logged_in(app, world.handler).get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    preview = re.search(r'id="answer-preview">(.*?)</div>', page, re.S).group(1)
    assert preview == "Mời ông gọi lại số [số điện thoại]."


def test_an_edit_without_a_new_confirmation_unconfirms_the_question(app, world):
    with app.app_context():
        case_id = _case(world).id
        db.session.commit()
    staff = logged_in(app, world.handler)
    data = {"answer": "Đã chấn chỉnh.", "public_summary": "Quầy đòi bản sao."}
    assert _post(staff, case_id, "answer", **data, confirm_summary="y").status_code == 303
    with app.app_context():
        confirmed = db.session.get(FeedbackCase, case_id).public_summary_confirmed_at
        assert confirmed is not None
    page = staff.get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    assert re.search(r'name="confirm_summary" value="y" checked', page)
    data["public_summary"] = "Quầy đòi bản sao, gọi 0912345678."
    assert _post(staff, case_id, "answer", **data).status_code == 303
    with app.app_context():
        assert db.session.get(FeedbackCase, case_id).public_summary_confirmed_at is None
    empty = _post(staff, case_id, "answer", answer="x", public_summary="", confirm_summary="y")
    assert empty.status_code == 400 and "trước khi xác nhận" in empty.get_data(as_text=True)


def test_a_handler_cannot_change_the_question_after_approval(app, world):
    with app.app_context():
        case = _case(world)
        case.answer = "Đã chấn chỉnh."
        coordinator = db.session.get(factories.User, world.coordinator_id)
        transition(case, S.answered, coordinator)
        transition(case, S.approved, coordinator)
        db.session.commit()
        case_id, version = case.id, case.version
    handler = logged_in(app, world.handler)
    page = handler.get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    assert 'id="public_summary"' not in page  # no form offered…
    reply = handler.post(  # …and none taken
        f"/staff/feedback/{case_id}/answer",
        data={
            "csrf_token": csrf_from(page),
            "version": str(version),
            "public_summary": "x" * 20,
            "confirm_summary": "y",
        },
    )
    assert reply.status_code == 409


def test_a_summary_that_still_holds_personal_data_is_not_published(app, world):
    """Confirmed before the redaction service learnt a spelling: publication re-checks."""
    with app.app_context():
        case = _case(world)
        case.answer = "Đã chấn chỉnh."
        case.public_summary = "Anh An, 09 12 34 56 78, phản ánh quầy."
        case.public_summary_confirmed_at = now_utc()
        coordinator = db.session.get(factories.User, world.coordinator_id)
        transition(case, S.answered, coordinator)
        transition(case, S.approved, coordinator)
        with pytest.raises(Exception, match="vẫn còn thông tin cá nhân"):
            transition(case, S.published, coordinator)
        assert case.state == S.approved


# -- public lists: published cases only, random public ids ----------------------------------


def test_open311_lists_only_published_cases_by_their_public_id(app, client, world):
    with app.app_context():
        shown = _publish(world, _case(world), "Quầy đòi bản sao.", "Đã chấn chỉnh, gọi 0912345678.")
        hidden = _case(world, state=S.screening)
        hidden.public_summary = "Bản nháp chưa xác nhận về Lê Thị Cúc."
        hidden.answer = "Bản nháp trả lời."
        db.session.commit()
        shown_ids = (shown.public_id, shown.code)
        hidden_ids = (hidden.public_id, hidden.code)
    listing = client.get("/open311/v2/requests.json")
    body = listing.get_data(as_text=True)
    assert [r["service_request_id"] for r in listing.json] == [shown_ids[0]]
    request = listing.json[0]
    assert request["description"] == "Quầy đòi bản sao."
    assert request["service_notice"] == "Đã chấn chỉnh, gọi [số điện thoại]."
    for private in (*hidden_ids, shown_ids[1], "Bản nháp", "Lê Thị Cúc", "0912345678"):
        assert private not in body
    by_code = client.get(f"/open311/v2/requests.json?service_request_id={shown_ids[1]}")
    assert by_code.json == []
    by_id = client.get(f"/open311/v2/requests.json?service_request_id={shown_ids[0].lower()}")
    assert [r["service_request_id"] for r in by_id.json] == [shown_ids[0]]
    # the filer follows its own request by id; a draft is not shown
    one = client.get(f"/open311/v2/requests/{hidden_ids[0]}.json").json[0]
    assert one["status"] == "open" and one["description"] is None and one["service_notice"] is None
    assert client.get(f"/open311/v2/requests/{hidden_ids[1]}.json").status_code == 404


def test_public_lists_show_random_ids_never_case_codes(app, client, world):
    with app.app_context():
        cases = [
            _publish(world, _case(world), f"Câu hỏi số {n}.", f"Trả lời số {n}.") for n in range(3)
        ]
        db.session.commit()
        codes = [c.code for c in cases]
        public_ids = [c.public_id for c in cases]
    html = client.get("/feedback/answers").get_data(as_text=True)
    assert not any(code in html for code in codes)
    assert all(f'id="answer-{p}"' in html for p in public_ids)
    assert len(set(public_ids)) == 3
    assert all(len(p) == 16 and set(p) <= set(PUBLIC_ID_ALPHABET) for p in public_ids)
    open311 = client.get("/open311/v2/requests.json").get_data(as_text=True)
    assert not any(code in open311 for code in codes)


# -- the public search --------------------------------------------------------------------


@pytest.fixture
def answers(app, world):
    with app.app_context():
        birth = _publish(
            world,
            _case(world),
            "Quầy đòi bản sao sổ hộ khẩu.",
            "Sở đã chấn chỉnh quầy một cửa.",
        )
        fee = _publish(
            world,
            _case(world, "Phí chứng thực thu sai, tôi là Lê Thị Cúc 0912345678.", procedure=False),
            "Phí chứng thực thu sai quy định.",
            "Đã hoàn trả phí cho công dân.",
        )
        db.session.commit()
        return SimpleNamespace(birth=birth.public_id, fee=fee.public_id)


def _found(client, query: str) -> list[str]:
    reply = client.get("/feedback/answers", query_string={"q": query})
    assert reply.status_code == 200, reply.status_code
    return re.findall(r'<article class="published" id="answer-([A-Z0-9]+)"', reply.get_data(True))


def test_search_finds_published_words_without_diacritics_and_by_prefix(client, answers):
    """It searched procedure names only, scanning every procedure in Python."""
    assert _found(client, "khai sinh") == [answers.birth]  # the procedure's name
    assert _found(client, "1.001193") == [answers.birth]  # its code
    assert _found(client, "ho khau") == [answers.birth]  # the question, no diacritics
    assert _found(client, "CHẤN CHỈNH quầy") == [answers.birth]  # the answer
    assert _found(client, "hoàn") == [answers.fee]
    assert _found(client, "chứng th") == [answers.fee]  # the beginning of a word
    assert set(_found(client, "")) == {answers.birth, answers.fee}
    assert set(_found(client, "!!! ...")) == {answers.birth, answers.fee}
    assert _found(client, "khai sinh hoàn") == []  # every word must match


def test_what_the_citizen_wrote_cannot_be_searched(client, answers):
    for query in ("Cúc", "0912345678", "Nguyễn Văn An", "gmail"):
        assert _found(client, query) == [], query


@pytest.mark.parametrize(
    "query",
    [
        "a" * 101,
        "một hai ba bốn năm sáu bảy tám chín",
        " ".join(f"từ{n}" for n in range(100)),
    ],
)
def test_a_search_too_long_or_too_wordy_is_a_400_with_a_message(client, answers, query):
    started = time.perf_counter()
    reply = client.get("/feedback/answers", query_string={"q": query})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and time.perf_counter() - started < 2
    assert "tối đa 8 từ và 100 ký tự" in html and 'id="search-error"' in html
    assert 'maxlength="100"' in html and "<article" not in html


def test_a_word_repeated_counts_once(client, answers):
    assert _found(client, " ".join(["khai"] * 20)) == [answers.birth]


def _limited_client(database_url, **settings):
    from survey_app import create_app
    from survey_app.config import TestConfig

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_KEY_PREFIX = f"t{uuid.uuid4().hex}"
        SEARCH_RATE_LIMIT = "3/minute"

    for name, value in settings.items():
        setattr(Limited, name, value)
    return create_app(Limited).test_client()


def test_public_searches_are_rate_limited_and_share_one_budget(database_url, world):
    client = _limited_client(database_url)
    statuses = [
        client.get("/feedback/answers", query_string={"q": f"khai {n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 200]
    assert client.get("/feedback/answers?q=khai").status_code == 429
    assert client.get("/feedback/answers").status_code == 200  # the list itself stays open
    # the feedback form's procedure search draws on the same budget
    html = client.get("/feedback/new").get_data(as_text=True)
    reply = client.post(
        "/feedback/new",
        data={"csrf_token": csrf_from(html), "procedure_query": "khai sinh", "search": "1"},
    )
    assert reply.status_code == 429
    other = _limited_client(database_url)  # another address, another budget
    assert other.get("/feedback/answers?q=khai").status_code == 200


def _is_postgres(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@pytest.mark.postgres
def test_the_search_uses_the_full_text_index(app, answers):
    if not _is_postgres(app):
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL")
    with app.app_context():
        valid = dict(
            db.session.execute(
                text(
                    "SELECT c.relname, i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN "
                    "('ix_feedback_cases_search', 'uq_feedback_cases_public_id', "
                    "'ix_feedback_cases_published_at')"
                )
            ).all()
        )
        assert valid == {
            "ix_feedback_cases_search": True,
            "uq_feedback_cases_public_id": True,
            "ix_feedback_cases_published_at": True,
        }
        # a province's worth of published answers, copies of one (new codes and ids)
        table = FeedbackCase.__table__
        own = {"id", "code", "public_id", "search_text", "response_id"}
        copied = [c.name for c in table.columns if c.name not in own]
        db.session.execute(
            text(
                f"INSERT INTO feedback_cases (code, public_id, search_text, {', '.join(copied)}) "
                "SELECT 'PA-26-' || g, 'P' || g, 'phi chung thuc lan ' || g, "
                f"{', '.join(copied)} FROM feedback_cases, generate_series(1, 5000) AS g "
                "WHERE public_id = :fee"
            ),
            {"fee": answers.fee},
        )
        db.session.commit()
        db.session.execute(text("ANALYZE feedback_cases"))
        stmt = published.published_cases(["khai", "sinh"]).limit(21)
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())
        found = [c.public_id for c in db.session.scalars(stmt).unique()]
    assert "ix_feedback_cases_search" in plan, plan
    assert found == [answers.birth]


@pytest.mark.postgres
def test_a_search_that_runs_too_long_is_cut_off_with_a_message(app, client, answers, monkeypatch):
    if not _is_postgres(app):
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL")
    real = published.search_condition

    def slow(words):  # a database under load: the search statement takes 3 s
        return real(words) & text("(SELECT true FROM pg_sleep(3))")

    monkeypatch.setattr(published, "search_condition", slow)
    monkeypatch.setitem(app.config, "SEARCH_TIMEOUT_MS", 200)
    started = time.perf_counter()
    reply = client.get("/feedback/answers?q=khai")
    elapsed = time.perf_counter() - started
    assert reply.status_code == 503 and elapsed < 2.5, elapsed
    assert "mất quá nhiều thời gian" in reply.get_data(as_text=True)
    with app.app_context():  # the cap was for that transaction only
        assert db.session.scalar(text("SHOW statement_timeout")) != "200ms"
