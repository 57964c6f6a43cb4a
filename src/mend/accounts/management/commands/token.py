from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mend.accounts.models import User
from mend.accounts.services import TokenError, api_token_create
from mend.clinics.models import Clinic


class Command(BaseCommand):
    help = "Create an API token: `mend token create EMAIL [--clinic SLUG]`. The token is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Issue a bearer token for a user in one clinic.")
        create.add_argument("email")
        create.add_argument("--clinic", help="Clinic slug; needed when the user belongs to several clinics.")
        create.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        clinics = Clinic.objects.filter(memberships__user=user, memberships__is_active=True)
        if options["clinic"]:
            clinic = clinics.filter(slug=options["clinic"]).first()
            if clinic is None:
                raise CommandError(f"{user.email} is not a member of a clinic with slug {options['clinic']!r}.")
        else:
            found = list(clinics[:2])
            if not found:
                raise CommandError(f"{user.email} is not a member of any clinic.")
            if len(found) > 1:
                slugs = ", ".join(clinics.values_list("slug", flat=True))
                raise CommandError(f"{user.email} belongs to several clinics ({slugs}); choose one with --clinic.")
            clinic = found[0]
        try:
            issued = api_token_create(user=user, clinic=clinic, name=options["name"])
        except TokenError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"Token for {user.email} at {clinic.name}. It is shown once; store it safely.")
        self.stdout.write(issued.raw)
