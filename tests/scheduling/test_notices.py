"""The client hears of what the clinic's staff book, move or cancel: the online booking's email, once."""

from __future__ import annotations

from datetime import UTC, time, timedelta

import icalendar
import pytest
from django.utils import timezone

from mend.core.availability import exact_local
from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_deliver
from mend.scheduling.models import Appointment
from mend.scheduling.queries.feeds import ical_uid
from mend.scheduling.services import appointment_book, appointment_cancel, appointment_move
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"
START = exact_local(timezone.now().astimezone(UTC).date() + timedelta(days=9), time(10), ZONE)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    personas.carol.consent_email = True
    personas.carol.save()
    return build_schedule(personas)


def _book(p: Personas, s: Schedule, *, actor=None, channel=Appointment.Channel.STAFF):
    return appointment_book(
        clinic=p.harbour,
        actor=actor,
        client=p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=s.treatment,
        starts_at=START,
        channel=channel,
    )


def _notices() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(key__startswith="notice:").order_by("pk"))


def test_a_staff_booking_sends_the_confirmation_with_the_zone_named_and_the_feeds_uid(
    personas, schedule, smtp_server, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    appointment = _book(personas, schedule, actor=personas.actor("front_desk"))
    [notice] = _notices()
    assert notice.to == "carol@example.net"
    assert "(America/Toronto time)" in notice.body
    assert "10:00 E" in notice.body.split("When:")[1].splitlines()[0]  # 10:00 EST or EDT, never UTC's hour
    assert message_deliver(message_id=notice.pk) == "sent"
    [(recipients, received)] = smtp_server.messages
    assert recipients == ["carol@example.net"]
    [ics] = [part for part in received.walk() if part.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST"
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == ical_uid(appointment.pk)


def test_a_move_and_a_cancel_by_staff_are_told_once_each(personas, schedule):
    appointment = _book(personas, schedule, actor=personas.actor("front_desk"))
    moved = appointment_move(
        actor=personas.actor("front_desk"), appointment=appointment, starts_at=START + timedelta(hours=3)
    )
    appointment_cancel(actor=personas.actor("front_desk"), appointment=moved)
    kinds = [n.key.rsplit(":", 1)[1] for n in _notices()]
    assert kinds == ["booked", "rescheduled", "cancelled"]
    assert "METHOD:CANCEL" in _notices()[-1].attachments[0]["content"]


def test_no_notice_without_consent_or_for_the_clients_own_online_booking(personas, schedule):
    _book(personas, schedule, channel=Appointment.Channel.ONLINE)  # the online flow emails at once itself
    assert _notices() == []
    personas.carol.consent_email = False
    personas.carol.save()
    appointment_book(
        clinic=personas.harbour,
        actor=personas.actor("front_desk"),
        client=personas.carol,
        therapist=personas.memberships["therapist2"],
        appointment_type=schedule.treatment,
        starts_at=START,
    )
    assert _notices() == []
