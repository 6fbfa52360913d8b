"""Helpers for the report tests: responses written directly, and the demo."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from survey_app.extensions import db
from survey_app.surveys.models import Answer, Channel, Response
from survey_app.surveys.services import current_questionnaire, questionnaire_row

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_seq = iter(range(1, 10**9))


def respond(
    counter,
    overall: int,
    answers: dict | None = None,
    when: datetime | None = None,
    *,
    staff: bool = False,
    procedure=None,
    comment: str | None = None,
) -> Response:
    """A response at ``counter`` (local time ``when``, default 1 March 2022 09:00)."""
    when = when or datetime(2022, 3, 1, 9, tzinfo=VN)
    version = questionnaire_row(current_questionnaire())
    r = Response(
        counter=counter,
        agency=counter.agency,
        procedure=procedure,
        questionnaire_version=version,
        channel=Channel.poster,
        language="vi",
        overall=overall,
        started_at=when,
        submitted_at=when,
        client_hash=f"{next(_seq):032d}",
        staff_flag=staff,
        comment=comment,
        answers=[Answer(item_code=k, value=v) for k, v in (answers or {}).items()],
    )
    db.session.add(r)
    db.session.flush()
    return r
