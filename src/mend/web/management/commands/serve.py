from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run Mend's production server: gunicorn sync workers with persistent database connections."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) * 2 + 1)))
        )
        parser.add_argument("--timeout", type=int, default=30)
        parser.add_argument("--access-log", action="store_true", help="Log every request to standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        # Sync workers: on these machines Django under ASGI measured 3.5–6x slower, and each
        # worker keeps its database connection open (CONN_MAX_AGE) between requests.
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "mend.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--worker-class",
            "sync",
            "--timeout",
            str(options["timeout"]),
            "--graceful-timeout",
            "10",
            "--forwarded-allow-ips",
            os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        if options["access_log"]:
            argv += ["--access-logfile", "-"]
        db = settings.DATABASES["default"]
        profile = f"{settings.MEND_ENV} profile"
        if settings.PROFILE_SOURCE:
            profile += f" from {settings.PROFILE_SOURCE}"
        self.stdout.write(
            f"Mend on http://{options['host']}:{options['port']} "
            f"({options['workers']} workers, {db['ENGINE'].rsplit('.', 1)[-1]} database, {profile})"
        )
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn on purpose
