import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from mend.core import ical
from mend.core.availability import Interval
from mend.core.ical import Contact, FeedError, FeedEvent, busy_from_feed, feed, fetch_feed, invitation

TORONTO = ZoneInfo("America/Toronto")
ZONE = "America/Toronto"
STAMP = datetime(2026, 10, 20, 12, tzinfo=UTC)
CLINIC = Contact(email="desk@clinic.example", name="Harbour Massage Clinic")
CLIENT = Contact(email="jane@example.org", name="Jane Doe")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TORONTO)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def appointment(
    appointment_id: int = 7,
    *,
    start: datetime | None = None,
    minutes: int = 60,
    sequence: int = 0,
    status: ical.Status = "confirmed",
) -> FeedEvent:
    start = start or local(date(2026, 11, 2), 10)
    return FeedEvent(
        uid=ical.appointment_uid(appointment_id, domain="clinic.example"),
        sequence=sequence,
        start=start,
        end=start + timedelta(minutes=minutes),
        summary="J.D. — Treatment 60 min",
        last_modified=utc(2026, 10, 19, 9),
        location="Harbour St",
        status=status,
    )


def parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def events_of(calendar: Calendar) -> list[Event]:
    return [component for component in calendar.walk("VEVENT") if isinstance(component, Event)]


# --- The therapist's feed -------------------------------------------------------------------------


