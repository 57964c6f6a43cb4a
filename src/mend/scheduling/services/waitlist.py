"""The waitlist: clients waiting for an earlier slot; a freed slot offered by email, first to confirm gets it.

- **Staff keep the list** (every staff role; a therapist for the clients they may see): add a client
  for a type, with one therapist or any, between two local dates; remove them. Audited.
- **A freed slot is offered in order.** When an appointment is cancelled or moved, the booking
  service's ``on_change`` listener (:func:`on_appointment_change`) asks, once the change has
  committed, for the freed time (therapist, start, type) to be offered: to the first waiting entry
  of that type, that therapist or any, whose dates hold the slot's local day, if the time is still
  one a client may book online now (the booking check's own slot list). A cancellation rolled back
  offers nothing. The offer is a row with a random token, open for ``MEND_WAITLIST_OFFER_MINUTES``;
  its email goes through the outbox under ``waitlist-offer:<id>`` (sent once), and a task
  (:func:`mend.scheduling.tasks.waitlist_offer_expire`) runs when it expires.
- **First to confirm gets it.** Accepting books through ``appointment_book`` (online channel, the
  entry's client), which checks the time again under the clinic's booking lock: of two people
  accepting the same time (two offers, or a time staff booked meanwhile) one gets the appointment
  and the other :class:`OfferClosed` (``taken``, the page's 409). An expired or used offer is
  :class:`OfferClosed` too.
- **An unanswered offer passes on.** At its time the offer is marked expired, its client goes back
  to waiting (keeping their place for other slots), and the same slot is offered to the next fitting
  entry that was never offered it. Idempotent: an offer no longer open is left as it is.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic, Membership
from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule
from mend.people import queries as people_queries
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.platform.tasks import enqueue_on_commit
from mend.scheduling.models import Appointment, AppointmentType, WaitlistEntry, WaitlistOffer
from mend.scheduling.queries import waitlist as q
from mend.scheduling.services.booking import BookingConflict, Change, appointment_book
from mend.scheduling.services.online import send_appointment_email, when_words

log = logging.getLogger(__name__)

Entry = WaitlistEntry.State
Offer = WaitlistOffer.State


class OfferClosed(BookingConflict):
    """The offer can no longer be taken: ``taken`` (someone else booked the time), ``expired`` or ``accepted``."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state


# --- Staff keep the list ----------------------------------------------------------------------


def _require_staff(actor: Actor) -> None:
    if actor.role not in (Role.OWNER, Role.ADMIN, Role.THERAPIST, Role.FRONT_DESK):
        raise PermissionDenied("Only the clinic's staff keep the waitlist.")


@transaction.atomic
def waitlist_entry_add(
    *,
    actor: Actor,
    client: Client,
    appointment_type: AppointmentType,
    therapist: Membership | None,
    earliest: date,
    latest: date,
) -> WaitlistEntry:
    """Put ``client`` on the waitlist for ``appointment_type`` with ``therapist`` (None: any), for a
    slot on a local day from ``earliest`` to ``latest``. Refusals name the field."""
    _require_staff(actor)
    errors: dict[str, list[str]] = {}
    if client.clinic_id != actor.clinic_id or not people_queries.clients(actor).filter(pk=client.pk).exists():
        errors["client"] = ["Not found in this clinic."]
    elif not client.email:
        errors["client"] = ["Offers go by email: add the client's email first."]
    elif WaitlistEntry.objects.filter(client=client, appointment_type=appointment_type, state__in=q.ACTIVE).exists():
        errors["client"] = [f"Already on the waitlist for {appointment_type.name}."]
    if appointment_type.clinic_id != actor.clinic_id or not appointment_type.is_active:
        errors["appointment_type"] = ["Not an appointment type this clinic offers."]
    if therapist is not None:
        offers_it = appointment_type.therapists.filter(pk=therapist.pk).exists()
        if therapist.clinic_id != actor.clinic_id or therapist.role != Role.THERAPIST or not therapist.is_active:
            errors["therapist"] = ["Not a therapist of this clinic."]
        elif not offers_it:
            errors["therapist"] = [f"This therapist does not offer {appointment_type.name}."]
    if latest < earliest:
        errors["latest"] = ["The last date is on or after the first."]
    elif latest < actor.today():
        errors["latest"] = ["This date has passed: choose a last date from today on."]
    if errors:
        raise ValidationError(errors)
    entry = WaitlistEntry.objects.create(
        clinic_id=actor.clinic_id,
        client=client,
        appointment_type=appointment_type,
        therapist=therapist,
        earliest=earliest,
        latest=latest,
    )
    audit_record(action=Action.CREATE, obj=entry, client_id=client.pk, user=actor.user)
    return entry


