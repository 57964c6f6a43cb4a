"""Background work on the database backend: `mend worker`, the outbox's at-most-once delivery, SMS backends."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule, message_withdraw
from mend.outbox.tasks import deliver_message
from mend.platform import sms

pytestmark = pytest.mark.django_db

SMS = OutboundMessage.Channel.SMS
EMAIL = OutboundMessage.Channel.EMAIL


def _reminder(key: str = "reminder:appointment-1:day-before", **changes) -> OutboundMessage:
    fields = {"channel": SMS, "to": "+14165550123", "body": "Carol, see you Tuesday at 10:00 (Toronto time)."}
    return message_schedule(key=key, **{**fields, **changes})


def test_a_task_enqueued_on_the_database_backend_runs_when_mend_worker_runs(run_worker, sms_outbox):
    """Scheduling a message writes a task row; nothing is sent until the worker runs it."""
    message = _reminder()
    task_row = DBTaskResult.objects.get()
    assert task_row.status == TaskResultStatus.READY
    assert task_row.task_path == "mend.outbox.tasks.deliver_message"
    assert sms_outbox == []

    run_worker()

    assert [(m.to, m.body) for m in sms_outbox] == [("+14165550123", message.body)]
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.sent_at is not None
    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.SUCCESSFUL
    assert task_row.return_value == "sent"


def test_an_email_goes_out_through_the_smtp_server(run_worker, smtp_server):
    _reminder(channel=EMAIL, to="carol@example.org", subject="Your visit on Tuesday")

    run_worker()

    assert len(smtp_server.messages) == 1
    recipients, sent = smtp_server.messages[0]
    assert recipients == ["carol@example.org"]
    assert sent["Subject"] == "Your visit on Tuesday"
    assert "10:00 (Toronto time)" in smtp_server.body()


def test_asking_twice_for_one_key_sends_one_message(run_worker, sms_outbox):
    """A retried request, or a second scheduler, finds the message it asked for the first time."""
    first = _reminder()
    second = _reminder(body="A different text the second time")

    run_worker()

    assert second.pk == first.pk
    assert OutboundMessage.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    assert [m.body for m in sms_outbox] == [first.body]


def test_a_delivery_task_run_twice_sends_once(run_worker, sms_outbox):
    """A task enqueued again (a retry, a replayed queue) finds the message claimed and sends nothing."""
    message = _reminder()
    deliver_message.enqueue(message_id=message.pk)

    run_worker()

    assert len(sms_outbox) == 1
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["sent", "sent"]
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 2


def test_a_withdrawn_message_is_never_sent(run_worker, sms_outbox):
    """A cancelled appointment's pending reminders are withdrawn; the queued task then sends nothing."""
    message = _reminder()
    other = _reminder(key="reminder:appointment-2:day-before")

    assert message_withdraw(keys=[message.key, "reminder:no-such-key"]) == 1
    run_worker()

    assert [m.to for m in sms_outbox] == [other.to]
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.WITHDRAWN
    assert message_withdraw(keys=[other.key]) == 0  # sent already: past withdrawing


def test_a_message_for_later_waits_for_its_time(run_worker, sms_outbox):
    """The task carries the message's time (run_after): the worker leaves it until then."""
    later = timezone.now() + timedelta(hours=24)
    message = _reminder(send_after=later)

    run_worker()
    assert sms_outbox == []
    assert DBTaskResult.objects.get().run_after == later

    with time_machine.travel(later + timedelta(seconds=1), tick=False):
        run_worker()
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT


class BrokenSmsBackend(sms.BaseSmsBackend):
    def send_messages(self, messages):
        raise ConnectionError("the SMS provider is down")


@override_settings(MEND_SMS_BACKEND=f"{__name__}.BrokenSmsBackend")
def test_a_failed_send_is_recorded_and_not_retried(run_worker, sms_outbox):
    """A provider's error marks the message failed, with the error, rather than sending it again later."""
    message = _reminder()
    deliver_message.enqueue(message_id=message.pk)

    run_worker()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert "the SMS provider is down" in message.error
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED", "SUCCESSFUL"]


def test_a_message_needs_a_recipient_and_an_email_a_subject():
    with pytest.raises(ValueError, match="recipient"):
        _reminder(to="")
    with pytest.raises(ValueError, match="subject"):
        _reminder(channel=EMAIL, to="carol@example.org")
    assert not OutboundMessage.objects.exists()


@task()
def _record(value: int) -> int:
    return value * 2


def test_the_worker_runs_any_task_and_stops_at_max_tasks(run_worker):
    results = [_record.enqueue(n) for n in range(3)]

    run_worker("--max-tasks", "2")
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 2

    run_worker()
    assert [_record.get_result(r.id).return_value for r in results] == [0, 2, 4]


def test_mend_worker_refuses_an_unknown_queue_or_a_bad_count():
    with pytest.raises(CommandError, match="--queue: bulk is not one of default"):
        call_command("worker", "--burst", "--queue", "bulk")
    with pytest.raises(CommandError, match="--max-tasks must be at least 1"):
        call_command("worker", "--burst", "--max-tasks", "0")


# --- SMS backends ------------------------------------------------------------------------------


def test_the_console_backend_writes_the_message():
    stream = io.StringIO()
    sent = sms.send_sms("+14165550123", "See you at 10:00", backend=sms.ConsoleBackend(stream=stream))
    assert sent == 1
    assert stream.getvalue().startswith("SMS to +14165550123\nSee you at 10:00\n")


def test_the_test_profile_keeps_text_messages_in_the_outbox(sms_outbox):
    assert sms.send_sms("+14165550123", "Hello") == 1
    assert sms_outbox == [sms.SmsMessage(to="+14165550123", body="Hello")]
    assert mail.outbox == []


@override_settings(MEND_SMS_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_the_sms_backend_setting_must_name_an_sms_backend():
    with pytest.raises(TypeError, match="MEND_SMS_BACKEND must name a subclass of"):
        sms.send_sms("+14165550123", "Hello")