def test_feed_parses_back_with_the_events_as_given():
    data = feed(
        [appointment(7), appointment(8, start=local(date(2026, 11, 3), 14))], zone=ZONE, name="Alex", stamp=STAMP
    )

    calendar = parse(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == ical.PRODID
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = events_of(calendar)
    assert [str(e["UID"]) for e in events] == ["appointment-7@clinic.example", "appointment-8@clinic.example"]
    first = events[0]
    assert first["DTSTART"].dt == local(date(2026, 11, 2), 10)
    assert first["DTEND"].dt == local(date(2026, 11, 2), 11)
    assert first["DTSTAMP"].dt == STAMP
    assert str(first["SUMMARY"]) == "J.D. — Treatment 60 min"
    assert str(first["LOCATION"]) == "Harbour St"
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(first["CLASS"]) == "PRIVATE"


def test_feed_uids_do_not_change_when_the_appointment_changes():
    before = events_of(parse(feed([appointment(7)], zone=ZONE, name="Alex", stamp=STAMP)))[0]
    moved = appointment(7, start=local(date(2026, 11, 5), 15), sequence=1)
    after = events_of(parse(feed([moved], zone=ZONE, name="Alex", stamp=STAMP + timedelta(days=1))))[0]

    assert str(before["UID"]) == str(after["UID"])
    assert int(after["SEQUENCE"]) == 1


def test_cancelled_appointment_stays_in_the_feed_cancelled_with_its_raised_sequence():
    data = feed([appointment(7, sequence=3, status="cancelled")], zone=ZONE, name="Alex", stamp=STAMP)

    event = events_of(parse(data))[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 3


def test_feed_names_the_clinic_zone_and_keeps_local_time_across_the_fall_back():
    """A weekly 10:00 on either side of America/Toronto's 2026-11-01 change reads 10:00 both times."""
    before, after = local(date(2026, 10, 27), 10), local(date(2026, 11, 3), 10)
    data = feed([appointment(1, start=before), appointment(2, start=after)], zone=ZONE, name="Alex", stamp=STAMP)

    text = data.decode()
    assert "DTSTART;TZID=America/Toronto:20261027T100000" in text
    assert "DTSTART;TZID=America/Toronto:20261103T100000" in text
    calendar = parse(data)
    assert [tz.tz_name for tz in calendar.timezones] == [ZONE]
    assert calendar.get_missing_tzids() == set()
    starts = [e["DTSTART"].dt for e in events_of(calendar)]
    assert [s.astimezone(UTC) for s in starts] == [utc(2026, 10, 27, 14), utc(2026, 11, 3, 15)]


@pytest.mark.parametrize("zone", ["America/Toronto", "Europe/London", "Australia/Lord_Howe"])
def test_vtimezone_alone_gives_every_hour_of_the_year_its_right_offset(zone):
    """A client that reads only our VTIMEZONE (not its own tz database) converts every instant
    correctly, including the hour after a spring-forward change (Lord Howe jumps 30 minutes)."""
    tz = ical.vtimezone(zone, first=date(2025, 1, 1), last=date(2028, 1, 1)).to_tz(lookup_tzid=False)
    real = ZoneInfo(zone)

    moment = utc(2026, 1, 1)
    while moment < utc(2027, 1, 1):
        assert moment.astimezone(tz).utcoffset() == moment.astimezone(real).utcoffset(), moment
        moment += timedelta(minutes=30)


def test_times_must_be_aware():
    naive = FeedEvent(
        uid="x", sequence=0, start=datetime(2026, 11, 2, 10), end=datetime(2026, 11, 2, 11), summary="x",
        last_modified=STAMP,
    )  # fmt: skip

    with pytest.raises(ValueError, match="aware"):
        feed([naive], zone=ZONE, name="Alex", stamp=STAMP)


# --- The booking email's .ics --------------------------------------------------------------------


def test_invitation_is_a_request_with_the_zone_named_and_the_client_as_accepted_attendee():
    data = invitation(appointment(7), zone=ZONE, organizer=CLINIC, attendee=CLIENT, stamp=STAMP)

    calendar = parse(data)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert [tz.tz_name for tz in calendar.timezones] == [ZONE]
    (event,) = events_of(calendar)
    assert "DTSTART;TZID=America/Toronto:20261102T100000" in data.decode()
    assert str(event["ORGANIZER"]) == "mailto:desk@clinic.example"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:jane@example.org"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"
    assert ical.invitation_method(appointment(7)) == "REQUEST"


def test_cancellation_invitation_cancels_the_same_uid_with_a_higher_sequence():
    booked = events_of(parse(invitation(appointment(7), zone=ZONE, organizer=CLINIC, attendee=CLIENT, stamp=STAMP)))
    cancelled_event = appointment(7, sequence=1, status="cancelled")
    data = invitation(cancelled_event, zone=ZONE, organizer=CLINIC, attendee=CLIENT, stamp=STAMP)

    calendar = parse(data)
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = events_of(calendar)
    assert str(event["UID"]) == str(booked[0]["UID"])
    assert int(event["SEQUENCE"]) > int(booked[0]["SEQUENCE"])
    assert str(event["STATUS"]) == "CANCELLED"
    assert ical.invitation_method(cancelled_event) == "CANCEL"


# --- Reading a personal calendar -----------------------------------------------------------------

# What Google Calendar's "secret address in iCal format" serves, trimmed: its own VTIMEZONE, a weekly
# class on Tuesdays with one week skipped (EXDATE) and one moved to Thursday (RECURRENCE-ID), an
# all-day appointment, an event shown as free, a cancelled one, and one in UTC crossing the window's start.
GOOGLE_FEED = """\
BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:Alex personal
X-WR-TIMEZONE:America/Toronto
BEGIN:VTIMEZONE
TZID:America/Toronto
X-LIC-LOCATION:America/Toronto
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
DTSTART;TZID=America/Toronto:20261006T170000
DTEND;TZID=America/Toronto:20261006T183000
RRULE:FREQ=WEEKLY;BYDAY=TU
EXDATE;TZID=America/Toronto:20261110T170000
DTSTAMP:20261020T120000Z
UID:4k1q0v8l3h2c9s7d6f5g4h3j2k@google.com
CREATED:20260901T100000Z
LAST-MODIFIED:20261001T100000Z
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Pilates
TRANSP:OPAQUE
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=America/Toronto:20261119T090000
DTEND;TZID=America/Toronto:20261119T103000
DTSTAMP:20261020T120000Z
UID:4k1q0v8l3h2c9s7d6f5g4h3j2k@google.com
RECURRENCE-ID;TZID=America/Toronto:20261117T170000
CREATED:20260901T100000Z
LAST-MODIFIED:20261015T100000Z
SEQUENCE:1
STATUS:CONFIRMED
SUMMARY:Pilates (moved)
TRANSP:OPAQUE
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20261106
DTEND;VALUE=DATE:20261107
DTSTAMP:20261020T120000Z
UID:7a8b9c0d1e2f@google.com
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Moving day
TRANSP:OPAQUE
END:VEVENT
BEGIN:VEVENT
DTSTART:20261104T150000Z
DTEND:20261104T160000Z
DTSTAMP:20261020T120000Z
UID:free-lunch@google.com
SUMMARY:Lunch (free)
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
DTSTART:20261105T150000Z
DTEND:20261105T160000Z
DTSTAMP:20261020T120000Z
UID:cancelled-call@google.com
STATUS:CANCELLED
SUMMARY:Call (cancelled)
END:VEVENT
BEGIN:VEVENT
DTSTART:20261026T020000Z
DTEND:20261026T060000Z
DTSTAMP:20261020T120000Z
UID:late-flight@google.com
SUMMARY:Flight home
END:VEVENT
END:VCALENDAR
"""

WINDOW_START = local(date(2026, 10, 26), 0)  # a Monday, 04:00 UTC
WINDOW_END = local(date(2026, 11, 23), 0)  # four weeks later, 05:00 UTC (the clocks went back)


def test_google_feed_becomes_the_busy_time_it_describes():
    busy = busy_from_feed(GOOGLE_FEED, start=WINDOW_START, end=WINDOW_END, zone=ZONE)

    assert busy == [
        Interval(utc(2026, 10, 26, 4), utc(2026, 10, 26, 6)),  # the flight, cut at the window's start
        Interval(utc(2026, 10, 27, 21), utc(2026, 10, 27, 22, 30)),  # Pilates 17:00 EDT
        Interval(utc(2026, 11, 3, 22), utc(2026, 11, 3, 23, 30)),  # still 17:00 after the change (EST)
        Interval(utc(2026, 11, 6, 5), utc(2026, 11, 7, 5)),  # the all-day event: the whole local day
        # 10 Nov skipped (EXDATE); the lunch shown as free and the cancelled call are not busy
        Interval(utc(2026, 11, 19, 14), utc(2026, 11, 19, 15, 30)),  # the 17 Nov class moved to Thursday 9:00
    ]


def test_all_day_events_follow_the_zone_given():
    busy = busy_from_feed(
        GOOGLE_FEED.replace("X-WR-TIMEZONE:America/Toronto\n", ""),
        start=utc(2026, 11, 5),
        end=utc(2026, 11, 8),
        zone="Europe/London",
    )

    assert busy == [Interval(utc(2026, 11, 6), utc(2026, 11, 7))]


def test_all_day_events_follow_the_zone_the_calendar_names():
    text = GOOGLE_FEED.replace("X-WR-TIMEZONE:America/Toronto", "X-WR-TIMEZONE:Europe/London")

    busy = busy_from_feed(text, start=utc(2026, 11, 5), end=utc(2026, 11, 8), zone=ZONE)

    assert busy == [Interval(utc(2026, 11, 6), utc(2026, 11, 7))]


def test_floating_times_are_read_in_the_zone_given():
    text = GOOGLE_FEED.replace(
        "DTSTART:20261104T150000Z\nDTEND:20261104T160000Z", "DTSTART:20261104T090000\nDTEND:20261104T100000"
    )
    text = text.replace("TRANSP:TRANSPARENT", "TRANSP:OPAQUE").replace("X-WR-TIMEZONE:America/Toronto\n", "")

    busy = busy_from_feed(text, start=utc(2026, 11, 4), end=utc(2026, 11, 5), zone=ZONE)

    assert busy == [Interval(utc(2026, 11, 4, 14), utc(2026, 11, 4, 15))]


def test_an_endless_weekly_series_costs_only_the_window():
    busy = busy_from_feed(GOOGLE_FEED, start=local(date(2040, 1, 1), 0), end=local(date(2040, 1, 8), 0), zone=ZONE)

    assert busy == [Interval(utc(2040, 1, 3, 22), utc(2040, 1, 3, 23, 30))]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "this is not a calendar",
        "<!doctype html><html><body>Sign in to continue</body></html>",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-11-04 15:00\nEND:VEVENT\nEND:VCALENDAR\n",
        "BEGIN:VEVENT\nDTSTART:20261104T150000Z\nDTEND:20261104T160000Z\nUID:x\nEND:VEVENT\n",
    ],
)
def test_unreadable_feeds_raise_feed_error(text):
    with pytest.raises(FeedError):
        busy_from_feed(text, start=WINDOW_START, end=WINDOW_END, zone=ZONE)


