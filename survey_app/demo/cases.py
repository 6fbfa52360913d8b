"""Demo reports and proposals (phản ánh, kiến nghị): one case in every workflow state,
and the answer templates handlers insert, so each role has work to see after `make run`.

Each case is taken in as a citizen's would be (:func:`~..feedback.services.submit`)
and moved along the shortest way the workflow allows to its state, by the demo
coordinator, so its events, clock and audit trail are those of a real case. The
names, phones and e-mails are invented (``@example.com``, 09xx 000 xxx numbers).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from sqlalchemy import func, select

from ..agencies.models import Agency, Procedure
from ..auth.models import User
from ..core.time import now_utc
from ..extensions import db
from ..feedback.models import AnswerTemplate, CaseChannel, CaseKind, CaseState, FeedbackCase
from ..feedback.services import Submission, submit
from ..feedback.workflow import TRANSITIONS, transition

S = CaseState

#: Who moves the demo cases along (coordinators may make every allowed step), who
#: handles them, and where.
COORDINATOR = "dieuphoi@demo.hailong.vn"
HANDLER = "namsach@demo.hailong.vn"
AGENCY = "H-NAMSACH"
#: Where the transferred case goes, and the procedure of the cases there.
OTHER_AGENCY, OTHER_PROCEDURE = "STP", "1.001193"

#: Answer templates: (agency code or None for every agency, title, body).
TEMPLATES = (
    (
        None,
        "Cảm ơn và tiếp nhận",
        "Cảm ơn ông/bà đã gửi phản ánh, kiến nghị. Cơ quan đã tiếp nhận và sẽ trả lời "
        "trong thời hạn quy định; ông/bà có thể theo dõi tiến độ bằng mã hồ sơ và số tra cứu.",
    ),
    (
        None,
        "Hướng dẫn thành phần hồ sơ",
        "Thành phần hồ sơ của thủ tục được công khai trên Cổng Dịch vụ công quốc gia và tại "
        "quầy. Cán bộ tiếp nhận không được yêu cầu nộp thêm giấy tờ ngoài quy định; nếu "
        "ông/bà gặp trường hợp này, xin cho biết quầy và thời gian để cơ quan xử lý.",
    ),
    (
        AGENCY,
        "Xin lỗi vì chậm trả kết quả",
        "UBND huyện Nam Sách xin lỗi ông/bà vì hồ sơ được trả kết quả chậm so với giấy hẹn. "
        "Huyện đã kiểm tra, nhắc nhở bộ phận liên quan và sẽ nhắn tin báo trước khi có kết quả.",
    ),
    (
        AGENCY,
        "Đã bổ sung ghế chờ và số thứ tự",
        "Bộ phận Một cửa huyện Nam Sách đã bổ sung ghế chờ và màn hình gọi số thứ tự. "
        "Cảm ơn ông/bà đã góp ý để việc phục vụ người dân tốt hơn.",
    ),
)


@dataclass(frozen=True)
class DemoCase:
    state: CaseState
    kind: CaseKind
    channel: CaseChannel
    name: str
    phone: str | None
    email: str | None
    content: str


CASES = (
    DemoCase(
        S.submitted,
        CaseKind.report,
        CaseChannel.web,
        "Phạm Văn Bình",
        "0900000101",
        None,
        "Bãi gửi xe trước Bộ phận Một cửa thu 10.000 đồng một lượt, không có vé.",
    ),
    DemoCase(
        S.screening,
        CaseKind.proposal,
        CaseChannel.web,
        "Đỗ Thị Hoa",
        None,
        "hoa.demo@example.com",
        "Đề nghị mở thêm quầy tiếp nhận vào sáng thứ Bảy cho người đi làm.",
    ),
    DemoCase(
        S.needs_info,
        CaseKind.report,
        CaseChannel.phone,
        "Vũ Văn Cường",
        "0900000103",
        None,
        "Hồ sơ đất đai nộp tháng trước đến nay chưa có kết quả, không ai trả lời điện thoại.",
    ),
    DemoCase(
        S.rejected,
        CaseKind.report,
        CaseChannel.web,
        "Trần Văn Dũng",
        "0900000104",
        None,
        "Hàng xóm để vật liệu xây dựng lấn ra đường làng, đề nghị xử lý.",
    ),
    DemoCase(
        S.redirected_complaint,
        CaseKind.report,
        CaseChannel.paper,
        "Nguyễn Thị Lan",
        "0900000105",
        None,
        "Tôi không đồng ý với quyết định thu hồi đất của huyện và đề nghị xem xét lại.",
    ),
    DemoCase(
        S.transferred,
        CaseKind.report,
        CaseChannel.email,
        "Lê Văn Minh",
        None,
        "minh.demo@example.com",
        "Quầy hộ tịch yêu cầu nộp bản sao sổ hộ khẩu khi đăng ký khai sinh cho con.",
    ),
    DemoCase(
        S.accepted,
        CaseKind.proposal,
        CaseChannel.web,
        "Hoàng Thị Ngọc",
        "0900000107",
        None,
        "Đề nghị niêm yết số điện thoại đường dây nóng của huyện ở cửa Bộ phận Một cửa.",
    ),
    DemoCase(
        S.assigned,
        CaseKind.report,
        CaseChannel.web,
        "Bùi Văn Phúc",
        "0900000108",
        None,
        "Máy lấy số thứ tự hỏng cả tuần, người dân phải chen nhau nộp hồ sơ.",
    ),
    DemoCase(
        S.in_progress,
        CaseKind.report,
        CaseChannel.survey,
        "Đặng Thị Quyên",
        "0900000109",
        None,
        "Giấy hẹn ghi trả kết quả ngày 15 nhưng đến ngày 20 vẫn chưa có, không được báo trước.",
    ),
    DemoCase(
        S.answered,
        CaseKind.proposal,
        CaseChannel.web,
        "Ngô Văn Sơn",
        None,
        "son.demo@example.com",
        "Đề nghị cho nhận kết quả qua bưu điện để người dân không phải đi lại nhiều lần.",
    ),
    DemoCase(
        S.approved,
        CaseKind.report,
        CaseChannel.web,
        "Phan Thị Thu",
        "0900000111",
        None,
        "Phòng chờ không có ghế, người già phải đứng chờ lâu.",
    ),
    DemoCase(
        S.published,
        CaseKind.proposal,
        CaseChannel.web,
        "Mai Văn Tuấn",
        "0900000112",
        None,
        "Đề nghị bố trí màn hình gọi số thứ tự để người dân biết lượt của mình.",
    ),
    DemoCase(
        S.closed,
        CaseKind.report,
        CaseChannel.web,
        "Lý Thị Uyên",
        "0900000113",
        None,
        "Hồ sơ chứng thực bị trả chậm ba ngày so với giấy hẹn.",
    ),
)

#: What the public sees of the answered cases: the question without personal data.
SUMMARIES = {
    "Phòng chờ": "Phòng chờ của Bộ phận Một cửa huyện không có ghế cho người già.",
    "màn hình gọi số": "Đề nghị bố trí màn hình gọi số thứ tự tại Bộ phận Một cửa huyện.",
    "chứng thực": "Hồ sơ chứng thực bị trả chậm so với giấy hẹn.",
}
#: The reasons the steps that need one are given.
REASONS = {
    S.needs_info: "Xin cho biết mã hồ sơ đất đai ghi trên giấy hẹn để huyện tra cứu.",
    S.rejected: "Nội dung là tranh chấp giữa các hộ dân, không phải phản ánh về thủ tục "
    "hành chính; đề nghị liên hệ UBND xã để được hòa giải.",
    S.redirected_complaint: "Đây là khiếu nại quyết định hành chính: xin gửi đến Ban Tiếp "
    "công dân huyện theo Luật Khiếu nại 2011.",
    S.transferred: "Thủ tục đăng ký khai sinh ở quầy của Sở Tư pháp: chuyển Sở trả lời.",
}


def _path_to(state: CaseState) -> list[CaseState]:
    """The shortest sequence of steps from a new case to ``state`` (breadth-first)."""
    came_from: dict[CaseState, CaseState | None] = {S.submitted: None}
    queue = deque([S.submitted])
    while queue:
        here = queue.popleft()
        if here == state:
            break
        for step in sorted(TRANSITIONS[here], key=list(CaseState).index):
            if step not in came_from:
                came_from[step] = here
                queue.append(step)
    if state not in came_from:
        raise RuntimeError(f"the workflow has no way to {state.value}")
    path: list[CaseState] = []
    at: CaseState | None = state
    while at is not None and at != S.submitted:
        path.append(at)
        at = came_from[at]
    return path[::-1]


#: The answer of the answered, approved, published and closed cases.
ANSWER = (
    "UBND huyện Nam Sách cảm ơn ông/bà. Huyện đã kiểm tra nội dung phản ánh, kiến nghị, "
    "chỉ đạo Bộ phận Một cửa khắc phục trong tháng này và sẽ báo kết quả trên trang "
    "câu trả lời công khai."
)


def _summary_for(case: FeedbackCase) -> str:
    for words, summary in SUMMARIES.items():
        if words.lower() in case.content.lower():
            return summary
    return "Phản ánh về việc phục vụ tại Bộ phận Một cửa huyện."


def _walk(case: FeedbackCase, target: CaseState, who: dict) -> None:
    """Move ``case`` to ``target`` as the demo coordinator would."""
    for step in _path_to(target):
        options: dict = {"reason": REASONS.get(step)}
        if step == S.transferred:
            options["agency"] = who["other_agency"]
        if step == S.accepted and case.agency is None:
            options["agency"] = who["agency"]
        if step == S.assigned:
            options["assignee"] = who["handler"]
        if step == S.answered and not case.answer:
            case.answer = ANSWER
        if step == S.published:
            case.public_summary = _summary_for(case)
            case.public_summary_confirmed_at = now_utc()
        transition(case, step, who["coordinator"], **options)


def load_demo_cases() -> str:
    """Add the demo cases and answer templates, once. Flushes, never commits.

    Needs the demo structure and accounts (``flask demo load`` makes both first).
    Skipped when the database already has feedback cases.

    :return: a one-line summary for the command line.
    """
    templates = _load_templates()
    if db.session.scalar(select(func.count(FeedbackCase.id))):
        return f"demo: feedback cases already there, not added; {templates} answer templates added"
    who = {
        "coordinator": db.session.scalar(select(User).where(User.email == COORDINATOR)),
        "handler": db.session.scalar(select(User).where(User.email == HANDLER)),
        "agency": db.session.scalar(select(Agency).where(Agency.code == AGENCY)),
        "other_agency": db.session.scalar(select(Agency).where(Agency.code == OTHER_AGENCY)),
    }
    if None in who.values():
        return "demo: no feedback cases (the demo agencies or accounts are missing)"
    procedure = db.session.scalar(select(Procedure).where(Procedure.code == OTHER_PROCEDURE))
    for demo in CASES:
        case, _secret = submit(
            Submission(
                kind=demo.kind,
                content=demo.content,
                submitter_name=demo.name,
                contact_phone=demo.phone,
                contact_email=demo.email,
                consent=True,
                procedure=procedure if demo.state == S.transferred else None,
                agency=None if demo.state == S.submitted else who["agency"],
                is_complaint=demo.state == S.redirected_complaint,
            ),
            demo.channel,
            created_by=who["coordinator"] if demo.channel != CaseChannel.web else None,
        )
        if case.state != demo.state:
            _walk(case, demo.state, who)
    return f"demo: {len(CASES)} feedback cases, one in each state; {templates} answer templates"


def _load_templates() -> int:
    added = 0
    for agency_code, title, body in TEMPLATES:
        agency_id = None
        if agency_code:
            agency_id = db.session.scalar(select(Agency.id).where(Agency.code == agency_code))
            if agency_id is None:
                continue
        same_agency = (
            AnswerTemplate.agency_id.is_(None)
            if agency_id is None
            else AnswerTemplate.agency_id == agency_id
        )
        exists = db.session.scalar(
            select(AnswerTemplate.id).where(AnswerTemplate.title == title, same_agency)
        )
        if exists is None:
            db.session.add(AnswerTemplate(agency_id=agency_id, title=title, body=body))
            added += 1
    db.session.flush()
    return added
