"""``mend bench``: seed a database of its own at scale, then measure pages and API calls.

The command re-runs itself in a child process with ``MEND_ENV=demo`` and ``MEND_VAR_DIR=var/bench``
(SQLite at ``var/bench/mend.sqlite3`` unless ``--database-url``), so it never touches the data of
the environment it was started from. Results: a table on standard output and ``var/bench/results.json``.
The cases themselves live in :mod:`mend.web.bench`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

CHILD_FLAG = "MEND_BENCH_CHILD"
# Variables of the calling environment the bench must not inherit: it makes its own keys,
# hosts and database under var/bench, plain HTTP on localhost, DEBUG off.
_DROPPED_ENV = (
    "SECRET_KEY",
    "MEND_AUDIT_KEY",
    "DATABASE_URL",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "MEND_HTTPS",
    "MEND_SSL_REDIRECT",
    "MEND_HSTS_SECONDS",
    "MEND_BEHIND_PROXY",
    "MEND_TEST_SQLITE",
)
FULL = {"clinics": 2, "clients": 5000, "repeat": 30, "requests": 400}
QUICK = {"clinics": 1, "clients": 40, "repeat": 5, "requests": 30}


class Command(BaseCommand):
    help = "Seed a benchmark database (var/bench) and measure pages and API calls, in-process and through mend serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinics", type=int, help=f"clinics to seed (default {FULL['clinics']})")
        parser.add_argument("--clients", type=int, help=f"clients per clinic (default {FULL['clients']})")
        parser.add_argument("--repeat", type=int, help=f"timed requests per in-process case (default {FULL['repeat']})")
        parser.add_argument("--warmup", type=int, default=3, help="untimed requests before each case (default 3)")
        parser.add_argument(
            "--requests", type=int, help=f"requests through the server, over all its cases (default {FULL['requests']})"
        )
        parser.add_argument("--threads", type=int, default=4, help="concurrent clients of the server (default 4)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
        parser.add_argument("--quick", action="store_true", help="tiny sizes in var/bench/quick, for tests")
        parser.add_argument("--no-server", action="store_true", help="skip the measurements through mend serve")
        parser.add_argument("--database-url", help="benchmark this database instead of SQLite under var/bench")
        parser.add_argument("--reset", action="store_true", help="delete the SQLite benchmark database first")
        parser.add_argument("--output", help="results file (default var/bench/results.json)")
        parser.add_argument(
            "--availability-only",
            action="store_true",
            help="measure only the pure availability engine (no database, no server)",
        )
        parser.add_argument(
            "--availability-server",
            action="store_true",
            help="measure only GET /api/v1/availability through mend serve (its clinics seeded once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MEND_ENV == "production":
            raise CommandError(
                "mend bench refuses MEND_ENV=production: it seeds thousands of made-up clients. "
                "Run it from a checkout with MEND_ENV=demo or development."
            )
        sizes = QUICK if options["quick"] else FULL
        for key, default in sizes.items():
            if options[key] is None:
                options[key] = default
            if options[key] < 1:
                raise CommandError(f"--{key} must be at least 1")
        root = Path.cwd()
        var_dir = root / "var" / "bench" / ("quick" if options["quick"] else "")
        var_dir = var_dir.resolve()
        output = Path(options["output"]) if options["output"] else var_dir / "results.json"
        options["output"] = str(output.resolve())
        if options["availability_only"]:
            self._availability(output.with_name("availability.json"), **options)
            return
        if os.environ.get(CHILD_FLAG) == "1":
            self._run(var_dir=var_dir, **options)
        else:
            self._reexec(var_dir=var_dir, **options)

    # --- parent: a clean environment of its own ------------------------------------------

    def _reexec(self, *, var_dir: Path, **options: Any) -> None:
        env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
        env.update({"MEND_ENV": "demo", "MEND_VAR_DIR": str(var_dir), CHILD_FLAG: "1", "PYTHONUNBUFFERED": "1"})
        if options["database_url"]:
            env["DATABASE_URL"] = options["database_url"]
            if options["reset"]:
                raise CommandError("--reset deletes the SQLite file only; drop and recreate the database yourself")
        elif options["reset"]:
            for suffix in ("", "-wal", "-shm"):
                (var_dir / f"mend.sqlite3{suffix}").unlink(missing_ok=True)
        argv = [sys.executable, "-m", "mend", "bench"]
        for key in ("clinics", "clients", "repeat", "warmup", "requests", "threads", "workers", "output"):
            argv += [f"--{key}", str(options[key])]
        if options["quick"]:
            argv.append("--quick")
        if options["no_server"]:
            argv.append("--no-server")
        if options["availability_server"]:
            argv.append("--availability-server")
        code = subprocess.call(argv, env=env)  # noqa: S603 - our own interpreter and command
        if code:
            sys.exit(code)  # the child has said why

    # --- child: seed, measure, report ----------------------------------------------------

    def _run(self, *, var_dir: Path, **options: Any) -> None:
        from mend.web import bench

        if settings.MEND_ENV not in ("demo", "development"):
            raise CommandError(f"the benchmark child runs with MEND_ENV=demo, not {settings.MEND_ENV}")
        db = settings.DATABASES["default"]
        self.stdout.write(f"Benchmark database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        # The demo profile serves static files through a manifest; pages cannot render without it.
        call_command("collectstatic", interactive=False, verbosity=0)
        if options["availability_server"]:
            self._availability_server(
                Path(options["output"]).with_name("availability_http.json"), var_dir=var_dir, **options
            )
            return
        self._ensure_seeded(options["clinics"], options["clients"])
        try:
            subjects = bench.seed_subjects(1)
            self.stdout.write(
                f"Measuring in-process: {len(bench.CASES)} cases x {options['repeat']} requests "
                f"(after {options['warmup']} warm-up) in {subjects.clinic.slug}"
            )
            results = bench.measure_in_process(subjects, repeat=options["repeat"], warmup=options["warmup"])
            if not options["no_server"]:
                results.update(self._through_server(bench, subjects, results, var_dir=var_dir, **options))
                results.update(self._cold_start(bench, subjects, results, var_dir=var_dir))
        except bench.BenchError as error:
            raise CommandError(str(error)) from error
        self.stdout.write("")
        self.stdout.write(bench.format_table(results))
        path = bench.write_results(results, Path(options["output"]))
        self.stdout.write(self.style.SUCCESS(f"\nWrote {path}"))
        self._availability(path.with_name("availability.json"), **options)
        if not options["no_server"]:
            self._availability_server(path.with_name("availability_http.json"), var_dir=var_dir, **options)

    def _availability(self, path: Path, **options: Any) -> None:
        """The pure engine on made-up data at three sizes: its own section and file, apart from the pages."""
        from mend.web import bench_availability

        sizes = bench_availability.QUICK_SIZES if options["quick"] else bench_availability.SIZES
        self.stdout.write(f"\nMeasuring the availability engine at {', '.join(map(str, sizes))} appointments")
        rows = bench_availability.measure(sizes=sizes, repeat=options["repeat"], warmup=options["warmup"])
        self.stdout.write(bench_availability.format_table(rows))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(bench_availability.as_json(rows), indent=2) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))

    def _availability_server(self, path: Path, *, var_dir: Path, **options: Any) -> None:
        """GET /api/v1/availability through mend serve on the engine's made-up clinic, at each size."""
        from django.db import connections

        from mend.web import bench, bench_availability_http

        sizes = bench_availability_http.QUICK_SIZES if options["quick"] else bench_availability_http.SIZES
        self.stdout.write(f"\nAvailability through mend serve at {', '.join(map(str, sizes))} appointments")
        clinics = []
        for size in sizes:
            self.stdout.write(f"  the {size:,}-appointment clinic (written once, kept in the bench database)")
            clinics.append(bench_availability_http.bench_clinic(size))
        connections.close_all()
        port = bench.free_port()
        argv = [sys.executable, "-m", "mend", "serve", "--port", str(port), "--workers", str(options["workers"])]
        log_path = var_dir / "server-availability.log"
        try:
            with bench.Server(argv, port=port, env=dict(os.environ), log_path=log_path) as server:
                rows = bench_availability_http.measure(server.base, clinics, repeat=options["repeat"])
        except bench.BenchError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(bench_availability_http.format_table(rows))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(bench_availability_http.as_json(rows), indent=2) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))

    def _ensure_seeded(self, clinics: int, clients: int) -> None:
        from mend.clinics.models import Clinic
        from mend.people.models import Client

        slugs = {f"seed-{i}" for i in range(1, clinics + 1)}
        if set(Clinic.objects.filter(slug__in=slugs).values_list("slug", flat=True)) != slugs:
            self.stdout.write(f"Seeding {clinics} clinic(s) x {clients} clients (once; kept in the bench database)")
            try:
                call_command("seed", "--clinics", str(clinics), "--clients", str(clients), stdout=self.stdout)
            except CommandError as error:
                raise CommandError(f"mend seed failed: {error}") from error
        found = Client.objects.filter(clinic__slug="seed-1").count()
        if found != clients:
            raise CommandError(
                f"the bench database holds {found} clients in seed-1, not {clients}: "
                f"pass --clients {found}, or --reset to seed again"
            )

    def _through_server(self, bench: Any, subjects: Any, in_process: dict[str, Any], **options: Any) -> Any:
        from django.db import connections

        connections.close_all()  # the server's workers open their own
        port = bench.free_port()
        argv = [sys.executable, "-m", "mend", "serve", "--port", str(port), "--workers", str(options["workers"])]
        self.stdout.write(
            f"Measuring through mend serve on port {port} ({options['workers']} workers): "
            f"{options['requests']} requests from {options['threads']} threads"
        )
        with bench.Server(argv, port=port, env=dict(os.environ), log_path=options["var_dir"] / "server.log") as server:
            return bench.measure_http(
                server.base,
                subjects,
                in_process=in_process,
                requests=options["requests"],
                threads=options["threads"],
            )

    def _cold_start(self, bench: Any, subjects: Any, in_process: dict[str, Any], *, var_dir: Path) -> Any:
        from django.db import connections

        connections.close_all()
        self.stdout.write(
            f"Measuring the first request of a fresh mend serve (one worker) for {len(bench.COLD_CASES)} page(s)"
        )
        return bench.measure_cold(
            [sys.executable, "-m", "mend", "serve"],
            subjects,
            env=dict(os.environ),
            log_path=var_dir / "server-cold.log",
            in_process=in_process,
        )
