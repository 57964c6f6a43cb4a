"""A server worker is ready for the evidence report before its first request (docs/outcomes.md)."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import sys
import mend.wsgi
from django.urls import get_resolver
from mend.outcomes.stats import proportion_ci

# Every view and what they import was loaded at worker start, not by some client's first page.
loaded = {"mend.outcomes.views", "mend.clinical.views", "scipy.stats", "pygal"} - set(sys.modules)
assert not loaded, loaded
assert get_resolver()._populated, "the URL resolver's reverse tables were not built"
assert proportion_ci.cache_info().currsize, "SciPy's interval was not computed once"
"""


def test_the_server_worker_imports_every_view_and_warms_the_report_before_serving():
    env = {**os.environ, "MEND_ENV": "test", "DATABASE_URL": "sqlite://:memory:"}
    subprocess.run([sys.executable, "-c", CHECK], check=True, env=env, timeout=300)
