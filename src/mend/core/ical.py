"""iCalendar (RFC 5545) in and out: therapists' private feeds, the .ics of booking emails, and the busy
time of a therapist's personal calendar.

Plain Python, no Django: the scheduling app turns appointments into :class:`FeedEvent` values and
hands the bytes these functions return to a response or an email; it fetches a therapist's
personal calendar with :func:`fetch_feed` and reads it with :func:`busy_from_feed`. The
``icalendar`` library writes and parses; ``recurring-ical-events`` expands recurrences.

**Client privacy.** An event carries only what the caller puts in it. The therapist's feed is read
by calendar apps on phones, synced to third-party servers and sometimes shared, so the scheduling
app passes the client's initials and the appointment type's name as ``summary`` (``"J.D. —
Treatment 60 min"``), the location's name as ``location``, and no description: never a full name,
a condition, a screening flag or a note. Feed events are also marked ``CLASS:PRIVATE``.

**Times** are written in the clinic's zone: ``DTSTART;TZID=America/Toronto:20261102T100000`` with a
``VTIMEZONE`` for that zone, so every client shows the wall-clock time the clinic booked, named,
whatever the reader's own zone. ``DTSTAMP`` and ``LAST-MODIFIED`` are UTC.

**UIDs and SEQUENCE** come from the caller: a UID must never change for one appointment
(:func:`appointment_uid`), and SEQUENCE must go up on every change the client or therapist would
see, cancellation included, or calendar apps keep the old version.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import time as _time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events
from icalendar import (
    CLASS,
    STATUS,
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vText,
)

from mend.core.availability import Interval, local_instant

PRODID = "-//Mend//Mend clinic scheduling//EN"

# More than any two zones' offsets differ (UTC-12 to UTC+14).
_SORT_SLACK = int(timedelta(hours=27).total_seconds())

Status = Literal["confirmed", "cancelled"]


class FeedError(Exception):
    """An external calendar could not be fetched or read. The message says why, in words."""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One appointment as a calendar event.

    ``start`` and ``end`` are aware. ``summary``, ``location`` and ``description`` are written as
    given: see the module docstring for what the scheduling app may put there.
    """

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    last_modified: datetime
    location: str = ""
    status: Status = "confirmed"
    description: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A calendar user: the clinic as organiser of an invitation, or the client invited."""

    email: str
    name: str = ""


def appointment_uid(appointment_id: int, *, domain: str) -> str:
    """The UID of an appointment, the same in the therapist's feed and in every email about it."""
    return f"appointment-{appointment_id}@{domain}"


# --- Writing -------------------------------------------------------------------------------------


def feed(
    events: Iterable[FeedEvent],
    *,
    zone: str,
    name: str,
    stamp: datetime,
    refresh: timedelta = timedelta(hours=1),
) -> bytes:
    """A therapist's private feed: a ``VCALENDAR`` with ``METHOD:PUBLISH`` (a subscription, not an
    invitation), one ``VEVENT`` per event, and a ``VTIMEZONE`` for ``zone``.

    Cancelled events stay in the feed with ``STATUS:CANCELLED`` and their raised SEQUENCE, so a
    subscribed calendar drops or strikes them; for how long is the caller's choice. ``stamp`` is
    ``DTSTAMP`` (when the feed was generated); ``refresh`` is the polling interval suggested to
    clients (``REFRESH-INTERVAL``, and ``X-PUBLISHED-TTL`` for Outlook and Google).
    """
    tz = _zone(zone)
    calendar = _calendar(method="PUBLISH")
    calendar.add("NAME", name)
    calendar.add("X-WR-CALNAME", name)
    calendar.add("X-WR-TIMEZONE", zone)
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    events = list(events)
    for item in events:
        event = _event(item, tz=tz, stamp=stamp)
        event.add("CLASS", CLASS.PRIVATE)
        calendar.add_component(event)
    _add_timezone(calendar, zone, events)
    return bytes(calendar.to_ical())


