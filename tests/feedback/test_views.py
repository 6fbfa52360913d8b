"""Public feedback pages over HTTP: the form, the survey conversion, tracking, answers."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import CaseChannel, CaseKind, CaseState, FeedbackCase
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import transition
from tests import factories
from tests.helpers import csrf_from


def _png() -> bytes:
    """A real (decodable) 8×8 PNG: photos are decoded and re-encoded on upload."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
GOOD = {
    "kind": "report",
    "content": "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
    "submitter_name": "Nguyễn Văn An",
    "contact_phone": "0912 345 678",
}


@pytest.fixture
def world(app):
    with app.app_context():
        justice = factories.agency("Sở Tư pháp", code="STP")
        field = factories.field(code="HT", name="Hộ tịch")
        procedure = factories.procedure(justice, field, code="1.001193")
        procedure.name = "Đăng ký khai sinh"
        db.session.commit()
        return SimpleNamespace(agency=justice.id, procedure=procedure.id)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FeedbackCase))


def _post(client, data, files=None):
    html = client.get("/feedback/new").get_data(as_text=True)
    payload = {"csrf_token": csrf_from(html), **data}
    if files:
        payload["attachments"] = files
    return client.post("/feedback/new", data=payload, content_type="multipart/form-data")


def test_the_form_gives_a_notice_instead_of_asking_consent(app, client, world):
    """Handling feedback rests on the law (NĐ 20/2008; NĐ 13/2023 Art. 17), not on consent:
    the form says what is kept, why and how long, and has no box to tick."""
    html = client.get("/feedback/new?lang=en").get_data(as_text=True)
    notice = re.search(r'<div class="notice" id="privacy-notice">(.*?)</div>', html, re.S).group(1)
    assert "20/2008" in notice and "13/2023" in notice and "Art. 17" in notice
    assert "5 years" in notice  # FEEDBACK_RETENTION_DAYS, in years
    assert 'type="checkbox"' not in html and "consent" not in html.lower().replace(
        "does not need your consent", ""
    )
    assert _post(client, GOOD).status_code == 303  # nothing to tick
    with app.app_context():
        assert db.session.scalar(select(FeedbackCase.consent_at)) is None


def test_submit_shows_code_and_secret_once_then_tracking_works(app, client, world):
    reply = _post(client, {**GOOD, "procedure_id": str(world.procedure)})
    assert reply.status_code == 303
    page = client.get("/feedback/submitted").get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', page).group(1)
    secret = re.search(r'id="case-secret">([^<]+)<', page).group(1)
    again = client.get("/feedback/submitted")  # a reload shows the receipt again (issue 17)
    assert again.status_code == 200 and f'id="case-secret">{secret}<' in again.get_data(
        as_text=True
    )
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase))
        assert (case.code, case.channel, case.agency_id) == (code, CaseChannel.web, world.agency)
        assert case.contact_phone == "0912345678"
    other = app.test_client()  # another phone: a shared link, a bookmark
    asked = other.get(f"/feedback/track/{code.lower()}")
    assert asked.status_code == 303  # not proven yet: the tracking number is asked for
    assert asked.headers["Location"] == f"/feedback/track?code={code}"
    html = other.get(asked.headers["Location"]).get_data(as_text=True)
    assert f'value="{code}"' in html and "Vui lòng nhập số theo dõi" in html
    assert "Mới gửi" not in html
    reply = other.post(
        "/feedback/track",
        data={"csrf_token": csrf_from(html), "code": code.lower(), "secret": secret},
    )
    assert reply.status_code == 303
    status = other.get(reply.headers["Location"]).get_data(as_text=True)
    assert 'data-stage="received"' in status and "Sở Tư pháp" in status


