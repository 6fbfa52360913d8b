"""Mobile numbers, SMS encodings and segment counts, and that every template fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.core import phones
from survey_app.notifications import messages, segments


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "(091) 234-5678",
        "+84 912 345 678",
        "+84912345678",
        "84912345678",
        "0084 912 345 678",
        "+84 0912 345 678",
    ],
)
def test_the_usual_ways_of_writing_a_mobile_number(typed):
    assert phones.normalise(typed) == "0912345678"
    assert phones.international(typed) == "84912345678"


@pytest.mark.parametrize("prefix", ["03", "05", "07", "08", "09"])
def test_every_mobile_prefix_is_accepted(prefix):
    assert phones.is_mobile(prefix + "12345678")


@pytest.mark.parametrize(
    "typed",
    [
        "0241234567",
        "02412345678",
        "091234567",
        "09123456789",
        "0612345678",
        "abc",
        "",
        None,
        "+1 415 555 0100",
    ],
)
def test_landlines_and_non_numbers_are_not_mobile(typed):
    assert phones.normalise(typed) is None
    assert not phones.is_mobile(typed)


def test_masked_and_hashed_numbers_do_not_show_the_number(app_ctx):
    assert phones.mask("+84 912 345 678") == "091****678"
    digest = phones.keyed_hash("0912 345 678")
    assert digest == phones.keyed_hash("84912345678") and "912345678" not in digest
    assert len(digest) == 64


def test_gsm7_limits_are_160_then_153():
    assert segments.prepare("a" * 160, "ucs2") == segments.SmsText("a" * 160, "gsm7", 1, 160)
    assert segments.prepare("a" * 161, "ucs2").segments == 2
    assert segments.prepare("a" * 306, "ucs2").segments == 2
    assert segments.prepare("a" * 307, "ucs2").segments == 3
    # an extension character takes two septets
    assert segments.prepare("€" + "a" * 159, "gsm7").segments == 2


def test_ucs2_limits_are_70_then_67():
    text = "ồ" * 70
    assert segments.prepare(text, "ucs2") == segments.SmsText(text, "ucs2", 1, 70)
    assert segments.prepare("ồ" * 71, "ucs2").segments == 2
    assert segments.prepare("ồ" * 134, "ucs2").segments == 2
    assert segments.prepare("ồ" * 135, "ucs2").segments == 3
    assert segments.prepare("😀" * 35, "ucs2").length == 70  # outside the BMP: two units


def test_diacritics_are_removed_only_when_gsm7_is_configured():
    text = "Phản ánh của ông Đặng đã được “tiếp nhận” – cảm ơn"
    kept = segments.prepare(text, "ucs2")
    assert kept.text == text and kept.encoding == "ucs2"
    stripped = segments.prepare(text, "gsm7")
    assert stripped.text == 'Phan anh cua ong Dang da duoc "tiep nhan" - cam on'
    assert stripped.encoding == "gsm7" and stripped.segments == 1
    with pytest.raises(ValueError):
        segments.prepare(text, "latin1")


def test_a_text_too_long_is_cut_to_the_maximum_with_a_visible_mark():
    fitted = segments.fit("ồ" * 500, "ucs2", 2)
    assert fitted.segments == 2 and fitted.text.endswith("...")


CATALOGUE = Path(__file__).resolve().parents[2] / "translations/vi/LC_MESSAGES/messages.po"


def _vietnamese(msgid: str) -> str:
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as f:
        message = read_po(f).get(msgid)
    assert message is not None and message.string, f"not translated: {msgid}"
    return message.string


LONGEST = {
    "code": "PA-2026-ABCDEF",
    "secret": "2345 6789 2345",
    "url": "https://dichvucong.haiduong.gov.vn/feedback/track/PA-2026-ABCDEF",
    "agency": "Ủy ban nhân dân huyện Thanh Hà, tỉnh Hải Dương"[: messages.AGENCY_MAX - 1] + "…",
    "date": "31/12/2026",
    "n": 3,
    "state": "Waiting for the citizen's information",
}
SMS_MSGIDS = [
    "Your report %(code)s was received. Tracking number: %(secret)s. Follow it at %(url)s",
    "Case %(code)s: the agency needs more information from you. Read what at %(url)s",
    "Case %(code)s was transferred to %(agency)s. Follow it at %(url)s",
    "Case %(code)s has been answered. Read the answer at %(url)s",
    "Case %(code)s: are you satisfied with the answer? Rate it at %(url)s",
    "Case %(code)s: %(state)s. Details at %(url)s",
    "New case %(code)s in your queue, due %(date)s. %(url)s",
    "Case %(code)s was assigned to you, due %(date)s. %(url)s",
    "Case %(code)s is due in %(n)d working days (%(date)s). %(url)s",
    "Overdue: case %(code)s was due on %(date)s. %(url)s",
]


@pytest.mark.parametrize("msgid", SMS_MSGIDS)
def test_every_sms_template_fits_in_three_parts_in_both_languages(msgid):
    """With the longest values (a 64-character link, a long agency name), in Vietnamese
    with diacritics (UCS-2, 67 per part) and in English."""
    vietnamese = _vietnamese(msgid)
    values = {**LONGEST, "state": "Chờ công dân bổ sung thông tin"}
    for template in (msgid, vietnamese):
        text = template % values
        assert segments.prepare(text, "ucs2").segments <= 3, text
        assert segments.prepare(text, "gsm7").segments <= 2, text
