"""The public online booking, signed out, through Django's test client: what a client can and cannot do.

The clock is frozen (time-machine) on a Monday morning in Toronto, the personas' clinic's zone; the
appointments asked for are on the Wednesday after, when both therapists work 09–17.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client as HttpClient
from django.test import TestCase, override_settings
from icalendar import Calendar

from mend.core.availability import exact_local
from mend.people.models import Client
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType, Hold
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"
NOW = exact_local(date(2027, 3, 15), time(8), ZONE)  # Monday 15 March 2027, 08:00 EDT
DAY = date(2027, 3, 17)  # the Wednesday after
NEW = {
    "who": "new",
    "new-legal_given_name": "Nora",
    "new-legal_family_name": "Newcomer",
    "new-email": "nora@example.org",
    "new-phone": "416 555 0199",
    "new-date_of_birth": "1985-02-03",
    "new-consent_email": "on",
}


class CommittingClient(HttpClient):
    """A browser's requests: each one's transaction commits, so the emails it queues are sent."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def client() -> CommittingClient:
    return CommittingClient()


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return exact_local(day, time(hour, minute), ZONE)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    s = build_schedule(personas)
    s.treatment.description = "Deep tissue or Swedish, as you need."
    s.treatment.price = "95.00"
    s.treatment.save()
    return s


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def slot_value(therapist_id: int, start: datetime) -> str:
    return f"{therapist_id}|{start.astimezone(UTC).isoformat()}"


def hold(http: HttpClient, s: Schedule, therapist_id: int, start: datetime):
    return http.post(
        f"/book/harbour/{s.treatment.pk}/times/?therapist={therapist_id}", {"slot": slot_value(therapist_id, start)}
    )


def book_new(http: HttpClient, s: Schedule, therapist_id: int, start: datetime, details: dict | None = None):
    """Hold, give a new client's details, confirm: the final response (and the confirm key used)."""
    held = hold(http, s, therapist_id, start)
    assert held.status_code == 302, held.content.decode()[:500]
    details_url = held["Location"]
    given = http.post(details_url, details or NEW)
    assert given.status_code == 302, given.content.decode()[:2000]
    confirm_url = given["Location"]
    page = http.get(confirm_url)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode()).group(1)
    return http.post(confirm_url, {"idempotency_key": key}), confirm_url, key


def test_the_service_list_shows_what_is_bookable_online_with_price_in_the_clinic_currency(client, personas, schedule):
    AppointmentType.objects.create(
        clinic=personas.harbour, name="Staff only", duration_minutes=30, bookable_online=False
    )
    page = client.get("/book/harbour/").content.decode()
    assert "Treatment 60" in page and "95.00 CAD" in page and "Deep tissue or Swedish" in page
    assert "60 minutes" in page
    assert "Staff only" not in page
    assert client.get("/book/no-such-clinic/").status_code == 404


def test_another_clinics_type_is_404_under_this_clinics_address(client, personas, schedule):
    assert client.get(f"/book/northside/{schedule.treatment.pk}/").status_code == 404


def test_times_are_listed_in_the_clinics_zone_with_the_zone_named(client, personas, schedule, clock):
    page = client.get(f"/book/harbour/{schedule.treatment.pk}/times/?therapist=any&week=0").content.decode()
    assert "America/Toronto" in page and "EDT" in page
    assert "Wednesday 17 March" in page
    # 09:00 to 16:00 (a 60-minute session ends by 17:00), never a UTC hour.
    assert f'value="{slot_value(personas.memberships["therapist"].pk, at(9))}"' in page
    assert ">16:00<" in page and ">17:00<" not in page


