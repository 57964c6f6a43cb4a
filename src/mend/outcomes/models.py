"""Outcome-measure responses and the emailed links that collect them remotely.

A response keeps the answers exactly as given (published item order, ``None`` for a blank) and
the score computed from them with the scoring version that computed it, so a later change of a
scoring rule never silently rewrites history. ``value`` is ``None`` when the instrument's rules
say the score cannot be computed: never 0.
"""

from __future__ import annotations

from django.db import models

from mend.clinical.models import Episode, TreatmentNote
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client


class Source(models.TextChoices):
    CLINIC = "clinic", "In clinic"
    REMOTE = "remote", "Remote (emailed link)"


class QuestionnaireLink(models.Model):
    """A signed, expiring, single-use link to answer some measures without signing in.

    Only a SHA-256 of the token's random part is stored: someone reading the database cannot
    rebuild a working link. ``used_at`` is claimed with a conditional update (see
    ``services.link_redeem``), so two submissions racing each other record once.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="questionnaire_links")
    token_hash = models.CharField(max_length=64, unique=True)
    measures = models.JSONField(help_text="Measure ids to ask, in order.")
    sent_to = models.EmailField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Questionnaire link to {self.sent_to} ({', '.join(self.measures)})"


class MeasureResponse(models.Model):
    """One completed outcome measure: the answers as given and the score computed from them."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="measure_responses")
    measure_id = models.CharField("measure", max_length=20)
    answers = models.JSONField(help_text="Item values in the published order; null for an unanswered item.")
    item_labels = models.JSONField(default=list, blank=True, help_text="PSFS: the activities the client rated.")
    value = models.FloatField(null=True, blank=True, help_text="Unrounded score; null when not computable.")
    band = models.CharField(max_length=60, blank=True)
    raw = models.FloatField(null=True, blank=True, help_text="Raw score where the measure has one (NDI 0–50).")
    answered = models.PositiveSmallIntegerField(default=0)
    scoring_version = models.CharField(max_length=20)
    collected_on = models.DateField()
    collected_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINIC)
    session_number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Signed visits of the episode up to the day it was collected."
    )
    note = models.ForeignKey(TreatmentNote, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    link = models.ForeignKey(QuestionnaireLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Empty for remote."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collected_on", "collected_at", "id"]
        indexes = [
            models.Index(fields=["episode", "measure_id", "collected_on"], name="response_episode_idx"),
            # The evidence report reads a clinic's responses by measure and date, joined to the
            # episode for its condition and therapist.
            models.Index(fields=["clinic", "measure_id", "collected_on"], name="response_clinic_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source="remote") | models.Q(recorded_by__isnull=False),
                name="clinic_response_has_recorder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} of {self.collected_on:%Y-%m-%d}"

    @property
    def computable(self) -> bool:
        return self.value is not None
