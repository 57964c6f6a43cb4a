"""Writes of the public online booking: holds, the returning client's emailed code, the booking, and the
emailed links that cancel or reschedule it.

Nobody is signed in, so nothing here takes an actor; each step is checked as if the page before it
had lied:

- **A hold** is made only for a start that the slot list offers right now (the same
  ``free_slots`` + ``booking_rules.filter_slots`` the booking check uses): a hand-made POST of a time
  outside the hours, inside a neighbour's buffer or inside the notice is refused. It keeps the time
  from everyone else's list and check for ``MEND_HOLD_MINUTES``; an expired hold is no promise, so
  the booking then re-checks the time like any other.
- **The booking** goes through ``appointment_book`` (channel online), which re-checks the time and
  the type's rules under the clinic's booking lock. It is idempotent: the confirm form carries a key,
  and the key's first answer (``IdempotencyKey``, scope ``online``) is every retry's answer, so a double
  click or a resubmitted form never books twice.
- **Links** to cancel or reschedule are signed for one purpose and carry the appointment's SEQUENCE,
  which every change raises: a link used once, or made before a change, is refused
  (:class:`AlreadyChanged`, the page's 409), checked on the row locked for the change.
- **Throttles** count audit events (like password resets): holds per network address, codes per
  address and per email, an hour back.
- Emails go after the transaction commits, with an .ics (``mend.core.ical.invitation``) and the
  time in the clinic's zone, named.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.mime.text import MIMEText
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical.services.intake import client_intake_send
from mend.clinics.models import Clinic, Membership
from mend.core import booking_rules, ical
from mend.people.services import client_register_online
from mend.platform import clock, context
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType, Hold
from mend.scheduling.queries import online as q
from mend.scheduling.queries.calendar import booking_rules_of
from mend.scheduling.queries.feeds import ical_uid
from mend.scheduling.services.booking import BookingConflict, appointment_book, appointment_cancel, appointment_move
from mend.scheduling.services.idempotency import idempotency_key_use, request_digest

log = logging.getLogger(__name__)

CODE_MINUTES = 15
CODE_ATTEMPTS = 5


class Throttled(Exception):
    """Too many requests from one address or for one email: the page's 429."""


class AlreadyChanged(BookingConflict):
    """A cancel or reschedule link used before, or made before the appointment last changed."""


class TooLate(BookingConflict):
    """Inside the cancellation window: online changes are closed, the clinic takes them by phone."""


def when_words(moment: datetime, zone: str) -> str:
    """``Tuesday 8 December 2026, 10:00 EST (America/Toronto time)``: the clinic's wall clock, named."""
    local = moment.astimezone(clock.zone(zone))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()} ({zone} time)"


def minutes_words(span: timedelta) -> str:
    minutes = max(0, round(span.total_seconds() / 60))
    if minutes < 1:
        return "less than a minute"
    return f"about {minutes} minute{'s' * (minutes != 1)}"


def _throttle(*, object_type: str, limit: int, now: datetime, email: str = "") -> None:
    since = now - timedelta(hours=1)
    ip = context.current().ip or ""
    if ip and q.events_since(object_type=object_type, since=since, ip=ip) >= limit * (4 if email else 1):
        raise Throttled("Too many tries from this network in the last hour. Please wait a while, or call the clinic.")
    if email and q.events_since(object_type=object_type, since=since, email=email) >= limit:
        raise Throttled("Too many codes were sent to this address in the last hour. Please wait a while.")


def _not_offered(kind: AppointmentType, starts_at: datetime, *, clinic: Clinic, now: datetime) -> str:
    """Why a start the slot list does not offer is refused: the rules' reason when a timing rule is
    the cause (notice, horizon, same day), else that the time is not open."""
    verdict = booking_rules.check_booking_rules(
        rules=booking_rules_of(kind),
        start=starts_at,
        now=now,
        zone=clinic.timezone,
        returning_client=True,
        booked_that_day=0,
    )
    if verdict.outcome is booking_rules.Outcome.REFUSE and verdict.reason:
        return verdict.reason
    return "That time is not open for online booking, or was just taken: please choose another."


# --- Holds ----------------------------------------------------------------------------------


