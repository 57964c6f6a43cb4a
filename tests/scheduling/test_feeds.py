"""Calendar feeds: a therapist's private iCal URL, and personal calendars that only add busy time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import icalendar
import pytest
from django.utils import timezone

from mend.audit.models import AuditEvent
from mend.core import ical
from mend.core.availability import exact_local
from mend.scheduling.models import CalendarFeed
from mend.scheduling.queries import clinic_calendar
from mend.scheduling.services import BookingConflict, appointment_book, appointment_cancel, appointment_move
from mend.scheduling.services.feeds import (
    calendar_feed_create,
    calendar_feed_revoke,
    external_calendar_refresh,
    external_calendar_save,
)
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


def _soon(days: int, hour: int) -> datetime:
    """A local hour some days ahead of the test's frozen now, so the feed's window holds it."""
    today = timezone.localdate(timezone.now(), timezone=timezone.get_fixed_timezone(0))
    return exact_local(today + timedelta(days=days), time(hour), ZONE)


def _book(p: Personas, s: Schedule, start: datetime):
    return appointment_book(
        clinic=p.harbour,
        actor=p.actor("front_desk"),
        client=p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=s.treatment,
        starts_at=start,
    )


def _events(client, url: str) -> list[icalendar.Event]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_the_feed_shows_initials_and_type_with_stable_uids_and_a_rising_sequence(client, personas, schedule):
    appointment = _book(personas, schedule, _soon(3, 10))
    made = calendar_feed_create(actor=personas.actor("therapist"), therapist=personas.memberships["therapist"])
    url = f"/schedule/feed/{made.token}.ics"
    [event] = _events(client, url)
    assert str(event["SUMMARY"]) == "C.C. — Treatment 60"  # Carol Client: initials only
    assert "Caroline" not in str(event.to_ical())
    assert event["DTSTART"].dt.astimezone(timezone.get_fixed_timezone(0)) == appointment.starts_at
    uid = str(event["UID"])
    appointment_move(actor=personas.actor("front_desk"), appointment=appointment, starts_at=_soon(3, 11))
    [moved] = _events(client, url)
    assert (str(moved["UID"]), int(moved["SEQUENCE"])) == (uid, 1)
    appointment_cancel(actor=personas.actor("front_desk"), appointment=appointment)
    [cancelled] = _events(client, url)
    assert (str(cancelled["STATUS"]), int(cancelled["SEQUENCE"])) == ("CANCELLED", 2)
    assert AuditEvent.objects.filter(object_type="scheduling.calendarfeed", action="view").count() == 3


def test_a_new_link_or_a_revocation_stops_the_old_link(client, personas, schedule):
    therapist = personas.memberships["therapist"]
    first = calendar_feed_create(actor=personas.actor("therapist"), therapist=therapist)
    second = calendar_feed_create(actor=personas.actor("owner"), therapist=therapist)
    assert client.get(f"/schedule/feed/{first.token}.ics").status_code == 404
    assert client.get(f"/schedule/feed/{second.token}.ics").status_code == 200
    assert calendar_feed_revoke(actor=personas.actor("therapist"), therapist=therapist) == 1
    assert client.get(f"/schedule/feed/{second.token}.ics").status_code == 404
    assert client.get("/schedule/feed/not-a-token.ics").status_code == 404
    assert not CalendarFeed.objects.filter(token_hash=second.token).exists()  # only the hash is kept


def test_another_therapist_cannot_manage_a_colleagues_calendars(login, personas, schedule):
    page = login("therapist2").get(f"/schedule/calendars/{personas.memberships['therapist'].pk}/")
    assert page.status_code == 403
    outsider = login("outsider").get(f"/schedule/calendars/{personas.memberships['therapist'].pk}/")
    assert outsider.status_code == 404


def test_the_page_shows_a_new_link_once(login, personas, schedule):
    therapist = personas.memberships["therapist"]
    browser = login("therapist")
    made = browser.post(f"/schedule/calendars/{therapist.pk}/feed/new/")
    assert made.status_code == 200
    assert b"/schedule/feed/" in made.content
    again = browser.get(f"/schedule/calendars/{therapist.pk}/")
    assert b"/schedule/feed/" not in again.content
    assert b"A private link is in use" in again.content


PERSONAL = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Personal//EN
BEGIN:VEVENT
UID:dentist@example.net
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/Toronto:{day}T100000
DTEND;TZID=America/Toronto:{day}T110000
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


def test_a_personal_calendar_adds_busy_time_and_a_failed_load_frees_nothing(personas, schedule):
    start = _soon(5, 10)
    day = start.date()
    external = external_calendar_save(
        actor=personas.actor("therapist"), therapist=personas.memberships["therapist"], url="https://cal.example/x.ics"
    )
    text = PERSONAL.format(day=f"{day:%Y%m%d}").encode()
    assert external_calendar_refresh(calendar=external, fetch=lambda url: text)
    with pytest.raises(BookingConflict, match="another appointment"):
        _book(personas, schedule, start)

    def down(url: str) -> bytes:
        raise ical.FeedError("The calendar did not answer within 10 seconds.")

    assert not external_calendar_refresh(calendar=external, fetch=down)
    external.refresh_from_db()
    assert "did not answer" in external.last_error
    calendar = clinic_calendar(clinic_id=personas.harbour.pk, zone=ZONE, first=day, last=day)
    assert any(a.start == start for a in calendar.appointments)  # the last good busy time still counts
    with pytest.raises(BookingConflict):
        _book(personas, schedule, start)
    assert _book(personas, schedule, _soon(5, 12)).starts_at == _soon(5, 12)


def test_only_web_addresses_are_accepted_for_a_personal_calendar(personas, schedule):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        external_calendar_save(
            actor=personas.actor("therapist"), therapist=personas.memberships["therapist"], url="file:///etc/passwd"
        )
    assert "url" in error.value.message_dict


def test_personal_calendars_are_read_again_in_the_background_one_chain_at_a_time(
    personas, schedule, run_worker, monkeypatch
):
    import time_machine

    from mend.scheduling.models import ExternalCalendar
    from mend.scheduling.services import feeds

    reads: list[str] = []

    def fetch(url: str, **kwargs) -> bytes:
        reads.append(url)
        return PERSONAL.format(day=f"{_soon(5, 10).date():%Y%m%d}").encode()

    monkeypatch.setattr(feeds.ical, "fetch_feed", fetch)
    external = external_calendar_save(
        actor=personas.actor("therapist"), therapist=personas.memberships["therapist"], url="https://cal.example/x.ics"
    )
    first_chain = ExternalCalendar.objects.get(pk=external.pk).refresh_chain
    feeds.external_calendar_keep_fresh(calendar=external)  # "read again": a new chain retires the first
    assert ExternalCalendar.objects.get(pk=external.pk).refresh_chain != first_chain
    run_worker()
    assert reads == []  # nothing due yet
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        run_worker()
    assert reads == ["https://cal.example/x.ics"]  # one read: the retired chain stopped
    external.refresh_from_db()
    assert external.busy and external.loaded_at is not None
