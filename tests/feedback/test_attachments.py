"""Attachments: photos re-encoded on upload (no EXIF, no polyglot), files 0600 in a 0700
folder, and staff opening them from the case page (audited; PDFs only downloaded)."""

from __future__ import annotations

import io
import os
import re
import stat
import zlib
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.core.security import CSP
from survey_app.extensions import db
from survey_app.feedback import attachments
from survey_app.feedback.models import Attachment, AuditLog, FeedbackCase
from tests import factories
from tests.helpers import csrf_from, logged_in

GOOD = {
    "kind": "report",
    "content": "Quầy yêu cầu nộp thêm bản sao giấy khai sinh không có trong luật.",
    "submitter_name": "Nguyễn Văn An",
    "contact_phone": "0912 345 678",
    "consent": "y",
}
#: A script that would run if the file were ever rendered as a page.
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _jpeg_with_gps() -> bytes:
    """A 60×20 JPEG rotated by its EXIF (orientation 6), with a GPS position, a camera,
    a comment, and an HTML page after its end (a polyglot)."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show
    exif[0x010F] = "CAMERA-MAKER-7731"
    gps = {1: "N", 2: (21.0, 1.0, 55.0), 3: "E", 4: (106.0, 18.0, 49.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    Image.new("RGB", (60, 20), (10, 200, 30)).save(
        out, format="JPEG", exif=exif.tobytes(), comment=b"COMMENT-4410"
    )
    return out.getvalue() + SCRIPT


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _png_polyglot() -> bytes:
    """A valid PNG carrying a script in a text chunk and a ZIP archive after its end."""
    out = io.BytesIO()
    Image.new("RGBA", (12, 9), (0, 0, 255, 128)).save(out, format="PNG")
    png = out.getvalue()
    text = _png_chunk(b"tEXt", b"Comment\x00" + SCRIPT)
    return png[:33] + text + png[33:] + b"PK\x03\x04" + SCRIPT


@pytest.fixture
def world(app, tmp_path):
    folder = tmp_path / "attachments"  # created by the app
    app.config["ATTACHMENT_DIR"] = str(folder)
    with app.app_context():
        agency = factories.agency("Sở Tư pháp", code="STP")
        other = factories.agency("Sở Xây dựng", code="SXD")
        emails = {
            "handler": factories.user(Role.handler, agency).email,
            "other_handler": factories.user(Role.handler, other).email,
            "coordinator": factories.user(Role.coordinator).email,
            "viewer": factories.user(Role.viewer, agency).email,
        }
        db.session.commit()
        agency_id = agency.id
    yield SimpleNamespace(folder=folder, agency=agency_id, emails=emails)
    app.config["ATTACHMENT_DIR"] = None


def _file_case(app, world, files) -> FeedbackCase:
    client = app.test_client()
    html = client.get("/feedback/new").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), **GOOD, "agency_id": str(world.agency)}
    data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    reply = client.post("/feedback/new", data=data, content_type="multipart/form-data")
    assert reply.status_code == 303, reply.get_data(as_text=True)[:500]
    with app.app_context():
        return db.session.scalar(select(FeedbackCase).order_by(FeedbackCase.id.desc()))


def _stored(app, case_id) -> list[tuple[Attachment, bytes]]:
    with app.app_context():
        rows = db.session.scalars(
            select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
        ).all()
        return [(a, attachments.path_of(a).read_bytes()) for a in rows]


def test_a_photo_is_re_encoded_without_its_exif_gps_comment_or_hidden_page(app, world):
    case = _file_case(app, world, [(_jpeg_with_gps(), "anh.jpg")])
    [(attachment, data)] = _stored(app, case.id)
    assert attachment.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (20, 60)  # turned upright, then stripped
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    for secret in (b"CAMERA-MAKER-7731", b"COMMENT-4410", b"<script", b"<html", b"GPS"):
        assert secret not in data
    assert attachment.size == len(data)


def test_a_png_polyglot_keeps_only_its_pixels(app, world):
    case = _file_case(app, world, [(_png_polyglot(), "giay.png")])
    [(attachment, data)] = _stored(app, case.id)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (12, 9) and image.mode == "RGBA"
    assert image.getpixel((0, 0)) == (0, 0, 255, 128)
    assert b"<script" not in data and b"PK\x03\x04" not in data and b"tEXt" not in data


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # a PNG signature and nothing behind it
        b"\xff\xd8\xff\xe0" + b"\x00" * 200 + SCRIPT,  # a JPEG start and a page
        _png_polyglot()[:60],  # a real PNG, cut short
    ],
    ids=["png-signature-only", "jpeg-start-and-html", "truncated-png"],
)
def test_a_photo_that_does_not_decode_is_refused_and_nothing_is_stored(app, world, content):
    client = app.test_client()
    html = client.get("/feedback/new").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), **GOOD, "attachments": [(io.BytesIO(content), "x.png")]}
    reply = client.post("/feedback/new", data=data, content_type="multipart/form-data")
    assert reply.status_code == 400
    assert "Không mở được tệp x.png dưới dạng ảnh" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FeedbackCase.id)) is None
    assert not world.folder.exists() or not list(world.folder.iterdir())


def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(app, world):
    out = io.BytesIO()
    Image.new("1", (8000, 7000)).save(out, format="PNG")  # 56 million pixels in a few KB
    client = app.test_client()
    html = client.get("/feedback/new").get_data(as_text=True)
    big = io.BytesIO(out.getvalue())
    data = {"csrf_token": csrf_from(html), **GOOD, "attachments": [(big, "to.png")]}
    reply = client.post("/feedback/new", data=data, content_type="multipart/form-data")
    assert reply.status_code == 400
    assert "quá nhiều điểm ảnh" in reply.get_data(as_text=True)


def test_a_large_photo_is_scaled_down(app):
    out = io.BytesIO()
    Image.new("RGB", (5000, 100), (1, 2, 3)).save(out, format="JPEG")
    with app.test_request_context():
        clean = Image.open(io.BytesIO(attachments.clean_image(out.getvalue(), "image/jpeg")))
    assert clean.size[0] == attachments.MAX_SIDE and clean.size[1] in (81, 82)


def test_files_are_written_0600_in_a_0700_folder_whatever_the_umask(app, world):
    old = os.umask(0)  # the most permissive: anything not set explicitly would be 0666/0777
    try:
        case = _file_case(app, world, [(_png_polyglot(), "a.png"), (PDF, "b.pdf")])
    finally:
        os.umask(old)
    stored = _stored(app, case.id)
    assert len(stored) == 2
    for attachment, _data in stored:
        mode = stat.S_IMODE((world.folder / attachment.stored_name).stat().st_mode)
        assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(world.folder.stat().st_mode) == 0o700


def test_a_folder_readable_by_others_is_narrowed_to_0700(app, world):
    world.folder.mkdir(mode=0o755)
    world.folder.chmod(0o755)
    with app.app_context():
        attachments.storage_dir()
    assert stat.S_IMODE(world.folder.stat().st_mode) == 0o700


def test_write_private_never_replaces_an_existing_file(tmp_path):
    target = tmp_path / "f.png"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        attachments.write_private(target, b"new")
    assert target.read_bytes() == b"old"


def _audit_reads(app) -> list[AuditLog]:
    with app.app_context():
        return db.session.scalars(
            select(AuditLog).where(AuditLog.action == "read_attachment")
        ).all()


def test_staff_open_a_photo_from_the_case_page_and_the_read_is_audited(app, world):
    case = _file_case(app, world, [(_png_polyglot(), "CCCD Nguyễn Văn An.png")])
    [(attachment, data)] = _stored(app, case.id)
    handler = logged_in(app, world.emails["handler"])
    page = handler.get(f"/staff/feedback/{case.id}").get_data(as_text=True)
    url = f"/staff/feedback/{case.id}/attachments/{attachment.id}"
    assert f'href="{url}"' in page
    assert _audit_reads(app) == []  # the page alone opens no file

    reply = handler.get(url)

    assert reply.status_code == 200 and reply.data == data
    assert reply.mimetype == "image/png"
    headers = reply.headers
    assert headers["Content-Disposition"].startswith("inline;")
    assert "CCCD" in headers["Content-Disposition"] and ".png" in headers["Content-Disposition"]
    directives = {d.strip() for d in headers["Content-Security-Policy"].split(";")}
    assert "sandbox" in directives and "default-src 'self'" in directives
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in headers["Cache-Control"]
    [line] = _audit_reads(app)
    assert line.case_id == case.id and line.detail == f"attachment {attachment.id}"
    assert "Nguyễn" not in line.detail  # the id, not the file's name


def test_a_pdf_is_only_ever_downloaded_under_a_sandbox(app, world):
    case = _file_case(app, world, [(PDF, "don <script>.html")])
    [(attachment, data)] = _stored(app, case.id)
    assert attachment.mimetype == "application/pdf" and data == PDF  # kept as sent
    coordinator = logged_in(app, world.emails["coordinator"])
    reply = coordinator.get(f"/staff/feedback/{case.id}/attachments/{attachment.id}")
    assert reply.status_code == 200 and reply.data == PDF
    assert reply.mimetype == "application/pdf"
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    # saved as what it is, whatever it was called
    assert re.search(r'filename="?don _script\.pdf"?$', disposition), disposition
    assert reply.headers["Content-Security-Policy"] == CSP + "; sandbox"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert len(_audit_reads(app)) == 1


def test_only_staff_who_see_the_case_open_its_attachments(app, world):
    case = _file_case(app, world, [(_png_polyglot(), "a.png")])
    other = _file_case(app, world, [(_png_polyglot(), "b.png")])
    [(attachment, _)] = _stored(app, case.id)
    [(other_attachment, _)] = _stored(app, other.id)
    url = f"/staff/feedback/{case.id}/attachments/{attachment.id}"
    assert app.test_client().get(url).status_code == 302  # to the login page
    assert logged_in(app, world.emails["viewer"]).get(url).status_code == 403
    assert logged_in(app, world.emails["other_handler"]).get(url).status_code == 404
    handler = logged_in(app, world.emails["handler"])
    # another case's file through this case's address
    mixed = f"/staff/feedback/{case.id}/attachments/{other_attachment.id}"
    assert handler.get(mixed).status_code == 404
    assert handler.get(f"/staff/feedback/{case.id}/attachments/999999").status_code == 404
    assert _audit_reads(app) == []
    # the row is there but the file is gone (restored without the folder): 404, not a 500
    with app.app_context():
        attachments.path_of(db.session.get(Attachment, attachment.id)).unlink()
    reply = handler.get(url)
    assert reply.status_code == 404 and "không còn được lưu" in reply.get_data(as_text=True)
    assert _audit_reads(app) == []
