"""Reads for calendar feeds: the therapist's private iCal feed and the page that manages it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from mend import access
from mend.clinics.models import Membership
from mend.core import ical
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus, CalendarFeed, ExternalCalendar

# What a feed holds: the last 60 days and the next year. Cancelled appointments stay while in
# that window so subscribed calendars learn of the cancellation (STATUS:CANCELLED, SEQUENCE up).
FEED_PAST = timedelta(days=60)
FEED_AHEAD = timedelta(days=366)


def ical_uid(appointment_id: int) -> str:
    """An appointment's UID, the same in the feed and in every email about it."""
    return ical.appointment_uid(appointment_id, domain=settings.MEND_ICAL_DOMAIN)


def initials(given: str, family: str) -> str:
    """``J.D.``: all a feed shows of a client (it may sit in a phone's shared calendar)."""
    return "".join(f"{part[0].upper()}." for part in (given, family) if part)


def _client_initials(appointment: Appointment) -> str:
    client = appointment.client
    return initials(client.chosen_name or client.legal_given_name, client.legal_family_name)


def feed_by_token(raw: str) -> CalendarFeed | None:
    """The live feed a URL's token opens, or None (unknown, revoked or malformed alike)."""
    from mend.scheduling.services.feeds import feed_token_hash

    if not raw or len(raw) > 100:
        return None
    return (
        CalendarFeed.objects.select_related("therapist__user", "therapist__clinic")
        .filter(token_hash=feed_token_hash(raw), revoked_at__isnull=True)
        .first()
    )


def feed_body(feed: CalendarFeed) -> bytes:
    """The therapist's appointments as RFC 5545 text: initials and type, never health details."""
    now = timezone.now()
    clinic = feed.therapist.clinic
    rows = (
        Appointment.objects.filter(
            therapist_id=feed.therapist_id,
            starts_at__gte=now - FEED_PAST,
            starts_at__lt=now + FEED_AHEAD,
        )
        .exclude(status=AppointmentStatus.REQUESTED)
        .select_related("client", "appointment_type", "location")
        .order_by("starts_at")
    )
    events = [
        ical.FeedEvent(
            uid=ical_uid(a.pk),
            sequence=a.sequence,
            start=a.starts_at,
            end=a.ends_at,
            summary=f"{_client_initials(a)} — {a.appointment_type.name}",
            last_modified=a.updated_at,
            location=a.location.name,
            status="cancelled" if a.status == AppointmentStatus.CANCELLED else "confirmed",
        )
        for a in rows
    ]
    name = f"{clinic.name}: {feed.therapist.user.full_name}"
    return ical.feed(events, zone=clinic.timezone, name=name, stamp=now)


@dataclass(frozen=True, slots=True)
class FeedsPage:
    therapist: Membership
    live_feed: CalendarFeed | None
    externals: list[ExternalCalendar]


def feeds_page(actor: Actor, therapist: Membership) -> FeedsPage:
    return FeedsPage(
        therapist=therapist,
        live_feed=CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True).first(),
        externals=list(ExternalCalendar.objects.filter(therapist=therapist).order_by("pk")),
    )


def external_calendar_or_404(actor: Actor, pk: int | str) -> ExternalCalendar:

    found = ExternalCalendar.objects.select_related("therapist").filter(clinic_id=actor.clinic_id)
    if not actor.manages_clinic:
        found = found.filter(therapist=actor.membership)
    return access.object_or_404(found, pk, "calendar")