@transaction.atomic
def waitlist_entry_remove(*, actor: Actor, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Take the entry off the list. An offer it holds is withdrawn and its slot passes to the next."""
    _require_staff(actor)
    if entry.clinic_id != actor.clinic_id:
        raise ValidationError({"entry": "Not found in this clinic."})
    current = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if current.state not in q.ACTIVE:
        return current
    current.state = Entry.REMOVED
    current.save(update_fields=["state"])
    audit_record(action=Action.UPDATE, obj=current, client_id=current.client_id, user=actor.user)
    now = now or timezone.now()
    for offer in WaitlistOffer.objects.select_for_update().filter(entry=current, state=Offer.OPEN):
        _expire(offer, now=now)
    return current


# --- Offering a freed slot ------------------------------------------------------------------------


def on_appointment_change(change: Change) -> None:
    """The booking service's listener: a cancellation or a move frees a time; once the change has
    committed, offer it (a rolled-back change registers nothing that runs)."""
    appointment = change.appointment
    therapist_id = appointment.therapist_id
    if change.kind == "cancelled":
        starts_at, room_id = appointment.starts_at, appointment.room_id
    elif change.kind == "moved" and change.previous_start is not None:
        freed = (change.previous_start, change.previous_therapist_id)
        if freed == (appointment.starts_at, appointment.therapist_id):
            return
        # The time it left, with the therapist and room it had then.
        starts_at, room_id = change.previous_start, change.previous_room_id
        therapist_id = change.previous_therapist_id or therapist_id
    else:
        return
    clinic_id, kind_id = appointment.clinic_id, appointment.appointment_type_id

    def offer() -> None:
        waitlist_offer_make(
            clinic_id=clinic_id,
            therapist_id=therapist_id,
            appointment_type_id=kind_id,
            starts_at=starts_at,
            room_id=room_id,
        )

    transaction.on_commit(offer, robust=True)


@transaction.atomic
def waitlist_offer_make(
    *,
    clinic_id: int,
    therapist_id: int,
    appointment_type_id: int,
    starts_at: datetime,
    room_id: int | None = None,
    now: datetime | None = None,
) -> WaitlistOffer | None:
    """Offer the time to the first fitting waiting entry, if it is still free; the offer, or None."""
    now = now or timezone.now()
    if starts_at <= now or q.open_offer_exists(therapist_id=therapist_id, starts_at=starts_at):
        return None
    clinic = Clinic.objects.get(pk=clinic_id)
    kind = AppointmentType.objects.prefetch_related("therapists").filter(pk=appointment_type_id).first()
    if kind is None or not kind.is_active:
        return None
    day = clock.local_date(starts_at, clinic.timezone)
    candidates = q.fitting_entries(
        clinic_id=clinic_id, appointment_type_id=kind.pk, therapist_id=therapist_id, day=day, starts_at=starts_at
    )
    first = candidates.first()
    if first is None:
        return None
    slot = q.free_slot(clinic=clinic, kind=kind, therapist_id=therapist_id, starts_at=starts_at, now=now)
    if slot is None:
        return None
    for entry in [first, *candidates[1:]]:
        # Claimed with one conditional UPDATE: two offers made at once never take the same entry.
        if not WaitlistEntry.objects.filter(pk=entry.pk, state=Entry.WAITING).update(state=Entry.OFFERED):
            continue
        offer = WaitlistOffer.objects.create(
            clinic=clinic,
            entry=entry,
            therapist_id=therapist_id,
            room_id=slot.room if slot.room is not None else room_id,
            starts_at=starts_at,
            token=secrets.token_urlsafe(32),
            expires_at=now + timedelta(minutes=settings.MEND_WAITLIST_OFFER_MINUTES),
        )
        audit_record(action=Action.CREATE, obj=offer, client_id=entry.client_id, clinic_id=clinic_id)
        subject, body = offer_email(offer)
        message_schedule(
            key=f"waitlist-offer:{offer.pk}",
            channel=OutboundMessage.Channel.EMAIL,
            to=entry.client.email,
            subject=subject,
            body=body,
        )
        from mend.scheduling.tasks import waitlist_offer_expire

        enqueue_on_commit(waitlist_offer_expire.using(run_after=offer.expires_at), offer_id=offer.pk)
        return offer
    return None


def offer_link(offer: WaitlistOffer) -> str:
    return settings.MEND_PUBLIC_URL.rstrip("/") + reverse("waitlist_offer", args=[offer.token])


def offer_email(offer: WaitlistOffer) -> tuple[str, str]:
    """The offer's subject and text: first name, time (the clinic's zone, named), place and the link.
    Nothing about the client's health: not even why they wait."""
    fresh = WaitlistOffer.objects.select_related(
        "clinic", "entry__client", "entry__appointment_type", "therapist__user", "room__location"
    ).get(pk=offer.pk)
    clinic = fresh.clinic
    client = fresh.entry.client
    zone = clinic.timezone
    location = fresh.room.location if fresh.room is not None else None
    address = (
        ", ".join(p for p in (location.street, location.city, location.region, location.postal_code) if p)
        if location is not None
        else ""
    )
    context = {
        "clinic": clinic,
        "first_name": client.chosen_name or client.legal_given_name,
        "kind": fresh.entry.appointment_type,
        "when": when_words(fresh.starts_at, zone),
        "until": when_words(fresh.expires_at, zone),
        "therapist": fresh.therapist.user.get_full_name(),
        "location": location,
        "address": address,
        "link": offer_link(fresh),
    }
    local = fresh.starts_at.astimezone(clock.zone(zone))
    subject = f"{clinic.name}: an earlier time on {local:%a} {local.day} {local:%b} at {local:%H:%M}"
    return subject, render_to_string("scheduling/email/waitlist_offer.txt", context)


