"""What every clinical service shares: the write guards, the audit call, region and document checks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models

from mend import access, knowledge
from mend.audit.services import audit_record
from mend.clinical.models import (
    Episode,
)
from mend.clinical.screening import SIDES
from mend.platform.actor import Actor

HEALTH_HISTORY_VERSION = "2026.1"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class NoteLocked(PermissionDenied):
    """A signed note was about to change. Signed notes change only through addenda."""


class SigningRefused(ValidationError):
    pass


def require_write(actor: Actor, episode: Episode) -> None:
    access.require_clinical(actor)
    if episode.clinic_id != actor.clinic_id:
        raise ValueError("Clinical records are changed only within their own clinic.")


def require_open(episode: Episode) -> None:
    if not episode.is_open:
        raise ValidationError({"__all__": "This episode of care was discharged; open a new episode to record more."})


def audit(action: str, obj: models.Model, actor: Actor, client_id: int, *, digest: str = "") -> None:
    # The actor names the clinic and role, so a write made outside a request (a command, the demo
    # loader, an import) lands in its clinic's audit chain like one made from a page.
    audit_record(
        action=action,
        obj=obj,
        client_id=client_id,
        user=actor.user,
        clinic_id=actor.clinic_id,
        role=actor.role,
        digest=digest,
    )


def check_region(field: str, region: str, side: str, errors: dict[str, list[str]]) -> None:
    if region and region not in knowledge.body_regions():
        errors.setdefault(field, []).append(f"{region!r} is not a body region.")
    if side and side not in SIDES:
        errors.setdefault(field, []).append(f"Side must be left, right or both sides, not {side!r}.")


def check_document(upload: UploadedFile | None, field: str = "document") -> str:
    """The document's content type, read from its first bytes (not its name); size and type checked."""
    if upload is None:
        return ""
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({field: f"The file is {upload.size // (1024 * 1024)} MB; the limit is 10 MB."})
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in DOCUMENT_TYPES.items():
        if head.startswith(magic):
            return content_type
    raise ValidationError({field: "Attach a PDF, PNG or JPEG file."})
