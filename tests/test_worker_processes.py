"""Two `mend worker` processes never run a task twice, nor send a message twice, on either backend.

The workers are real processes on a database of their own (a file on SQLite, a new database on the
session's PostgreSQL cluster), as a clinic runs them: the test's own transaction would hide its
rows from them. On RQ they are RQ's forking workers on the session's real Redis, configured by
MEND_TASKS_BACKEND=rq alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dj_database_url
import pytest

from mend import testclock

pytestmark = pytest.mark.slow

MESSAGES = 20
MEND = str(Path(sys.executable).with_name("mend"))


def _postgres_admin(url: str) -> dict[str, Any]:
    settings = dj_database_url.parse(url)
    admin: dict[str, Any] = {"host": settings["HOST"], "port": settings["PORT"] or None}
    return admin | {"user": settings["USER"], "password": settings["PASSWORD"] or None, "dbname": settings["NAME"]}


def _postgres(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(**_postgres_admin(url), autocommit=True) as connection:
        connection.execute(statement)


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once for the module (a minute on a busy machine), which each test copies."""
    url = os.environ.get("DATABASE_URL", "")
    directory = tmp_path_factory.mktemp("workers")
    if url.startswith(("postgres://", "postgresql://")):
        template = f"mend_workers_{uuid.uuid4().hex[:12]}"
        _postgres(url, f'CREATE DATABASE "{template}"')
        target = url.rsplit("/", 1)[0] + "/" + template
    else:
        template = str(directory / "template.sqlite3")
        target = f"sqlite:///{template}"
    try:
        _mend(_env(directory, target, "database", ""), "migrate", "--noinput", "-v", "0")
        yield template
    finally:
        if url.startswith(("postgres://", "postgresql://")):
            _postgres(url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@pytest.fixture
def scratch_database(tmp_path: Path, migrated_database: str) -> Iterator[str]:
    """The URL of a migrated database of this test's own: PostgreSQL when the suite runs on it, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        copy = tmp_path / "workers.sqlite3"
        shutil.copyfile(migrated_database, copy)
        yield f"sqlite:///{copy}"
        return
    name = f"mend_workers_{uuid.uuid4().hex[:12]}"
    _postgres(url, f'CREATE DATABASE "{name}" TEMPLATE "{migrated_database}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(tmp_path: Path, database_url: str, backend: str, redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env |= {
        "MEND_ENV": "test",
        "DATABASE_URL": database_url,
        "MEND_VAR_DIR": str(tmp_path / "var"),
        "MEND_SMS_BACKEND": "mend.platform.sms.ConsoleBackend",
        "MEND_TASKS_BACKEND": backend,
        "MEND_REDIS_URL": redis_url,
        # The workers import the test task from tests/worker_tasks.py.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])),
    }
    return dict(testclock.subprocess_env(env, tmp_path / "site"))


def _mend(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([MEND, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


ENQUEUE = """
from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule
from mend.outbox.tasks import deliver_message
from worker_tasks import record_run
for number in range({tasks}):
    record_run.enqueue({record!r}, number)
for number in range({messages}):
    message = message_schedule(
        key=f"reminder:appointment-{{number}}:day-before", channel=OutboundMessage.Channel.SMS,
        to=f"+1416555{{number:04d}}", body=f"Reminder {{number}}",
    )
    # Enqueued a second time, as a retry would: the message must still go out once.
    deliver_message.enqueue(message_id=message.pk)
"""

REPORT = """
import json
from django.conf import settings
from mend.outbox.models import OutboundMessage
if settings.MEND_TASKS_BACKEND == "rq":
    import django_rq
    queue = django_rq.get_queue("default")
    tasks = {{"waiting": queue.count, "failed": queue.failed_job_registry.count}}
    tasks["finished"] = queue.finished_job_registry.count
else:
    from django_tasks_db.models import DBTaskResult
    tasks = {{"waiting": DBTaskResult.objects.exclude(status="SUCCESSFUL").count(), "failed": 0}}
    tasks["finished"] = DBTaskResult.objects.filter(status="SUCCESSFUL").count()
print(json.dumps({{"tasks": tasks, "messages": sorted(set(OutboundMessage.objects.values_list("status", flat=True)))}}))
"""


# RQ forks a process per job (a tenth of a second each on a busy machine), and Redis hands each job
# to one worker by itself: fewer tasks there show the same.
@pytest.mark.parametrize(("backend", "tasks"), [("database", 200), pytest.param("rq", 40, marks=pytest.mark.redis)])
def test_two_workers_run_each_task_once_and_send_each_message_once(tmp_path, scratch_database, backend, tasks, request):
    redis_url = request.getfixturevalue("redis_server") if backend == "rq" else ""
    env = _env(tmp_path, scratch_database, backend, redis_url)
    record = tmp_path / "runs.txt"
    _mend(env, "shell", "-v", "0", "-c", ENQUEUE.format(tasks=tasks, messages=MESSAGES, record=str(record)))

    workers = [
        subprocess.Popen(
            [MEND, "worker", "--burst", "--interval", "0"],
            env={**env, "MEND_TEST_WORKER": name},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for name in ("first", "second")
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()[-3000:]

    runs = [line.split() for line in record.read_text().splitlines()]
    counts = Counter(number for number, _ in runs)
    assert sorted(counts) == sorted(str(n) for n in range(tasks))
    assert set(counts.values()) == {1}, [number for number, count in counts.items() if count > 1]
    # Both workers took tasks: they ran at the same time, or the test proves nothing.
    assert {worker for _, worker in runs} == {"first", "second"}

    texts = b"".join(stdout for stdout, _ in outputs).decode()
    sent = sorted(line for line in texts.splitlines() if line.startswith("SMS to "))
    assert sent == sorted(f"SMS to +1416555{n:04d}" for n in range(MESSAGES))

    report = json.loads(_mend(env, "shell", "-v", "0", "-c", REPORT.format()))
    assert report == {"tasks": {"waiting": 0, "failed": 0, "finished": tasks + 2 * MESSAGES}, "messages": ["sent"]}
