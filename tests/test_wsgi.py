"""A server's workers start with the ICD-10-CM code set loaded; other entry points do not pay for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPORT = (
    "from mend.clinical import icd10; print(icd10._cm.cache_info().currsize, icd10._billable.cache_info().currsize)"
)


def _python(code: str, var_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "DJANGO_", "DATABASE_URL"))}
    env.update({"MEND_ENV": "test", "MEND_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "mend.settings"})
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_importing_the_wsgi_application_loads_the_code_set(tmp_path):
    """gunicorn imports mend.wsgi in each worker before it accepts a request: the first ICD-10
    search must not wait a second (or five, on a busy machine) for the code set to parse."""
    assert _python(f"import mend.wsgi; {REPORT}", tmp_path) == "1 1"


def test_django_setup_and_the_url_conf_leave_the_code_set_unloaded(tmp_path):
    """Management commands and the test suite set Django up and import the views, never mend.wsgi."""
    assert _python(f"import django; django.setup(); import mend.urls; {REPORT}", tmp_path) == "0 0"
