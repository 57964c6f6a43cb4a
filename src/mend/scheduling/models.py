"""The calendar's rows: when therapists work, what can be booked, and what is booked.

Free slots are never stored: they are computed from these rows by ``mend.core.availability``
(``scheduling.queries.calendar`` loads them into its ``ClinicCalendar``). Every row carries its
clinic, like every other table, so each query is scoped without a join.

No double booking is a property of the database, not only of the service: on PostgreSQL two
exclusion constraints (migration ``0002_no_double_booking``) refuse two active appointments whose
``[starts_at, ends_at)`` ranges overlap for one therapist or one room, unless one of them is an
owner's recorded override; on SQLite every transaction begins IMMEDIATE (settings), so the
service's overlap check and its insert run under the database's one write lock.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinics.models import Clinic, Location, Membership, Room, RoomCapability
from mend.people.models import Client

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class WorkingHours(models.Model):
    """A block of a therapist's weekly template: every ``weekday`` from ``start`` to ``end`` at ``location``.

    Local wall-clock times in the clinic's zone; an end at or before the start runs past midnight.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["therapist_id", "weekday", "start"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class HoursException(models.Model):
    """One date that differs from the template: extra hours, or the day off."""

    class Kind(models.TextChoices):
        EXTRA = "extra", "Extra hours"
        DAY_OFF = "day_off", "Day off"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="hours_exceptions")
    day = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Extra hours only.
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["day", "start"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.day}"

    def clean(self) -> None:
        if self.kind == self.Kind.EXTRA:
            missing = {
                f: "Extra hours need a location, a start and an end."
                for f in ("location", "start", "end")
                if getattr(self, f if f != "location" else "location_id") is None
            }
            if missing:
                raise ValidationError(missing)


class TimeOff(models.Model):
    """A therapist away: whole local days ``first_day``–``last_day``, or the hours between two instants."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="time_off")
    first_day = models.DateField()
    last_day = models.DateField()
    # When both are set the time off is these hours (aware instants) rather than whole days.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=120, blank=True, help_text="Seen by staff only.")

    class Meta:
        ordering = ["first_day"]
        verbose_name_plural = "time off"

    def __str__(self) -> str:
        return f"Time off {self.first_day}–{self.last_day}"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": "The last day is on or after the first day."})
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValidationError({"ends_at": "Give both a start and an end time, or neither for whole days."})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end is after the start."})


class Closure(models.Model):
    """The clinic closed on whole local days: at one location, or everywhere when location is empty."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="closures")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=120, blank=True, help_text="Shown to clients, e.g. “Statutory holiday”.")

    class Meta:
        ordering = ["first_day"]

    def __str__(self) -> str:
        return f"Closed {self.first_day}–{self.last_day}"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": "The last day is on or after the first day."})