@transaction.atomic
def hold_create(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    therapist: Membership,
    starts_at: datetime,
    now: datetime | None = None,
) -> Hold:
    """Hold a slot the list offers now for ``MEND_HOLD_MINUTES``; refuse any other start (409)."""
    now = now or timezone.now()
    _throttle(object_type=q.HOLD_EVENT, limit=settings.MEND_ONLINE_HOLDS_PER_HOUR, now=now)
    # Holds of one clinic are made one at a time (SQLite: the IMMEDIATE transaction already is; on
    # PostgreSQL this row lock), so two people never both hold the same slot.
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    # Holds a day past their expiry are nobody's any more (a confirm that late chooses again).
    Hold.objects.filter(clinic=clinic, expires_at__lt=now - timedelta(days=1)).delete()
    day = clock.local_date(starts_at, clinic.timezone)
    slots = q.online_slots(
        clinic=clinic, kind=appointment_type, therapist_id=therapist.pk, first=day, last=day, now=now
    )
    slot = next((s for s in slots if s.start == starts_at), None)
    if slot is None:
        raise BookingConflict(_not_offered(appointment_type, starts_at, clinic=clinic, now=now))
    hold = Hold.objects.create(
        clinic=clinic,
        therapist=therapist,
        room_id=slot.room,
        appointment_type=appointment_type,
        starts_at=slot.start,
        ends_at=slot.end,
        token=secrets.token_urlsafe(32),
        expires_at=now + timedelta(minutes=settings.MEND_HOLD_MINUTES),
    )
    audit_record(action=Action.CREATE, obj=hold, clinic_id=clinic.pk, user=None)
    return hold


# --- The returning client's code ------------------------------------------------------------


def _code_digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"online-code:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def booking_code_send(*, clinic: Clinic, email: str, now: datetime | None = None) -> dict[str, Any]:
    """Email a 6-digit code to the client on file with ``email``, and return the challenge to keep
    server-side (the session). The same answer whether or not the address is on file: the page never
    tells who is a client. At most ``MEND_BOOKING_CODES_PER_HOUR`` codes an hour per address."""
    now = now or timezone.now()
    email = email.strip().lower()
    _throttle(object_type=q.CODE_EVENT, limit=settings.MEND_BOOKING_CODES_PER_HOUR, now=now, email=email)
    audit_record(action=Action.CREATE, object_type=q.CODE_EVENT, user_email=email, clinic_id=clinic.pk)
    client = q.returning_client(clinic, email)
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = {
        "client": client.pk if client is not None else None,
        "digest": _code_digest(code),
        "expires": (now + timedelta(minutes=CODE_MINUTES)).isoformat(),
        "attempts": 0,
    }
    if client is not None:
        body = render_to_string(
            "scheduling/email/code.txt",
            {"clinic": clinic, "code": code, "minutes": CODE_MINUTES, "first_name": client.legal_given_name},
        )
        subject = f"{clinic.name}: your booking code {code}"
        transaction.on_commit(lambda: _send(EmailMultiAlternatives(subject, body, None, [email])))
    return challenge


def booking_code_check(challenge: dict[str, Any], code: str, *, now: datetime | None = None) -> int:
    """The client id the challenge was for, if ``code`` is its code; counts the attempt (mutates it).

    Raises ``ValidationError`` on ``code`` naming what to do: wrong, expired, or too many tries."""
    now = now or timezone.now()
    if challenge.get("attempts", 0) >= CODE_ATTEMPTS:
        raise ValidationError({"code": "Too many wrong codes: ask for a new one."})
    if now >= datetime.fromisoformat(challenge["expires"]):
        raise ValidationError(
            {"code": f"This code has expired (codes last {CODE_MINUTES} minutes): ask for a new one."}
        )
    challenge["attempts"] = challenge.get("attempts", 0) + 1
    given = "".join(ch for ch in code if ch.isdigit())
    if challenge.get("client") is None or not hmac.compare_digest(_code_digest(given), challenge["digest"]):
        left = CODE_ATTEMPTS - challenge["attempts"]
        more = f"{left} more tr{'ies' if left != 1 else 'y'}" if left else "no more tries: ask for a new one"
        raise ValidationError({"code": f"That code is not the one we sent ({more})."})
    return int(challenge["client"])


# --- Booking --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Booked:
    appointment: Appointment
    replayed: bool  # an earlier request with the same key made it


