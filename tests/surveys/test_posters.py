"""QR codes and printable posters: rendered to an image and the QR read back."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from survey_app.extensions import db
from survey_app.surveys.posters import render_posters
from survey_app.surveys.qr import counter_url, qr_png, qr_svg
from tests import factories


def _decode(image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


@pytest.fixture
def counters(app_ctx):
    agency = factories.agency("Sở Tài nguyên và Môi trường")
    first = factories.counter(agency, name="Quầy Đất đai")
    second = factories.counter(agency, name="Quầy Môi trường")
    db.session.commit()
    return [first, second]


def test_counter_url_uses_public_base_url(counters):
    assert counter_url(counters[0].code) == f"https://hailong.example.gov.vn/s/{counters[0].code}"


def test_png_qr_decodes_to_the_counter_url(counters):
    from PIL import Image

    url = counter_url(counters[0].code)
    assert _decode(Image.open(io.BytesIO(qr_png(url)))) == [url]
    svg = qr_svg(url).decode()
    assert svg.startswith("<svg") and "path" in svg


@pytest.mark.parametrize("size, width_pt", [("A5", 419.53), ("A4", 595.28)])
def test_poster_pdf_renders_with_a_readable_qr_and_the_texts(counters, size, width_pt):
    counter = counters[0]
    pdf_bytes = render_posters([counter], size=size)
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(width_pt, abs=0.5)
    text = reader.pages[0].extract_text()
    for expected in (
        "Sở Tài nguyên và Môi trường",
        "Quầy Đất đai",
        counter_url(counter.code),
        "Quét mã QR bằng điện thoại",
    ):
        assert expected in text.replace("\n", " "), expected

    page = pdfium.PdfDocument(pdf_bytes)[0]
    image = page.render(scale=150 / 72).to_pil()  # 150 dpi, as a cheap office printer
    assert _decode(image) == [counter_url(counter.code)]
    # the page is mostly white with a dark QR: not blank, not a black box
    grey = image.convert("L")
    dark_share = sum(grey.histogram()[:128]) / (grey.width * grey.height)
    assert 0.05 < dark_share < 0.5


def test_agency_posters_one_page_per_counter_each_with_its_own_qr(counters):
    pdf = pdfium.PdfDocument(render_posters(counters, size="A5"))
    assert len(pdf) == 2
    decoded = [_decode(pdf[i].render(scale=2).to_pil()) for i in range(2)]
    assert decoded == [[counter_url(c.code)] for c in counters]


def _text_box(page, text: str) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) in points around the first occurrence of ``text``."""
    textpage = page.get_textpage()
    found = textpage.search(text).get_next()
    assert found is not None, text
    start, count = found
    boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


LONG_AGENCY = "Trung tâm Phục vụ hành chính công tỉnh Hải Dương — Sở Tài nguyên và Môi trường"
LONG_COUNTER = "Quầy tiếp nhận và trả kết quả lĩnh vực Đất đai, Môi trường, Tài nguyên nước"


@pytest.mark.parametrize("size", ["A5", "A4"])
@pytest.mark.parametrize(
    "agency_name, counter_name, location",
    [
        (LONG_AGENCY, LONG_COUNTER, "Tầng 1, Khu liên cơ quan số 2, đường Tôn Đức Thắng"),
        ("Sở " + "Tài nguyên và Môi trường " * 10, "Quầy " + "Đất đai " * 30, "Tầng " * 50),
    ],
    ids=["long names", "names at their limit"],
)
def test_long_names_never_push_the_texts_into_each_other(
    app_ctx, size, agency_name, counter_name, location
):
    counter = factories.counter(factories.agency(agency_name[:255]), name=counter_name[:255])
    counter.location = location[:255]
    db.session.commit()
    page = pdfium.PdfDocument(render_posters([counter], size=size))[0]
    _, page_height = page.get_size()
    url = counter_url(counter.code)
    # from the top of the page down: url, counter code, privacy line, all on the page
    boxes = [
        _text_box(page, text)
        for text in (url, f"Mã quầy: {counter.code}", "Ý kiến của Ông/Bà được giữ bí mật")
    ]
    for upper, lower in zip(boxes, boxes[1:]):
        assert upper[1] > lower[3], "texts overlap"
    assert boxes[-1][1] > 0 and boxes[0][3] < page_height
    # the QR is drawn between the names and the texts below it, and still reads
    image = page.render(scale=150 / 72).to_pil()
    assert _decode(image) == [url]
