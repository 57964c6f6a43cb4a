"""The test suite's clock: run a whole session, and the servers it starts, at one chosen instant.

``MEND_TEST_NOW=2026-03-08T06:30:00Z`` (an ISO 8601 instant with its offset) makes every process
of a test run read the clock as if the run had started at that instant; the clock then ticks on
normally. The pytest process starts it in the ``mend.testenv`` plugin, before Django is set up or
any fixture writes a row. A process the tests start (``mend demo``, ``mend serve`` and its
gunicorn workers) gets it from :func:`subprocess_env`, which puts a ``sitecustomize`` on its path:
Python runs that at start-up, before ``mend`` is imported, and gunicorn's forked workers inherit
it. The file only exists in a directory the tests create, so no deployed process can ever read
the variable; it is refused under ``MEND_ENV=production`` all the same.

All processes share one anchor (``MEND_TEST_NOW_STARTED``, the real time at which the session's
clock read ``MEND_TEST_NOW``), so a server started two minutes into the run reads two minutes
past the instant too, not the instant again.

Plain Python: no Django import, and ``time_machine`` only when a clock is asked for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = "MEND_TEST_NOW"
STARTED = "MEND_TEST_NOW_STARTED"

_SITECUSTOMIZE = '''"""Written by mend.testclock for a process a test started: travel to MEND_TEST_NOW."""

import sys

from mend.testclock import ClockError, start_from_environment

try:
    start_from_environment()
except ClockError as error:
    # Python reports an exception here and starts anyway, at the real time: stop instead.
    sys.stderr.write(f"mend.testclock: {error}\\n")
    raise SystemExit(2) from None
'''

_traveller: Any = None


class ClockError(ValueError):
    pass


def parse_instant(value: str) -> datetime:
    """An aware instant from ISO 8601 text with an offset or ``Z``; a naive or malformed one is refused."""
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ClockError(f"{NOW} must be an ISO 8601 instant such as 2026-03-08T06:30:00Z, not {value!r}") from None
    if instant.tzinfo is None:
        raise ClockError(f"{NOW} must name its offset (2026-03-08T06:30:00Z or …-05:00), not {value!r}")
    return instant.astimezone(UTC)


def frozen_instant(environ: Mapping[str, str] = os.environ) -> datetime | None:
    value = environ.get(NOW, "")
    return parse_instant(value) if value.strip() else None


def start_from_environment(environ: MutableMapping[str, str] = os.environ) -> datetime | None:
    """Travel to ``MEND_TEST_NOW`` (plus the time since the run's anchor) and tick from there.

    Returns the instant the clock read when it started, or None when no instant is set. The first
    process to start sets the anchor in ``environ`` so that the processes it starts inherit it.
    """
    global _traveller
    instant = frozen_instant(environ)
    if instant is None or _traveller is not None:
        return None
    if environ.get("MEND_ENV") == "production":
        raise ClockError(f"{NOW} is for the test suite; it is refused under MEND_ENV=production")
    import time_machine

    if environ.get(STARTED):
        try:
            started = float(environ[STARTED])
        except ValueError:
            raise ClockError(f"{STARTED} must be seconds since the epoch, not {environ[STARTED]!r}") from None
    else:
        started = time.time()
        environ[STARTED] = repr(started)
    now = instant + timedelta(seconds=max(0.0, time.time() - started))
    _traveller = time_machine.travel(now, tick=True)
    _traveller.start()
    return now


def subprocess_env(env: MutableMapping[str, str], site_dir: Path) -> MutableMapping[str, str]:
    """Make a child process (``env`` is its environment) share this run's clock.

    Without ``MEND_TEST_NOW`` it is left alone. ``site_dir`` is a directory of the caller's (a
    pytest temporary one) where the ``sitecustomize`` is written.
    """
    if frozen_instant(env) is None:
        return env
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env.setdefault(STARTED, os.environ.get(STARTED, repr(time.time())))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site_dir), env.get("PYTHONPATH", "")) if p)
    return env
