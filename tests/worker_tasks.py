"""A task for the worker-process tests (tests/test_worker_processes.py), importable by the workers they start."""

from __future__ import annotations

import os
import time

from django_tasks import task


@task()
def record_run(path: str, number: int) -> int:
    """Append "number worker" to ``path``: one line per run, and which worker (MEND_TEST_WORKER) ran it."""
    time.sleep(0.01)  # long enough that both workers are busy at once
    # One write of a short line to a file opened for appending lands whole, whoever else appends.
    with open(path, "a") as record:
        record.write(f"{number} {os.environ.get('MEND_TEST_WORKER', os.getpid())}\n")
    return number
