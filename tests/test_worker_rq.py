"""The same tasks on RQ with a real Redis (MEND_TASKS_BACKEND=rq): what a deployment past one machine runs."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
import time_machine
from django.utils import timezone

from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule, message_withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def _schedule(key: str, **changes) -> OutboundMessage:
    fields = {
        "channel": OutboundMessage.Channel.EMAIL,
        "to": "carol@example.org",
        "subject": "Your visit on Tuesday",
        "body": "Carol, see you Tuesday at 10:00 (Toronto time).",
    }
    return message_schedule(key=key, **{**fields, **changes})


def test_an_email_enqueued_through_the_task_api_is_sent_by_mend_worker_from_redis(
    rq_backend, run_worker, smtp_server, django_capture_on_commit_callbacks
):
    """Nothing reaches Redis until the transaction commits; then `mend worker --burst` sends the email."""
    queue = django_rq.get_queue("default")
    with django_capture_on_commit_callbacks(execute=True):
        message = _schedule("reminder:appointment-1:day-before")
        assert queue.count == 0  # not before the commit: a worker must never see rows that may roll back
    assert queue.count == 1

    run_worker()

    assert queue.count == 0
    assert [recipients for recipients, _ in smtp_server.messages] == [["carol@example.org"]]
    assert "10:00 (Toronto time)" in smtp_server.body()
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT


def test_a_message_for_later_waits_in_rq_until_its_time(
    rq_backend, run_worker, smtp_server, django_capture_on_commit_callbacks
):
    """The task's run_after becomes an RQ scheduled job, which the worker's scheduler enqueues when due."""
    later = timezone.now() + timedelta(hours=24)
    with django_capture_on_commit_callbacks(execute=True):
        _schedule("reminder:appointment-1:day-before", send_after=later)
        withdrawn = _schedule("reminder:appointment-2:day-before", send_after=later)
    assert message_withdraw(keys=[withdrawn.key]) == 1

    run_worker()
    assert smtp_server.messages == []

    with time_machine.travel(later + timedelta(seconds=1), tick=False):
        run_worker()
    assert len(smtp_server.messages) == 1
    assert OutboundMessage.objects.get(key=withdrawn.key).status == OutboundMessage.Status.WITHDRAWN
