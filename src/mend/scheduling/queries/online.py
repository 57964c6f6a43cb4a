"""Reads of the public online booking: the clinic by its slug, what it offers online, free slots, holds.

Nobody is signed in here: every loader takes the clinic from the URL's slug and scopes by it, and a
miss (another clinic's type, a token that is not one) is a 404. The slot list is the booking check's
own: ``clinic_calendar`` → ``free_slots`` → ``booking_rules.filter_slots``, so it never offers what
``appointment_book`` refuses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from mend.audit.models import Action, AuditEvent
from mend.clinics.models import Clinic, Membership
from mend.core import availability as av
from mend.core import booking_rules
from mend.people.models import Client
from mend.platform import clock
from mend.platform.roles import Role
from mend.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentType, Hold, IdempotencyKey
from mend.scheduling.queries.calendar import appointment_type_value, booking_rules_of, clinic_calendar, window

SCOPE = "online"
HOLD_EVENT = "scheduling.hold"
CODE_EVENT = "scheduling.online_code"


def public_clinic(slug: str) -> Clinic:
    return get_object_or_404(Clinic, slug=slug)


def _therapists(clinic: Clinic) -> Prefetch[str, QuerySet[Membership], str]:
    """The clinic's active therapists offering a type (a type's list never reaches another clinic's)."""
    offered = Membership.objects.filter(clinic=clinic, is_active=True, role=Role.THERAPIST).select_related("user")
    return Prefetch("therapists", queryset=offered.order_by("user__full_name", "pk"))


def online_types(clinic: Clinic) -> list[AppointmentType]:
    """What the clinic offers online: active, bookable online, with a therapist who offers it."""
    kinds = (
        AppointmentType.objects.filter(clinic=clinic, is_active=True, bookable_online=True)
        .prefetch_related(_therapists(clinic))
        .order_by("kind", "duration_minutes", "name")
    )
    return [kind for kind in kinds if kind.therapists.all()]


def online_type(clinic: Clinic, type_id: int) -> AppointmentType:
    kind = (
        AppointmentType.objects.filter(clinic=clinic, is_active=True, bookable_online=True, pk=type_id)
        .prefetch_related(_therapists(clinic))
        .first()
    )
    if kind is None or not kind.therapists.all():
        raise Http404("No such service")
    return kind


def offered_therapist(kind: AppointmentType, therapist_id: int) -> Membership:
    for member in kind.therapists.all():
        if member.pk == therapist_id:
            return member
    raise Http404("No such therapist")


def _day_counts(clinic: Clinic, first: date, last: date) -> Counter[tuple[int, date]]:
    """Active appointments per (therapist, local day): the daily cap's count, as the check counts it."""
    start, end = window(clinic.timezone, first, last)
    rows = Appointment.objects.filter(
        clinic=clinic, status__in=ACTIVE_STATUSES, starts_at__gte=start, starts_at__lt=end
    ).values_list("therapist_id", "starts_at")
    return Counter((therapist, clock.local_date(at, clinic.timezone)) for therapist, at in rows)


def online_slots(
    *,
    clinic: Clinic,
    kind: AppointmentType,
    therapist_id: int | None,
    first: date,
    last: date,
    now: datetime,
    hold_token: str = "",
    exclude_appointment: int | None = None,
) -> list[av.Slot]:
    """The times a client may book online from local day ``first`` to ``last``, earliest first.

    With no therapist chosen ("first available") each start is offered once, with the first
    therapist free then. ``hold_token`` leaves the caller's own hold out of the busy time;
    ``exclude_appointment`` the appointment being rescheduled.
    """
    chosen = [therapist_id] if therapist_id is not None else None
    calendar = clinic_calendar(
        clinic_id=clinic.pk,
        zone=clinic.timezone,
        first=first,
        last=last,
        therapist_ids=chosen,
        hold_token=hold_token,
        exclude_appointment=exclude_appointment,
        now=now,
    )
    slots = av.free_slots(
        calendar=calendar,
        appointment_type=appointment_type_value(kind, chosen),
        first=first,
        last=last,
        now=now,
        step=kind.step,
    )
    slots = booking_rules.filter_slots(
        slots, rules=booking_rules_of(kind), now=now, zone=clinic.timezone, day_counts=_day_counts(clinic, first, last)
    )
    if therapist_id is not None:
        return slots
    seen: set[datetime] = set()
    first_free = []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            first_free.append(slot)
    return first_free