def online_book(
    *,
    clinic: Clinic,
    hold_token: str,
    key: str,
    base_url: str,
    client_id: int | None = None,
    new_client: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Booked:
    """Book the held time for a verified returning client (``client_id``) or a new one (``new_client``,
    registered as a client of the clinic), once per ``key``.

    A retry with the same key answers with the appointment the first made (``idempotency_key_use``:
    the key's row is written first, so a second request waits for the first and then replays it);
    the same key with other details is a ``ValidationError``. A time taken meanwhile (the hold
    expired and someone booked it) or refused by the type's rules raises :class:`BookingConflict`,
    and the key is not kept: the client may choose another time and confirm again.
    """
    now = now or timezone.now()
    digest = request_digest([hold_token, client_id, dict(new_client or {})])

    def run() -> tuple[int, dict[str, Any]]:
        hold = (
            Hold.objects.filter(clinic=clinic, token=hold_token)
            .select_related("appointment_type", "therapist", "room")
            .first()
        )
        if hold is None:
            raise BookingConflict("This time is no longer held for you: please choose a time again.")
        if client_id is not None:
            client, returning = q.client_in_clinic(clinic, client_id), True
        elif new_client is not None:
            client, returning = client_register_online(clinic=clinic, data=new_client), False
        else:
            raise ValidationError({"__all__": "Tell us who you are first."})
        appointment = appointment_book(
            clinic=clinic,
            actor=None,
            client=client,
            therapist=hold.therapist,
            appointment_type=hold.appointment_type,
            starts_at=hold.starts_at,
            room=hold.room,
            channel=Appointment.Channel.ONLINE,
            hold_token=hold.token,
            returning_client=returning,
            now=now,
        )
        hold.delete()
        transaction.on_commit(lambda: send_appointment_email(appointment, base_url=base_url, kind="booked"))
        if not returning:
            # A new client gets the health-history questionnaire by email, once the booking stands
            # (robust: a failure is logged, and the booking is answered as made).
            transaction.on_commit(lambda: client_intake_send(clinic=clinic, client=client, now=now), robust=True)
        return 201, {"appointment": appointment.pk}

    (_status, body), replayed = idempotency_key_use(clinic=clinic, scope=q.SCOPE, key=key, digest=digest, run=run)
    return Booked(q.appointment_in_clinic(clinic, body["appointment"]), replayed=replayed)


def changeable_until(appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(hours=settings.MEND_CANCELLATION_HOURS)


def _claim(token: str, purpose: str, now: datetime) -> Appointment:
    """The link's appointment, locked, if the link is still good for a change now."""
    linked = q.linked_appointment(token, purpose)
    # The row lock (PostgreSQL; SQLite's IMMEDIATE transaction already serialises) makes the check
    # below and the change one step: of two uses of one link racing, the second sees the new SEQUENCE.
    current = Appointment.objects.select_for_update().get(pk=linked.appointment.pk)
    if current.sequence != linked.sequence or current.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.REQUESTED,
    ):
        raise AlreadyChanged("This appointment was already changed with this link, or since the email was sent.")
    if now > changeable_until(current):
        raise TooLate(
            f"Online changes close {settings.MEND_CANCELLATION_HOURS} hours before the appointment: "
            "please call the clinic."
        )
    return current


@transaction.atomic
def online_cancel(*, token: str, base_url: str, now: datetime | None = None) -> Appointment:
    """Cancel through the emailed link, once."""
    now = now or timezone.now()
    current = _claim(token, "cancel", now)
    cancelled = appointment_cancel(actor=None, appointment=current, reason="Cancelled by the client online", now=now)
    transaction.on_commit(lambda: send_appointment_email(cancelled, base_url=base_url, kind="cancelled"))
    return cancelled


@transaction.atomic
def online_reschedule(*, token: str, starts_at: datetime, base_url: str, now: datetime | None = None) -> Appointment:
    """Move the appointment to another time the slot list offers (same therapist), through the emailed link, once."""
    now = now or timezone.now()
    current = _claim(token, "reschedule", now)
    clinic = current.clinic
    day = clock.local_date(starts_at, clinic.timezone)
    slots = q.online_slots(
        clinic=clinic,
        kind=current.appointment_type,
        therapist_id=current.therapist_id,
        first=day,
        last=day,
        now=now,
        exclude_appointment=current.pk,
    )
    if not any(s.start == starts_at for s in slots):
        raise BookingConflict(_not_offered(current.appointment_type, starts_at, clinic=clinic, now=now))
    moved = appointment_move(
        actor=None, appointment=current, starts_at=starts_at, channel=Appointment.Channel.ONLINE, now=now
    )
    transaction.on_commit(lambda: send_appointment_email(moved, base_url=base_url, kind="rescheduled"))
    return moved


# --- Emails ---------------------------------------------------------------------------------


def _send(message: EmailMultiAlternatives) -> None:
    # After commit: the booking stands whether or not the mail server answers; the page shows it all.
    try:
        message.send()
    except Exception:
        log.exception("online booking email to %s not sent", message.to)


SUBJECTS = {
    "booked": "{clinic}: your appointment on {day}",
    "requested": "{clinic}: we received your request for {day}",
    "rescheduled": "{clinic}: your appointment moved to {day}",
    "cancelled": "{clinic}: your appointment on {day} is cancelled",
}


def appointment_email(
    appointment: Appointment, *, base_url: str, kind: str, now: datetime | None = None
) -> EmailMultiAlternatives:
    """The email about a booking, reschedule or cancellation, with the .ics, in the clinic's zone."""
    now = now or timezone.now()
    clinic = appointment.clinic
    zone = clinic.timezone
    client = appointment.client
    if kind == "booked" and appointment.status == AppointmentStatus.REQUESTED:
        kind = "requested"
    root = base_url.rstrip("/")
    links = {}
    if appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED):
        links = {
            purpose: root + reverse(f"book_{purpose}", args=[q.link_token(appointment, purpose)])
            for purpose in ("cancel", "reschedule")
        }
    location = appointment.location
    address = ", ".join(p for p in (location.street, location.city, location.region, location.postal_code) if p)
    context = {
        "kind": kind,
        "clinic": clinic,
        "first_name": client.chosen_name or client.legal_given_name,
        "appointment": appointment,
        "when": when_words(appointment.starts_at, zone),
        "minutes": appointment.minutes,
        "therapist": appointment.therapist.user.get_full_name(),
        "location": location,
        "address": address,
        "links": links,
        "until": when_words(changeable_until(appointment), zone),
        "hours": settings.MEND_CANCELLATION_HOURS,
        "fee_policy": q.fee_policy(clinic),
    }
    local = appointment.starts_at.astimezone(clock.zone(zone))
    subject = SUBJECTS[kind].format(clinic=clinic.name, day=f"{local:%a} {local.day} {local:%b}")
    message = EmailMultiAlternatives(
        subject, render_to_string("scheduling/email/appointment.txt", context), None, [client.email]
    )
    message.attach_alternative(render_to_string("scheduling/email/appointment.html", context), "text/html")
    if kind != "requested":
        message.attach(_ics_part(appointment, root=root, now=now))
    return message


