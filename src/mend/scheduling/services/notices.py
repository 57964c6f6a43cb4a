"""Telling the client when the clinic books, moves or cancels their appointment.

A client booking online sees the confirmation on the page and by email at once (``online``); when
the clinic's staff make the change (a page, the API, approving a request) the client gets the same
email, with the same .ics and the time in the clinic's zone with the zone named, through the outbox
(``mend.outbox``): keyed by appointment, version and kind, so it is sent once, after the change
commits, by the worker. Only to clients who agreed to be contacted by email.
"""

from __future__ import annotations

from email.mime.base import MIMEBase
from typing import Any

from django.conf import settings

from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.scheduling.services.booking import Change

_KINDS = {"booked": "booked", "moved": "rescheduled", "cancelled": "cancelled"}


def notice_key(appointment: Appointment, kind: str) -> str:
    return f"notice:appointment-{appointment.pk}:v{appointment.sequence}:{kind}"


def _kind(change: Change) -> str | None:
    appointment = change.appointment
    if change.kind == "status":
        # Approving a request is when the client learns it is booked; other status changes say nothing.
        approved = change.previous_status == AppointmentStatus.REQUESTED
        return "booked" if approved and appointment.status == AppointmentStatus.BOOKED else None
    kind = _KINDS.get(change.kind)
    if kind == "booked" and appointment.status != AppointmentStatus.BOOKED:
        return None
    return kind


def _parts(attachments: list[Any]) -> list[dict[str, str]]:
    parts = []
    for part in attachments:
        if isinstance(part, MIMEBase):
            params = "".join(f"; {k}={v}" for k, v in (part.get_params() or [])[1:] if k != "charset")
            payload = part.get_payload(decode=True)
            content = payload.decode() if isinstance(payload, bytes) else str(payload)
            parts.append(
                {
                    "filename": part.get_filename() or "attachment",
                    "mimetype": part.get_content_type() + params,
                    "content": content,
                }
            )
    return parts


def on_appointment_change(change: Change) -> None:
    """The booking service's listener: queue the client's email for a change the staff made."""
    kind = _kind(change) if change.by_staff else None
    if kind is None:
        return
    fresh = Appointment.objects.select_related(
        "clinic", "client", "appointment_type", "therapist__user", "location"
    ).get(pk=change.appointment.pk)
    client = fresh.client
    if not (client.email and client.consent_email):
        return
    from mend.scheduling.services.online import appointment_email

    email = appointment_email(fresh, base_url=settings.MEND_PUBLIC_URL, kind=kind)
    html = next((content for content, mimetype in email.alternatives if mimetype == "text/html"), "")
    message_schedule(
        key=notice_key(fresh, kind),
        channel=OutboundMessage.Channel.EMAIL,
        to=client.email,
        subject=str(email.subject),
        body=str(email.body),
        html=str(html),
        attachments=_parts(list(email.attachments)),
    )
