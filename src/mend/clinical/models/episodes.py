"""The episode of care: one problem of one client, from referral to discharge."""

from __future__ import annotations

from django.db import models

from mend.clinics.models import Clinic, Membership
from mend.people.models import Client


class DischargeReason(models.TextChoices):
    GOALS_MET = "goals_met", "Goals met"
    PLATEAU = "plateau", "Plateau: no further progress expected"
    REFERRED_OUT = "referred_out", "Referred to another provider"
    CLIENT_CHOICE = "client_choice", "Client's choice"
    LOST = "lost_to_follow_up", "Lost to follow-up"


class Episode(models.Model):
    """An episode of care: one problem, from referral (or self-referral) to discharge."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    therapist = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="episodes")
    title = models.CharField(
        max_length=150, help_text="For example: Chronic low back pain; Right shoulder after surgery."
    )
    condition = models.CharField(max_length=40, blank=True, help_text="A condition from the knowledge base.")
    started_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=30, choices=DischargeReason.choices, blank=True)
    discharge_summary = models.TextField(blank=True)
    discharge_outcomes = models.JSONField(default=list, blank=True, help_text="Goals at discharge, as recorded then.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["clinic", "client", "-started_on"], name="episode_client_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discharged_on__isnull=True) | ~models.Q(discharge_reason=""),
                name="episode_discharge_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None