def test_more_events_than_the_limit_is_an_error_not_a_partial_busy_set():
    with pytest.raises(FeedError, match="more than 3 events"):
        busy_from_feed(GOOGLE_FEED, start=WINDOW_START, end=WINDOW_END, zone=ZONE, max_events=3)


EPOCH = datetime(2026, 10, 25, tzinfo=UTC)


@st.composite
def feeds(draw: st.DrawFn) -> tuple[str, list[tuple[datetime, datetime]]]:
    """A calendar of timed and all-day events, and the spans of those that make time busy."""
    calendar = Calendar()
    calendar.add("PRODID", "-//test//EN")
    calendar.add("VERSION", "2.0")
    busy: list[tuple[datetime, datetime]] = []
    for n in range(draw(st.integers(0, 12))):
        event = Event()
        event.add("UID", f"e{n}@test")
        event.add("DTSTAMP", EPOCH)
        if draw(st.booleans()):
            day = (EPOCH + timedelta(days=draw(st.integers(-2, 14)))).date()
            last = day + timedelta(days=draw(st.integers(1, 3)))
            event.add("DTSTART", day)
            event.add("DTEND", last)
            span = (local(day, 0).astimezone(UTC), local(last, 0).astimezone(UTC))
        else:
            start = EPOCH + timedelta(minutes=draw(st.integers(-3000, 20_000)))
            end = start + timedelta(minutes=draw(st.integers(0, 900)))
            event.add("DTSTART", start)
            event.add("DTEND", end)
            span = (start, end)
        free = draw(st.sampled_from(["", "TRANSPARENT", "CANCELLED"]))
        if free == "TRANSPARENT":
            event.add("TRANSP", "TRANSPARENT")
        elif free == "CANCELLED":
            event.add("STATUS", "CANCELLED")
        elif span[0] < span[1]:
            busy.append(span)
        calendar.add_component(event)
    return calendar.to_ical().decode(), busy


