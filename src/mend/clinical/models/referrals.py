"""Physician referrals: diagnoses, visits authorised, expiry and the scanned document."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinical import documents
from mend.clinical.models.episodes import Episode
from mend.clinics.models import Clinic
from mend.people.models import Client, ReferringProvider


def referral_upload_path(instance: Referral, filename: str) -> str:
    # A random name with the detected type's extension: the uploader's name is kept only as data.
    return documents.stored_path("referrals", instance.clinic_id, instance.client_id, instance.document_type)


class Referral(models.Model):
    """The physician's prescription for massage: diagnoses, what, how often, until when."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="referrals")
    provider = models.ForeignKey(
        ReferringProvider, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    referred_on = models.DateField("date of referral")
    received_on = models.DateField()
    diagnoses = models.JSONField(
        default=list, blank=True, help_text="ICD-10-CM codes with their official descriptions."
    )
    reason = models.TextField(blank=True)
    requested_treatment = models.TextField(blank=True)
    visits_authorised = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    frequency = models.CharField(max_length=60, blank=True, help_text="For example: 1× per week.")
    valid_until = models.DateField(null=True, blank=True)
    precautions = models.TextField(blank=True)
    document = models.FileField(upload_to=referral_upload_path, blank=True)
    document_type = models.CharField(max_length=60, blank=True)
    document_name = models.CharField("document's original name", max_length=255, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-referred_on", "-id"]

    def __str__(self) -> str:
        codes = ", ".join(d["code"] for d in self.diagnoses)
        return f"Referral of {self.referred_on:%Y-%m-%d} ({codes})"

    @property
    def diagnosis_codes(self) -> list[str]:
        return [d["code"] for d in self.diagnoses]

    @property
    def document_label(self) -> str:
        """The document's name as people know it: the name it was uploaded with (older uploads: the stored name)."""
        return self.document_name or PurePosixPath(self.document.name or "").name

    @property
    def document_kind(self) -> str:
        return documents.KINDS.get(self.document_type, "file")

    @property
    def document_download_name(self) -> str:
        return documents.download_name(PurePosixPath(self.document_label).stem, self.document_type, fallback="referral")
