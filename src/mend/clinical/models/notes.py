"""Treatment notes (SOAP) with their techniques, and the addenda that amend a signed note."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinical.models.common import SIDE_CHOICES, score_field
from mend.clinical.models.episodes import Episode
from mend.clinical.models.referrals import Referral
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class TreatmentNote(models.Model):
    """A SOAP note of one visit. Signed notes are immutable: changes are addenda."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="notes")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="notes")
    therapist = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    visit_on = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(180)]
    )
    status = models.CharField(max_length=10, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    # Subjective
    subjective = models.TextField("client report", blank=True)
    pain_pre = score_field("pain before (0–10)")
    sleep_quality = score_field("sleep quality since last visit (0–10)")
    stress = score_field("stress since last visit (0–10)")
    muscle_tension = score_field("muscle tension since last visit (0–10)")
    # Asked at every visit, as the client says it; the questionnaire "medication_days" (outcomes)
    # is a separate, self-reported measure and stays so.
    medication_days = models.PositiveSmallIntegerField(
        "days with pain medication in the last 7",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(7)],
    )
    medication_note = models.CharField("pain medication taken", max_length=200, blank=True)
    # Objective, treatment
    objective = models.TextField("objective findings", blank=True)
    modalities = models.JSONField(default=list, blank=True, help_text="heat, cold")
    # Assessment (response)
    pain_post = score_field("pain after (0–10)")
    response = models.TextField("client response", blank=True)
    adverse_events = models.TextField(blank=True)
    # Plan
    home_care = models.TextField("home care given", blank=True)
    plan_next = models.TextField("plan for next time", blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-visit_on", "-id"]
        indexes = [models.Index(fields=["episode", "-visit_on"], name="note_episode_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | (models.Q(signed_at__isnull=False) & ~models.Q(content_hash="")),
                name="signed_note_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment note of {self.visit_on:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED


class NoteTechnique(models.Model):
    """A technique applied in a session: technique × region × side × minutes × pressure."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(TreatmentNote, on_delete=models.CASCADE, related_name="techniques")
    technique = models.CharField(max_length=40)
    region = models.CharField(max_length=20)
    side = models.CharField(max_length=10, choices=SIDE_CHOICES, blank=True)
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(120)])
    pressure = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.technique} {self.side} {self.region} {self.minutes} min"


class Addendum(models.Model):
    """A signed addition to a signed note; the note itself never changes."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(TreatmentNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    reason = models.CharField(max_length=200, blank=True)
    signed_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum of {self.signed_at:%Y-%m-%d}"