def test_wrong_secret_reveals_nothing(app, client, world):
    _post(client, GOOD)
    with app.app_context():
        code = db.session.scalar(select(FeedbackCase.code))
    other = app.test_client()
    html = other.get("/feedback/track").get_data(as_text=True)
    wrong = other.post(
        "/feedback/track", data={"csrf_token": csrf_from(html), "code": code, "secret": "11111111"}
    )
    unknown = other.post(
        "/feedback/track",
        data={"csrf_token": csrf_from(html), "code": "PA-26-ZZZZZZ", "secret": "1"},
    )
    assert wrong.status_code == unknown.status_code == 404
    # a case's address tells nothing either: the same answer for a real and an unknown code
    real, made_up = other.get(f"/feedback/track/{code}"), other.get("/feedback/track/PA-26-ZZZZZZ")
    assert real.status_code == made_up.status_code == 303
    assert real.headers["Location"].replace(code, "X") == made_up.headers["Location"].replace(
        "PA-26-ZZZZZZ", "X"
    )
    assert wrong.get_data(as_text=True).replace(code, "X") == unknown.get_data(
        as_text=True
    ).replace("PA-26-ZZZZZZ", "X")


@pytest.mark.parametrize(
    "missing, reason",
    [
        ("submitter_name", "không có tên người gửi"),
        ("contact_phone", "số điện thoại hoặc thư điện tử"),
    ],
)
def test_missing_art7_parts_get_the_lawful_reason_and_nothing_is_stored(
    app, client, world, missing, reason
):
    data = {k: v for k, v in GOOD.items() if k != missing}
    reply = _post(client, data)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert reason in html
    assert "Quầy yêu cầu nộp thêm" in html  # what was typed is kept
    assert _count(app) == 0


def test_a_wrong_phone_number_is_told_once_next_to_its_field(app, client, world):
    reply = _post(client, {**GOOD, "contact_phone": "12345"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    # once in the summary (a link to the field), once beside the field
    assert html.count("Vui lòng nhập số điện thoại Việt Nam") == 2
    assert re.search(r'<a href="#contact_phone">Vui lòng nhập số điện thoại Việt Nam', html)
    assert re.search(r'id="contact_phone-error">.*Vui lòng nhập số điện thoại Việt Nam', html)
    assert _count(app) == 0


def test_the_form_says_which_items_are_required_and_how_long_the_content_must_be(client, world):
    html = client.get("/feedback/new").get_data(as_text=True)
    assert "Các mục có dấu * là bắt buộc." in html and "Ít nhất 10 ký tự." in html


def test_a_confirmed_complaint_gets_the_explanation_and_is_recorded(app, client, world):
    reply = _post(
        client,
        {
            **GOOD,
            "content": "Tôi muốn khiếu nại quyết định của xã.",
            "complaint_answer": "complaint",
        },
    )
    assert reply.status_code == 303 and reply.headers["Location"] == "/feedback/complaint/recorded"
    page = client.get("/feedback/complaint/recorded").get_data(as_text=True)
    assert "Ban Tiếp công dân" in page and "45 phố Bắc Sơn" in page
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase))
        assert case.state == CaseState.redirected_complaint
        assert case.submitter_name is None and case.contact_phone is None


def test_procedure_search_without_javascript(client, world):
    html = client.get("/feedback/new").get_data(as_text=True)
    reply = client.post(
        "/feedback/new",
        data={
            "csrf_token": csrf_from(html),
            "procedure_query": "dang ky khai sinh",
            "search": "1",
            "content": "giữ nguyên",
        },
    )
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert f'value="{world.procedure}"' in page and "1.001193" in page
    assert "giữ nguyên" in page


