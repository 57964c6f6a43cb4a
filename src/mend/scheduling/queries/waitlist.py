"""Reads of the waitlist: the clinic's entries in order, one entry for the actor, an offer by its token,
and which waiting entries fit a freed slot.

Every staff role opens the waitlist; a therapist sees the entries of the clients they may see (their
care team, ``people.queries.clients``), everyone else all of the clinic's. Another clinic's entry,
or one the actor may not see, is a 404. The page's list is read in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic
from mend.core import availability as av
from mend.people import queries as people_queries
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import AppointmentType, WaitlistEntry, WaitlistOffer
from mend.scheduling.queries.online import online_slots

# Entries still in the queue: waiting, or holding an open offer.
ACTIVE = (WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED)


def entries(actor: Actor) -> QuerySet[WaitlistEntry]:
    """The clinic's entries the actor may see, oldest first (the order offers go out in)."""
    found = WaitlistEntry.objects.filter(clinic_id=actor.clinic_id)
    if actor.is_therapist:
        found = found.filter(client__in=people_queries.clients(actor))
    return found.order_by("created_at", "id")


def entry_or_404(actor: Actor, pk: int | str) -> WaitlistEntry:
    return access.object_or_404(entries(actor).select_related("client"), pk, "waitlist entry")


@dataclass(frozen=True, slots=True)
class Row:
    """One entry as the page lists it, with its place in the queue and any open offer."""

    place: int
    entry: WaitlistEntry
    offer: WaitlistOffer | None


def waitlist(actor: Actor) -> list[Row]:
    """The active entries in order, in three queries: the entries with their client, type and therapist
    (one join), their open offers (one), and the audit row of the read (one)."""
    open_offers = WaitlistOffer.objects.filter(state=WaitlistOffer.State.OPEN).order_by("starts_at")
    rows = list(
        entries(actor)
        .filter(state__in=ACTIVE)
        .select_related("client", "appointment_type", "therapist__user", "therapist__therapist_profile")
        .prefetch_related(Prefetch("offers", queryset=open_offers, to_attr="open_offers"))
    )
    audit_record(action=Action.VIEW, object_type="scheduling.waitlist", user=actor.user)
    return [Row(place=i, entry=e, offer=next(iter(e.open_offers), None)) for i, e in enumerate(rows, start=1)]


def offer_by_token(token: str) -> WaitlistOffer:
    """The offer an emailed link names, whatever its state (the page says which); anything else is a 404."""
    offer = (
        WaitlistOffer.objects.filter(token=token)
        .select_related("clinic", "entry__client", "entry__appointment_type", "therapist__user", "room__location")
        .first()
    )
    if offer is None or not token:
        raise Http404("No such offer")
    return offer


def fitting_entries(
    *, clinic_id: int, appointment_type_id: int, therapist_id: int, day: date, starts_at: datetime
) -> QuerySet[WaitlistEntry]:
    """Waiting entries a freed slot fits, first come first: the same type, this therapist or any, the
    slot's local day within their dates, a client with an email, and never offered this slot before
    (an offer that expired or was taken passes the slot on, not back)."""
    offered_before = WaitlistOffer.objects.filter(therapist_id=therapist_id, starts_at=starts_at).values("entry_id")
    return (
        WaitlistEntry.objects.filter(
            Q(therapist_id=therapist_id) | Q(therapist__isnull=True),
            clinic_id=clinic_id,
            state=WaitlistEntry.State.WAITING,
            appointment_type_id=appointment_type_id,
            earliest__lte=day,
            latest__gte=day,
        )
        .exclude(client__email="")
        .exclude(pk__in=offered_before)
        .select_related("client", "clinic")
        .order_by("created_at", "id")
    )


def open_offer_exists(*, therapist_id: int, starts_at: datetime) -> bool:
    return WaitlistOffer.objects.filter(
        therapist_id=therapist_id, starts_at=starts_at, state=WaitlistOffer.State.OPEN
    ).exists()


def free_slot(
    *, clinic: Clinic, kind: AppointmentType, therapist_id: int, starts_at: datetime, now: datetime
) -> av.Slot | None:
    """The slot at ``starts_at`` with this therapist if a client may book it online now (the booking
    check's own slot list: hours, other appointments and holds with buffers, a room, the type's
    grid and rules), else None."""
    day = clock.local_date(starts_at, clinic.timezone)
    slots = online_slots(clinic=clinic, kind=kind, therapist_id=therapist_id, first=day, last=day, now=now)
    return next((s for s in slots if s.start == starts_at), None)
