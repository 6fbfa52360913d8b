"""Attachments: limited in size and type (by content, not name), stored outside the web root."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..extensions import db
from .models import Attachment, FeedbackCase

#: What citizens may attach: photos of papers and PDFs.
ALLOWED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
#: The names :func:`store` gives files; nothing else in the folder is ever deleted here.
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|pdf)")
#: A file younger than this may belong to a case being stored at this moment.
ORPHAN_GRACE = timedelta(days=1)


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
