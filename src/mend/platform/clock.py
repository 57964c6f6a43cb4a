"""The clinic's wall clock. Every date a person means ("today", a visit's day, a referral's
expiry) is the clinic's local date, never the server's or UTC's: at 22:30 in Toronto it is
still today in Toronto, whatever the date in London."""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_now(tz_name: str) -> datetime:
    return timezone.now().astimezone(zone(tz_name))


def local_today(tz_name: str) -> date:
    """Today's date in the zone ``tz_name`` (an IANA name such as ``America/Toronto``)."""
    return local_now(tz_name).date()


def local_date(moment: datetime, tz_name: str) -> date:
    """The clinic-local calendar date of an aware instant."""
    return moment.astimezone(zone(tz_name)).date()
