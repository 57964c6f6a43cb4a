"""Writes of referrals: record with ICD-10-CM diagnoses and the document, close."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from mend.audit.models import Action as AuditAction
from mend.clinical import documents, icd10
from mend.clinical.models import (
    Episode,
    Referral,
)
from mend.clinical.services.common import (
    audit,
    check_document,
    require_open,
    require_write,
    storing_document,
)
from mend.people.models import ReferringProvider
from mend.platform.actor import Actor
from mend.writes import apply_fields, editable_fields, merge_errors

# --- Referral -----------------------------------------------------------------------------

REFERRAL_FIELDS = editable_fields(
    Referral,
    {"clinic", "client", "episode", "diagnoses", "document", "document_type", "document_name", "closed_at", "provider"},
)


def _diagnoses(codes: Iterable[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    problems: list[str] = []
    for raw in codes:
        if not str(raw).strip():
            continue
        try:
            code = icd10.lookup(str(raw))
        except icd10.InvalidCode as error:
            problems.append(str(error))
            continue
        if code.code not in {d["code"] for d in found}:
            found.append({"code": code.code, "description": code.description})
    if problems:
        raise ValidationError({"diagnoses": problems})
    if not found:
        raise ValidationError({"diagnoses": "Add at least one ICD-10-CM diagnosis from the referral."})
    return found


@transaction.atomic
def referral_save(
    *,
    actor: Actor,
    episode: Episode,
    data: Mapping[str, Any],
    diagnoses: Sequence[str],
    provider: ReferringProvider | None = None,
    document: UploadedFile | None = None,
    referral: Referral | None = None,
) -> Referral:
    require_write(actor, episode)
    require_open(episode)
    created = referral is None
    referral = referral or Referral(clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode)
    if referral.episode_id != episode.pk:
        raise ValueError("That referral belongs to another episode.")
    if provider is not None and provider.clinic_id != actor.clinic_id:
        raise ValidationError({"provider": "Choose a referring provider of this clinic."})
    apply_fields(referral, data, REFERRAL_FIELDS)
    referral.provider = provider
    if not referral.received_on:
        referral.received_on = actor.today()
    errors: dict[str, list[str]] = {}
    try:
        referral.diagnoses = _diagnoses(diagnoses)
    except ValidationError as error:
        errors.update(error.message_dict)
    today = actor.today()
    if referral.referred_on and referral.referred_on > today:
        errors.setdefault("referred_on", []).append("The referral date cannot be in the future.")
    if referral.referred_on and referral.valid_until and referral.valid_until < referral.referred_on:
        errors.setdefault("valid_until", []).append(
            f"The referral would have expired on {referral.valid_until:%Y-%m-%d}, before it was written "
            f"on {referral.referred_on:%Y-%m-%d}. Check both dates."
        )
    try:
        referral.document_type = check_document(document, label="The referral document") or referral.document_type
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        referral.full_clean(exclude=["diagnoses", "document"])
    except ValidationError as error:
        merge_errors(errors, error)
    if errors:
        raise ValidationError(errors)
    if document is not None:
        referral.document_name = documents.original_name(document.name)
    # A replaced document is deleted once this write commits: the referral keeps one document.
    with storing_document(referral.document, document):
        referral.save()
        audit(AuditAction.CREATE if created else AuditAction.UPDATE, referral, actor, episode.client_id)
    return referral


@transaction.atomic
def referral_close(*, actor: Actor, referral: Referral) -> Referral:
    """Close the referral: no further visit counts against it. Closing a closed one changes nothing;
    a discharged episode's record is read-only (its referrals were closed at discharge)."""
    require_write(actor, referral.episode)
    if referral.closed_at is None:
        require_open(referral.episode)
        Referral.objects.filter(pk=referral.pk, closed_at__isnull=True).update(closed_at=timezone.now())
        referral.refresh_from_db(fields=["closed_at"])
        audit(AuditAction.UPDATE, referral, actor, referral.client_id)
    return referral
