"""Uploaded clinical documents (referral scans, clearance letters): what is accepted and where it is kept.

The type is read from the file's bytes by puremagic, never taken from its name or the browser's
Content-Type. A document is stored under a random name with the extension of that detected type,
so nothing the uploader chose reaches a path on disk; the name it came with is kept as data
(``document_name``) and shown to people, with the detected type's extension when it is downloaded.
"""

from __future__ import annotations

import re
import uuid
from pathlib import PurePosixPath

import puremagic

# Detected MIME type → the type Mend serves it as, and the extension it is stored and downloaded with.
ALLOWED = {
    "application/pdf": ("application/pdf", ".pdf"),
    "image/jpeg": ("image/jpeg", ".jpg"),
    "image/png": ("image/png", ".png"),
    # Phones photograph letters as HEIC; document scanners write TIFF.
    "image/heic": ("image/heic", ".heic"),
    "image/heif": ("image/heic", ".heic"),
    "image/tiff": ("image/tiff", ".tif"),
}
ALLOWED_NAMES = "PDF, JPEG, PNG, HEIC or TIFF"
EXTENSIONS = dict(ALLOWED.values())
KINDS = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIC", "image/tiff": "TIFF"}
# Enough of the file's start for every signature above.
HEAD_BYTES = 8192
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def detect(head: bytes) -> str | None:
    """The content type Mend stores ``head``'s file as, or None when it is not an accepted document."""
    if not head:
        return None
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in sorted(matches, key=lambda m: -m.confidence):
        if match.mime_type in ALLOWED:
            return ALLOWED[match.mime_type][0]
    return None


def stored_path(folder: str, clinic_id: int, client_id: int, content_type: str) -> str:
    """A fresh random path for a document of ``content_type`` (an ``upload_to`` for the models)."""
    return f"{folder}/{clinic_id}/{client_id}/{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '.bin')}"


def original_name(name: str | None) -> str:
    """The uploader's file name as data: its last path part, without control characters, 255 at most."""
    cleaned = _UNPRINTABLE.sub("", PurePosixPath((name or "").replace("\\", "/")).name).strip()
    return cleaned[:255]


def download_name(original: str, content_type: str, fallback: str) -> str:
    """The name a download is offered under: the uploader's name with the detected type's extension."""
    stem = PurePosixPath(original).stem if original else ""
    return f"{stem or fallback}{EXTENSIONS.get(content_type, '')}"
