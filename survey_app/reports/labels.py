"""Vietnamese labels, notes and number formats shared by the PDF and the XLSX.

The documents are written for the province's leaders and are always Vietnamese.
"""

from __future__ import annotations

from datetime import date, datetime

from ..core.time import local_tz

VERDICT_VI = {
    "above_target": "Đạt mục tiêu",
    "below_target": "Dưới mục tiêu",
    "inconclusive": "Chưa kết luận",
    "insufficient_data": "Chưa đủ dữ liệu",
}
QUALITY_VI = {
    "burst": "Dồn dập từ một quầy",
    "too_fast": "Trả lời quá nhanh",
    "straight_lining": "Chọn cùng một mức cho mọi câu",
    "outside_hours": "Ngoài giờ làm việc",
    "counter_differs": "Quầy khác biệt với cơ quan",
}
KIND_VI = {"month": "tháng", "quarter": "quý", "half": "6 tháng", "year": "năm"}
#: The indicators by their names in the documents (``headline_indicator``).
HEADLINE_VI = {
    "q0": "Tỷ lệ người dân, tổ chức hài lòng chung",
    "composite": "Chỉ số hài lòng SIPAS (5 yếu tố)",
}
#: Which respondents an indicator's n counts.
N_VI = {
    "q0": "Số người trả lời câu hỏi hài lòng chung",
    "composite": "Số người trả lời bộ câu hỏi 5 yếu tố",
}
RELIABILITY_TITLE = "Độ tin cậy thấp"


def method_note(report: dict) -> list[str]:
    """The method, in paragraphs, as ANALYSIS.md (revised December 2026) has it."""
    min_n = report.get("min_n") or 10
    headline = "composite" if report.get("headline_indicator") == "composite" else "q0"
    lead = "Chỉ tiêu chính của báo cáo (thiết lập REPORT_HEADLINE) là " + (
        "tỷ lệ người trả lời hài lòng (mức 4 “Hài lòng” hoặc 5 “Rất hài lòng”) ở câu hỏi "
        "hài lòng chung, câu mọi người đều trả lời, đúng như mục tiêu của Kế hoạch được "
        "diễn đạt; chỉ tiêu này mang kết luận so với mục tiêu. Chỉ số SIPAS được trình bày "
        "bên cạnh để giải thích nguyên nhân (yếu tố nào thấp), không mang kết luận riêng."
        if headline == "q0"
        else "chỉ số hài lòng SIPAS (5 yếu tố); chỉ số này mang kết luận so với mục tiêu. "
        "Tỷ lệ hài lòng ở câu hỏi hài lòng chung được trình bày bên cạnh, không mang kết "
        "luận riêng."
    )
    return [
        lead,
        "Chỉ số SIPAS theo phương pháp của Bộ Nội vụ: tỷ lệ người trả lời hài lòng (mức 4 "
        "hoặc 5) ở từng câu hỏi, không tính câu trả lời “Không áp dụng”; trung bình các câu "
        "trong từng yếu tố, rồi bình quân gia quyền các yếu tố. Cột số người trả lời của mỗi "
        "chỉ tiêu ghi rõ đếm những ai: mọi người trả lời câu hỏi hài lòng chung, hoặc những "
        "người trả lời ít nhất một câu của bộ câu hỏi 5 yếu tố.",
        "Gia quyền: khi có số hồ sơ đã giải quyết của kỳ, các phiếu được gia quyền (hậu phân "
        "tầng) theo số hồ sơ của từng cơ quan (và lĩnh vực, khi mọi phiếu của cơ quan biết "
        "lĩnh vực), để kết quả phản ánh cơ cấu giao dịch thực tế thay vì chỉ những người sẵn "
        "lòng trả lời.",
        "Khoảng tin cậy 95\u00a0%: với các tỷ lệ (câu hỏi hài lòng chung và từng câu hỏi) theo "
        "phương pháp Korn–Graubard với cỡ mẫu hiệu dụng không vượt quá số người trả lời "
        "(n_use = min(n_eff, n)), nên khoảng tin cậy không bao giờ hẹp hơn khoảng chính xác "
        "Clopper–Pearson của chính số người trả lời; với chỉ số SIPAS và chỉ số từng yếu tố "
        "(trung bình của nhiều câu) theo phương pháp logit-t với bậc tự do của thiết kế, nên "
        "cơ quan có ít người trả lời luôn có khoảng tin cậy rộng tương ứng. Khi kết quả bằng "
        "0 hoặc 100\u00a0%, dùng khoảng Clopper–Pearson.",
        "Kết luận theo khoảng tin cậy: “Đạt mục tiêu” khi cận dưới lớn hơn 90\u00a0%; “Dưới mục "
        "tiêu” khi cận trên nhỏ hơn 90\u00a0%; “Chưa kết luận” khi khoảng tin cậy chứa "
        f"90\u00a0%; “Chưa đủ dữ liệu” chỉ khi có dưới {min_n} người trả lời hoặc không tính "
        "được khoảng tin cậy.",
        "Độ tin cậy thấp (chuẩn trình bày tỷ lệ của NCHS, Hoa Kỳ, 2017): ghi kèm lý do khi cỡ "
        "mẫu hiệu dụng dưới 30, bậc tự do dưới 8, hoặc khoảng tin cậy rộng từ 30 điểm phần "
        "trăm trở lên. Số liệu vẫn được trình bày, để thấy cơ quan có ít phiếu chứ không che "
        "đi.",
        "Thay đổi so với kỳ trước: hiệu số của hai kỳ, với sai số chuẩn của hai kỳ độc lập; "
        "gọi là “rõ rệt” khi lớn hơn mức ngẫu nhiên có thể tạo ra (mức ý nghĩa 5\u00a0%). Kỳ "
        "trước đã công bố thì so với số liệu đã công bố.",
        "Các phiếu gửi từ trình duyệt của cán bộ đang đăng nhập không được tính.",
    ]


FUNNEL_NOTE = (
    "Kết quả của từng cơ quan theo số phiếu hiệu dụng (thang logarit). Đường đậm: mục tiêu "
    "90\u00a0%; đường gạch: giới hạn kiểm soát 95\u00a0% (vùng tô nằm giữa); đường chấm: "
    "99,8\u00a0%. Cơ quan nằm ngoài phễu khác mục tiêu nhiều hơn mức có thể do ngẫu nhiên và "
    "được ghi tên: tam giác chỉ xuống là dưới giới hạn, tam giác chỉ lên là trên giới hạn."
)


def pct(value, digits: int = 1) -> str:
    """A share as Vietnamese writes it: ``87,2 %`` (no-break space before the sign)."""
    return "—" if value is None else f"{vn_number(100 * value, digits)}\u00a0%"


def pct_range(low, high) -> str:
    """An interval: ``82,2–99,4 %``."""
    if low is None or high is None:
        return "—"
    return f"{vn_number(100 * low, 1)}–{vn_number(100 * high, 1)}\u00a0%"


def vn_number(value, digits: int = 0) -> str:
    """A number as Vietnamese writes it: thousands dot, decimal comma (``26.979``, ``4,5``)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def vn_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def vn_datetime(value: datetime) -> str:
    """An aware datetime in the service's time zone: ``10:15 ngày 07/12/2026``."""
    local = value.astimezone(local_tz())
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
