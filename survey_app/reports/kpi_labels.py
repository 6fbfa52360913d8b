"""Vietnamese headings, cells and notes of the feedback and one-stop tables in the PDF and
the XLSX (:mod:`.kpis` computes them; the documents are always Vietnamese)."""

from __future__ import annotations

from .labels import pct, pct_range, vn_date, vn_number

FEEDBACK_TITLE = "Xử lý phản ánh, kiến nghị"
ONE_STOP_TITLE = "Chỉ số một cửa (Thông tư 01/2018/TT-VPCP)"
FEEDBACK_HEADER = [
    "Cơ quan",
    "Tiếp nhận",
    "Đã trả lời",
    "Trả lời đúng hạn",
    "Số ngày làm việc để trả lời (trung vị)",
    "Quá hạn hiện nay",
    "Mở lại",
    "Chuyển đi do không thuộc thẩm quyền",
    "Số ngày làm việc bị tính do chuyển sai",
]
ONE_STOP_HEADER = [
    "Cơ quan",
    "Số người trả lời câu đi lại",
    "Đi lại một lần trở xuống",
    "Số người trả lời câu số cơ quan",
    "Chỉ liên hệ một cơ quan",
]
PROVINCE_FEEDBACK = "Toàn tỉnh (mỗi ca tính một lần)"
PROVINCE = "Toàn tỉnh"
TOO_FEW = "quá ít câu trả lời"
NO_ANSWERS = "chưa có câu trả lời"
RELIABILITY_VI = {
    "low_reliability_n": "n < 30",
    "low_reliability_df": "bậc tự do < 8",
    "low_reliability_width": "khoảng ≥ 30 điểm",
}


def notes(kpis: dict) -> list[str]:
    """The definitions, one sentence each, as the report page's methods note says them."""
    as_of = vn_date(kpis["as_of"])
    return [
        "Tiếp nhận: phản ánh, kiến nghị tiếp nhận trong kỳ đã từng ở cơ quan (được chuyển "
        "đến, hoặc chuyển đi); ca qua hai cơ quan được tính ở cả hai, dòng toàn tỉnh tính một "
        "lần; không tính khiếu nại, tố cáo đã hướng dẫn chuyển nơi khác.",
        "Đã trả lời: ca cơ quan trả lời trong kỳ (tiếp nhận bất kỳ lúc nào); ca trả lời hai "
        "lần trong kỳ tính một lần, theo lần trả lời sau cùng.",
        f"Đúng hạn: trả lời không muộn hơn hạn {kpis['answer_days']} ngày làm việc kể từ ngày "
        "cơ quan tiếp nhận xử lý, nhận chuyển đến hoặc mở lại, cộng thời gian gia hạn (nếu "
        "có); thời gian chờ người dân bổ sung thông tin diễn ra trước đó, không tính.",
        "Số ngày làm việc để trả lời: trung vị (một nửa số ca nhanh hơn, một nửa chậm hơn), "
        "không tính thứ Bảy, Chủ nhật và ngày lễ, Tết.",
        f"Quá hạn hiện nay: ca đang chờ cơ quan xử lý đã quá hạn tại ngày {as_of}, tiếp nhận "
        "bất kỳ lúc nào; không tính ca chờ phê duyệt, công bố; dòng toàn tỉnh gồm cả ca chờ "
        "điều phối.",
        "Mở lại: ca được mở lại trong kỳ (người dân không đồng ý với câu trả lời, hoặc ca đã "
        "đóng được xem xét lại).",
        "Chuyển đi: ca cơ quan chuyển đi trong kỳ vì không thuộc thẩm quyền; số ngày làm việc "
        "ca đã nằm ở cơ quan được tính cho cơ quan đó, không tính cho cơ quan trả lời.",
        "Chỉ số một cửa: tỷ lệ trong số người trả lời câu hỏi, không gia quyền, khoảng tin "
        f"cậy 95% Clopper–Pearson; dưới {kpis['small_count']} câu trả lời ghi số đếm thay cho "
        f"tỷ lệ; dưới {kpis['min_n']} câu trả lời không tính khoảng tin cậy (quá ít câu trả "
        "lời); “độ tin cậy thấp” như với chỉ số hài lòng: dưới 30 câu trả lời (n < 30) hoặc "
        "khoảng tin cậy rộng từ 30 điểm trở lên.",
    ]


def has_cases(f: dict) -> bool:
    """Whether an agency's feedback row counts any case (rows of zeros are left out)."""
    return bool(
        f["received"] or f["answered"] or f["overdue"] or f["reopened"] or f["transferred_away"]
    )


def ratio(x: int, n: int, small: int) -> str:
    """``x/n`` as a percentage, or as the count itself below ``small``."""
    if not n:
        return "—"
    if n < small:
        return f"{vn_number(x)}/{vn_number(n)}"
    return f"{pct(x / n)} ({vn_number(x)}/{vn_number(n)})"