def invitation(
    event: FeedEvent,
    *,
    zone: str,
    organizer: Contact,
    attendee: Contact,
    stamp: datetime,
) -> bytes:
    """The .ics attached to a booking's confirmation, reschedule or cancellation email.

    A confirmed event is ``METHOD:REQUEST``, a cancelled one ``METHOD:CANCEL`` (RFC 5546), with the
    clinic as ORGANIZER and the client as ATTENDEE (already accepted, no reply asked for). Gmail,
    Outlook and Apple Mail put a REQUEST in the recipient's calendar and update the same event when
    a later one comes with the same UID and a higher SEQUENCE, and a CANCEL removes it; a
    ``PUBLISH`` attachment is only offered for import, so a reschedule or cancellation would leave a
    stale copy behind. Attach it as ``text/calendar; method=REQUEST`` (or ``CANCEL``) with charset
    UTF-8, which :func:`invitation_method` gives.

    The time is written in ``zone`` (the clinic's, where the client goes) with a TZID and VTIMEZONE:
    calendar apps show it in the reader's zone, correctly converted, and the zone is named.
    """
    tz = _zone(zone)
    calendar = _calendar(method=invitation_method(event))
    item = _event(event, tz=tz, stamp=stamp)
    item.add("ORGANIZER", _address(organizer))
    guest = _address(attendee)
    guest.params["ROLE"] = "REQ-PARTICIPANT"
    guest.params["PARTSTAT"] = "DECLINED" if event.status == "cancelled" else "ACCEPTED"
    guest.params["RSVP"] = "FALSE"
    item.add("ATTENDEE", guest)
    calendar.add_component(item)
    _add_timezone(calendar, zone, [event])
    return bytes(calendar.to_ical())


def invitation_method(event: FeedEvent) -> Literal["REQUEST", "CANCEL"]:
    """The iTIP method of :func:`invitation`'s output, for the attachment's content type."""
    return "CANCEL" if event.status == "cancelled" else "REQUEST"


