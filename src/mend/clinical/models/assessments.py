"""Assessments: pain map, range of motion, PSFS and palpation."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinical.models.common import SIDE_CHOICES, score_field
from mend.clinical.models.episodes import Episode
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client


class AssessmentKind(models.TextChoices):
    INITIAL = "initial", "Initial assessment"
    RE_EVALUATION = "re_evaluation", "Re-evaluation"


class Assessment(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(max_length=20, choices=AssessmentKind.choices, default=AssessmentKind.INITIAL)
    assessed_on = models.DateField()
    therapist = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    chief_complaint = models.TextField()
    history = models.TextField("history of the complaint", blank=True)
    nprs = score_field("pain now (NPRS 0–10)")
    posture = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.assessed_on:%Y-%m-%d}"


class PainQuality(models.TextChoices):
    ACHING = "aching", "Aching"
    SHARP = "sharp", "Sharp"
    BURNING = "burning", "Burning"
    TINGLING = "tingling", "Tingling / pins and needles"
    NUMB = "numb", "Numb"
    STIFF = "stiff", "Stiff"
    THROBBING = "throbbing", "Throbbing"


class PainRegion(models.Model):
    """One region on the pain map of an assessment."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="pain_regions")
    region = models.CharField(max_length=20)
    side = models.CharField(max_length=10, choices=SIDE_CHOICES, blank=True)
    intensity = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    quality = models.CharField(max_length=12, choices=PainQuality.choices, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(intensity__lte=10), name="pain_intensity_0_10"),
            models.UniqueConstraint(fields=["assessment", "region", "side"], name="pain_region_once"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.region}: {self.intensity}/10".strip()


class RomMode(models.TextChoices):
    ACTIVE = "active", "Active"
    PASSIVE = "passive", "Passive"


class RomMeasurement(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="rom")
    motion = models.CharField(max_length=40, help_text="A joint motion from the norm table.")
    side = models.CharField(max_length=10, choices=SIDE_CHOICES, blank=True)
    mode = models.CharField(max_length=10, choices=RomMode.choices, default=RomMode.ACTIVE)
    degrees = models.PositiveSmallIntegerField(validators=[MaxValueValidator(360)])

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(degrees__lte=360), name="rom_degrees_0_360")]

    def __str__(self) -> str:
        return f"{self.motion} {self.side} {self.degrees}°"


class PsfsActivity(models.Model):
    """Patient-Specific Functional Scale: an activity the client finds hard, scored 0 (unable) – 10."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="psfs")
    activity = models.CharField(max_length=120)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "PSFS activities"

    def __str__(self) -> str:
        return f"{self.activity}: {self.score}/10"


class PalpationKind(models.TextChoices):
    TRIGGER_POINT = "trigger_point", "Trigger point"
    HYPERTONIC = "hypertonic", "Increased tone"
    HYPOTONIC = "hypotonic", "Decreased tone"
    ADHESION = "adhesion", "Adhesion / restriction"
    TENDER = "tender", "Tenderness"
    SPASM = "spasm", "Spasm"
    EDEMA = "edema", "Swelling"


class PalpationFinding(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="palpation")
    region = models.CharField(max_length=20)
    side = models.CharField(max_length=10, choices=SIDE_CHOICES, blank=True)
    kind = models.CharField(max_length=20, choices=PalpationKind.choices)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.side} {self.region}"
