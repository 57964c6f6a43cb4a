"""Screening: intake health history, pre-session checks, findings and physician clearances."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.validators import MaxValueValidator
from django.db import models

from mend.clinical import documents
from mend.clinical.models.common import SIDE_CHOICES
from mend.clinical.models.episodes import Episode
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client, ReferringProvider


class HealthHistory(models.Model):
    """The intake health-history questionnaire, as answered, in the version that asked it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="health_histories")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="health_histories")
    questionnaire_version = models.CharField(max_length=20)
    completed_on = models.DateField()
    conditions = models.TextField("current and past conditions", blank=True)
    medications = models.TextField(blank=True)
    surgeries = models.TextField("surgeries and dates", blank=True)
    implants = models.TextField("implants and devices", blank=True)
    pregnancy_weeks = models.PositiveSmallIntegerField(
        "weeks pregnant", null=True, blank=True, validators=[MaxValueValidator(45)]
    )
    skin_conditions = models.TextField(blank=True)
    allergies = models.TextField("allergies (oils, lotions, latex, nuts)", blank=True)
    symptoms = models.TextField("current symptoms", blank=True)
    # Every catalogue question's answer as given, by rule id: True for yes, False for no. A "no"
    # leaves no finding behind, so it is kept here; histories recorded before answers were
    # required have none (their "no" was the form's default, not the client's).
    answers = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        verbose_name_plural = "health histories"

    def __str__(self) -> str:
        return f"Health history of {self.completed_on:%Y-%m-%d}"


class PreSessionCheck(models.Model):
    """The short check at the start of every visit."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="checks")
    checked_on = models.DateField()
    fever = models.BooleanField("fever or feeling unwell with an infection today", default=False)
    new_symptoms = models.TextField(blank=True)
    new_medications = models.TextField(blank=True)
    able_to_consent = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_on", "-id"]

    def __str__(self) -> str:
        return f"Pre-session check of {self.checked_on:%Y-%m-%d}"


class FindingSource(models.TextChoices):
    HEALTH_HISTORY = "health_history", "Health history"
    PRE_SESSION = "pre_session", "Pre-session check"
    THERAPIST = "therapist", "Therapist"


class ScreeningFinding(models.Model):
    """One contraindication finding; the catalogue rule it names decides the actions.

    A finding from a pre-session check applies on that day only (``applies_on``); others hold
    until resolved.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="findings")
    rule_id = models.CharField("finding", max_length=40)
    region = models.CharField(max_length=20, blank=True)
    side = models.CharField(max_length=10, choices=SIDE_CHOICES, blank=True)
    note = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=20, choices=FindingSource.choices, default=FindingSource.THERAPIST)
    health_history = models.ForeignKey(
        HealthHistory, on_delete=models.CASCADE, null=True, blank=True, related_name="findings"
    )
    pre_session_check = models.ForeignKey(
        PreSessionCheck, on_delete=models.CASCADE, null=True, blank=True, related_name="findings"
    )
    recorded_on = models.DateField()
    applies_on = models.DateField(null=True, blank=True, help_text="Set for findings that hold for one day only.")
    resolved_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_on", "id"]

    def __str__(self) -> str:
        where = f" ({self.side} {self.region})" if self.region else ""
        return f"{self.rule_id}{where}"


def clearance_upload_path(instance: Clearance, filename: str) -> str:
    # A random name with the detected type's extension: the uploader's name is kept only as data.
    return documents.stored_path("clearances", instance.clinic_id, instance.client_id, instance.document_type)


class Clearance(models.Model):
    """A physician's clearance to treat despite a finding that needs one."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="clearances")
    rule_id = models.CharField("cleared finding", max_length=40)
    cleared_by = models.CharField("cleared by (name and profession)", max_length=150)
    provider = models.ForeignKey(ReferringProvider, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cleared_on = models.DateField()
    conditions = models.TextField("conditions of the clearance", blank=True)
    document = models.FileField(upload_to=clearance_upload_path, blank=True)
    document_type = models.CharField(max_length=60, blank=True)
    document_name = models.CharField("document's original name", max_length=255, blank=True)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-cleared_on", "-id"]

    def __str__(self) -> str:
        return f"Clearance for {self.rule_id} by {self.cleared_by}"

    @property
    def document_label(self) -> str:
        """The document's name as people know it: the name it was uploaded with (older uploads: the stored name)."""
        return self.document_name or PurePosixPath(self.document.name or "").name

    @property
    def document_kind(self) -> str:
        return documents.KINDS.get(self.document_type, "file")

    @property
    def document_download_name(self) -> str:
        return documents.download_name(
            PurePosixPath(self.document_label).stem, self.document_type, fallback="clearance"
        )