def _ics_part(appointment: Appointment, *, root: str, now: datetime) -> MIMEText:
    clinic = appointment.clinic
    event = ical.FeedEvent(
        uid=ical_uid(appointment.pk),
        sequence=appointment.sequence,
        start=appointment.starts_at,
        end=appointment.ends_at,
        summary=f"{appointment.appointment_type.name} at {clinic.name}",
        last_modified=appointment.updated_at,
        location=appointment.location.name,
        status="cancelled" if appointment.status == AppointmentStatus.CANCELLED else "confirmed",
    )
    body = ical.invitation(
        event,
        zone=clinic.timezone,
        organizer=ical.Contact(email=parseaddr(settings.DEFAULT_FROM_EMAIL)[1], name=clinic.name),
        attendee=ical.Contact(email=appointment.client.email, name=appointment.client.display_name),
        stamp=now,
    )
    part = MIMEText(body.decode(), "calendar", "utf-8")
    part.set_param("method", ical.invitation_method(event))
    part.add_header("Content-Disposition", "attachment", filename="appointment.ics")
    return part


def send_appointment_email(appointment: Appointment, *, base_url: str, kind: str) -> None:
    fresh = Appointment.objects.select_related(
        "clinic", "client", "appointment_type", "therapist__user", "location"
    ).get(pk=appointment.pk)
    if fresh.client.email:
        _send(appointment_email(fresh, base_url=base_url, kind=kind))
