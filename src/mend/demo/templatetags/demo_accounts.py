"""The demo's accounts on the sign-in page, only when this server runs the demo profile."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.conf import settings

register = template.Library()


@dataclass(frozen=True, slots=True)
class DemoClinic:
    name: str
    # (email, role, note) in the order ``mend demo`` prints them.
    accounts: list[tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class DemoAccounts:
    password: str
    clinics: list[DemoClinic]


@register.simple_tag
def demo_accounts() -> DemoAccounts | None:
    """The demo's persona list (``mend.demo.load.DEMO_ACCOUNTS``) by clinic, or None outside the demo.

    Read at each render, never at import: the profile is the settings' (MEND_ENV, or the var dir's
    ``mend-profile`` marker ``mend demo`` writes), and production never imports the demo loader.
    """
    if settings.MEND_ENV != "demo":
        return None
    from mend.demo.load import DEMO_ACCOUNTS, DEMO_PASSWORD

    clinics: dict[str, list[tuple[str, str]]] = {}
    for email, role, clinic in DEMO_ACCOUNTS:
        clinics.setdefault(clinic, []).append((email, role))
    homes: dict[str, list[str]] = {}
    for email, _role, clinic in DEMO_ACCOUNTS:
        homes.setdefault(email, []).append(clinic)
    return DemoAccounts(
        password=DEMO_PASSWORD,
        clinics=[
            DemoClinic(
                name=name,
                accounts=[
                    (email, role, "also at " + ", ".join(c for c in homes[email] if c != name))
                    if len(homes[email]) > 1
                    else (email, role, "")
                    for email, role in accounts
                ],
            )
            for name, accounts in clinics.items()
        ],
    )
