"""Credential rules: when a therapist's licence needs attention."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

DEFAULT_WARNING_DAYS = 60


class LicenceState(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    state: LicenceState
    days_left: int

    @property
    def needs_attention(self) -> bool:
        return self.state is not LicenceState.VALID

    @property
    def label(self) -> str:
        if self.state is LicenceState.EXPIRED:
            days = -self.days_left
            return "expired today" if days == 0 else f"expired {days} day{'s' if days != 1 else ''} ago"
        if self.state is LicenceState.EXPIRING:
            if self.days_left == 0:
                return "expires today"
            return f"expires in {self.days_left} day{'s' if self.days_left != 1 else ''}"
        return "valid"


def licence_status(expiry: date, today: date, warning_days: int = DEFAULT_WARNING_DAYS) -> LicenceStatus:
    """A licence is valid through its expiry date; it is flagged within ``warning_days`` of it.

    The expiry day itself still counts as licensed ("expires today"); the day after, it has expired.
    """
    days_left = (expiry - today).days
    if days_left < 0:
        state = LicenceState.EXPIRED
    elif days_left <= warning_days:
        state = LicenceState.EXPIRING
    else:
        state = LicenceState.VALID
    return LicenceStatus(state=state, days_left=days_left)
