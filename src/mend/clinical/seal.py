"""Seals of signed notes and addenda: keyed HMACs whose key lives outside the database.

A signature's seal is ``HMAC-SHA256(seal key, canonical content)``; the seal key is derived
from the audit key (``MEND_AUDIT_KEY``), which is kept out of the database and its backups. So
someone able to write the database can change a signed note's text but cannot make a seal that
matches it. The seal is also written into the audit chain when the note is signed, so
``mend audit verify`` notices a note whose seal no longer matches the one the chain recorded.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from mend.audit.models import AuditEvent
from mend.clinical import rules
from mend.clinical.models import Addendum, NoteStatus, TreatmentNote
from mend.clinical.queries.notes import addendum_content, note_content

# Domain separation: the audit chain and the note seals must never share a key directly.
_LABEL = b"mend/clinical/seal/v1"
NOTE_TYPE = TreatmentNote._meta.label_lower
ADDENDUM_TYPE = Addendum._meta.label_lower


def seal_key() -> bytes:
    return hmac.new(settings.MEND_AUDIT_KEY.encode(), _LABEL, hashlib.sha256).digest()


def seal(content: Mapping[str, Any]) -> str:
    return rules.content_seal(seal_key(), content)


def note_seal_ok(note: TreatmentNote) -> bool:
    """Whether a signed note still holds what was signed (its techniques prefetched or loaded)."""
    content = note_content(note, list(note.techniques.all()))
    return note.is_signed and rules.seal_matches(seal_key(), content, note.content_hash)


def addendum_seal_ok(addendum: Addendum, note: TreatmentNote) -> bool:
    return rules.seal_matches(seal_key(), addendum_content(addendum, note), addendum.content_hash)


def _recorded_seals(clinic_id: int | None) -> dict[tuple[str, str], str]:
    """The newest seal the audit chain recorded for each note and addendum (one query)."""
    events = AuditEvent.objects.filter(object_type__in=[NOTE_TYPE, ADDENDUM_TYPE]).exclude(digest="")
    if clinic_id is not None:
        events = events.filter(clinic_id=clinic_id)
    found: dict[tuple[str, str], str] = {}
    rows = events.order_by("at", "seq").values_list("object_type", "object_id", "digest")
    for object_type, object_id, digest in rows:
        found[(object_type, object_id)] = digest
    return found


def verify_seals(clinic_id: int | None) -> list[str]:
    """Every signed note and addendum of a clinic (None: all clinics) whose content no longer
    matches its seal, or whose seal differs from the one the audit chain recorded at signing.

    Registered in ``settings.MEND_AUDIT_VERIFIERS``, so ``mend audit verify`` runs it.
    """
    key = seal_key()
    problems: list[str] = []
    notes = TreatmentNote.objects.filter(status=NoteStatus.SIGNED).prefetch_related("techniques").order_by("pk")
    addenda = Addendum.objects.select_related("note").order_by("pk")
    if clinic_id is not None:
        notes, addenda = notes.filter(clinic_id=clinic_id), addenda.filter(clinic_id=clinic_id)
    recorded = _recorded_seals(clinic_id)
    for note in notes.iterator(chunk_size=500):
        where = f"treatment note {note.pk} (clinic {note.clinic_id})"
        if not rules.seal_matches(key, note_content(note, list(note.techniques.all())), note.content_hash):
            problems.append(f"{where}: its content does not match its seal; it was changed after signing.")
        chained = recorded.get((NOTE_TYPE, str(note.pk)))
        if chained is None:
            problems.append(f"{where}: the audit chain holds no seal for its signature.")
        elif not hmac.compare_digest(chained, note.content_hash):
            problems.append(f"{where}: its seal differs from the one the audit chain recorded when it was signed.")
    for addendum in addenda.iterator(chunk_size=500):
        where = f"addendum {addendum.pk} of treatment note {addendum.note_id} (clinic {addendum.clinic_id})"
        if not rules.seal_matches(key, addendum_content(addendum, addendum.note), addendum.content_hash):
            problems.append(f"{where}: its content does not match its seal; it was changed after signing.")
        chained = recorded.get((ADDENDUM_TYPE, str(addendum.pk)))
        if chained is None:
            problems.append(f"{where}: the audit chain holds no seal for its signature.")
        elif not hmac.compare_digest(chained, addendum.content_hash):
            problems.append(f"{where}: its seal differs from the one the audit chain recorded when it was signed.")
    return problems