# --- Answering an offer ---------------------------------------------------------------------------


def offer_closed(offer: WaitlistOffer, now: datetime) -> OfferClosed | None:
    """Why the offer can no longer be taken now, or None while it is open."""
    zone = offer.clinic.timezone
    if offer.state == Offer.ACCEPTED:
        return OfferClosed(
            "accepted", "This offer was already used to book the time: your confirmation email has the details."
        )
    if offer.state == Offer.TAKEN:
        return OfferClosed("taken", "Someone else booked this time first. You are still on the waitlist.")
    if offer.state == Offer.EXPIRED or now >= offer.expires_at or offer.entry.state == Entry.REMOVED:
        return OfferClosed(
            "expired",
            f"This offer was open until {when_words(offer.expires_at, zone)} and has passed to the next "
            "person on the waitlist. Please call the clinic if you still need an earlier time.",
        )
    return None


def _locked_offer(token: str) -> WaitlistOffer:
    """The offer, re-read under a row lock (PostgreSQL; SQLite's IMMEDIATE transaction already
    serialises): two answers to one offer, or an answer and its expiry, run one after the other."""
    pk = q.offer_by_token(token).pk
    WaitlistOffer.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).get()
    return q.offer_by_token(token)


def waitlist_offer_accept(*, token: str, base_url: str, now: datetime | None = None) -> Appointment:
    """Book the offered time for the entry's client, or raise :class:`OfferClosed` (the page's 409).

    The booking service decides whether the time is still free, under the clinic's booking lock, so
    of two people accepting the same time exactly one gets it; the other's offer is marked taken
    (committed) and they stay on the waitlist.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked_offer(token)
        problem = offer_closed(offer, now)
        if problem is None:
            entry = offer.entry
            try:
                appointment = appointment_book(
                    clinic=offer.clinic,
                    actor=None,
                    client=entry.client,
                    therapist=offer.therapist,
                    appointment_type=entry.appointment_type,
                    starts_at=offer.starts_at,
                    # Any suitable room: the one offered may have gone to another therapist's client
                    # while the time is still this therapist's to give.
                    room=None,
                    channel=Appointment.Channel.ONLINE,
                    now=now,
                )
            except (BookingConflict, ValidationError):
                offer.state = Offer.TAKEN
                offer.save(update_fields=["state"])
                WaitlistEntry.objects.filter(pk=entry.pk, state=Entry.OFFERED).update(state=Entry.WAITING)
                audit_record(action=Action.UPDATE, obj=offer, client_id=entry.client_id, clinic_id=offer.clinic_id)
                problem = offer_closed(offer, now)
            else:
                offer.state, offer.appointment = Offer.ACCEPTED, appointment
                offer.save(update_fields=["state", "appointment"])
                entry.state = Entry.BOOKED
                entry.save(update_fields=["state"])
                audit_record(action=Action.UPDATE, obj=offer, client_id=entry.client_id, clinic_id=offer.clinic_id)
                transaction.on_commit(lambda: send_appointment_email(appointment, base_url=base_url, kind="booked"))
                return appointment
        elif offer.state == Offer.OPEN:
            _expire(offer, now=now)
    assert problem is not None
    raise problem


@transaction.atomic
def waitlist_offer_expire(*, offer_id: int, now: datetime | None = None) -> str:
    """At the offer's time: an offer still open expires and its slot goes to the next fitting entry.
    Its state afterwards; an offer already accepted, taken or expired is left as it is."""
    now = now or timezone.now()
    offer = WaitlistOffer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None:
        return "missing"
    if offer.state != Offer.OPEN:
        return str(offer.state)
    if now < offer.expires_at:
        # Run early (a worker whose clock lags the enqueuer's): come back at the offer's time.
        from mend.scheduling.tasks import waitlist_offer_expire as task

        enqueue_on_commit(task.using(run_after=offer.expires_at), offer_id=offer.pk)
        return str(offer.state)
    _expire(offer, now=now)
    return Offer.EXPIRED.value


def _expire(offer: WaitlistOffer, *, now: datetime) -> None:
    """Close an open offer (locked by the caller) and offer its slot to the next fitting entry."""
    offer.state = Offer.EXPIRED
    offer.save(update_fields=["state"])
    WaitlistEntry.objects.filter(pk=offer.entry_id, state=Entry.OFFERED).update(state=Entry.WAITING)
    client_id, kind_id = (
        WaitlistEntry.objects.filter(pk=offer.entry_id).values_list("client_id", "appointment_type_id").get()
    )
    audit_record(action=Action.UPDATE, obj=offer, client_id=client_id, clinic_id=offer.clinic_id)
    waitlist_offer_make(
        clinic_id=offer.clinic_id,
        therapist_id=offer.therapist_id,
        appointment_type_id=kind_id,
        starts_at=offer.starts_at,
        room_id=offer.room_id,
        now=now,
    )