def test_attachment_checked_by_content_and_stored_outside_the_web_root(
    app, client, world, tmp_path
):
    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    try:
        fake = (io.BytesIO(b"MZ\x90\x00 not really a picture"), "photo.png")
        reply = _post(client, GOOD, files=[fake])
        assert reply.status_code == 400
        assert "không phải ảnh" in reply.get_data(as_text=True)
        assert _count(app) == 0
        reply = _post(client, GOOD, files=[(io.BytesIO(PNG), "../../giay to.png")])
        assert reply.status_code == 303
        with app.app_context():
            case = db.session.scalar(select(FeedbackCase))
            (attachment,) = case.attachments
            assert attachment.mimetype == "image/png" and attachment.original_name == "giay to.png"
            stored = Image.open(tmp_path / attachment.stored_name)
            assert (stored.format, stored.size) == ("PNG", (8, 8))
            assert re.fullmatch(r"[0-9a-f]{32}\.png", attachment.stored_name)
    finally:
        app.config["ATTACHMENT_DIR"] = None


def test_photos_of_real_size_are_taken_up_to_the_limit(app, client, world, tmp_path):
    """A phone's photo is megabytes; the body limits are set before CSRFProtect reads
    the body (with the general ones only files under 32 KB got through)."""
    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    try:
        # (what follows a PNG's end is ignored by decoders, and not stored: see test_attachments)
        photos = [PNG + bytes([n]) * (size - len(PNG)) for n, size in ((1, 40_000), (2, limit))]
        files = [(io.BytesIO(data), f"anh{n}.png") for n, data in enumerate(photos)]
        reply = _post(client, GOOD, files=files)
        assert reply.status_code == 303
        with app.app_context():
            case = db.session.scalar(select(FeedbackCase))
            stored = [(tmp_path / a.stored_name).read_bytes() for a in case.attachments]
            assert len(stored) == 2
            for data in stored:
                assert Image.open(io.BytesIO(data)).size == (8, 8) and len(data) < 1000
        # one byte over the limit per file: the citizen is told which file and why
        big = PNG + b"\x00" * (limit + 1 - len(PNG))
        reply = _post(client, GOOD, files=[(io.BytesIO(big), "lon.png")])
        assert reply.status_code == 400
        assert "lon.png" in reply.get_data(as_text=True)
        # more than all the files together may be: 413, in the visitor's language
        total = limit * app.config["ATTACHMENT_MAX_FILES"] + 128 * 1024
        reply = _post(client, GOOD, files=[(io.BytesIO(PNG + b"\x00" * total), "qua.png")])
        assert reply.status_code == 413
        assert "Nội dung Ông/Bà gửi quá lớn" in reply.get_data(as_text=True)
        assert _count(app) == 1
    finally:
        app.config["ATTACHMENT_DIR"] = None


def test_pages_without_files_keep_the_small_body_limit(client, world):
    html = client.get("/feedback/track").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "code": "x" * 100_000, "secret": "1"}
    reply = client.post("/feedback/track", data=data, content_type="multipart/form-data")
    assert reply.status_code == 413


def test_survey_suggestion_becomes_a_case_in_one_tap(app, client, world):
    with app.app_context():
        counter = factories.counter(db.session.get(factories.Agency, world.agency))
        db.session.commit()
        code = counter.code
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={"csrf_token": csrf_from(html), "overall": "2"})
    html = client.get(f"/s/{code}/comment").get_data(as_text=True)
    client.post(
        f"/s/{code}/comment",
        data={
            "csrf_token": csrf_from(html),
            "wants_feedback": "y",
            "comment": "Cán bộ yêu cầu giấy tờ không có trong quy định.",
        },
    )
    thanks = client.get(f"/s/{code}/thanks").get_data(as_text=True)
    assert "/feedback/new?from=survey" in thanks and "✓" not in thanks  # not filed yet
    form = client.get("/feedback/new?from=survey").get_data(as_text=True)
    assert "Cán bộ yêu cầu giấy tờ không có trong quy định." in form
    data = {
        "csrf_token": csrf_from(form),
        "kind": "report",
        "content": "Cán bộ yêu cầu giấy tờ không có trong quy định.",
        "agency_id": str(world.agency),
        "submitter_name": "Trần B",
        "contact_email": "b@example.vn",
    }
    reply = client.post("/feedback/new?from=survey", data=data)
    assert reply.status_code == 303
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase))
        assert case.channel == CaseChannel.survey and case.response_id is not None
    # Send pressed twice, or the back button: one case, and the citizen is told
    again = client.post("/feedback/new?from=survey", data=data)
    assert again.status_code == 409 and "đã được gửi" in again.get_data(as_text=True)
    assert _count(app) == 1
    # pressed twice at once: both requests passed that check before either saved (a 500)
    from survey_app.feedback import views as feedback_views

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(feedback_views, "_converted", lambda response: False)
        again = client.post("/feedback/new?from=survey", data=data)
    assert again.status_code == 409 and "đã được gửi" in again.get_data(as_text=True)
    assert _count(app) == 1


