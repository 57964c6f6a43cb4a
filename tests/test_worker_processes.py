"""Two `mend worker` processes on one database never run a task twice, nor send a message twice.

The workers are real processes on a database of their own (a file on SQLite, a new database on the
session's PostgreSQL cluster), as a clinic runs them: the test's own transaction would hide its
rows from them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import pytest

from mend import testclock

pytestmark = pytest.mark.slow

TASKS = 200
MESSAGES = 20
MEND = str(Path(sys.executable).with_name("mend"))


@pytest.fixture
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database for the workers: PostgreSQL when the suite runs on it, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'workers.sqlite3'}"
        return
    import psycopg

    settings = dj_database_url.parse(url)
    name = f"mend_workers_{uuid.uuid4().hex[:12]}"
    admin = {"host": settings["HOST"], "port": settings["PORT"] or None, "user": settings["USER"]}
    admin |= {"password": settings["PASSWORD"] or None, "dbname": settings["NAME"]}
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(**admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env |= {
        "MEND_ENV": "test",
        "DATABASE_URL": database_url,
        "MEND_VAR_DIR": str(tmp_path / "var"),
        "MEND_SMS_BACKEND": "mend.platform.sms.ConsoleBackend",
        "MEND_TASKS_BACKEND": "database",
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
from django_tasks_db.models import DBTaskResult
from mend.outbox.models import OutboundMessage
print(json.dumps({
    "tasks": sorted(set(DBTaskResult.objects.values_list("status", flat=True))),
    "task_count": DBTaskResult.objects.count(),
    "messages": sorted(set(OutboundMessage.objects.values_list("status", flat=True))),
}))
"""


def test_two_workers_run_each_task_once_and_send_each_message_once(tmp_path, scratch_database):
    env = _env(tmp_path, scratch_database)
    record = tmp_path / "runs.txt"
    _mend(env, "migrate", "--noinput", "-v", "0")
    _mend(env, "shell", "-v", "0", "-c", ENQUEUE.format(tasks=TASKS, messages=MESSAGES, record=str(record)))

    workers = [
        subprocess.Popen(
            [MEND, "worker", "--burst", "--interval", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()[-3000:]

    runs = [line.split() for line in record.read_text().splitlines()]
    counts = Counter(number for number, _ in runs)
    assert sorted(counts) == sorted(str(n) for n in range(TASKS))
    assert set(counts.values()) == {1}, [number for number, count in counts.items() if count > 1]
    # Both workers took tasks: they ran at the same time, or the test proves nothing.
    assert len({pid for _, pid in runs}) == 2

    texts = b"".join(stdout for stdout, _ in outputs).decode()
    sent = sorted(line for line in texts.splitlines() if line.startswith("SMS to "))
    assert sent == sorted(f"SMS to +1416555{n:04d}" for n in range(MESSAGES))

    report = json.loads(_mend(env, "shell", "-v", "0", "-c", REPORT))
    assert report == {"tasks": ["SUCCESSFUL"], "task_count": TASKS + 2 * MESSAGES, "messages": ["sent"]}
