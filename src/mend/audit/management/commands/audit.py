from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from mend.audit.models import AuditEvent
from mend.audit.queries import ChainReport, audit_chain_ids, audit_verifiers, report_names, verify_chain


class Command(BaseCommand):
    help = "Work with the audit trail. `mend audit verify` checks each clinic's HMAC chain end to end."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify",
            help="Check every row of every chain, then the checks in MEND_AUDIT_VERIFIERS; "
            "exit 1 naming the first altered or removed row of each broken chain.",
        )
        verify.add_argument("--clinic", metavar="SLUG", help="Only this clinic's chain.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(slug=options.get("clinic"), show_progress=options["verbosity"] >= 1)

    def _verify(self, *, slug: str | None, show_progress: bool) -> None:
        names = report_names.clinics()
        if slug is not None:
            clinic_id = next((pk for pk, known in names.items() if known == slug), None)
            if clinic_id is None:
                raise CommandError(f"No clinic with the slug {slug!r}.", returncode=2)
            chain_ids: list[int | None] = [clinic_id]
            total = AuditEvent.objects.filter(clinic_id=clinic_id).count()
        else:
            chain_ids = audit_chain_ids()
            total = AuditEvent.objects.count()

        reports: list[ChainReport] = []
        with tqdm(total=total, unit="row", disable=not show_progress or total < 10_000, file=self.stderr) as bar:
            for chain_id in chain_ids:
                reports.append(verify_chain(clinic_id=chain_id, progress=bar.update))
        failures = []
        for report in reports:
            chain = _chain_name(report.clinic_id, names)
            if report.problem is None:
                self.stdout.write(f"{chain}: {report.rows_checked} row(s) verified.")
            else:
                problem = report.problem
                failures.append(
                    f"Audit chain of {chain} broken at seq {problem.seq} (row id {problem.row_id}): "
                    f"{problem.reason}. {report.rows_checked} row(s) before it verified."
                )

        # Checks other apps own (a clinical note's seal against the digest in its audit row),
        # run after the walk with the clinic asked for, or None for every clinic.
        for path, verifier in audit_verifiers():
            problems = verifier(chain_ids[0] if slug is not None else None)
            if problems:
                failures.extend(f"{path}: {problem}" for problem in problems)
            else:
                self.stdout.write(f"{path}: no problems.")

        if failures:
            raise CommandError("\n".join(failures))
        rows = sum(report.rows_checked for report in reports)
        self.stdout.write(
            self.style.SUCCESS(f"Audit chains intact: {rows} row(s) in {len(reports)} chain(s) verified.")
        )


def _chain_name(clinic_id: int | None, names: dict[int, str]) -> str:
    if clinic_id is None:
        return "no clinic"
    # A clinic since removed keeps its chain, named by id.
    return f"clinic {names[clinic_id]}" if clinic_id in names else f"clinic id {clinic_id}"
