"""Seal the notes and addenda signed before keyed seals with the keyed seal, and record each seal
in the audit chain.

Until now a signature stored a bare SHA-256 of the content, which anyone able to write the
database could recompute after changing the text. Each signed note or addendum whose SHA-256
still matches its content (so it is what was signed) gets the keyed seal of
``mend.clinical.seal`` and an audit row carrying that seal, as ``note_sign`` records one. A note
whose hash no longer matches is left as it stands: it was changed after signing, and
``mend audit verify`` and the note page keep saying so.

Why a migration may seal: the operator running ``migrate`` holds the database and the key, the
same trust as whoever starts the app. The immutability triggers refuse these UPDATEs, so they are
dropped for the duration and re-created from 0002's own statements, inside the transaction.

Backwards, seals that verify are turned back into the bare SHA-256 the old code checks; the audit
rows stay (the trail is append-only).
"""

import hashlib
import importlib
from typing import Any

from django.db import migrations

_triggers = importlib.import_module("mend.clinical.migrations.0002_signed_notes_immutable")
_DROP = {"sqlite": _triggers.SQLITE_DOWN, "postgresql": _triggers.POSTGRES_DOWN}
_CREATE = {"sqlite": _triggers.SQLITE_UP, "postgresql": _triggers.POSTGRES_UP}


def _execute(schema_editor, statements):
    for statement in statements[schema_editor.connection.vendor]:
        schema_editor.execute(statement, params=None)


def _legacy(content):
    from mend.clinical.rules import canonical

    return hashlib.sha256(canonical(content)).hexdigest()


def _signed(apps):
    TreatmentNote = apps.get_model("clinical", "TreatmentNote")
    NoteTechnique = apps.get_model("clinical", "NoteTechnique")
    Addendum = apps.get_model("clinical", "Addendum")
    notes = list(TreatmentNote.objects.filter(status="signed").order_by("pk"))
    techniques: dict[int, list[Any]] = {}
    for technique in NoteTechnique.objects.filter(note__status="signed").order_by("pk"):
        techniques.setdefault(technique.note_id, []).append(technique)
    addenda = list(Addendum.objects.order_by("pk"))
    return TreatmentNote, Addendum, notes, techniques, addenda


def seal_legacy(apps, schema_editor):
    from mend.audit.services import audit_record
    from mend.clinical.queries.notes import note_content
    from mend.clinical.seal import seal

    TreatmentNote, Addendum, notes, techniques, addenda = _signed(apps)
    if not notes and not addenda:
        return
    _execute(schema_editor, _DROP)
    old_hash, by_pk = {}, {}
    for note in notes:
        by_pk[note.pk] = note
        old_hash[note.pk] = note.content_hash
        content = note_content(note, techniques.get(note.pk, []))
        if note.content_hash != _legacy(content):
            continue  # already keyed, or changed after signing: leave it for verify to report
        note.content_hash = seal(content)
        TreatmentNote.objects.filter(pk=note.pk).update(content_hash=note.content_hash)
        audit_record(
            action="update",
            object_type="clinical.treatmentnote",
            object_id=note.pk,
            client_id=note.client_id,
            clinic_id=note.clinic_id,
            digest=note.content_hash,
        )
    for addendum in addenda:
        note = by_pk.get(addendum.note_id)
        if note is None:
            continue
        legacy = {
            "note": note.pk,
            "note_hash": old_hash[note.pk],
            "text": addendum.text,
            "reason": addendum.reason,
            "at": addendum.signed_at,
        }
        if addendum.content_hash != _legacy(legacy):
            continue
        keyed = {
            "note": note.pk,
            "note_seal": note.content_hash,
            "text": addendum.text,
            "reason": addendum.reason,
            "at": addendum.signed_at,
            "by": addendum.signed_by_id,
        }
        addendum.content_hash = seal(keyed)
        Addendum.objects.filter(pk=addendum.pk).update(content_hash=addendum.content_hash)
        audit_record(
            action="create",
            object_type="clinical.addendum",
            object_id=addendum.pk,
            client_id=note.client_id,
            clinic_id=addendum.clinic_id,
            digest=addendum.content_hash,
        )
    _execute(schema_editor, _CREATE)


def unseal(apps, schema_editor):
    from mend.clinical.queries.notes import note_content
    from mend.clinical.seal import seal

    TreatmentNote, Addendum, notes, techniques, addenda = _signed(apps)
    if not notes and not addenda:
        return
    _execute(schema_editor, _DROP)
    keyed_hash, by_pk = {}, {}
    for note in notes:
        by_pk[note.pk] = note
        keyed_hash[note.pk] = note.content_hash
        content = note_content(note, techniques.get(note.pk, []))
        if note.content_hash == seal(content):
            note.content_hash = _legacy(content)
            TreatmentNote.objects.filter(pk=note.pk).update(content_hash=note.content_hash)
    for addendum in addenda:
        note = by_pk.get(addendum.note_id)
        if note is None:
            continue
        keyed = {
            "note": note.pk,
            "note_seal": keyed_hash[note.pk],
            "text": addendum.text,
            "reason": addendum.reason,
            "at": addendum.signed_at,
            "by": addendum.signed_by_id,
        }
        if addendum.content_hash == seal(keyed):
            legacy = {
                "note": note.pk,
                "note_hash": note.content_hash,
                "text": addendum.text,
                "reason": addendum.reason,
                "at": addendum.signed_at,
            }
            Addendum.objects.filter(pk=addendum.pk).update(content_hash=_legacy(legacy))
    _execute(schema_editor, _CREATE)


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0003_plan_measure_schedules"),
        ("audit", "0004_relink_chains_per_clinic"),
    ]

    operations = [migrations.RunPython(seal_legacy, unseal)]
