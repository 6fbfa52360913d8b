"""Vietnamese labels, notes and number formats shared by the PDF and the XLSX.

The documents are written for the province's leaders and are always Vietnamese.
"""

from __future__ import annotations

from datetime import date

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
METHOD_NOTE = (
    "Chỉ số hài lòng là tỷ lệ người được hỏi đánh giá hài lòng (mức 4 hoặc 5), tính theo "
    "phương pháp SIPAS: trung bình các câu hỏi trong từng yếu tố, rồi bình quân gia quyền các "
    "yếu tố. Khi có số hồ sơ đã giải quyết của kỳ, các phiếu được gia quyền (hậu phân tầng) "
    "theo số hồ sơ của từng cơ quan (và lĩnh vực, khi mọi phiếu của cơ quan biết lĩnh vực), để "
    "chỉ số phản ánh đúng cơ cấu giao dịch thực tế thay vì chỉ những người sẵn lòng trả lời. "
    "Khoảng tin cậy 95% tính theo phương pháp Korn–Graubard với cỡ mẫu hiệu dụng. Kết luận: "
    "“Đạt mục tiêu” khi cận dưới lớn hơn 90%; “Dưới mục tiêu” khi cận trên nhỏ hơn 90%; "
    "“Chưa kết luận” khi khoảng tin cậy chứa 90%; “Chưa đủ dữ liệu” khi có dưới 30 phiếu. "
    "Các phiếu gửi từ trình duyệt của cán bộ đang đăng nhập không được tính."
)


FUNNEL_NOTE = (
    "Kết quả của từng cơ quan theo số phiếu hiệu dụng (thang logarit). Đường đậm: mục tiêu "
    "90\u00a0%; đường gạch: giới hạn kiểm soát 95\u00a0% (vùng tô nằm giữa); đường chấm: "
    "99,8\u00a0%. Cơ quan nằm ngoài phễu khác mục tiêu nhiều hơn mức có thể do ngẫu nhiên và "
    "được ghi tên: tam giác chỉ xuống là dưới giới hạn, tam giác chỉ lên là trên giới hạn."
)


def pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%".replace(".", ",")


def vn_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