class AppointmentType(models.Model):
    """What can be booked: its length, buffers, price, the room it needs, who offers it, and its rules."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial consultation"
        TREATMENT = "treatment", "Treatment"
        RE_EVALUATION = "re_evaluation", "Re-evaluation"

    class Audience(models.TextChoices):
        ANYONE = "anyone", "Anyone"
        RETURNING = "returning", "Returning clients only"
        NEW_BY_REQUEST = "new_by_request", "New clients as a request the clinic approves"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="appointment_types")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TREATMENT)
    description = models.CharField(max_length=300, blank=True, help_text="Shown to clients booking online.")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(480)])
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(120)])
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(120)])
    # Offered starts are this far apart, counted from the start of the therapist's hours; empty = the duration.
    slot_interval_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    price = models.DecimalField(
        max_digits=9, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    room_capability = models.CharField(max_length=20, choices=RoomCapability.choices, blank=True)
    therapists = models.ManyToManyField(Membership, blank=True, related_name="appointment_types")
    # Booking rules for clients booking themselves (staff may book outside them).
    bookable_online = models.BooleanField(default=True)
    min_notice_minutes = models.PositiveIntegerField(default=120)
    horizon_days = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    same_day = models.BooleanField("same-day booking", default=True)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.ANYONE)
    daily_cap = models.PositiveSmallIntegerField(
        "daily cap per therapist",
        null=True,
        blank=True,
        help_text="Most appointments of any type a therapist takes in a day.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "duration_minutes", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="appointment_type_name_unique_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.slot_interval_minutes or self.duration_minutes)


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


# Appointments that hold their time: a request does not (the clinic has not agreed to it yet) and a
# cancelled one gave it back. A no-show kept the therapist and the room waiting, so it still holds.
ACTIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


class Appointment(models.Model):
    """One visit of one client with one therapist, in a room, at ``[starts_at, ends_at)``."""

    class Channel(models.TextChoices):
        STAFF = "staff", "Booked by staff"
        ONLINE = "online", "Booked online"
        API = "api", "Booked through the API"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments")
    therapist = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Copied from the type when booked, so changing a type never moves what is already booked.
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.STAFF)
    # The occurrences of one series share this id (a series is expanded into real rows).
    series_id = models.UUIDField(null=True, blank=True, db_index=True)
    # An owner's or admin's deliberate double booking; the reason is required and audited.
    override_reason = models.CharField(max_length=200, blank=True)
    client_notes = models.CharField(
        "note for the front desk", max_length=300, blank=True, help_text="Logistics only: no health information."
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # iCalendar: a stable UID and a SEQUENCE raised on every change, cancellation included.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "therapist_id"]
        indexes = [
            models.Index(fields=["clinic", "starts_at"], name="appointment_clinic_start"),
            models.Index(fields=["therapist", "starts_at"], name="appointment_therapist_start"),
            models.Index(fields=["client", "starts_at"], name="appointment_client_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type.name} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Hold(models.Model):
    """A slot kept for a few minutes while someone booking online types their details.

    A hold counts as busy time for everyone else's slot list and booking check; the booking that
    presents its token may use it. It never lets two bookings through: the booking itself is still
    checked and inserted under the double-booking guarantee.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"Hold until {self.expires_at:%H:%M:%S}"


class WaitlistEntry(models.Model):
    """A client waiting for an earlier slot of a type, with one therapist or any."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a slot"
        BOOKED = "booked", "Booked"
        REMOVED = "removed", "Removed"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="waitlist_entries")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    earliest = models.DateField(help_text="The first local date that suits the client.")
    latest = models.DateField(help_text="The last local date that suits the client.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"

    def __str__(self) -> str:
        return f"Waiting {self.earliest}–{self.latest}"


class WaitlistOffer(models.Model):
    """A freed slot offered to one waiting client; the first to confirm a slot gets it."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        TAKEN = "taken", "Taken by someone else"
        EXPIRED = "expired", "Expired"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    starts_at = models.DateTimeField()
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    appointment = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Offer of {self.starts_at:%Y-%m-%d %H:%M} ({self.get_state_display().lower()})"


class CalendarFeed(models.Model):
    """A therapist's private iCal URL: whoever has the token reads the therapist's appointments."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of membership {self.therapist_id}"


class ExternalCalendar(models.Model):
    """A therapist's personal calendar (an iCal URL): its events only ever add busy time.

    ``busy`` is the last feed that loaded, as ``[[start, end], …]`` ISO instants; a feed that fails
    to load leaves it as it was, so a remote timeout frees and deletes nothing.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="external_calendars")
    url = models.URLField(max_length=500)
    busy = models.JSONField(default=list, blank=True)
    loaded_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # The current chain of background refreshes; a new chain (a manual refresh) retires the old one.
    refresh_chain = models.UUIDField(null=True, blank=True)

    def __str__(self) -> str:
        return f"External calendar of membership {self.therapist_id}"


class IdempotencyKey(models.Model):
    """A booking request's ``Idempotency-Key`` and the answer it got, so a retry is answered the same."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=40, help_text="Which route: online booking, the API's appointments.")
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "scope", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"
