"""Goals and the plan of care."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinical.models.episodes import Episode
from mend.clinical.rules import Direction
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client


class Goal(models.Model):
    """A measurable goal: a measure, its baseline, a target and a due date.

    ``measure`` is ``nprs``, ``psfs:<activity>`` or ``rom:<motion>:<side>``; its status comes from
    the latest measurement (see ``queries.goal_statuses``).
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(max_length=200)
    measure = models.CharField(max_length=170)
    direction = models.CharField(max_length=6, choices=[(d.value, d.value) for d in Direction])
    baseline = models.DecimalField(max_digits=6, decimal_places=1)
    target = models.DecimalField(max_digits=6, decimal_places=1)
    due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class PlanOfCare(models.Model):
    """The individualised plan for an episode: what, where, how often, how long, and at home."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="plan")
    techniques = models.JSONField(default=list, blank=True, help_text="[{technique, region, side, pressure}]")
    sessions_per_week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(7)])
    weeks = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(52)])
    session_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(30), MaxValueValidator(90)]
    )
    home_care = models.TextField(blank=True)
    re_evaluation_on = models.DateField(null=True, blank=True)
    measures = models.JSONField(
        default=list, blank=True, help_text="[{measure, when}] — when: baseline, every_n_sessions:N, …"
    )
    home_program = models.JSONField(default=list, blank=True, help_text="[{kind, title, instructions}]")
    dose_source = models.TextField(blank=True)
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Plan: {self.sessions_per_week}×/week for {self.weeks} weeks"

    @property
    def total_sessions(self) -> int:
        return self.sessions_per_week * self.weeks
