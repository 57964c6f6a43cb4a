"""MEND_TEST_NOW: the suite's clock at a chosen instant, shared with the processes the tests start."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from mend import testclock

CHILD = "import datetime, time; print(datetime.datetime.now(datetime.UTC).isoformat()); print(time.time())"


def _child(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)


def test_an_instant_names_its_offset():
    assert testclock.parse_instant("2026-03-08T06:30:00Z") == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert testclock.parse_instant("2026-03-08T01:30:00-05:00") == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    with pytest.raises(testclock.ClockError, match="MEND_TEST_NOW must name its offset"):
        testclock.parse_instant("2026-03-08T06:30:00")
    with pytest.raises(testclock.ClockError, match="MEND_TEST_NOW must be an ISO 8601 instant"):
        testclock.parse_instant("tomorrow")


def test_a_child_process_reads_the_runs_instant_plus_the_time_since_it_started(tmp_path: Path):
    """The anchor says the run reached MEND_TEST_NOW an hour ago, in real time: the child reads an hour past it."""
    env = {
        **os.environ,
        testclock.NOW: "2026-11-01T05:30:00Z",
        testclock.STARTED: repr(_real_time() - 3600),
    }
    testclock.subprocess_env(env, tmp_path / "site")
    child = _child(env)
    assert child.returncode == 0, child.stderr
    now = datetime.fromisoformat(child.stdout.split()[0])
    assert timedelta(hours=1) <= now - datetime(2026, 11, 1, 5, 30, tzinfo=UTC) < timedelta(hours=1, minutes=5)
    assert float(child.stdout.split()[1]) == pytest.approx(now.timestamp(), abs=5)


def test_without_an_instant_a_child_keeps_the_real_clock(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in (testclock.NOW, testclock.STARTED)}
    assert testclock.subprocess_env(env, tmp_path / "site") == env
    assert "PYTHONPATH" not in env or str(tmp_path) not in env["PYTHONPATH"]
    assert not (tmp_path / "site").exists()


def test_production_refuses_the_test_clock(tmp_path: Path):
    env = {**os.environ, testclock.NOW: "2026-11-01T05:30:00Z", "MEND_ENV": "production"}
    testclock.subprocess_env(env, tmp_path / "site")
    child = _child(env)
    assert child.returncode != 0
    assert "refused under MEND_ENV=production" in child.stderr


def _real_time() -> float:
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else datetime.now(UTC).timestamp()
