"""A pytest plugin (``-p mend.testenv``) that selects the test profile before Django reads settings.

pytest-django configures Django before any conftest.py is imported, so the profile has to be
chosen by a plugin named on the command line (see pyproject.toml).

It also starts the run's clock when ``MEND_TEST_NOW`` names an instant (see mend.testclock):
here, before Django is set up and before any fixture writes a row, so every date in the run is
taken at that instant. ``scripts/test.sh`` runs the ``clock`` tests at a few such instants.
"""

import os
from pathlib import Path

from mend import testclock

os.environ["MEND_ENV"] = "test"
os.environ.setdefault("MEND_VAR_DIR", str(Path.cwd() / "var" / "test"))
_started = testclock.start_from_environment()


def pytest_report_header() -> str | None:
    if _started is None:
        return None
    return f"clock: {testclock.NOW}={os.environ[testclock.NOW]} (started at {_started.isoformat()}, ticking)"
