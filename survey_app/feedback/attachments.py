"""Attachments: limited in size and type (by content, not name), stored outside the web root.

Photos are decoded and written anew (:func:`check_upload`): what is stored is
only their pixels, so EXIF (GPS position, camera, date), comments and anything
hidden after or between the image's chunks (a polyglot: an image that is also
HTML, a script or an archive) are gone, and a file that does not decode is
refused. PDFs cannot be cleaned that way: they are stored as sent and only ever
served as downloads under a sandboxing Content-Security-Policy (:func:`send`).
Files are written with mode 0600 in a directory of mode 0700: the service's
account alone reads them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import stat
import struct
import time
import warnings
import zlib
from datetime import timedelta
from pathlib import Path

import filetype
from flask import Response, current_app, send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..core.security import CSP
from ..extensions import db
from .models import Attachment, FeedbackCase

log = logging.getLogger(__name__)

#: What citizens may attach: photos of papers and PDFs.
ALLOWED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
#: Photos, decoded and re-encoded on upload (Pillow's format names).
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
#: The names :func:`store` gives files; nothing else in the folder is ever deleted here.
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|pdf)")
#: A file younger than this may belong to a case being stored at this moment.
ORPHAN_GRACE = timedelta(days=1)
#: A photo with more pixels is refused before it is decoded (a small file can
#: declare a huge image: decoding it would take gigabytes).
MAX_PIXELS = 50_000_000
#: Longer sides are scaled down to this (a phone photo of a page stays legible).
MAX_SIDE = 4096
#: Attachments are served under the site's policy plus ``sandbox``: should a file
#: ever be rendered as a page, it runs no script and has no access to the site.
ATTACHMENT_CSP = CSP + "; sandbox"
#: What Pillow raises on a file it cannot decode (its plugins use all of these).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


class AttachmentError(ValueError):
    """The file is refused; the message is shown to the citizen."""


def storage_dir() -> Path:
    """The attachments' folder, created with mode 0700 (and narrowed to it if it was wider)."""
    path = Path(
        current_app.config["ATTACHMENT_DIR"] or Path(current_app.instance_path) / "attachments"
    )
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        try:
            path.chmod(0o700)
        except OSError as exc:  # not ours: the operator set it up; say so, do not fail uploads
            log.warning("attachment folder %s is readable by others: %s", path, exc)
    return path


def check_upload(upload: FileStorage) -> tuple[bytes, str]:
    """Read and check one upload; return the bytes to store and the detected MIME type.

    A photo comes back decoded and encoded anew (see :func:`clean_image`); a PDF as sent.

    :raises AttachmentError: too large, empty, not a JPEG, PNG or PDF by content, or a
        photo that does not decode.
    """
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    if not data:
        raise AttachmentError(_l("The file %(name)s is empty.", name=upload.filename or "?"))
    if len(data) > limit:
        raise AttachmentError(
            _l(
                "The file %(name)s is larger than %(mb)d MB.",
                name=upload.filename or "?",
                mb=limit // (1024 * 1024),
            )
        )
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise AttachmentError(
            _l(
                "The file %(name)s is not a photo (JPEG, PNG) or a PDF.",
                name=upload.filename or "?",
            )
        )
    if kind.mime in IMAGE_FORMATS:
        return clean_image(data, kind.mime, upload.filename or "?"), kind.mime
    return data, kind.mime