def test_a_new_client_books_and_gets_a_confirmation_with_an_ics_in_the_clinics_zone(client, personas, schedule, clock):
    tess = personas.memberships["therapist"]
    done, _, _ = book_new(client, schedule, tess.pk, at(10))
    assert done.status_code == 302 and "/booked/" in done["Location"]
    page = client.get(done["Location"]).content.decode()
    assert "You are booked" in page and "Wednesday 17 March 2027, 10:00 EDT (America/Toronto time)" in page
    # The page's address is in the browser's history: it names no one.
    assert "nora@example.org" not in page and "Newcomer" not in page

    appointment = Appointment.objects.get(client__email="nora@example.org")
    assert appointment.channel == Appointment.Channel.ONLINE and appointment.status == AppointmentStatus.BOOKED
    assert appointment.starts_at == at(10) and appointment.therapist == tess
    nora = Client.objects.get(pk=appointment.client_id)
    assert (nora.legal_family_name, nora.date_of_birth, nora.consent_email) == ("Newcomer", date(1985, 2, 3), True)
    assert not Hold.objects.exists()

    (message,) = mail.outbox
    assert message.to == ["nora@example.org"]
    assert "10:00 EDT (America/Toronto time)" in message.body and "14:00" not in message.body
    assert "cancel or move this appointment online until Tuesday 16 March 2027, 10:00 EDT" in message.body
    assert "/booking/cancel/" in message.body and "/booking/reschedule/" in message.body
    (ics,) = [a for a in message.attachments if a.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST"
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == ZONE and start.hour == 10 and start == at(10)
    assert event.decoded("DTEND") == at(11)


@pytest.mark.parametrize(("early", "expected"), [(timedelta(seconds=1), 302), (timedelta(seconds=-1), 409)])
def test_minimum_notice_one_second_short_is_refused_and_one_second_over_accepted(
    client, personas, schedule, early, expected
):
    schedule.treatment.min_notice_minutes = 120
    schedule.treatment.save()
    start = at(11, day=date(2027, 3, 15))
    with time_machine.travel(start - timedelta(minutes=120) - early, tick=False):
        response = hold(client, schedule, personas.memberships["therapist"].pk, start)
    assert response.status_code == expected
    if expected == 409:
        assert "at least 2 hours of notice" in response.content.decode()
        assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (lambda: at(17), "outside working hours"),
        (lambda: at(11), "inside the buffer after a 10:00 treatment"),
        (lambda: at(11, 15), "off the booking grid"),
    ],
)
def test_a_hand_made_post_of_a_time_not_offered_is_refused(client, personas, schedule, clock, start, why):
    tess = personas.memberships["therapist"]
    done, _, _ = book_new(client, schedule, tess.pk, at(10))
    assert done.status_code == 302
    other = CommittingClient()
    response = hold(other, schedule, tess.pk, start())
    assert response.status_code == 409, why
    assert "not open for online booking" in response.content.decode()
    assert not Hold.objects.exists()


def test_a_hold_keeps_the_time_from_a_second_person(client, personas, schedule, clock):
    tess = personas.memberships["therapist"].pk
    assert hold(client, schedule, tess, at(10)).status_code == 302
    other = CommittingClient()
    listed = other.get(f"/book/harbour/{schedule.treatment.pk}/times/?therapist={tess}").content.decode()
    assert slot_value(tess, at(10)) not in listed and slot_value(tess, at(11)) in listed
    assert hold(other, schedule, tess, at(10)).status_code == 409
    assert Hold.objects.count() == 1


def test_the_details_page_says_how_long_the_time_is_held_in_words(client, personas, schedule, clock):
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    page = client.get(held["Location"]).content.decode()
    assert "We hold this time for you until" in page and "about 10 minutes" in page


def test_an_expired_hold_is_checked_again_at_confirm(client, personas, schedule, clock):
    tess = personas.memberships["therapist"].pk
    held = hold(client, schedule, tess, at(10))
    given = client.post(held["Location"], NEW)
    confirm = given["Location"]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', client.get(confirm).content.decode()).group(1)
    clock.shift(timedelta(minutes=11))
    assert "no longer held for you" in client.get(confirm).content.decode()
    # Meanwhile someone else takes the time: the first person is told, and nothing is booked twice.
    other = CommittingClient()
    done, _, _ = book_new(other, schedule, tess, at(10), {**NEW, "new-email": "olga@example.org"})
    assert done.status_code == 302
    late = client.post(confirm, {"idempotency_key": key})
    assert late.status_code == 409
    assert Appointment.objects.filter(starts_at=at(10)).count() == 1


def test_an_expired_hold_still_books_when_the_time_is_free(client, personas, schedule, clock):
    tess = personas.memberships["therapist"].pk
    held = hold(client, schedule, tess, at(10))
    confirm = client.post(held["Location"], NEW)["Location"]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', client.get(confirm).content.decode()).group(1)
    clock.shift(timedelta(minutes=30))
    assert client.post(confirm, {"idempotency_key": key}).status_code == 302
    assert Appointment.objects.filter(starts_at=at(10), status=AppointmentStatus.BOOKED).count() == 1


def test_a_returning_client_is_verified_by_an_emailed_code(client, personas, schedule, clock):
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    asked = client.post(held["Location"], {"who": "returning", "returning-email": "Carol@Example.net"})
    assert asked.status_code == 302 and asked["Location"].endswith("/code/")
    (message,) = mail.outbox
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    assert message.to == ["carol@example.net"]
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(asked["Location"], {"code": wrong})
    assert refused.status_code == 400 and "not the one we sent (4 more tries)" in refused.content.decode()
    accepted = client.post(asked["Location"], {"code": code})
    assert accepted.status_code == 302 and accepted["Location"].endswith("/confirm/")
    page = client.get(accepted["Location"]).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    assert client.post(accepted["Location"], {"idempotency_key": key}).status_code == 302
    assert Appointment.objects.get(starts_at=at(10)).client == personas.carol
    assert Client.objects.filter(clinic=personas.harbour).count() == 2  # nobody new


