from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from mend.audit.models import AuditEvent
from mend.audit.queries import verify_chain


class Command(BaseCommand):
    help = "Work with the audit trail. `mend audit verify` checks the HMAC chain end to end."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Check every row; exit 1 naming the first altered or removed row.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(show_progress=options["verbosity"] >= 1)

    def _verify(self, *, show_progress: bool) -> None:
        total = AuditEvent.objects.count()
        with tqdm(total=total, unit="row", disable=not show_progress or total < 10_000, file=self.stderr) as bar:
            report = verify_chain(progress=bar.update)
        if report.problem is not None:
            problem = report.problem
            raise CommandError(
                f"Audit chain broken at row seq {problem.seq} (id {problem.row_id}): {problem.reason}. "
                f"{report.rows_checked} row(s) before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.rows_checked} row(s) verified."))