def test_citizen_disagreement_reopens_and_published_list_has_no_personal_data(app, client, world):
    with app.app_context():
        coordinator = factories.user(Role.coordinator)
        case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content="Gọi tôi 0912345678 về việc khai sinh chậm.",
                submitter_name="Lê Thị Cúc",
                contact_phone="0912345678",
                consent=True,
                procedure=db.session.get(factories.Procedure, world.procedure),
            ),
            CaseChannel.web,
        )
        for state in (CaseState.screening, CaseState.accepted):
            transition(case, state, coordinator)
        transition(case, CaseState.assigned, coordinator, assignee=coordinator)
        transition(case, CaseState.in_progress, coordinator)
        case.answer = "Sở đã chấn chỉnh việc trả kết quả chậm."
        case.public_summary = "Trả kết quả khai sinh chậm."
        case.public_summary_confirmed_at = now_utc()
        for state in (CaseState.answered, CaseState.approved, CaseState.published):
            transition(case, state, coordinator)
        db.session.commit()
        code = case.code
    listing = client.get("/feedback/answers?q=khai sinh").get_data(as_text=True)
    assert "Sở đã chấn chỉnh" in listing and "Trả kết quả khai sinh chậm." in listing
    assert '<option value="" selected>(Tất cả cơ quan)</option>' in listing
    assert "Lê Thị Cúc" not in listing and "0912345678" not in listing
    html = client.get("/feedback/track").get_data(as_text=True)
    client.post(
        "/feedback/track", data={"csrf_token": csrf_from(html), "code": code, "secret": secret}
    )
    page = client.get(f"/feedback/track/{code}").get_data(as_text=True)
    undecided = client.post(
        f"/feedback/track/{code}", data={"csrf_token": csrf_from(page), "reason": "Vẫn chậm"}
    )
    html = undecided.get_data(as_text=True)
    assert undecided.status_code == 400 and "cho biết Ông/Bà có đồng ý" in html
    assert ">Vẫn chậm</textarea>" in html  # what the citizen wrote is kept
    reply = client.post(
        f"/feedback/track/{code}",
        data={"csrf_token": csrf_from(page), "verdict": "disagree", "reason": "Vẫn chậm"},
    )
    assert reply.status_code == 303
    with app.app_context():
        case = db.session.scalar(select(FeedbackCase))
        assert case.state == CaseState.in_progress and case.due_on is not None
        assert case.events[-1].action == "citizen_disagreed"
        assert case.citizen_verdict == "disagree"
    page = client.get(f"/feedback/track/{code}").get_data(as_text=True)
    assert 'id="verdict-disagree"' in page


def test_guessing_tracking_numbers_is_rate_limited(app, database_url, world):
    import uuid

    from survey_app import create_app
    from survey_app.config import TestConfig

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_KEY_PREFIX = f"t{uuid.uuid4().hex}"
        TRACK_RATE_LIMIT = "3/minute"

    client = create_app(Limited).test_client()
    html = client.get("/feedback/track").get_data(as_text=True)
    statuses = [
        client.post(
            "/feedback/track",
            data={"csrf_token": csrf_from(html), "code": "PA-26-AAAAAA", "secret": str(n)},
        ).status_code
        for n in range(4)
    ]
    assert statuses == [404, 404, 404, 429]


