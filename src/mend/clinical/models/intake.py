"""The health history a client reports from home, through an emailed single-use link."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models

from mend.clinics.models import Clinic, Membership
from mend.people.models import Client


class ClientIntake(models.Model):
    """A health-history questionnaire sent to a client, and their answers once they send them.

    What the client reports is *reported by the client, to be reviewed*: it makes no finding on the
    chart. A therapist reads it and marks it reviewed (``reviewed_at``); until then a REFER or BLOCK
    answer keeps the booking flag at "do not book: see therapist".

    Only a SHA-256 of the emailed token is stored: someone reading the database cannot rebuild a
    working link. ``submitted_at`` is claimed with a conditional update, so the link works once.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="intakes")
    token_digest = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    questionnaire_version = models.CharField(max_length=20)
    # Every question the client was asked, by rule id: True for yes, False for no.
    answers = models.JSONField(default=dict, blank=True)
    # Where a "yes" is, by rule id: {"region": ..., "side": ..., "note": ...} as the client gave them.
    details = models.JSONField(default=dict, blank=True)
    pregnancy_weeks = models.PositiveSmallIntegerField(
        "weeks pregnant", null=True, blank=True, validators=[MaxValueValidator(45)]
    )
    notes = models.TextField("anything else the client wants the therapist to know", blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            # The booking flags ask, for many clients at once, which have answers still to review.
            models.Index(fields=["clinic", "client", "reviewed_at"], name="intake_to_review_idx"),
        ]

    def __str__(self) -> str:
        return f"Intake questionnaire sent {self.sent_at:%Y-%m-%d}"

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None
