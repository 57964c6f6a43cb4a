"""Check digits of identifiers used in healthcare."""

from __future__ import annotations


def _luhn_sum(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def is_valid_npi(npi: str) -> bool:
    """A US National Provider Identifier: ten digits, Luhn check over the prefix 80840.

    CMS, "Requirements for NPI check digit": the check digit is the Luhn digit of the
    first nine digits prefixed with 80840 (the ISO card-issuer prefix for US health).
    """
    if len(npi) != 10 or not npi.isdigit():
        return False
    return _luhn_sum("80840" + npi) % 10 == 0


def npi_check_digit(first_nine: str) -> str:
    """The tenth digit that makes ``first_nine`` a valid NPI."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NPI check digit needs exactly nine digits")
    total = _luhn_sum("80840" + first_nine + "0")
    return str((10 - total % 10) % 10)
