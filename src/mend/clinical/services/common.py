"""What every clinical service shares: the write guards, the audit call, region and document checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from mend import access, knowledge
from mend.audit.services import audit_record
from mend.clinical import documents
from mend.clinical.models import (
    Episode,
)
from mend.clinical.screening import SIDES
from mend.platform.actor import Actor

HEALTH_HISTORY_VERSION = "2026.1"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


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


def check_document(upload: UploadedFile | None, field: str = "document", label: str = "The document") -> str:
    """The document's content type, detected from its bytes (not its name); size and type checked."""
    if upload is None:
        return ""
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            {field: f"{label} is {upload.size // (1024 * 1024)} MB; the limit is {MAX_DOCUMENT_BYTES // 2**20} MB."}
        )
    upload.seek(0)
    head = upload.read(documents.HEAD_BYTES)
    upload.seek(0)
    content_type = documents.detect(head)
    if content_type is None:
        raise ValidationError(
            {field: f"{label} must be a {documents.ALLOWED_NAMES} file; {upload.name or 'this file'} is not."}
        )
    return content_type


@contextmanager
def storing_document(field: FieldFile, upload: UploadedFile | None) -> Iterator[None]:
    """Store ``upload`` in ``field`` under a fresh random name for the write inside the block.

    If the block raises, the new file is removed again. The file it replaces is deleted once the
    transaction commits (a rolled-back write keeps it), so no file is left on disk that no row names.
    """
    if upload is None:
        yield
        return
    old = field.name
    field.save(documents.original_name(upload.name) or "document", upload, save=False)
    new, storage = field.name, field.storage
    try:
        yield
    except BaseException:
        if new:
            storage.delete(new)
        field.name = old
        raise
    if old:
        transaction.on_commit(lambda: storage.delete(old))
