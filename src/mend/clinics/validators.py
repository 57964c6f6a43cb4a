from __future__ import annotations

import zoneinfo

import pycountry
from django.core.exceptions import ValidationError


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Choose a time zone from the list (for example America/Toronto).")


def validate_country(value: str) -> None:
    if pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValidationError("Enter a two-letter ISO country code (for example CA, US, GB).")


def validate_currency(value: str) -> None:
    if pycountry.currencies.get(alpha_3=value.upper()) is None:
        raise ValidationError("Enter a three-letter ISO currency code (for example CAD, USD, EUR).")


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def country_choices() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1])


def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} — {c.name}") for c in pycountry.currencies)
