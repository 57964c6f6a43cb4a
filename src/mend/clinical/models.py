"""The clinical record: one episode of care from referral to discharge.

Every row carries its clinic (tenancy) and its client (the audit trail names the client of each
read and write). Writes go through ``services.py``; reads through ``queries.py``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinical.rules import Direction
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client, ReferringProvider

SIDE_CHOICES = [("left", "Left"), ("right", "Right"), ("bilateral", "Both sides")]


def _score(name: str, **kwargs: object) -> models.PositiveSmallIntegerField:  # type: ignore[type-arg]
    return models.PositiveSmallIntegerField(
        name, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)], **kwargs
    )


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


def referral_upload_path(instance: Referral, filename: str) -> str:
    return f"referrals/{instance.clinic_id}/{instance.client_id}/{filename}"


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
    return f"clearances/{instance.clinic_id}/{instance.client_id}/{filename}"


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
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-cleared_on", "-id"]

    def __str__(self) -> str:
        return f"Clearance for {self.rule_id} by {self.cleared_by}"


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
    nprs = _score("pain now (NPRS 0–10)")
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
    pain_pre = _score("pain before (0–10)")
    sleep_quality = _score("sleep quality since last visit (0–10)")
    stress = _score("stress since last visit (0–10)")
    # Objective, treatment
    objective = models.TextField("objective findings", blank=True)
    modalities = models.JSONField(default=list, blank=True, help_text="heat, cold")
    # Assessment (response)
    pain_post = _score("pain after (0–10)")
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