def clean_image(data: bytes, mimetype: str, name: str = "?") -> bytes:
    """The photo in ``data`` decoded and encoded anew in the same format: its pixels only.

    EXIF (GPS position, camera, time), comments, colour profiles, text chunks, extra
    frames and whatever else the file carried besides the picture are dropped; the
    EXIF orientation is applied first, so the photo still stands the right way up.
    Sides longer than :data:`MAX_SIDE` are scaled down.

    :param mimetype: ``image/jpeg`` or ``image/png``, as detected from the content.
    :param name: the file's name, for the message.
    :raises AttachmentError: the file does not decode as that format, or is too large an image.
    """
    fmt = IMAGE_FORMATS[mimetype]
    unreadable = AttachmentError(
        _l("The file %(name)s cannot be opened as a photo; it may be damaged.", name=name)
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns up to twice its own limit; a warning is a refusal here
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise AttachmentError(
                        _l(
                            "The photo %(name)s has too many pixels (at most %(n)d million).",
                            name=name,
                            n=MAX_PIXELS // 1_000_000,
                        )
                    )
                if fmt == "JPEG":  # decode a large photo at half, quarter… size: less memory
                    image.draft("RGB", (MAX_SIDE, MAX_SIDE))
                image.load()
                clean = ImageOps.exif_transpose(image)  # a copy, upright
            if clean.mode == "PA" or "transparency" in clean.info:
                clean = clean.convert("RGBA")  # (before info, which holds the transparency, goes)
            elif clean.mode == "P":
                clean = clean.convert("RGB")  # no palette: nothing can hide in one
            if clean.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float greys
                clean = clean.convert("F").point(lambda v: v / 256).convert("L")
            if fmt == "JPEG" and clean.mode not in ("L", "RGB"):
                clean = clean.convert("RGB")
            elif fmt == "PNG" and clean.mode not in ("1", "L", "LA", "RGB", "RGBA"):
                clean = clean.convert("RGBA")
            clean.thumbnail((MAX_SIDE, MAX_SIDE))
            clean.info = {}  # Pillow would otherwise copy a comment or an ICC profile over
            out = io.BytesIO()
            if fmt == "JPEG":
                clean.save(out, format="JPEG", quality=90)
            else:
                clean.save(out, format="PNG")
    except AttachmentError:
        raise
    except _DECODE_ERRORS as exc:
        log.info("attachment refused: %s does not decode: %s", mimetype, type(exc).__name__)
        raise unreadable from exc
    return out.getvalue()


def store(case: FeedbackCase, upload: FileStorage, data: bytes, mimetype: str) -> Attachment:
    """Write the file (as :func:`check_upload` returned it) under a random name, mode 0600,
    and record it on the case."""
    stored_name = f"{secrets.token_hex(16)}.{ALLOWED_TYPES[mimetype]}"
    write_private(storage_dir() / stored_name, data)
    original = Path(upload.filename or "file").name[:255]
    attachment = Attachment(
        stored_name=stored_name,
        original_name=original,
        mimetype=mimetype,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    case.attachments.append(attachment)
    return attachment


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` (which must not exist) with mode 0600, whatever the umask, and write ``data``.

    The mode is given at creation, so the file is never readable by others, not even
    for an instant, and set again with ``fchmod``, since a umask can only narrow it.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def discard(stored: list[Attachment]) -> None:
    """Delete the files of attachments whose case was not stored after all."""
    for attachment in stored:
        path_of(attachment).unlink(missing_ok=True)


def sweep_orphans(grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete attachment files that no case refers to, written more than ``grace`` ago.

    A worker killed between writing a citizen's file and committing the case
    leaves the file behind with no row: personal data that no retention rule
    would ever reach. Returns how many files were deleted.
    """
    folder = storage_dir()
    known = set(db.session.scalars(select(Attachment.stored_name)))
    cutoff = time.time() - grace.total_seconds()
    removed = 0
    for path in folder.iterdir():
        if (
            STORED_NAME.fullmatch(path.name)
            and path.name not in known
            and path.is_file()
            and path.stat().st_mtime < cutoff
        ):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def path_of(attachment: Attachment) -> Path:
    return storage_dir() / attachment.stored_name


def download_name(attachment: Attachment) -> str:
    """The name the browser saves the file under: the citizen's name for it, made safe,
    with the extension of what it really is (a PDF named ``x.html`` is saved as ``x.pdf``)."""
    stem = Path(attachment.original_name).stem
    stem = re.sub(r"[^\w\- ]+", "_", stem).strip(" ._")[:80] or "tep-dinh-kem"
    return f"{stem}.{ALLOWED_TYPES[attachment.mimetype]}"


def send(attachment: Attachment) -> Response:
    """The stored file as a response: photos shown in the browser, PDFs only downloaded.

    Every attachment is sent with its detected type, ``nosniff``, a sandboxing
    Content-Security-Policy and ``no-store`` (it is personal data).
    """
    is_image = attachment.mimetype in IMAGE_FORMATS
    response = send_file(
        path_of(attachment),
        mimetype=attachment.mimetype,
        as_attachment=not is_image,
        download_name=download_name(attachment),
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = ATTACHMENT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# -- files kept while the citizen corrects the form ------------------------------------
# A browser cannot refill a file input: a page shown again (a mistake to correct, the
# question whether the text is a complaint, an expired page) would lose the photos the
# citizen chose. So checked files are written at once, as :func:`store` writes them,
# and the page carries a signed token per file; the case takes them when it is stored.
# One never taken (the citizen gave up) is an orphan: :func:`sweep_orphans` deletes it.

#: A kept file's token is refused after this many seconds (the sweep's grace is longer).
KEPT_MAX_AGE = 12 * 3600


def _kept_signer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hailong.kept-upload")


def keep(upload: FileStorage, data: bytes, mimetype: str) -> dict:
    """Write a checked file (as :func:`check_upload` returned it) before its case exists.

    :return: what :func:`store_kept` needs, with ``token``: the signed value the page
        carries (only this server can make one, so a page cannot name another's file).
    """
    stored_name = f"{secrets.token_hex(16)}.{ALLOWED_TYPES[mimetype]}"
    write_private(storage_dir() / stored_name, data)
    info = {
        "n": stored_name,
        "o": Path(upload.filename or "file").name[:255],
        "m": mimetype,
        "s": len(data),
        "h": hashlib.sha256(data).hexdigest(),
    }
    return {**info, "token": _kept_signer().dumps(info)}


def kept(token: str) -> dict | None:
    """The kept file a page's token names, or None (forged, too old, its file gone, or
    already taken by a case: a page sent again after the back button)."""
    from itsdangerous import BadSignature

    try:
        info = _kept_signer().loads(token, max_age=KEPT_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(info, dict) or not STORED_NAME.fullmatch(str(info.get("n", ""))):
        return None
    if not (storage_dir() / info["n"]).is_file():
        return None
    taken = db.session.scalar(select(Attachment.id).where(Attachment.stored_name == info["n"]))
    if taken is not None:
        return None
    return {**info, "token": token}


def store_kept(case: FeedbackCase, info: dict) -> Attachment:
    """Record a kept file (:func:`keep`) on ``case``: the file is already written."""
    attachment = Attachment(
        stored_name=info["n"],
        original_name=info["o"],
        mimetype=info["m"],
        size=info["s"],
        sha256=info["h"],
    )
    case.attachments.append(attachment)
    return attachment


def discard_kept(infos: list[dict]) -> None:
    """Delete kept files no case will take (a complaint's record keeps no files)."""
    for info in infos:
        (storage_dir() / info["n"]).unlink(missing_ok=True)
