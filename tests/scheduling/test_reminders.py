"""Reminders: exactly one per appointment and channel, withdrawn by a cancel or move, sent by the worker."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from mend.core.availability import exact_local
from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_deliver
from mend.platform import sms
from mend.scheduling.services import appointment_book, appointment_cancel, appointment_move
from mend.scheduling.services.reminders import reminder_key
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"
# The suite's frozen clock (MEND_TEST_NOW): reminders are due relative to the real "now".
NOW = timezone.now().replace(microsecond=0)
START = exact_local(NOW.astimezone(UTC).date() + timedelta(days=7), time(10), ZONE)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    carol = personas.carol
    carol.consent_email = carol.consent_sms = True
    carol.save()
    return build_schedule(personas)


def _book(p: Personas, s: Schedule, start: datetime = START):
    return appointment_book(
        clinic=p.harbour,
        actor=p.actor("front_desk"),
        client=p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=s.treatment,
        starts_at=start,
        now=NOW,
    )


def _pending() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(status="pending", key__startswith="reminder:").order_by("key"))


def test_a_booking_schedules_one_email_and_one_text_the_day_before(personas, schedule):
    appointment = _book(personas, schedule)
    email, sms = sorted(_pending(), key=lambda m: m.channel)
    assert (email.channel, sms.channel) == ("email", "sms")
    assert email.send_after == START - timedelta(hours=24)
    assert "10:00 EST (America/Toronto time)" in email.body or "10:00 EDT (America/Toronto time)" in email.body
    assert "Carol" in email.body and "Caroline" not in email.body
    assert "cancel" in sms.body.lower()
    assert email.key == reminder_key(appointment.pk, 0, "email")


def test_no_message_without_consent(personas, schedule):
    personas.carol.consent_sms = False
    personas.carol.save()
    _book(personas, schedule)
    assert [m.channel for m in _pending()] == ["email"]


def test_no_reminder_for_a_booking_already_inside_the_reminder_window(personas, schedule, settings):
    # Reminding eight days ahead, a booking seven days ahead is past its reminder: the confirmation is it.
    settings.MEND_REMINDER_HOURS = 8 * 24
    _book(personas, schedule)
    assert _pending() == []


def test_a_cancel_withdraws_and_a_move_replaces_the_reminder(personas, schedule):
    appointment = _book(personas, schedule)
    moved = appointment_move(
        actor=personas.actor("front_desk"), appointment=appointment, starts_at=START + timedelta(hours=2), now=NOW
    )
    pending = _pending()
    assert {m.key for m in pending} == {reminder_key(moved.pk, 1, "email"), reminder_key(moved.pk, 1, "sms")}
    assert all(m.send_after == START + timedelta(hours=2) - timedelta(hours=24) for m in pending)
    assert OutboundMessage.objects.filter(status="withdrawn").count() == 2
    appointment_cancel(actor=personas.actor("front_desk"), appointment=moved, now=NOW)
    assert _pending() == []


def test_a_reminder_is_sent_once_even_if_delivered_twice(personas, schedule, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms.outbox.clear()
    _book(personas, schedule)
    for message in _pending():
        assert message_deliver(message_id=message.pk) == "sent"
        assert message_deliver(message_id=message.pk) == "sent"
    assert len(mail.outbox) == 1
    assert len(sms.outbox) == 1


def test_a_withdrawn_reminder_is_never_sent(personas, schedule, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    appointment = _book(personas, schedule)
    keys = [m.pk for m in _pending()]
    appointment_cancel(actor=personas.actor("front_desk"), appointment=appointment, now=NOW)
    assert [message_deliver(message_id=pk) for pk in keys] == ["withdrawn", "withdrawn"]
    assert mail.outbox == []


@pytest.mark.redis
def test_reminders_through_rq_and_real_redis_go_out_once_and_never_after_a_cancel(
    personas, schedule, rq_backend, run_worker, smtp_server, django_capture_on_commit_callbacks
):
    """The same reminder flow on the distributed backend: book two, cancel one, run the worker when due."""
    with django_capture_on_commit_callbacks(execute=True):
        kept = _book(personas, schedule)
    with django_capture_on_commit_callbacks(execute=True):
        dropped = _book(personas, schedule, START + timedelta(hours=2))
    appointment_cancel(actor=personas.actor("front_desk"), appointment=dropped, now=NOW)

    def reminders() -> list[tuple[list[str], object]]:
        # The staff's booking also emails its confirmation at once (notices): count only reminders.
        return [(to, m) for to, m in smtp_server.messages if "see you" in str(m["Subject"])]

    run_worker()
    assert reminders() == []  # not due yet: waiting in RQ's scheduler
    with time_machine.travel(START - timedelta(hours=2), tick=False):
        run_worker()
        run_worker()  # a second worker pass finds nothing left to send
    assert [recipients for recipients, _ in reminders()] == [["carol@example.net"]]
    assert "Carol" in str(reminders()[0][1])
    of_kept = OutboundMessage.objects.filter(key__startswith=f"reminder:appointment-{kept.pk}:")
    assert set(of_kept.values_list("status", flat=True)) == {"sent"}