def test_database_gone_right_after_the_commit_still_acknowledges_the_case(
    app, client, world, monkeypatch
):
    """The database goes away just after the case is committed (a restart): the
    citizen is sent on to the tracking number, not shown a 503 for a case that is
    stored (they would file it again)."""
    from sqlalchemy import event

    html = client.get("/feedback/new").get_data(as_text=True)
    with app.app_context():
        dialect = db.engine.dialect
    committed = []

    def after_commit(connection):  # the database's COMMIT (not a savepoint's release)
        committed.append(True)

    def gone_after_commit(real):
        def execute(cursor, statement, *args, **kwargs):
            if committed:
                raise dialect.loaded_dbapi.OperationalError("terminating connection")
            return real(cursor, statement, *args, **kwargs)

        return execute

    for name in ("do_execute", "do_execute_no_params"):
        monkeypatch.setattr(dialect, name, gone_after_commit(getattr(dialect, name)))
    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", after_commit)
    try:
        reply = client.post(
            "/feedback/new",
            data={"csrf_token": csrf_from(html), **GOOD},
            content_type="multipart/form-data",
        )
    finally:
        event.remove(engine, "commit", after_commit)
        monkeypatch.undo()
    assert committed
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/feedback/submitted")
    assert _count(app) == 1
    page = client.get("/feedback/submitted").get_data(as_text=True)
    with app.app_context():
        code = db.session.scalar(select(FeedbackCase.code))
    assert code in page


def test_commit_failing_leaves_no_attachment_file_behind(app, client, world, monkeypatch):
    """The database fails at the commit (an outage): 503, no case, and the attached
    photo written just before is deleted, not left on disk without its case."""
    from survey_app.feedback import attachments

    with app.app_context():
        folder = attachments.storage_dir()
        before = set(folder.iterdir())
        dialect = db.engine.dialect
    html = client.get("/feedback/new").get_data(as_text=True)

    def commit_fails(dbapi_connection):
        raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(dialect, "do_commit", commit_fails)
    reply = client.post(
        "/feedback/new",
        data={
            "csrf_token": csrf_from(html),
            **GOOD,
            "attachments": [(io.BytesIO(PNG), "anh.png")],
        },
        content_type="multipart/form-data",
    )
    monkeypatch.undo()
    assert reply.status_code == 503
    assert _count(app) == 0
    assert set(folder.iterdir()) == before


def test_wtforms_own_messages_are_in_vietnamese(client, world):
    html = client.get("/feedback/track").get_data(as_text=True)
    reply = client.post(
        "/feedback/track", data={"csrf_token": csrf_from(html), "code": "P" * 30, "secret": "1"}
    )
    text = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert "Vui lòng nhập không quá 20 ký tự." in text and "cannot be longer" not in text
    reply = _post(client, {**GOOD, "kind": "x"})
    assert reply.status_code == 400
    assert "Vui lòng chọn một trong các lựa chọn có sẵn." in reply.get_data(as_text=True)


def test_a_text_value_where_files_are_expected_is_no_file(app, client, world):
    assert _post(client, {**GOOD, "attachments": "abc"}).status_code == 303
    assert _count(app) == 1


def test_a_huge_page_number_is_the_last_page_not_an_error(client, world):
    for page in ("99999999999999999999", "9999999999", "-3", "x"):
        assert client.get(f"/feedback/answers?page={page}").status_code == 200, page


def test_every_refused_field_of_the_form_says_why(app, client, world):
    reply = _post(client, {**GOOD, "address": "x" * 501})
    assert reply.status_code == 400
    assert "Vui lòng nhập không quá 500 ký tự." in reply.get_data(as_text=True)
    assert _count(app) == 0
