"""Attachments: limited in size and type (by content, not name), stored outside the web root."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from .models import Attachment, FeedbackCase

#: What citizens may attach: photos of papers and PDFs.
ALLOWED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


class AttachmentError(ValueError):
    """The file is refused; the message is shown to the citizen."""


def storage_dir() -> Path:
    path = Path(
        current_app.config["ATTACHMENT_DIR"] or Path(current_app.instance_path) / "attachments"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_upload(upload: FileStorage) -> tuple[bytes, str]:
    """Read and check one upload; return its bytes and detected MIME type.

    :raises AttachmentError: too large, empty, or not a JPEG, PNG or PDF by content.
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
    return data, kind.mime


def store(case: FeedbackCase, upload: FileStorage, data: bytes, mimetype: str) -> Attachment:
    """Write the file under a random name and record it on the case."""
    stored_name = f"{secrets.token_hex(16)}.{ALLOWED_TYPES[mimetype]}"
    (storage_dir() / stored_name).write_bytes(data)
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


def discard(stored: list[Attachment]) -> None:
    """Delete the files of attachments whose case was not stored after all."""
    for attachment in stored:
        path_of(attachment).unlink(missing_ok=True)


def path_of(attachment: Attachment) -> Path:
    return storage_dir() / attachment.stored_name