def test_an_unknown_address_gets_the_same_answer_and_no_code_works(client, personas, schedule, clock):
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    asked = client.post(held["Location"], {"who": "returning", "returning-email": "nobody@example.org"})
    assert asked.status_code == 302 and asked["Location"].endswith("/code/")
    assert not mail.outbox
    page = client.get(asked["Location"]).content.decode()
    assert "If nobody@example.org is the address" in page
    assert client.post(asked["Location"], {"code": "123456"}).status_code == 400


def test_codes_allow_five_tries_and_expire(client, personas, schedule, clock):
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    code_url = client.post(held["Location"], {"who": "returning", "returning-email": "carol@example.net"})["Location"]
    code = re.search(r"\b(\d{6})\b", mail.outbox[0].body).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(code_url, {"code": wrong})
    assert "Too many wrong codes" in client.post(code_url, {"code": code}).content.decode()
    client.post(held["Location"], {"who": "returning", "returning-email": "carol@example.net"})
    fresh = re.search(r"\b(\d{6})\b", mail.outbox[1].body).group(1)
    clock.shift(timedelta(minutes=16))
    assert "This code has expired" in client.post(code_url, {"code": fresh}).content.decode()


@override_settings(MEND_BOOKING_CODES_PER_HOUR=2)
def test_codes_to_one_address_are_throttled(client, personas, schedule, clock):
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    for _ in range(2):
        assert (
            client.post(held["Location"], {"who": "returning", "returning-email": "carol@example.net"}).status_code
            == 302
        )
    third = client.post(held["Location"], {"who": "returning", "returning-email": "carol@example.net"})
    assert third.status_code == 429 and "Too many codes" in third.content.decode()
    assert len(mail.outbox) == 2


@override_settings(MEND_ONLINE_HOLDS_PER_HOUR=2)
def test_holds_from_one_address_are_throttled(client, personas, schedule, clock):
    tess = personas.memberships["therapist"].pk
    assert hold(client, schedule, tess, at(10)).status_code == 302
    assert hold(client, schedule, tess, at(12)).status_code == 302
    assert hold(client, schedule, tess, at(14)).status_code == 429


def test_a_returning_only_service_refuses_a_new_client_with_a_clear_message(client, personas, schedule, clock):
    schedule.treatment.audience = AppointmentType.Audience.RETURNING
    schedule.treatment.save()
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    refused = client.post(held["Location"], NEW)
    assert refused.status_code == 400
    assert "Treatment 60 is for returning clients" in refused.content.decode()
    assert not Client.objects.filter(email="nora@example.org").exists()


def test_new_by_request_makes_a_request_the_clinic_approves_and_says_so(client, personas, schedule, clock):
    schedule.treatment.audience = AppointmentType.Audience.NEW_BY_REQUEST
    schedule.treatment.save()
    held = hold(client, schedule, personas.memberships["therapist"].pk, at(10))
    confirm = client.post(held["Location"], NEW)["Location"]
    page = client.get(confirm).content.decode()
    assert "Send my request" in page and "confirms it by email before it is booked" in page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    done = client.post(confirm, {"idempotency_key": key}, follow=True)
    assert "Your request is sent" in done.content.decode()
    assert Appointment.objects.get(starts_at=at(10)).status == AppointmentStatus.REQUESTED
    (message,) = mail.outbox
    assert "we received your request" in message.subject and "confirms it by email" in message.body


def test_a_double_click_on_book_books_once_and_shows_the_same_confirmation(client, personas, schedule, clock):
    first, confirm, key = book_new(client, schedule, personas.memberships["therapist"].pk, at(10))
    second = client.post(confirm, {"idempotency_key": key})
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert Appointment.objects.filter(starts_at=at(10)).count() == 1
    assert Client.objects.filter(email="nora@example.org").count() == 1
    assert len(mail.outbox) == 1


def _links(message) -> dict[str, str]:
    return {
        purpose: re.search(rf"https?://\S+(/booking/{purpose}/\S+/)", message.body).group(1)
        for purpose in ("cancel", "reschedule")
    }


