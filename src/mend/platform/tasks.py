"""Background work: tasks are written against Django's task API and enqueued here.

Write a task with the ``django_tasks`` decorator (Django 6's ``django.tasks``, backported), in the
app's ``tasks.py``, taking only JSON-serialisable arguments (ids, not objects)::

    from django_tasks import task

    @task()
    def message_send(message_id: int) -> str: ...

and enqueue it with :func:`enqueue_on_commit`, delayed with Django's ``using(run_after=...)``::

    enqueue_on_commit(message_send.using(run_after=when), message_id=message.pk)

``mend worker`` runs what is enqueued (docs/architecture.md, "Background work").
"""

from __future__ import annotations

from typing import ParamSpec, TypeVar

from django.db import transaction
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend

P = ParamSpec("P")
T = TypeVar("T")


def enqueue_on_commit(task: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
    """Enqueue ``task`` so that a worker only ever sees it with the rows it needs committed.

    The database backend's task is a row in the same database: written inside the caller's
    transaction, it commits or rolls back with it, and no crash between the two can lose it. A
    broker (RQ) is outside the transaction: its job is sent once the transaction commits (none if
    it rolls back), or a worker could pick it up before the rows exist, or for rows that never will.
    """
    backend = task.get_backend()
    if isinstance(backend, DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
