"""The waitlist: staff keep it in order; a freed slot is emailed to the first client it fits, the first
to confirm gets it, and an unanswered offer passes to the next.

The clock is frozen on Monday 15 March 2027, 08:00 in Toronto (the personas' clinic's zone); the freed
slot is Wednesday 17 March at 10:00 with Tess, when both therapists work 09–17.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from mend.audit.models import AuditEvent
from mend.core.availability import exact_local
from mend.outbox.models import OutboundMessage
from mend.people.models import Client
from mend.scheduling import services
from mend.scheduling.models import Appointment, AppointmentStatus, WaitlistEntry, WaitlistOffer
from mend.scheduling.services import waitlist
from mend.testing import Personas, Schedule, build_schedule

pytestmark = pytest.mark.django_db

ZONE = "America/Toronto"
NOW = exact_local(date(2027, 3, 15), time(8), ZONE)  # Monday 15 March 2027, 08:00 EDT
DAY = date(2027, 3, 17)  # the Wednesday after
SLOT = exact_local(DAY, time(10), ZONE)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


@pytest.fixture
def fay(personas: Personas) -> Client:
    """The client whose appointment is cancelled (she is on nobody's waitlist)."""
    return Client.objects.create(
        clinic=personas.harbour,
        legal_given_name="Fay",
        legal_family_name="Freed",
        date_of_birth=date(1970, 1, 1),
        email="fay@example.net",
    )


@pytest.fixture
def dan(personas: Personas) -> Client:
    dan = personas.dan
    dan.email = "dan@example.net"
    dan.save()
    return dan


def add(p: Personas, client: Client, kind, *, therapist=None, first=DAY, last=DAY + timedelta(days=7)):
    return waitlist.waitlist_entry_add(
        actor=p.actor("front_desk"),
        client=client,
        appointment_type=kind,
        therapist=therapist,
        earliest=first,
        latest=last,
    )


def book(p: Personas, client: Client, kind, start=SLOT, therapist: str = "therapist") -> Appointment:
    return services.appointment_book(
        clinic=p.harbour,
        actor=p.actor("front_desk"),
        client=client,
        therapist=p.memberships[therapist],
        appointment_type=kind,
        starts_at=start,
        client_notes="Low back pain after a fall",
    )


def cancel(p: Personas, appointment: Appointment) -> None:
    """Cancel as the front desk does, the transaction committed (so what waits for the commit runs)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.appointment_cancel(actor=p.actor("front_desk"), appointment=appointment, reason="Flu")


def committed(fn, *args, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


# --- Staff keep the list ----------------------------------------------------------------------------


def test_front_desk_adds_clients_and_the_page_lists_them_in_order(login, personas, schedule, dan, clock):
    http = login("front_desk")
    for client in (personas.carol, dan):
        response = http.post(
            "/schedule/waitlist/",
            {
                "client": client.pk,
                "appointment_type": schedule.treatment.pk,
                "therapist": "",
                "earliest": "2027-03-16",
                "latest": "2027-03-31",
            },
        )
        assert response.status_code == 302, response.content[:500]
    page = http.get("/schedule/waitlist/").content.decode()
    assert page.index("1. Carol Client") < page.index("2. Dan Unassigned")
    assert "any therapist" in page
    entry = WaitlistEntry.objects.get(client=personas.carol)
    assert AuditEvent.objects.filter(object_type="scheduling.waitlistentry", object_id=str(entry.pk)).exists()

    response = http.post(f"/schedule/waitlist/{entry.pk}/remove/")
    assert response.status_code == 302
    page = http.get("/schedule/waitlist/").content.decode()
    assert "1. Carol Client" not in page and "1. Dan Unassigned" in page
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.REMOVED


def test_the_calendar_links_to_the_waitlist(login, personas, schedule, clock):
    assert 'href="/schedule/waitlist/"' in login("front_desk").get("/schedule/").content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"earliest": "2027-03-20", "latest": "2027-03-18"}, "latest", "on or after the first"),
        ({"earliest": "2027-03-01", "latest": "2027-03-10"}, "latest", "This date has passed"),
        ({"appointment_type": ""}, "appointment_type", "required"),
    ],
)
def test_bad_input_is_refused_naming_the_field(login, personas, schedule, clock, change, field, message):
    data = {"client": personas.carol.pk, "appointment_type": schedule.treatment.pk, "therapist": ""}
    data.update({"earliest": "2027-03-16", "latest": "2027-03-31", **change})
    response = login("front_desk").post("/schedule/waitlist/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not WaitlistEntry.objects.exists()


def test_a_client_without_email_cannot_wait_for_an_emailed_offer(personas, schedule, clock):
    with pytest.raises(Exception) as refused:
        add(personas, personas.dan, schedule.treatment)
    assert "email" in str(refused.value)


def test_another_clinics_entry_is_404_and_stays(login, personas, schedule, clock):
    entry = add(personas, personas.carol, schedule.treatment)
    response = login("outsider").post(f"/schedule/waitlist/{entry.pk}/remove/")
    assert response.status_code == 404
    assert b"Carol" not in response.content
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING


def test_a_therapist_sees_only_the_entries_of_clients_they_may_see(login, personas, schedule, dan, clock):
    add(personas, personas.carol, schedule.treatment)
    hidden = add(personas, dan, schedule.treatment)
    http = login("therapist")  # Tess: Carol is on her care team, Dan is not
    page = http.get("/schedule/waitlist/").content.decode()
    assert "Carol Client" in page and "Dan Unassigned" not in page
    assert http.post(f"/schedule/waitlist/{hidden.pk}/remove/").status_code == 404


# --- A freed slot is offered in order ---------------------------------------------------------------


def test_a_cancelled_slot_is_offered_to_the_first_fitting_entry_only(personas, schedule, fay, dan, clock):
    tess, theo = personas.memberships["therapist"], personas.memberships["therapist2"]
    add(personas, dan, schedule.initial)  # another type
    add(personas, dan, schedule.treatment, therapist=theo)  # another therapist
    add(personas, fay, schedule.treatment, first=DAY + timedelta(days=1))  # dates after the slot
    carol = add(personas, personas.carol, schedule.treatment, therapist=tess)
    appointment = book(personas, fay, schedule.treatment)

    cancel(personas, appointment)

    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.therapist_id, offer.starts_at) == (carol, tess.pk, SLOT)
    assert offer.expires_at == NOW + timedelta(minutes=120)
    assert len(offer.token) >= 40
    carol.refresh_from_db()
    assert carol.state == WaitlistEntry.State.OFFERED
    message = OutboundMessage.objects.get(key=f"waitlist-offer:{offer.pk}")
    assert message.to == "carol@example.net"


def test_a_moved_appointment_offers_the_time_it_left(personas, schedule, fay, clock):
    entry = add(personas, personas.carol, schedule.treatment)
    appointment = book(personas, fay, schedule.treatment)
    committed(
        services.appointment_move,
        actor=personas.actor("front_desk"),
        appointment=appointment,
        starts_at=exact_local(DAY, time(14), ZONE),
    )
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.starts_at) == (entry, SLOT)


def test_a_rolled_back_cancellation_offers_nothing(personas, schedule, fay, clock):
    add(personas, personas.carol, schedule.treatment)
    appointment = book(personas, fay, schedule.treatment)

    class Oops(Exception):
        pass

    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(Oops), transaction.atomic():
        services.appointment_cancel(actor=personas.actor("front_desk"), appointment=appointment)
        raise Oops

    assert not WaitlistOffer.objects.exists()
    assert not OutboundMessage.objects.filter(key__startswith="waitlist-offer:").exists()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_a_slot_already_in_the_past_is_not_offered(personas, schedule, fay, clock):
    add(personas, personas.carol, schedule.treatment, first=DAY - timedelta(days=2))
    appointment = book(personas, fay, schedule.treatment)
    clock.move_to(SLOT + timedelta(minutes=5))
    cancel(personas, appointment)
    assert not WaitlistOffer.objects.exists()


def test_the_offer_email_names_the_clinics_zone_and_carries_no_health_information(personas, schedule, fay, clock):
    add(personas, personas.carol, schedule.treatment)
    appointment = book(personas, fay, schedule.treatment)
    cancel(personas, appointment)
    offer = WaitlistOffer.objects.get()
    message = OutboundMessage.objects.get(key=f"waitlist-offer:{offer.pk}")

    assert message.subject == "Harbour Test Clinic: an earlier time on Wed 17 Mar at 10:00"
    assert "Hello Carol," in message.body
    assert "Wednesday 17 March 2027, 10:00 EDT (America/Toronto time)" in message.body
    assert f"/book/offer/{offer.token}/" in message.body
    assert "Monday 15 March 2027, 10:00 EDT" in message.body  # open until, in the clinic's zone
    for private in ("Low back pain", "Flu", "Fay", "Client", "1980"):
        assert private not in message.body, private


# --- Answering an offer -----------------------------------------------------------------------------


@pytest.fixture
def offered(personas, schedule, fay, dan, clock) -> WaitlistOffer:
    """Carol (first) was offered Fay's cancelled 10:00 with Tess; Dan waits behind her."""
    add(personas, personas.carol, schedule.treatment)
    add(personas, dan, schedule.treatment)
    cancel(personas, book(personas, fay, schedule.treatment))
    return WaitlistOffer.objects.get()


def test_the_offer_page_shows_the_slot_in_the_clinics_zone_and_books_it(client, personas, offered):
    page = client.get(f"/book/offer/{offered.token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Wednesday 17 March 2027, 10:00 EDT (America/Toronto time)" in text
    assert "Book it" in text

    response = committed(client.post, f"/book/offer/{offered.token}/")

    assert response.status_code == 302 and "/book/harbour/booked/" in response["Location"]
    appointment = Appointment.objects.get(client=personas.carol)
    assert (appointment.starts_at, appointment.channel) == (SLOT, Appointment.Channel.ONLINE)
    offered.refresh_from_db()
    assert (offered.state, offered.appointment) == (WaitlistOffer.State.ACCEPTED, appointment)
    assert offered.entry.state == WaitlistEntry.State.BOOKED
    again = client.post(f"/book/offer/{offered.token}/")
    assert again.status_code == 409 and b"already used" in again.content
    assert Appointment.objects.filter(client=personas.carol).count() == 1


def test_two_accepts_of_one_freed_time_book_it_once(client, personas, offered, dan):
    """Two open offers of the same time (made at once): the first to confirm gets it, the other is told."""
    second = WaitlistOffer.objects.create(
        clinic=personas.harbour,
        entry=WaitlistEntry.objects.get(client=dan),
        therapist=offered.therapist,
        room=offered.room,
        starts_at=offered.starts_at,
        token="second-offer-token",
        expires_at=offered.expires_at,
    )
    first = committed(client.post, f"/book/offer/{offered.token}/")
    late = committed(client.post, f"/book/offer/{second.token}/")

    assert first.status_code == 302
    assert late.status_code == 409
    assert b"Someone else booked this time first" in late.content
    assert Appointment.objects.filter(starts_at=SLOT, status=AppointmentStatus.BOOKED).count() == 1
    second.refresh_from_db()
    assert second.state == WaitlistOffer.State.TAKEN
    assert second.entry.state == WaitlistEntry.State.WAITING  # Dan keeps his place for another slot


def test_an_offer_accepted_after_staff_rebooked_the_time_is_taken(client, personas, offered, dan):
    book(personas, dan, offered.entry.appointment_type)  # the front desk gave the time to Dan by phone
    response = committed(client.post, f"/book/offer/{offered.token}/")
    assert response.status_code == 409
    assert b"This time was taken" in response.content
    assert not Appointment.objects.filter(client=personas.carol).exists()
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.TAKEN


def test_an_offer_whose_room_was_taken_meanwhile_is_booked_in_another_room(client, personas, offered, dan):
    """Theo's client took the offered room at that time: the time is still Tess's, another room will do."""
    taken = services.appointment_book(
        clinic=personas.harbour,
        actor=personas.actor("front_desk"),
        client=dan,
        therapist=personas.memberships["therapist2"],
        appointment_type=offered.entry.appointment_type,
        starts_at=SLOT,
        room=offered.room,
    )
    response = committed(client.post, f"/book/offer/{offered.token}/")
    assert response.status_code == 302
    booked = Appointment.objects.get(client=personas.carol)
    assert booked.starts_at == SLOT and booked.room_id not in (None, taken.room_id)


def test_an_expired_offer_answers_409_and_passes_the_slot_on(client, personas, offered, dan, clock):
    clock.move_to(offered.expires_at + timedelta(seconds=1))
    assert client.get(f"/book/offer/{offered.token}/").status_code == 409
    response = committed(client.post, f"/book/offer/{offered.token}/")
    assert response.status_code == 409 and b"This offer has expired" in response.content
    assert not Appointment.objects.filter(client=personas.carol).exists()
    assert WaitlistOffer.objects.get(state=WaitlistOffer.State.OPEN).entry.client == dan


def test_a_forged_token_is_404(client, offered):
    assert client.get("/book/offer/not-an-offer/").status_code == 404


# --- An unanswered offer passes to the next ---------------------------------------------------------


def test_expiry_offers_the_slot_to_the_next_entry_once(personas, offered, dan, clock):
    clock.move_to(offered.expires_at + timedelta(seconds=1))

    assert committed(waitlist.waitlist_offer_expire, offer_id=offered.pk) == "expired"
    assert committed(waitlist.waitlist_offer_expire, offer_id=offered.pk) == "expired"  # twice: nothing more

    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.EXPIRED
    assert offered.entry.state == WaitlistEntry.State.WAITING
    nxt = WaitlistOffer.objects.get(state=WaitlistOffer.State.OPEN)
    assert (nxt.entry.client, nxt.starts_at) == (dan, SLOT)
    assert OutboundMessage.objects.filter(key=f"waitlist-offer:{nxt.pk}", to="dan@example.net").exists()
    assert WaitlistOffer.objects.count() == 2


def test_expiry_after_acceptance_does_nothing(client, personas, offered, clock):
    committed(client.post, f"/book/offer/{offered.token}/")
    clock.move_to(offered.expires_at + timedelta(seconds=1))
    assert committed(waitlist.waitlist_offer_expire, offer_id=offered.pk) == "accepted"
    assert WaitlistOffer.objects.count() == 1


def test_expiry_run_early_waits_for_the_offers_time(personas, offered, clock):
    assert committed(waitlist.waitlist_offer_expire, offer_id=offered.pk) == "open"
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.OPEN


def test_mend_worker_expires_the_offer_at_its_time_and_offers_the_next(run_worker, personas, offered, dan, clock):
    """The expiry task was enqueued with the offer (run_after = expires_at): the worker runs it then."""
    run_worker()
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.OPEN  # not yet its time

    clock.move_to(offered.expires_at + timedelta(seconds=1))
    run_worker()

    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.EXPIRED
    nxt = WaitlistOffer.objects.get(state=WaitlistOffer.State.OPEN)
    assert nxt.entry.client == dan


def test_removing_an_offered_entry_passes_its_offer_on(personas, offered, dan, clock):
    committed(waitlist.waitlist_entry_remove, actor=personas.actor("front_desk"), entry=offered.entry)
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.EXPIRED
    assert WaitlistOffer.objects.get(state=WaitlistOffer.State.OPEN).entry.client == dan


# --- The page's queries -----------------------------------------------------------------------------


def test_the_waitlist_page_reads_as_many_queries_for_2_entries_as_for_12(login, personas, schedule, clock):
    """Beyond the session's: the client choices and their audit, the types, the therapists, the entries
    with client, type and therapist (one join), their open offers, and the list's audit."""
    http = login("front_desk")

    def waiting(n: int) -> None:
        for i in range(n):
            client = Client.objects.create(
                clinic=personas.harbour,
                legal_given_name=f"Waiting{i}",
                legal_family_name="Client",
                date_of_birth=date(1980, 1, 1),
                email=f"w{i}@example.net",
            )
            add(personas, client, schedule.treatment, therapist=personas.memberships["therapist"] if i % 2 else None)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = http.get("/schedule/waitlist/")
        assert response.status_code == 200
        return len(queries)

    waiting(2)
    http.get("/schedule/waitlist/")  # the session's first-request work out of the way
    few = count()
    waiting(10)
    assert count() == few