def test_a_reschedule_link_moves_once_and_answers_409_when_used_again(client, personas, schedule, clock):
    tess = personas.memberships["therapist"].pk
    book_new(client, schedule, tess, at(10))
    links = _links(mail.outbox[0])
    page = client.get(links["reschedule"]).content.decode()
    assert slot_value(tess, at(14)) in page
    moved = client.post(links["reschedule"], {"slot": slot_value(tess, at(14))})
    assert moved.status_code == 200 and "14:00 EDT" in moved.content.decode()
    appointment = Appointment.objects.get(client__email="nora@example.org")
    assert appointment.starts_at == at(14) and appointment.sequence == 1
    again = client.post(links["reschedule"], {"slot": slot_value(tess, at(15))})
    assert again.status_code == 409 and "already changed" in again.content.decode()
    assert client.get(links["cancel"]).status_code == 409  # made before the change
    assert Appointment.objects.filter(client__email="nora@example.org").exclude(status="cancelled").count() == 1
    rescheduled = mail.outbox[1]
    assert "moved to" in rescheduled.subject and "14:00 EDT (America/Toronto time)" in rescheduled.body
    ics = next(a for a in rescheduled.attachments if a.get_content_type() == "text/calendar")
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == at(14) and event["SEQUENCE"] == 1


def test_a_cancel_link_cancels_once_within_the_window(client, personas, schedule, clock):
    book_new(client, schedule, personas.memberships["therapist"].pk, at(10))
    link = _links(mail.outbox[0])["cancel"]
    assert "Cancel your appointment?" in client.get(link).content.decode()
    assert client.post(link).status_code == 200
    assert Appointment.objects.get(client__email="nora@example.org").status == AppointmentStatus.CANCELLED
    assert client.post(link).status_code == 409
    ics = next(a for a in mail.outbox[1].attachments if a.get_content_type() == "text/calendar")
    assert ics.get_param("method") == "CANCEL"


def test_links_close_at_the_cancellation_window(client, personas, schedule, clock):
    book_new(client, schedule, personas.memberships["therapist"].pk, at(10))
    link = _links(mail.outbox[0])["cancel"]
    clock.move_to(at(10) - timedelta(hours=24) + timedelta(seconds=1))
    late = client.post(link)
    assert late.status_code == 409 and "close 24 hours before" in late.content.decode()
    assert Appointment.objects.get(client__email="nora@example.org").status == AppointmentStatus.BOOKED


def test_a_tampered_link_is_404(client, personas, schedule, clock):
    book_new(client, schedule, personas.memberships["therapist"].pk, at(10))
    link = _links(mail.outbox[0])["cancel"]
    assert client.get(link[:-3] + "xx/").status_code == 404
    # A cancel token is not a reschedule token.
    assert client.get(link.replace("/cancel/", "/reschedule/")).status_code == 404


def test_the_confirm_form_needs_csrf(personas, schedule, clock):
    strict = CommittingClient(enforce_csrf_checks=True)
    page = strict.get(f"/book/harbour/{schedule.treatment.pk}/times/?therapist=any")
    assert page.status_code == 200
    response = strict.post(
        f"/book/harbour/{schedule.treatment.pk}/times/?therapist=any",
        {"slot": slot_value(personas.memberships["therapist"].pk, at(10))},
    )
    assert response.status_code == 403
    assert not Hold.objects.exists()


def test_holds_a_day_past_expiry_are_cleared_when_someone_holds_a_time(client, personas, schedule, clock):
    tess = personas.memberships["therapist"].pk
    assert hold(client, schedule, tess, at(10)).status_code == 302
    clock.shift(timedelta(days=1, minutes=11))
    assert hold(CommittingClient(), schedule, tess, at(12, day=date(2027, 3, 18))).status_code == 302
    assert list(Hold.objects.values_list("starts_at", flat=True)) == [at(12, day=date(2027, 3, 18))]


def test_a_new_clients_booking_queues_the_intake_questionnaire_and_a_returning_clients_does_not(
    client, personas, schedule, clock
):
    from mend.clinical.models import ClientIntake
    from mend.outbox.models import OutboundMessage

    done, _, _ = book_new(client, schedule, personas.memberships["therapist"].pk, at(10))
    assert done.status_code == 302
    nora = Client.objects.get(email="nora@example.org")
    (intake,) = ClientIntake.objects.filter(client=nora)
    (email,) = OutboundMessage.objects.filter(key=f"intake:{intake.pk}")
    assert email.to == "nora@example.org" and "/intake/" in email.body and "Hello Nora" in email.body

    held = hold(client, schedule, personas.memberships["therapist"].pk, at(12))
    asked = client.post(held["Location"], {"who": "returning", "returning-email": "carol@example.net"})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    accepted = client.post(asked["Location"], {"code": code})
    page = client.get(accepted["Location"]).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    assert client.post(accepted["Location"], {"idempotency_key": key}).status_code == 302
    assert Appointment.objects.get(starts_at=at(12)).client == personas.carol
    assert not ClientIntake.objects.filter(client=personas.carol).exists()
    assert OutboundMessage.objects.filter(key__startswith="intake:").count() == 1
