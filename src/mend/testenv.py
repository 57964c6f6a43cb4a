"""A pytest plugin (``-p mend.testenv``) that selects the test profile before Django reads settings.

pytest-django configures Django before any conftest.py is imported, so the profile has to be
chosen by a plugin named on the command line (see pyproject.toml).
"""

import os
from pathlib import Path

os.environ["MEND_ENV"] = "test"
os.environ.setdefault("MEND_VAR_DIR", str(Path.cwd() / "var" / "test"))