def booking_days(kind: AppointmentType, *, clinic: Clinic, now: datetime) -> tuple[date, date]:
    """The local days open for online booking now: today (or tomorrow) to the horizon."""
    today = clock.local_date(now, clinic.timezone)
    first = today if kind.same_day else today + timedelta(days=1)
    return first, today + timedelta(days=kind.horizon_days)


def hold_lookup(clinic: Clinic, token: str) -> Hold:
    """The hold with this token, expired or not (the page says which); another clinic's is a 404."""
    hold = (
        Hold.objects.filter(clinic=clinic, token=token)
        .select_related("appointment_type", "therapist__user", "room__location")
        .first()
    )
    if hold is None:
        raise Http404("No such hold")
    return hold


def returning_client(clinic: Clinic, email: str) -> Client | None:
    """The clinic's client with this email on file (the most recent if several)."""
    return Client.objects.filter(clinic=clinic, email__iexact=email.strip()).order_by("-created_at", "-pk").first()


def client_in_clinic(clinic: Clinic, client_id: int) -> Client:
    return get_object_or_404(Client, clinic=clinic, pk=client_id)


def idempotent_booking(clinic: Clinic, key: str) -> Appointment | None:
    """The appointment an earlier confirm with this key made, if one did."""
    done = IdempotencyKey.objects.filter(clinic=clinic, scope=SCOPE, key=key, status_code=201).first()
    return appointment_in_clinic(clinic, done.response["appointment"]) if done is not None else None


def appointment_in_clinic(clinic: Clinic, pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.select_related("clinic"), clinic=clinic, pk=pk)


def events_since(*, object_type: str, since: datetime, ip: str = "", email: str = "") -> int:
    """Throttle counts: audited holds or code emails since ``since`` from one address or for one email."""
    events = AuditEvent.objects.filter(action=Action.CREATE, object_type=object_type, at__gte=since)
    events = events.filter(user_email=email) if email else events.filter(ip=ip)
    return events.count()


# --- Signed links -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Linked:
    """An appointment reached by a signed link, and the sequence it had when the link was made."""

    appointment: Appointment
    sequence: int


def _salt(purpose: str) -> str:
    return f"mend.scheduling.online.{purpose}"


def link_token(appointment: Appointment, purpose: str) -> str:
    """A signed token for one purpose (``cancel``, ``reschedule``, ``booked``) of one appointment as it is now.

    It carries the appointment's SEQUENCE: any change (a reschedule, a cancellation, a status)
    raises it, so a link used once, or made before a change, no longer matches.
    """
    return signing.dumps([appointment.pk, appointment.sequence], salt=_salt(purpose), compress=True)


def linked_appointment(token: str, purpose: str) -> Linked:
    """The appointment a token of ``purpose`` names; a token that is not one (or another purpose's) is a 404."""
    try:
        pk, sequence = signing.loads(token, salt=_salt(purpose))
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404("No such link") from None
    appointment = (
        Appointment.objects.filter(pk=pk)
        .select_related("clinic", "client", "appointment_type", "therapist__user", "location")
        .first()
    )
    if appointment is None:
        raise Http404("No such link")
    return Linked(appointment, int(sequence))


# --- What other apps add to the booked page ----------------------------------------------------

# Billing (above scheduling) adds the deposit to pay; it hands its section over from its
# AppConfig.ready(), as the chart's sections are handed to clinical. Each returns the context of
# a template to include (with a "template" key), or None when it has nothing to say.
DoneSection = Callable[[Appointment], Mapping[str, Any] | None]
_done_sections: list[DoneSection] = []


def add_done_section(section: DoneSection) -> None:
    if section not in _done_sections:
        _done_sections.append(section)


def done_sections(appointment: Appointment) -> list[Mapping[str, Any]]:
    return [found for section in _done_sections if (found := section(appointment)) is not None]


# The clinic's fee policy for missed and late-cancelled visits, in the client's words: billing owns
# the fees and lends the sentence (from its AppConfig.ready()), shown at booking and in reminders.
PolicySource = Callable[[Clinic], str]
_policy_sources: list[PolicySource] = []


def add_policy_source(source: PolicySource) -> None:
    if source not in _policy_sources:
        _policy_sources.append(source)


def fee_policy(clinic: Clinic) -> str:
    return " ".join(text for source in _policy_sources if (text := source(clinic)))
