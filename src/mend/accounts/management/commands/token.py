from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mend.accounts.queries import user_by_email
from mend.accounts.services import TokenError, api_token_create
from mend.clinics.queries import active_memberships


class Command(BaseCommand):
    help = "Create an API token: `mend token create EMAIL [--clinic SLUG]`. The token is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Issue a bearer token for a user in one clinic.")
        create.add_argument("email")
        create.add_argument("--clinic", help="Clinic slug; needed when the user belongs to several clinics.")
        create.add_argument("--name", default="", help="A label to recognise the token by.")
        create.add_argument("--days", type=int, default=90, help="Days until the token expires (1 to 366; default 90).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_email(options["email"])
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        clinics = [membership.clinic for membership in active_memberships(user)]
        if options["clinic"]:
            clinic = next((c for c in clinics if c.slug == options["clinic"]), None)
            if clinic is None:
                raise CommandError(f"{user.email} is not a member of a clinic with slug {options['clinic']!r}.")
        else:
            if not clinics:
                raise CommandError(f"{user.email} is not a member of any clinic.")
            if len(clinics) > 1:
                slugs = ", ".join(c.slug for c in clinics)
                raise CommandError(f"{user.email} belongs to several clinics ({slugs}); choose one with --clinic.")
            clinic = clinics[0]
        try:
            issued = api_token_create(
                user=user, clinic=clinic, name=options["name"], lifetime=timedelta(days=options["days"])
            )
        except TokenError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Token for {user.email} at {clinic.name}, valid until {issued.token.expires_at:%Y-%m-%d %H:%M} UTC. "
            "It is shown once; store it safely."
        )
        self.stdout.write(issued.raw)