@settings(max_examples=60, deadline=None)
@given(feeds(), st.integers(-2000, 20_000), st.integers(1, 15_000))
def test_busy_time_is_exactly_the_opaque_events_cut_to_the_window(scenario, offset, length):
    text, spans = scenario
    start = EPOCH + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)

    busy = busy_from_feed(text, start=start, end=end, zone=ZONE)

    for interval in busy:
        assert start <= interval.start < interval.end <= end
    for a, b in itertools.pairwise(busy):
        assert a.end < b.start  # sorted, disjoint and merged
    minute = timedelta(minutes=1)
    probe = start
    while probe < end:  # every minute of the window is busy exactly when some opaque event covers it
        covered = any(a <= probe < b for a, b in spans)
        assert covered == any(i.start <= probe < i.end for i in busy), probe
        probe += minute * 37


# --- Fetching ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    release = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/slow":
            self.release.wait(5)
        if self.path == "/missing":
            self.send_error(404)
            return
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/calendar.ics")
            self.end_headers()
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/calendar.ics")
            self.end_headers()
            return
        body = GOOGLE_FEED.encode()
        if self.path == "/big":
            body = body * 200
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        if self.path != "/big-streamed":
            self.send_header("Content-Length", str(len(body)))
        else:
            body = body * 200  # no length announced: the limit must hold while reading
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.release.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, client_address: None  # a client that gave up: the test's point
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Handler.release.set()
    httpd.shutdown()
    httpd.server_close()


def test_fetch_returns_the_calendar(server):
    body = fetch_feed(f"{server}/calendar.ics", timeout=5, max_bytes=100_000, allow_private=True)

    assert body == GOOGLE_FEED.encode()
    assert busy_from_feed(body, start=WINDOW_START, end=WINDOW_END, zone=ZONE)


def test_fetch_follows_a_redirect(server):
    assert fetch_feed(f"{server}/moved", timeout=5, max_bytes=100_000, allow_private=True) == GOOGLE_FEED.encode()


def test_fetch_that_times_out_is_a_feed_error(server):
    with pytest.raises(FeedError, match="could not be fetched"):
        fetch_feed(f"{server}/slow", timeout=0.3, max_bytes=100_000, allow_private=True)


@pytest.mark.parametrize("path", ["/big", "/big-streamed"])
def test_fetch_over_the_size_limit_is_a_feed_error(server, path):
    with pytest.raises(FeedError, match="larger than 100000 bytes"):
        fetch_feed(f"{server}{path}", timeout=5, max_bytes=100_000, allow_private=True)


def test_fetch_of_an_error_page_is_a_feed_error(server):
    with pytest.raises(FeedError, match="404"):
        fetch_feed(f"{server}/missing", timeout=5, max_bytes=100_000, allow_private=True)


def test_fetch_does_not_follow_a_redirect_out_of_http(server):
    with pytest.raises(FeedError):
        fetch_feed(f"{server}/redirect", timeout=5, max_bytes=100_000, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/cal.ics",
        "gopher://127.0.0.1/",
        "javascript:alert(1)",
        "https://",
        "https://example.org:http/",
    ],
)
def test_fetch_refuses_other_schemes_and_malformed_addresses(url):
    with pytest.raises(FeedError):
        fetch_feed(url, timeout=1, max_bytes=1000)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/cal.ics", "http://localhost:9/", "http://10.0.0.5/", "http://169.254.169.254/latest/meta-data/",
     "http://[::1]:9/", "http://[::ffff:192.168.1.1]/", "webcal://192.168.0.10/cal.ics"],
)  # fmt: skip
def test_fetch_refuses_private_and_loopback_addresses(url):
    with pytest.raises(FeedError, match="not on the public internet"):
        fetch_feed(url, timeout=1, max_bytes=1000)


def test_fetch_checks_the_address_actually_connected(server, monkeypatch):
    """A name that looked public when checked but connects to loopback (DNS rebinding) is refused."""
    monkeypatch.setattr(ical, "_check_host", lambda host, port: None)

    with pytest.raises(FeedError, match="not on the public internet"):
        fetch_feed(f"{server}/calendar.ics", timeout=5, max_bytes=100_000)
