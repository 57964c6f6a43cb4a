"""``mend bench_billing_reports``: the revenue report over two years × 10,000 clients, timed.

Like ``mend bench``, it re-runs itself with ``MEND_ENV=demo`` and its own SQLite file under
``var/bench/billing-reports`` (made afresh each run), so it never touches the data it was started from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

CHILD_FLAG = "MEND_BENCH_BILLING_CHILD"
# As ``mend bench`` (mend.web, which billing does not import): the child makes its own keys and database.
_DROPPED_ENV = ("SECRET_KEY", "MEND_AUDIT_KEY", "DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "MEND_TEST_SQLITE")


class Command(BaseCommand):
    help = "Seed two years of invoices for 10,000 clients in a throwaway database and time the revenue report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--repeat", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MEND_ENV == "production":
            raise CommandError("bench_billing_reports refuses MEND_ENV=production: it writes made-up clients.")
        if options["clients"] < 1 or options["years"] < 1 or options["repeat"] < 1:
            raise CommandError("--clients, --years and --repeat must be at least 1")
        if os.environ.get(CHILD_FLAG) != "1":
            var_dir = (Path.cwd() / "var" / "bench" / "billing-reports").resolve()
            var_dir.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                (var_dir / f"mend.sqlite3{suffix}").unlink(missing_ok=True)
            env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
            env.update({"MEND_ENV": "demo", "MEND_VAR_DIR": str(var_dir), CHILD_FLAG: "1", "PYTHONUNBUFFERED": "1"})
            argv = [sys.executable, "-m", "mend", "bench_billing_reports"]
            for key in ("clients", "years", "repeat"):
                argv += [f"--{key}", str(options[key])]
            code = subprocess.call(argv, env=env)  # noqa: S603 - our own interpreter and command
            if code:
                sys.exit(code)
            return
        from mend.billing import bench
        from mend.platform import clock

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Seeding {options['clients']:,} clients × {options['years']} years of invoices")
        seeded = bench.seed(
            clients=options["clients"], years=options["years"], last=clock.local_today("America/Toronto")
        )
        rows = bench.measure(seeded, repeat=options["repeat"])
        self.stdout.write(bench.format_table(seeded, rows))
