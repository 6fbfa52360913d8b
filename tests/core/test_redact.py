"""The redaction service: every spelling of a phone, e-mail, ID number or introduced name
is masked; ordinary text (dates, decrees, sums, procedure codes) is kept."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey_app.core.redact import (
    EMAIL_MASK,
    NAME_MASK,
    NUMBER_MASK,
    PHONE_MASK,
    contains_personal_data,
    findings,
    redact,
)

# -- phones -------------------------------------------------------------------------------

PHONES = [
    "0912345678",
    "0912 345 678",
    "(0912) 345 678",
    "(0912)345678",
    "09 12 34 56 78",
    "0912.345.678",
    "0912-345-678",
    "091 234 5678",
    "0912 345678",
    "+84 912 345 678",
    "+84912345678",
    "+84-912-345-678",
    "(+84) 912 345 678",
    "+84 (0) 912 345 678",
    "84912345678",
    "84 912 345 678",
    "0220 3853 123",  # a landline (Hải Dương)
    "0220.3853.123",
    "(0220) 3853 123",
    "024 3825 1234",  # Hà Nội
    "028.3829.1234",
    "01688 123 456",  # an old 11-digit mobile
    "０９１２３４５６７８",  # full-width digits
    "0912\u200b345\u200b678",  # zero-width spaces inside
    "0912\u00a0345\u00a0678",  # no-break spaces
]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize(
    "template",
    [
        "{}",
        "Gọi tôi số {} về việc khai sinh.",
        "SĐT: {}.",
        "sdt{}",
        "ĐT.{}, xin cảm ơn",
        "(liên hệ {})",
        "Liên hệ {}\nTrân trọng",
    ],
)
def test_every_spelling_of_a_phone_number_is_masked(phone, template):
    shown = redact(template.format(phone))
    assert PHONE_MASK in shown
    assert not re.search(r"\d", shown), shown


_MOBILE_PREFIXES = ["32", "33", "34", "35", "36", "37", "38", "39", "56", "58", "59", "70"]
_MOBILE_PREFIXES += ["76", "77", "78", "79", "81", "82", "83", "84", "85", "86", "88", "89"]
_MOBILE_PREFIXES += ["90", "91", "92", "93", "94", "96", "97", "98", "99"]


@st.composite
def phone_spellings(draw):
    """A Vietnamese phone number (mobile or landline) written the way people do."""
    if draw(st.booleans()):
        national = draw(st.sampled_from(_MOBILE_PREFIXES)) + draw(
            st.text("0123456789", min_size=7, max_size=7)
        )
    else:  # landline: 2 + area code of 2 + 7 digits
        national = "2" + draw(st.text("0123456789", min_size=9, max_size=9))
    prefix = draw(st.sampled_from(["0", "+84", "84", "+84 ", "(+84) ", "+84 (0) ", "(0"]))
    digits = list(national)
    sep = draw(st.sampled_from(["", " ", ".", "-", "\u00a0"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    groups, last = [], 0
    for cut in cuts:
        groups.append("".join(digits[last:cut]))
        last = cut
    groups.append("".join(digits[last:]))
    body = sep.join(groups)
    if prefix == "(0":  # (0912) 345 678
        head, rest = groups[0], sep.join(groups[1:])
        return f"(0{head}) {rest}".strip()
    return prefix + body


_NO_DIGITS = st.text(
    st.sampled_from(list("abcdeghiklmnopqrstuvxyàáảãạăâđêôơưọờ .,:;!?()\n")), max_size=30
)


@given(before=_NO_DIGITS, phone=phone_spellings(), after=_NO_DIGITS)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@example(before="gọi ", phone="(0912) 345 678", after="")
@example(before="", phone="09 12 34 56 78", after=" nhé")
@example(before="số ", phone="+84 912 345 678", after=".")
def test_no_digit_of_a_generated_phone_number_survives(before, phone, after):
    shown = redact(before + phone + after)
    assert not re.search(r"\d", shown), (phone, shown)


# -- identity numbers and other long numbers ----------------------------------------------

IDS = [
    "001099012345",  # CCCD, 12 digits
    "001 099 012 345",
    "001.099.012.345",
    "142345678",  # CMND, 9 digits
    "012345678",
    "142 345 678",
    "1903 5555 6666 01",  # a bank account
    "19035555666601",
]


@pytest.mark.parametrize("number", IDS)
@pytest.mark.parametrize("template", ["CCCD {}", "số CMND: {}.", "STK {} Techcombank", "{}"])
def test_id_and_account_numbers_are_masked(number, template):
    shown = redact(template.format(number))
    assert NUMBER_MASK in shown or PHONE_MASK in shown
    assert not re.search(r"\d", shown), shown


@given(st.text("0123456789", min_size=9, max_size=16), st.sampled_from(["", " ", ".", "-"]))
def test_any_run_of_nine_or_more_digits_is_masked(digits, sep):
    grouped = sep.join(digits[i : i + 3] for i in range(0, len(digits), 3))
    assert not re.search(r"\d", redact(f"Số {grouped} của tôi")), grouped


# -- e-mail -------------------------------------------------------------------------------

EMAILS = [
    "an.nguyen@gmail.com",
    "an_nguyen+pakn@yahoo.com.vn",
    "AN.NGUYEN@GMAIL.COM",
    "an.nguyen @ gmail.com",
    "an.nguyen@gmail . com",
    "an.nguyen [at] gmail [dot] com",
    "an.nguyen (at) gmail (dot) com",
    "an.nguyen at gmail dot com",
    "an.nguyen a còng gmail chấm com",
    "an.nguyen (a còng) gmail.com",
    "an.nguyen[at]gmail.com",
]


@pytest.mark.parametrize("email", EMAILS)
@pytest.mark.parametrize("template", ["{}", "Email: {}.", "gửi về {}, cảm ơn", "({})"])
def test_every_spelling_of_an_e_mail_address_is_masked(email, template):
    shown = redact(template.format(email))
    assert EMAIL_MASK in shown
    assert "nguyen" not in shown.lower() and "gmail" not in shown.lower(), shown


@given(
    local=st.from_regex(r"zq[a-z0-9._]{2,12}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z]{3,10}", fullmatch=True),
    tld=st.sampled_from(["com", "vn", "com.vn", "gov.vn", "org"]),
    spelling=st.sampled_from(["{l}@{d}.{t}", "{l} [at] {d} [dot] {t}", "{l} at {d} dot {t}"]),
)
def test_a_generated_e_mail_address_is_masked(local, domain, tld, spelling):
    address = spelling.format(
        l=local, d=domain, t=tld.replace(".", " dot " if "dot" in spelling else ".")
    )
    shown = redact(f"Liên hệ {address} nhé")
    assert "zq" not in shown and domain not in shown, (address, shown)


# -- names --------------------------------------------------------------------------------

INTRODUCTIONS = [
    "Tôi là {}",
    "tôi là {}",
    "Toi la {}",
    "TÔI LÀ {}",
    "Tên tôi là {}",
    "ten toi la {}",
    "Tôi tên là {}",
    "Tôi tên {}",
    "Em là {}",
    "em ten la {}",
    "Cháu là {}",
    "chau la {}",
    "Mình là {}",
    "Họ tên: {}",
    "Họ và tên: {}",
    "ho va ten: {}",
    "Người gửi: {}",
    "Trân trọng, {}",
]
NAMES = ["Nguyễn Văn An", "Lê Thị Bích Ngọc", "Trần Hùng", "Phạm Minh Đức", "Đỗ Thị Hạnh"]


def _plain(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c))


@pytest.mark.parametrize("intro", INTRODUCTIONS)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("spelling", ["as is", "lower", "upper", "no diacritics"])
def test_a_name_the_writer_introduces_is_masked(intro, name, spelling):
    written = {
        "as is": name,
        "lower": name.lower(),
        "upper": name.upper(),
        "no diacritics": _plain(name),
    }[spelling]
    text = intro.format(written) + ", ở xã Nam Hồng, muốn phản ánh việc chậm trả kết quả."
    shown = redact(text)
    assert NAME_MASK in shown, shown
    given = written.split()[-1]
    assert not re.search(rf"(?<!\w){re.escape(given)}(?!\w)", shown), shown
    assert "ở xã Nam Hồng" in shown  # what follows the name stays


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Em là Lan.", "Em là [họ tên]."),
        ("Cháu là Phạm Minh Đức ạ", "Cháu là [họ tên] ạ"),
        ("Ông Nguyễn Văn Bình thu thêm tiền", "Ông [họ tên] thu thêm tiền"),
        ("Cán bộ bảo chị Trần Thị Mai nộp thêm", "Cán bộ bảo chị [họ tên] nộp thêm"),
        ("tôi là nguyễn thị bích ngọc sinh năm 1980", "tôi là [họ tên] sinh năm 1980"),
        ("Cháu bé tên là Nguyễn Văn Bình.", "Cháu bé tên là [họ tên]."),
        ("CHỊ TRẦN THỊ MAI thu tiền", "CHỊ [họ tên] thu tiền"),
    ],
)
def test_names_are_replaced_and_the_sentence_kept(text, masked):
    assert redact(text) == masked


# -- what is not personal data is kept ----------------------------------------------------

KEPT = [
    "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
    "Theo Nghị định 20/2008/NĐ-CP và Quyết định 2640/QĐ-BNV năm 2017.",
    "Kỳ báo cáo từ 15/12/2021 - 14/3/2022.",
    "Kỳ báo cáo từ 15.12.2021 - 14.03.2022.",
    "Phí thu 150.000.000 đồng, lệ phí 1.500.000đ, tổng 150,000,000 VND.",
    "Thủ tục 1.001193.000.00.00.H23 (mã 1.001193).",
    "Tôi là Cán bộ xã, tôi là người dân xã Nam Hồng.",
    "Cảm ơn chị Lan ở quầy 3 rất tận tình.",
    "Thủ tục có tên là Đăng ký khai sinh.",
    "Tôi là Chủ tịch xã, tôi là Giám đốc.",
    "Văn bản có Sở Tư pháp ký; chỉ Sở Tư Pháp mới cấp, theo Ủy Ban Nhân Dân tỉnh.",
    "Tôi là người dân, đến quầy lúc 8:30 ngày 3/3, chờ 45 phút.",
    "Đường dây nóng 1900 1234.",
    "",
]


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_is_kept(text):
    assert redact(text) == text
    assert not contains_personal_data(text) and findings(text) == []


def test_none_is_empty():
    assert redact(None) == "" and findings(None) == [] and not contains_personal_data(None)


def test_findings_say_what_and_where():
    text = "Tôi là Nguyễn Văn An, sđt 0912 345 678, email an@gmail.com, CCCD 001099012345"
    kinds = [(f.kind, text[f.start : f.end]) for f in findings(text)]
    assert kinds == [
        ("name", "Nguyễn Văn An"),
        ("phone", "0912 345 678"),
        ("email", "an@gmail.com"),
        ("number", "001099012345"),
    ]


# -- properties ---------------------------------------------------------------------------


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_redacting_twice_changes_nothing_and_never_fails(text):
    once = redact(text)
    assert redact(once) == once
    assert not contains_personal_data(once)


@given(
    st.lists(
        st.one_of(
            phone_spellings(),
            st.sampled_from(EMAILS + IDS),
            st.sampled_from(INTRODUCTIONS).map(lambda i: i.format("Nguyễn Văn An")),
            st.sampled_from(KEPT),
        ),
        max_size=6,
    ).map(" ".join)
)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_mixed_texts_are_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "1" * 10_000,
        "a." * 5_000,
        "a@" * 5_000,
        ("x" * 50 + "@" + "y." * 20) * 100,
        "tôi là " * 1_500,
        "Tôi là " + "Nguyễn " * 1_500,
        "1-(" * 3_000,
        "an at " * 2_000,
    ],
)
def test_redaction_takes_linear_time(text):
    """Published answers have up to 10 000 characters: no input may take seconds."""
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 1.0