def _calendar(*, method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    return calendar


def _event(item: FeedEvent, *, tz: ZoneInfo, stamp: datetime) -> Event:
    for moment in (item.start, item.end, item.last_modified, stamp):
        _require_aware(moment)
    if item.end <= item.start:
        raise ValueError(f"event {item.uid} ends at or before it starts")
    event = Event()
    event.add("UID", item.uid)
    event.add("DTSTAMP", stamp.astimezone(UTC))
    event.add("LAST-MODIFIED", item.last_modified.astimezone(UTC))
    event.add("SEQUENCE", item.sequence)
    event.add("DTSTART", item.start.astimezone(tz))
    event.add("DTEND", item.end.astimezone(tz))
    event.add("SUMMARY", item.summary)
    if item.location:
        event.add("LOCATION", item.location)
    if item.description:
        event.add("DESCRIPTION", item.description)
    if item.url:
        event.add("URL", item.url)
    event.add("STATUS", STATUS.CANCELLED if item.status == "cancelled" else STATUS.CONFIRMED)
    event.add("TRANSP", "OPAQUE")
    return event


def _address(contact: Contact) -> vCalAddress:
    address = vCalAddress(f"mailto:{contact.email}")
    if contact.name:
        address.params["CN"] = vText(contact.name)
    return address


def _add_timezone(calendar: Calendar, zone: str, events: list[FeedEvent]) -> None:
    if not events:
        return
    first = min(event.start for event in events).date()
    last = max(event.end for event in events).date()
    calendar.subcomponents.insert(0, vtimezone(zone, first=date(first.year - 1, 1, 1), last=date(last.year + 2, 1, 1)))


def vtimezone(zone: str, *, first: date, last: date) -> Timezone:
    """A ``VTIMEZONE`` for the IANA ``zone``, with every transition from ``first`` to ``last``.

    icalendar generates it from the tz database; its spring-forward onsets come out as the first
    wall time after the gap (03:00 in Toronto) where RFC 5545 §3.6.5 wants the onset in the offset
    *before* the change (02:00, as the RFC's own America/New_York example has it). A client that
    reads the VTIMEZONE rather than its own copy of the tz database (Outlook) would put the hour
    after the change an hour off, so those onsets are moved back by the size of the jump.
    """
    component = Timezone.from_tzid(zone, first_date=first, last_date=last)
    for observance in component.subcomponents:
        if not isinstance(observance, TimezoneStandard | TimezoneDaylight):
            continue
        jump = observance.TZOFFSETTO - observance.TZOFFSETFROM
        if jump <= timedelta(0):
            continue  # a fall-back onset already is the wall time in the earlier offset
        observance.DTSTART = observance.DTSTART - jump
        observance.rdates = [onset - jump for onset, _ in observance.rdates]
    return component


# --- Reading -------------------------------------------------------------------------------------


def busy_from_feed(
    text: str | bytes,
    *,
    start: datetime,
    end: datetime,
    zone: str,
    max_events: int = 10_000,
) -> list[Interval]:
    """The busy time in an external calendar (a therapist's personal iCal feed) within
    ``[start, end)``: sorted, merged, disjoint UTC intervals, each cut to the window.

    - Recurrences are expanded: RRULE, RDATE, EXDATE, and occurrences moved by RECURRENCE-ID.
    - Events marked ``TRANSP:TRANSPARENT`` (shown as free) or ``STATUS:CANCELLED`` are not busy;
      tentative ones are. Only VEVENTs count (not tasks or journal entries).
    - An all-day event makes the whole local day busy, midnight to midnight, and a floating time
      (one without a zone) is local wall time: both in the zone the calendar names in
      ``X-WR-TIMEZONE`` (Google and Apple exports), else in ``zone`` (pass the clinic's).
    - An event with no duration is not busy.

    **The contract with the caller**: an external calendar only ever *adds* busy time. When this
    raises :class:`FeedError` (unreadable input, or more than ``max_events`` occurrences in the
    window) or :func:`fetch_feed` does, the caller keeps the last busy set it read successfully and
    frees and deletes nothing: a remote calendar that times out or sends garbage must never make a
    therapist look free, nor touch an appointment.
    """
    _require_aware(start)
    _require_aware(end)
    tz = _zone(zone)
    if end <= start:
        return []
    window_start, window_end = int(start.timestamp()), int(end.timestamp())
    try:
        calendar = Calendar.from_ical(text)
        if calendar.name != "VCALENDAR":
            raise FeedError(f"expected a VCALENDAR, got {calendar.name}")
        named = str(calendar.get("X-WR-TIMEZONE", "")).strip()
        if named:
            # recurring-ical-events reads floating times in it (x-wr-timezone); all-day events follow.
            with contextlib.suppress(ValueError):
                tz = _zone(named)
        spans: list[tuple[int, int]] = []
        query = recurring_ical_events.of(calendar, components=["VEVENT"])
        # Occurrences come in order of start, so the walk stops soon after the window and an endless
        # RRULE costs only what lies inside it. The library orders dates and floating times without
        # `zone`, so an occurrence is taken as past the window only well past it.
        for count, occurrence in enumerate(query.after(start.astimezone(tz)), start=1):
            if count > max_events:
                raise FeedError(f"more than {max_events} events between {start} and {end}")
            if not isinstance(occurrence, Event):
                continue
            # Event.end follows RFC 5545 §3.6.1 without DTEND: DURATION, else a day for a dated
            # event and no time at all for a timed one.
            first = _instant(occurrence.start, tz)
            if first >= window_end + _SORT_SLACK:
                break
            if first >= window_end or not _is_busy(occurrence):
                continue
            last = _instant(occurrence.end, tz)
            first, last = max(first, window_start), min(last, window_end)
            if first < last:
                spans.append((first, last))
    except FeedError:
        raise
    except Exception as error:  # the parser and the expander raise many kinds; any of them means "unreadable"
        raise FeedError(f"the calendar could not be read: {error}") from error
    return [Interval(_utc(a), _utc(b)) for a, b in _merge(spans)]


def _is_busy(occurrence: Event) -> bool:
    if str(occurrence.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    return str(occurrence.get("STATUS", "")).upper() != "CANCELLED"


def _instant(moment: date | datetime, tz: ZoneInfo) -> int:
    """POSIX seconds: a date is its local midnight, a floating time is local wall time."""
    if not isinstance(moment, datetime):
        return local_instant(moment, time(0), tz)
    if moment.tzinfo is None:
        return local_instant(moment.date(), moment.time().replace(microsecond=0), tz)
    return int(moment.timestamp())


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- Fetching ------------------------------------------------------------------------------------


def fetch_feed(
    url: str,
    *,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    allow_private: bool = False,
) -> bytes:
    """The body of an external calendar at ``url``, or :class:`FeedError` saying why not.

    ``http``, ``https`` and ``webcal`` (read as https, the scheme Apple and Google hand out) only.
    Hosts on loopback, private, link-local or otherwise non-public addresses are refused unless
    ``allow_private`` (tests serve from 127.0.0.1): the address is checked when the name is looked
    up and again on the socket actually connected, so a name that changes its answer in between
    (DNS rebinding) or a redirect to an internal address is refused too. No proxy from the
    environment is used.

    ``timeout`` bounds every connect and read, and the whole download to about twice that; a body
    over ``max_bytes`` is refused. Any non-2xx answer is an error.
    """
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        parts = parts._replace(scheme="https")
    elif scheme not in ("http", "https"):
        raise FeedError(f"the calendar address must start with https:// (got {scheme or 'no scheme'})")
    try:
        port = parts.port
    except ValueError as error:
        raise FeedError("the calendar address has a bad port") from error
    if not parts.hostname:
        raise FeedError("the calendar address has no host")
    if not allow_private:
        _check_host(parts.hostname, port)
    opener = urllib.request.OpenerDirector()
    for handler in (
        _GuardedHTTPHandler(allow_private),
        _GuardedHTTPSHandler(allow_private),
        urllib.request.HTTPRedirectHandler(),  # each hop connects through the guarded handlers
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        urllib.parse.urlunsplit(parts), headers={"User-Agent": "Mend calendar sync", "Accept": "text/calendar"}
    )
    deadline = _time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(f"the calendar is larger than {max_bytes} bytes")
            body = bytearray()
            while chunk := response.read(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(f"the calendar is larger than {max_bytes} bytes")
                if _time.monotonic() > deadline:
                    raise FeedError(f"the calendar took longer than {timeout:g} s to download")
            return bytes(body)
    except FeedError:
        raise
    except urllib.error.HTTPError as error:
        raise FeedError(f"the calendar server answered {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise FeedError(f"the calendar could not be fetched: {error.reason}") from error
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as error:
        raise FeedError(f"the calendar could not be fetched: {error or type(error).__name__}") from error


def _check_host(host: str, port: int | None) -> None:
    try:
        answers = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except OSError as error:
        raise FeedError(f"the calendar's host {host} could not be found") from error
    for answer in answers:
        _check_address(str(answer[4][0]))


def _check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise FeedError(f"the calendar's address {ip} is not on the public internet")


def _check_peer(sock: socket.socket | None) -> None:
    if sock is not None:
        _check_address(str(sock.getpeername()[0]))


class _PublicHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self.sock)


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        # The peer is checked after the TLS handshake: nothing of the request has been sent by then.
        super().connect()
        _check_peer(self.sock)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._allow_private = allow_private

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        if self._allow_private:
            return self.do_open(http.client.HTTPConnection, req)
        return self.do_open(_PublicHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._allow_private = allow_private

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        if self._allow_private:
            return self.do_open(http.client.HTTPSConnection, req)
        return self.do_open(_PublicHTTPSConnection, req)


# --- Helpers -------------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("iCalendar times need aware datetimes")


__all__ = [
    "PRODID",
    "Contact",
    "FeedError",
    "FeedEvent",
    "Status",
    "appointment_uid",
    "busy_from_feed",
    "feed",
    "fetch_feed",
    "invitation",
    "invitation_method",
    "vtimezone",
]