def median(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def share(s: dict, small: int) -> str:
    """A one-stop share: count or percentage, interval, and the small-number marks."""
    if not s["n"]:
        return NO_ANSWERS
    text = f"{vn_number(s['x'])}/{vn_number(s['n'])}" if s["n"] < small else pct(s["share"])
    if s["too_few"]:
        return f"{text} ({TOO_FEW})"
    if s["ci_low"] is not None:
        text += f" [{pct_range(s['ci_low'], s['ci_high'])}]"
    if s["low_reliability"]:
        text += " — độ tin cậy thấp: " + "; ".join(RELIABILITY_VI[f] for f in s["flags"])
    return text


def feedback_cells(f: dict, small: int) -> list[str]:
    return [
        vn_number(f["received"]),
        vn_number(f["answered"]),
        ratio(f["on_time"], f["answered"], small),
        median(f["median_days"]),
        vn_number(f["overdue"]),
        vn_number(f["reopened"]),
        vn_number(f["transferred_away"]),
        vn_number(f["misrouting_days"]),
    ]


def one_stop_cells(o: dict, small: int) -> list[str]:
    return [
        vn_number(o["one_trip"]["n"]),
        share(o["one_trip"], small),
        vn_number(o["one_agency"]["n"]),
        share(o["one_agency"], small),
    ]


# --- dossiers on time and the channel mix (issue 18) ------------------------------------

DOSSIER_TITLE = "Tỷ lệ hồ sơ đúng hạn"
CHANNEL_TITLE = "Kênh tham gia khảo sát và kênh trả kết quả"
DOSSIER_COUNTS = [
    "Hồ sơ tiếp nhận",
    "Hồ sơ đã giải quyết",
    "Đúng hạn, trước hạn",
    "Quá hạn",
    "Tỷ lệ hồ sơ đúng hạn",
]
SURVEY_CHANNEL_VI = {
    "poster": "Mã QR dán tại quầy",
    "receipt": "Mã QR trên giấy hẹn",
    "kiosk": "Máy tính bảng",
    "web": "Trang web",
    "invite": "Tin nhắn mời",
}
RETURN_CHANNEL_VI = {
    "counter": "Tại quầy",
    "online": "Trực tuyến",
    "post": "Bưu chính",
    "unknown": "Chưa rõ",
    "all": "Không phân kênh",
}
MEETS = "Đạt mục tiêu"
BELOW = "Dưới mục tiêu"
FEW_DOSSIERS = "quá ít hồ sơ"
NOT_REPORTED = "chưa báo cáo"


def target_label(kpis: dict) -> str:
    """``95 %``: the plan's on-time target as the documents write it."""
    return pct(kpis.get("on_time_target") or 0.95, 0)


def dossier_header(headline_vi: str, kpis: dict) -> list[str]:
    return [
        "Cơ quan",
        headline_vi,
        *DOSSIER_COUNTS,
        f"So với mục tiêu {target_label(kpis)}",
    ]


def on_time_rate(d: dict, small: int) -> str:
    """The on-time rate: a percentage with its count, the count alone under ``small``."""
    if not d["timed"]:
        return NOT_REPORTED
    if d["timed"] < small:
        return f"{vn_number(d['on_time'])}/{vn_number(d['timed'])} ({FEW_DOSSIERS})"
    return f"{pct(d['on_time_share'])} ({vn_number(d['on_time'])}/{vn_number(d['timed'])})"


def dossier_verdict(d: dict) -> str:
    if d["meets_target"] is None:
        return FEW_DOSSIERS if d["too_few"] else "—"
    return MEETS if d["meets_target"] else f"**{BELOW}**"


def satisfaction(b: dict | None) -> str:
    """The agency's satisfaction headline beside its on-time rate."""
    if not b or b.get("index") is None:
        return "—"
    text = f"{pct(b['index'])} (n = {vn_number(b['n'] or 0)})"
    if b.get("flags"):
        text += " — độ tin cậy thấp"
    return text


def dossier_cells(row: dict, small: int) -> list[str]:
    d = row["dossiers"]
    return [
        satisfaction(row.get("satisfaction")),
        vn_number(d["received"]),
        "—" if d["resolved"] is None else vn_number(d["resolved"]),
        vn_number(d["on_time"]) if d["timed"] else "—",
        vn_number(d["late"]) if d["timed"] else "—",
        on_time_rate(d, small),
        dossier_verdict(d),
    ]


def mix_cells(m: dict, names, small: int) -> list[str]:
    """Shares of a mix (counts under ``small``)."""
    if not m["total"]:
        return ["—"] * len(names)
    if m["total"] < small:
        return [vn_number(m["counts"][n]) for n in names]
    return [pct(m["shares"][n]) for n in names]


def dossier_notes(kpis: dict) -> list[str]:
    small = kpis["small_count"]
    return [
        "Tỷ lệ hồ sơ đúng hạn: số hồ sơ giải quyết đúng hạn, trước hạn trên số hồ sơ đã giải "
        "quyết trong kỳ, theo số liệu của hệ thống một cửa điện tử (nhập từ tệp CSV hoặc gửi "
        "qua API, cộng các ngày trong tháng); hồ sơ đã giải quyết không được phân loại đúng "
        f"hạn hay quá hạn bị tính là chưa đúng hạn. Mục tiêu của kế hoạch: từ {target_label(kpis)} "
        "trở lên (mục II.3.c). Đây là số đếm toàn bộ hồ sơ, không phải mẫu, nên không có "
        f"khoảng tin cậy; dưới {small} hồ sơ ghi số đếm, không so với mục tiêu.",
        "Kênh: tỷ lệ phiếu khảo sát theo cách người dân đến với phiếu (mã QR tại quầy, trên "
        "giấy hẹn, máy tính bảng, trang web, tin nhắn mời sau khi trả kết quả) và theo kênh "
        "trả kết quả của hồ sơ (khi biết: phiếu từ tin nhắn mời), bên cạnh tỷ lệ hồ sơ theo "
        "kênh trả kết quả; mỗi nhóm cột cộng lại bằng 100 %; dưới "
        f"{small} ghi số đếm.",
    ]
