"""Twenty invoices issued at the same moment get twenty consecutive numbers: no gap, no repeat.

Twenty threads, each with its own database connection, wait at a barrier and issue one draft each,
in a ``mend shell`` on a database of its own (a SQLite file in WAL mode with IMMEDIATE transactions,
or a fresh PostgreSQL database on the suite's cluster), the way a busy front desk would. Then a
rolled-back issue in the middle of the run must not leave a hole either.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys

import pytest

from mend import testclock
from tests.scheduling.test_concurrent_booking import _is_postgres, _PostgresDatabase

pytestmark = pytest.mark.slow

ISSUERS = 20

SCRIPT = """
import json, threading
from datetime import timedelta
from django.db import connection, transaction
from mend.billing.models import Invoice
from mend.billing.services import invoices
from mend.testing import build_personas
from tests.billing.helpers import build_billing, completed_visit

p = build_personas()
b = build_billing(p)
drafts = [completed_visit(p, b, day=p.today - timedelta(days=i // 4), hour=9 + 2 * (i % 4)) for i in range(N_ISSUERS)]
actor = p.actor("front_desk")
barrier = threading.Barrier(N_ISSUERS + 1)
errors = []

def issue(draft, fail):
    try:
        barrier.wait(timeout=60)
        if fail:
            # This one dies after taking its number: the number must go back to the sequence.
            try:
                with transaction.atomic():
                    invoices.invoice_issue(actor=actor, invoice=draft)
                    raise RuntimeError("lost the connection")
            except RuntimeError:
                pass
        invoices.invoice_issue(actor=actor, invoice=draft)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=issue, args=(d, i == 7)) for i, d in enumerate(drafts)]
for t in threads:
    t.start()
barrier.wait(timeout=60)
for t in threads:
    t.join(timeout=120)
numbers = sorted(Invoice.objects.filter(clinic=p.harbour, kind="invoice").values_list("number", flat=True))
print("MEND-ISSUED " + json.dumps({"numbers": numbers, "errors": errors}))
"""


def test_twenty_concurrent_issues_give_twenty_consecutive_numbers(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "MEND_TEST_SQLITE")}
    env.update({"MEND_ENV": "demo", "MEND_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "mend.settings"})
    env.update({"SECRET_KEY": secrets.token_urlsafe(50), "MEND_AUDIT_KEY": secrets.token_urlsafe(50)})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH", "")]))
    testclock.subprocess_env(env, tmp_path / "clock")
    outer = os.environ.get("DATABASE_URL", "")
    database = _PostgresDatabase(outer) if _is_postgres(outer) else None

    def mend(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mend", *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"mend {args[0]}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    try:
        if database is not None:
            database.create()
            env["DATABASE_URL"] = database.url
        mend("migrate", "--noinput", "-v", "0")
        output = mend("shell", "-c", SCRIPT.replace("N_ISSUERS", str(ISSUERS)))
    finally:
        if database is not None:
            database.drop()
        shutil.rmtree(tmp_path / "var", ignore_errors=True)
    line = next(line for line in output.splitlines() if line.startswith("MEND-ISSUED "))
    result = json.loads(line.removeprefix("MEND-ISSUED "))
    assert result["errors"] == []
    assert result["numbers"] == list(range(1, ISSUERS + 1))
