"""CPT units for timed codes: minutes of treatment in, billable 15-minute units out.

Plain Python, no Django, so a payer's rule can be checked without a database. Two rules, chosen per
payer:

- ``"cms"``: Medicare's total-time rule (Pub 100-04, Ch. 5, §20.2). The day's total timed minutes
  decide how many units there are; the codes then share them.
- ``"ama"``: the CPT mid-point rule applied per code, as many commercial payers do. Each code's own
  minutes decide its units, so 7 minutes of 97140 earn nothing however long the other codes ran,
  and the total can exceed the CMS total (18/13/10/8 minutes: 4 units, not 3).

Both rules use the same unit table (:func:`units_for_minutes`): 8 to 22 minutes is one unit, 23 to
37 two, and so on every 15 minutes, beyond two hours too.

Only timed codes are counted. Minutes of an untimed code (97010 hot or cold packs) never add to the
timed total (§20.2 rule 6), so passing a known untimed code is refused rather than silently counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

UNIT_MINUTES = 15
MIDPOINT_MINUTES = 8  # a unit is earned once the mid-point of its 15 minutes is passed

CMS = "cms"
AMA = "ama"
RULES = (CMS, AMA)


@dataclass(frozen=True, slots=True)
class CptCode:
    """A CPT code this practice bills, with a short local label (AMA's descriptors are licensed text)."""

    code: str
    label: str
    timed: bool


CPT_CODES: Mapping[str, CptCode] = MappingProxyType(
    {
        entry.code: entry
        for entry in (
            CptCode("97124", "Massage", timed=True),
            CptCode("97140", "Manual therapy", timed=True),
            CptCode("97110", "Therapeutic exercise", timed=True),
            CptCode("97112", "Neuromuscular re-education", timed=True),
            CptCode("97530", "Therapeutic activities", timed=True),
            CptCode("97750", "Physical performance test", timed=True),
            CptCode("97010", "Hot or cold packs", timed=False),
        )
    }
)
TIMED_CODES = frozenset(code for code, entry in CPT_CODES.items() if entry.timed)
UNTIMED_CODES = frozenset(code for code, entry in CPT_CODES.items() if not entry.timed)


def is_timed(code: str) -> bool:
    """Whether ``code`` is billed in 15-minute units; a code this practice does not bill is an error."""
    try:
        return CPT_CODES[code].timed
    except KeyError:
        raise ValueError(f"CPT code {code!r} is not one this practice bills.") from None


def units_for_minutes(total: int) -> int:
    """Units for ``total`` minutes: 0 below 8, then one more unit every 15 minutes (8, 23, 38, …)."""
    if total < 0:
        raise ValueError(f"Minutes cannot be negative (got {total}).")
    whole, rest = divmod(total, UNIT_MINUTES)
    return whole + (1 if rest >= MIDPOINT_MINUTES else 0)


def timed_units(minutes: Mapping[str, int], rule: str = CMS) -> dict[str, int]:
    """Units per timed CPT code for one client's day, by the payer's ``rule`` ("cms" or "ama").

    Every code given appears in the answer, with 0 when it earns nothing. Zero minutes are allowed;
    negative minutes, a known untimed code or an unknown rule raise ValueError naming the culprit.

    The CMS rule, as the manual's examples apply it: the total timed minutes give the number of units;
    each code first gets one unit per whole 15 minutes it ran, and the units left over go one each to
    the codes with the most minutes past their last whole 15 (24/23 minutes: 2 and 1; 33/7: 2 and 1,
    because 7 left over beats 3).

    Where the manual leaves the choice to the clinician (equal minutes left over, as in 20/20 or
    7/7/7), the code with more minutes in all wins, then the lowest code: 20/20 of 97110 and 97112
    bills 97110 twice and 97112 once. The order the codes were entered never matters.

    Checked against the manual's invariants rather than assumed: the leftover units equal the unit
    table applied to the codes' leftover minutes, and since each leftover is at most 14 minutes that is
    never more than the number of codes with minutes left over. So no code gets two extra units, a code
    with no minutes left over (or none at all) never gets one, the sum is exactly
    ``units_for_minutes(total minutes)``, and a service of 15 minutes or more keeps its one unit (30 or
    more its two) from the whole-quarter-hour step alone. No case breaks them; the property tests in
    ``tests/billing/test_units.py`` hold the algorithm to it.
    """
    if rule not in RULES:
        raise ValueError(f"Unknown units rule {rule!r}: use 'cms' (Medicare total time) or 'ama' (per code).")
    for code, spent in minutes.items():
        if spent < 0:
            raise ValueError(f"Minutes for CPT code {code} cannot be negative (got {spent}).")
        if code in UNTIMED_CODES:
            raise ValueError(
                f"CPT code {code} is untimed: bill it as one service; its minutes do not count toward timed units."
            )

    if rule == AMA:
        return {code: units_for_minutes(spent) for code, spent in minutes.items()}

    units = {code: spent // UNIT_MINUTES for code, spent in minutes.items()}
    left = units_for_minutes(sum(minutes.values())) - sum(units.values())
    # Most minutes left over first; the tie-breaks make the clinician's free choice deterministic.
    by_leftover = sorted(minutes, key=lambda code: (-(minutes[code] % UNIT_MINUTES), -minutes[code], code))
    for code in by_leftover[:left]:
        units[code] += 1
    return units
