"""A clinic's booking rules per appointment type: notice, horizon, same day, who may book, a daily cap.

Plain Python, no Django. The booking service asks :func:`check_booking_rules` about a requested
booking besides :func:`~mend.core.availability.booking_conflict` (which decides whether the time is
free); the public slot list passes :func:`~mend.core.availability.free_slots` through
:func:`filter_slots`. Both use the same tests, so the list never offers what the check refuses.

The rules (also in ``docs/scheduling.md``):

- **Minimum notice**: a start exactly ``min_notice`` after ``now`` is accepted; one second less is
  refused.
- **Horizon**: starts on local dates up to ``horizon_days`` after today's local date (the clinic's
  zone), inclusive.
- **Same day**: with ``same_day`` off, nothing starts on today's local date.
- **Audience**: anyone; returning clients only (a new client is refused); or new clients by request
  (a returning client books, a new client's booking is a request the clinic approves).
- **Daily cap**: at most ``daily_cap`` active appointments for the therapist on that local day,
  counting the one asked for.

These rules are for clients booking online. A booking by staff (``by_staff=True``) skips notice,
horizon, same day and audience (staff booking a new client is the clinic's approval); the daily cap
still holds, since it protects the therapist's day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from mend.core.availability import Appointment, Slot
from mend.core.series import long_date


class RulesError(ValueError):
    """Rules that make no sense; ``field`` names the setting at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Audience(StrEnum):
    ANYONE = "anyone"
    RETURNING_ONLY = "returning_only"
    NEW_BY_REQUEST = "new_by_request"


class Outcome(StrEnum):
    BOOK = "book"
    REQUEST = "request"  # the clinic approves it before it is an appointment
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class BookingRules:
    """One appointment type's rules at one clinic. The defaults limit nothing."""

    min_notice: timedelta = timedelta(0)
    horizon_days: int | None = None
    same_day: bool = True
    audience: Audience = Audience.ANYONE
    daily_cap: int | None = None

    def __post_init__(self) -> None:
        if self.min_notice < timedelta(0):
            raise RulesError("min_notice", "The minimum notice cannot be negative.")
        if self.horizon_days is not None and self.horizon_days < 0:
            raise RulesError("horizon_days", "The booking horizon cannot be negative.")
        if self.daily_cap is not None and self.daily_cap < 1:
            raise RulesError("daily_cap", "A daily cap allows at least one appointment.")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What becomes of a requested booking: ``reason`` says why for a refusal or a request."""

    outcome: Outcome
    reason: str | None = None


BOOK = Verdict(Outcome.BOOK)


def _span_words(span: timedelta) -> str:
    """``24 hours``, ``2 days``, ``1 hour 30 minutes``: the notice as a clinic would state it."""
    minutes = -(-int(span.total_seconds()) // 60)  # rounded up: never state less notice than is asked
    days, rest = divmod(minutes, 24 * 60)
    if days >= 2 and not rest:  # a clinic says "24 hours", but "2 days"
        return f"{days} days"
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    parts += [f"{minutes} minute{'s' * (minutes != 1)}"] if minutes or not hours else []
    return " ".join(parts)


class _Timing:
    """The timing rules worked out once for one ``now``, then asked about many starts."""

    __slots__ = ("earliest", "last_day", "rules", "today", "zone")

    def __init__(self, rules: BookingRules, *, now: datetime, zone: str) -> None:
        if now.tzinfo is None:
            raise ValueError("booking rules need an aware now")
        self.rules = rules
        self.zone = ZoneInfo(zone)
        self.today = now.astimezone(self.zone).date()
        self.earliest = now + rules.min_notice
        self.last_day = self.today + timedelta(days=rules.horizon_days) if rules.horizon_days is not None else None

    def refusal(self, start: datetime, day: date) -> str | None:
        rules = self.rules
        if start < self.earliest:
            return f"Online bookings need at least {_span_words(rules.min_notice)} of notice."
        if not rules.same_day and day == self.today:
            return "This service cannot be booked online for today."
        if self.last_day is not None and day > self.last_day:
            return (
                f"Online bookings open {rules.horizon_days} days ahead: "
                f"the last day open now is {long_date(self.last_day)}."
            )
        return None


def _cap_refusal(rules: BookingRules, booked_that_day: int) -> str | None:
    if rules.daily_cap is not None and booked_that_day + 1 > rules.daily_cap:
        return f"The therapist takes at most {rules.daily_cap} appointments a day, and that day is full."
    return None


def check_booking_rules(
    *,
    rules: BookingRules,
    start: datetime,
    now: datetime,
    zone: str,
    returning_client: bool,
    booked_that_day: int,
    by_staff: bool = False,
) -> Verdict:
    """Whether this booking may be made under the rules: book, request (the clinic approves it) or
    refuse, with the reason in words.

    ``booked_that_day`` is the therapist's active appointments on the start's local day, not counting
    this one (the cap counts it). Refusals win over a request. The time being free is
    :func:`~mend.core.availability.booking_conflict`'s question, not this one's."""
    if start.tzinfo is None:
        raise ValueError("booking rules need an aware start")
    timing = _Timing(rules, now=now, zone=zone)
    if not by_staff:
        reason = timing.refusal(start, start.astimezone(timing.zone).date())
        if reason is not None:
            return Verdict(Outcome.REFUSE, reason)
        if rules.audience is Audience.RETURNING_ONLY and not returning_client:
            return Verdict(Outcome.REFUSE, "This service is for returning clients; please book a first visit first.")
    reason = _cap_refusal(rules, booked_that_day)
    if reason is not None:
        return Verdict(Outcome.REFUSE, reason)
    if not by_staff and rules.audience is Audience.NEW_BY_REQUEST and not returning_client:
        return Verdict(Outcome.REQUEST, "New clients request this service; the clinic confirms before it is booked.")
    return BOOK


def daily_counts(appointments: Iterable[Appointment], *, zone: str) -> Counter[tuple[int, date]]:
    """Active appointments per (therapist, local day of the start): the cap's count. Pass only the
    clinic's active appointments, not other busy time (an external calendar's, say)."""
    tz = ZoneInfo(zone)
    return Counter(
        (booked.therapist, booked.start.astimezone(tz).date())
        for booked in appointments
        if booked.therapist is not None
    )


def filter_slots(
    slots: Iterable[Slot],
    *,
    rules: BookingRules,
    now: datetime,
    zone: str,
    day_counts: Mapping[tuple[int, date], int],
) -> list[Slot]:
    """The slots a client may book online under the rules' notice, horizon, same-day and cap, in their
    order: exactly those :func:`check_booking_rules` does not refuse (for a returning client).
    ``day_counts`` is :func:`daily_counts` of the clinic's active appointments."""
    timing = _Timing(rules, now=now, zone=zone)
    kept = []
    for slot in slots:
        day = slot.start.astimezone(timing.zone).date()
        if timing.refusal(slot.start, day) is not None:
            continue
        if _cap_refusal(rules, day_counts.get((slot.therapist, day), 0)) is None:
            kept.append(slot)
    return kept


__all__ = [
    "BOOK",
    "Audience",
    "BookingRules",
    "Outcome",
    "RulesError",
    "Verdict",
    "check_booking_rules",
    "daily_counts",
    "filter_slots",
]
