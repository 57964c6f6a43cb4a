"""Appointment reminders: one per appointment, channel and version, withdrawn when plans change.

A reminder is an outbox message (``mend.outbox``) named by a key, so asking twice schedules it
once and two workers send it once. The key carries the appointment's SEQUENCE, raised on every
change: moving an appointment withdraws the pending reminder of the old time and schedules one
for the new; cancelling withdraws it. All of this happens in the booking's own transaction (an
``on_change`` listener), so a booking that rolls back leaves no reminder behind.

Messages carry no health information: the client's first name, the time in the clinic's zone with
the zone named, the place, and the cancellation policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule, message_withdraw
from mend.platform import clock
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.scheduling.queries.online import fee_policy
from mend.scheduling.services.booking import Change

CHANNELS = (OutboundMessage.Channel.EMAIL, OutboundMessage.Channel.SMS)


def reminder_key(appointment_id: int, sequence: int, channel: str) -> str:
    return f"reminder:appointment-{appointment_id}:v{sequence}:day-before:{channel}"


def when_words(moment: datetime, zone: str) -> str:
    """``Tuesday 8 December 2026, 10:00 EST (America/Toronto time)``: the clinic's wall clock, named."""
    local = moment.astimezone(clock.zone(zone))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()} ({zone} time)"


def reminder_due(appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(hours=settings.MEND_REMINDER_HOURS)


def _context(appointment: Appointment) -> dict[str, object]:
    clinic = appointment.clinic
    client = appointment.client
    location = appointment.location
    address = ", ".join(p for p in (location.street, location.city, location.region, location.postal_code) if p)
    hours = settings.MEND_CANCELLATION_HOURS
    return {
        "first_name": client.chosen_name or client.legal_given_name,
        "clinic": clinic,
        "type_name": appointment.appointment_type.name,
        "minutes": appointment.minutes,
        "when": when_words(appointment.starts_at, clinic.timezone),
        "until": when_words(appointment.starts_at - timedelta(hours=hours), clinic.timezone),
        "hours": hours,
        "location": location,
        "address": address,
        "fee_policy": fee_policy(clinic),
    }


def reminders_schedule(appointment: Appointment, *, now: datetime | None = None) -> list[OutboundMessage]:
    """Schedule the day-before reminders of a booked appointment, by email and text as the client allows.

    None when it is too late for one (booked inside the reminder window: the confirmation is the
    reminder) or the client gave no address they agreed to be contacted at.
    """
    now = now or timezone.now()
    if appointment.status != AppointmentStatus.BOOKED:
        return []
    due = reminder_due(appointment)
    if due <= now:
        return []
    client = appointment.client
    context = _context(appointment)
    local = appointment.starts_at.astimezone(clock.zone(appointment.clinic.timezone))
    made = []
    if client.email and client.consent_email:
        made.append(
            message_schedule(
                key=reminder_key(appointment.pk, appointment.sequence, OutboundMessage.Channel.EMAIL),
                channel=OutboundMessage.Channel.EMAIL,
                to=client.email,
                subject=f"{appointment.clinic.name}: see you {local:%A} at {local:%H:%M}",
                body=render_to_string("scheduling/email/reminder.txt", context),
                send_after=due,
            )
        )
    if client.phone and client.consent_sms:
        made.append(
            message_schedule(
                key=reminder_key(appointment.pk, appointment.sequence, OutboundMessage.Channel.SMS),
                channel=OutboundMessage.Channel.SMS,
                to=client.phone,
                body=render_to_string("scheduling/email/reminder_sms.txt", context).strip(),
                send_after=due,
            )
        )
    return made


def reminders_withdraw(appointment: Appointment) -> int:
    """Withdraw every pending reminder of the appointment's earlier versions (and this one)."""
    keys = [
        reminder_key(appointment.pk, sequence, channel)
        for sequence in range(appointment.sequence + 1)
        for channel in CHANNELS
    ]
    return message_withdraw(keys=keys)


def on_appointment_change(change: Change) -> None:
    """The booking service's listener: keep reminders in step with the appointment."""
    appointment = change.appointment
    if change.kind in ("moved", "cancelled") or appointment.status != AppointmentStatus.BOOKED:
        reminders_withdraw(appointment)
    if appointment.status == AppointmentStatus.BOOKED:
        reminders_schedule(appointment)
