"""Nothing personal leaves in the feed: a case whose every field holds a citizen's data
goes through every step; no webhook body and no pull-feed item carries any of it, nor
the case's code, its tracking number or the handler's name."""

from __future__ import annotations

import json
import re

from survey_app.agencies.models import Agency
from survey_app.api.services import create_api_client
from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feed import delivery, services
from survey_app.feedback.models import CaseEvent, CaseState, FeedbackCase
from survey_app.feedback.workflow import extend, transition
from tests import factories

from .conftest import SECRET, file_case

NAME = "Trịnh Thị Phương Thảo"
PHONE = "0987 654 321"
EMAIL = "thao.trinh@example.vn"
ADDRESS = "Số 19 ngõ Lạc Long, Cẩm Giàng"
ID_NUMBER = "030188009911"
HANDLER = ("Đỗ Minh Khôi", "khoi.do@stp.haiduong.gov.vn")


def _digits(value: str) -> re.Pattern[str]:
    core = re.sub(r"\D", "", value).removeprefix("0")
    return re.compile(r"[\s.\-()]*".join(core))


def leaks(text: str, extra: list[str]) -> list[str]:
    found = [v for v in (NAME, EMAIL, ADDRESS, *HANDLER, *extra) if v.lower() in text.lower()]
    found += [v for v in (PHONE, ID_NUMBER) if _digits(v).search(text)]
    # the name's words: no part of it either (the family name alone is common, so the rest)
    found += [w for w in ("Phương Thảo",) if w in text]
    return found


def test_no_personal_data_in_any_webhook_body_or_feed_item(app, province, receiver, client):
    planted = f"Tôi là {NAME}, CCCD {ID_NUMBER}, điện thoại {PHONE}, e-mail {EMAIL}, ở {ADDRESS}."
    with app.app_context():
        services.create_subscription(None, "LGSP", receiver.url, [], secret=SECRET)
        _, key = create_api_client("LGSP", scopes=("feed",))
        labour = db.session.get(Agency, province.labour_id)
        handler = factories.user(Role.handler, labour, email=HANDLER[1])
        handler.full_name = HANDLER[0]
        coordinator = factories.user(Role.coordinator)
        case, secret = file_case(
            content="Quầy đòi giấy tờ thừa. " + planted,
            submitter_name=NAME,
            contact_phone=PHONE,
            contact_email=EMAIL,
            address=ADDRESS,
        )
        db.session.commit()
        code = case.code
        step = lambda to, **kw: transition(case, to, kw.pop("actor", coordinator), **kw)  # noqa: E731
        step(CaseState.screening, note=planted)
        step(CaseState.needs_info, reason="Xin gọi lại " + planted)
        step(CaseState.screening, reason=planted)
        step(CaseState.transferred, agency=labour, reason="Chuyển: " + planted)
        step(CaseState.accepted, actor=handler)
        step(CaseState.assigned, assignee=handler, actor=handler, note=planted)
        step(CaseState.in_progress, actor=handler)
        extend(case, handler, 5, "Cần xác minh với " + planted)
        case.answer = f"Kính gửi bà {NAME}: quầy đã được chấn chỉnh. Gọi {PHONE} nếu cần."
        case.public_summary = "Quầy đòi giấy tờ không có trong quy định."
        case.public_summary_confirmed_at = now_utc()
        step(CaseState.answered, actor=handler)
        step(CaseState.approved)
        step(CaseState.published)
        db.session.commit()
        transition(case, CaseState.in_progress, None, action="citizen_disagreed", reason=planted)
        db.session.commit()
        # every text column of the case and its timeline holds the citizen's data
        case = db.session.get(FeedbackCase, case.id)
        assert NAME in case.content and case.contact_email == EMAIL
        assert all(e.reason is None or NAME in e.reason or "[" in e.reason for e in case.events)
        assert db.session.query(CaseEvent).count() == 12

        while delivery.send_pending().delivered:
            pass

    bodies = [r.body.decode("utf-8") for r in receiver.received]
    assert len(bodies) == 13 and all(r.verdict == "ok" for r in receiver.received)
    types = [json.loads(b)["type"] for b in bodies]
    assert types == [
        "case.received",
        "case.screening",
        "case.info_requested",
        "case.info_received",
        "case.transferred",
        "case.accepted",
        "case.assigned",
        "case.in_progress",
        "case.deadline_extended",
        "case.answered",
        "case.approved",
        "case.published",
        "case.reopened",
    ]

    page = client.get("/api/v1/feed?limit=500", headers={"X-API-Key": key})
    items = [json.dumps(i, ensure_ascii=False) for i in page.json["items"]]
    assert len(items) == 13
    for text in [*bodies, *items]:
        assert leaks(text, [code, secret]) == [], text

    published = next(json.loads(b) for b in bodies if json.loads(b)["type"] == "case.published")
    answer = published["published_answer"]
    assert answer["question"] == "Quầy đòi giấy tờ không có trong quy định."
    assert "quầy đã được chấn chỉnh" in answer["answer"] and "[họ tên]" in answer["answer"]
    assert "[số điện thoại]" in answer["answer"]
    transfer = next(json.loads(b) for b in bodies if json.loads(b)["type"] == "case.transferred")
    assert transfer["case"]["previous_agency"]["code"] == "STP"
    assert transfer["case"]["agency"]["code"] == "SLD"
