"""The outbox's background task (run by `mend worker`; see mend.platform.tasks)."""

from __future__ import annotations

from django_tasks import task

from mend.outbox import services


@task()
def deliver_message(message_id: int) -> str:
    """Send one scheduled message unless it was sent, claimed or withdrawn already."""
    return services.message_deliver(message_id=message_id)
