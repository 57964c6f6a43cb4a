"""``mend demo``: load the demo clinics (what ``make demo`` runs). Safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mend.demo.load import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TIMEZONE, load_demo
from mend.platform import clock


class Command(BaseCommand):
    help = "Load the demo clinics Harbour Medical Massage and Northside Rehab Massage (refused in production)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MEND_ENV == "production":
            raise CommandError("mend demo loads fictional people and shared passwords; it refuses MEND_ENV=production.")
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD})")
        for email, role, clinic in DEMO_ACCOUNTS:
            self.stdout.write(f"  {email:<26} {role:<11} {clinic}")
        result = load_demo(today=clock.local_today(DEMO_TIMEZONE))
        if result.created:
            names = ", ".join(c.name for c in result.clinics)
            self.stdout.write(self.style.SUCCESS(f"Loaded {names}: {result.clients} clients."))
        else:
            self.stdout.write("The demo clinics are already loaded; nothing changed.")
        if settings.MEND_ENV in ("demo", "development"):
            # Later commands run without MEND_ENV (README: `.venv/bin/mend token create …`) find
            # this profile here instead of defaulting to production (settings.py).
            marker = settings.VAR_DIR / settings.PROFILE_MARKER
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"{settings.MEND_ENV}\n")
