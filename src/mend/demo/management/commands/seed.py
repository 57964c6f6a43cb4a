"""``mend seed``: synthetic clinics at scale for benchmarks (``make bench``)."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from mend.demo.load import DEMO_TIMEZONE, SEED_PASSWORD, seed_clinic
from mend.platform import clock


class Command(BaseCommand):
    help = "Create clinics seed-1 … seed-M with N synthetic clients each (refused in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinics", type=int, default=1, help="How many clinics (default 1).")
        parser.add_argument("--clients", type=int, default=1000, help="Clients per clinic (default 1000).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args: Any, clinics: int, clients: int, no_progress: bool, **options: Any) -> None:
        if settings.MEND_ENV == "production":
            raise CommandError("mend seed writes synthetic people; it refuses MEND_ENV=production.")
        if clinics < 1 or clients < 0:
            raise CommandError("--clinics must be at least 1 and --clients at least 0.")
        today = clock.local_today(DEMO_TIMEZONE)
        with tqdm(total=clinics * clients, unit="client", disable=no_progress, file=sys.stderr) as bar:
            for index in range(1, clinics + 1):
                result = seed_clinic(index, clients=clients, today=today, progress=bar.update)
                if not result.created:
                    bar.update(clients)
                    bar.write(f"seed-{index} already exists; kept as it is.")
        self.stdout.write(
            f"Seeded clinics seed-1 … seed-{clinics}; sign in as owner@seed-1.example.org "
            f"(or therapist1@seed-1.example.org), password {SEED_PASSWORD}."
        )
