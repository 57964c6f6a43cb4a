"""`mend worker`: run the background tasks of the configured backend (docs/architecture.md, "Background work").

The database backend (the default) runs django-tasks-db's worker: each task row is claimed under a
row lock (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, an exclusive transaction on SQLite)
and marked running before the task starts, so two workers never run one task. With
``MEND_TASKS_BACKEND=rq`` it runs an RQ worker with its scheduler on MEND_REDIS_URL's queues (Redis
hands each job to one worker). ``--burst`` runs what is due and returns, for tests and cron.
"""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend


class Command(BaseCommand):
    help = "Run background tasks (reminders and other messages) with the configured task backend."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--burst", action="store_true", help="run every task that is due, then exit (instead of waiting for more)"
        )
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            metavar="NAME",
            help="a queue to work on (repeatable; default: every queue the backend is configured with)",
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="exit after running this many tasks")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="database backend: seconds between looks for new tasks when none is due (default 1)",
        )

    def handle(
        self, *, burst: bool, queues: list[str] | None, max_tasks: int | None, interval: float, **options: Any
    ) -> None:
        if max_tasks is not None and max_tasks < 1:
            raise CommandError("--max-tasks must be at least 1")
        if interval < 0:
            raise CommandError("--interval must be zero or more seconds")
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        names = queues or sorted(backend.queues)
        unknown = sorted(set(names) - set(backend.queues))
        if unknown:
            raise CommandError(f"--queue: {', '.join(unknown)} is not one of {', '.join(sorted(backend.queues))}")
        self._configure_logging(options["verbosity"])
        if isinstance(backend, DatabaseBackend):
            self._database_worker(names, burst=burst, max_tasks=max_tasks, interval=interval)
            return
        from django_tasks_rq import RQBackend

        if isinstance(backend, RQBackend):
            self._rq_worker(names, burst=burst, max_tasks=max_tasks, verbosity=options["verbosity"])
            return
        raise CommandError(f"the task backend {type(backend).__name__} has no worker to run")

    def _configure_logging(self, verbosity: int) -> None:
        level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
        # What each task did goes to the log (settings.LOGGING's console handler, on stderr).
        for name in ("django_tasks", "django_tasks_db"):
            logging.getLogger(name).setLevel(level)

    def _database_worker(self, queues: list[str], *, burst: bool, max_tasks: int | None, interval: float) -> None:
        # db_worker's own loop, not the command: called as a command it would take over SIGINT and
        # SIGTERM even in burst mode, which a test process (or cron) does not want.
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=queues,
            interval=interval,
            batch=burst,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            # The random start-up pause spreads a fleet of workers started together; one burst needs none.
            startup_delay=not burst,
            max_tasks=max_tasks,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        if not burst:
            # Ctrl-C or a service manager's stop lets the running task finish before the worker exits.
            worker.configure_signals()
        worker.run()

    def _rq_worker(self, queues: list[str], *, burst: bool, max_tasks: int | None, verbosity: int) -> None:
        from django_rq.workers import get_worker
        from django_tasks_rq import Job
        from redis.exceptions import ConnectionError as RedisConnectionError
        from rq.worker import SimpleWorker

        worker = get_worker(*queues, job_class=Job)
        if not isinstance(worker, SimpleWorker):
            # RQ forks a child per job: it must open database connections of its own, not share ours.
            connections.close_all()
        try:
            worker.work(
                burst=burst,
                with_scheduler=True,
                max_jobs=max_tasks,
                logging_level="WARNING" if verbosity == 0 else "INFO" if verbosity == 1 else "DEBUG",
            )
        except RedisConnectionError as error:
            raise CommandError(f"cannot reach Redis at MEND_REDIS_URL: {error}") from None
