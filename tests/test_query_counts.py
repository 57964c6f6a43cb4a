"""Pages and API calls run the same number of queries with 10 and with 1,000 clients.

Each test measures a request at the small size, grows the clinic, and measures the same request
again; on a mismatch the failure message lists both sets of SQL.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mend.accounts.services import api_token_create
from mend.clinics.models import Location, Membership, Role
from mend.clinics.services import invitation_tokens
from mend.people.models import CareTeamMember, Client, Licence, TherapistProfile
from mend.testing import Personas

SMALL, LARGE = 10, 1_000


def _grow_to(personas: Personas, total: int) -> None:
    """Add Harbour clients until there are ``total``, each with Tess as primary therapist."""
    existing = Client.objects.filter(clinic=personas.harbour).count()
    new = Client.objects.bulk_create(
        Client(
            clinic=personas.harbour,
            legal_given_name=f"Given{i:04d}",
            legal_family_name=f"Family{i:04d}",
            chosen_name="Chosen" if i % 3 == 0 else "",
            pronouns="they/them" if i % 5 == 0 else "",
            date_of_birth=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
            phone=f"416-555-{i:04d}",
            phone_digits=f"416555{i:04d}",
            email=f"client{i}@example.net",
        )
        for i in range(existing, total)
    )
    tess = personas.memberships["therapist"]
    CareTeamMember.objects.bulk_create(
        CareTeamMember(clinic=personas.harbour, client=client, therapist=tess, is_primary=True) for client in new
    )
    # Dan, too, so every Harbour client is on Tess's care team and her views grow as well.
    CareTeamMember.objects.get_or_create(
        clinic=personas.harbour, client=personas.dan, therapist=tess, defaults={"is_primary": True}
    )
    assert Client.objects.filter(clinic=personas.harbour).count() == total


def _count(request) -> tuple[int, list[str]]:
    request()  # warm up: session, first-visit work
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def _assert_same(small: tuple[int, list[str]], large: tuple[int, list[str]]) -> None:
    if small[0] != large[0]:
        lines = [
            f"{SMALL} clients: {small[0]} queries",
            *small[1],
            "",
            f"{LARGE} clients: {large[0]} queries",
            *large[1],
        ]
        pytest.fail("\n".join(lines))


def _scales(personas: Personas, request) -> None:
    _grow_to(personas, SMALL)
    small = _count(request)
    _grow_to(personas, LARGE)
    large = _count(request)
    _assert_same(small, large)


PAGE_PERSONAS = ["owner", "therapist", "front_desk"]


@pytest.mark.parametrize("persona", PAGE_PERSONAS)
def test_client_list_page(login, personas, persona):
    http = login(persona)
    _scales(personas, lambda: http.get("/clients/"))


@pytest.mark.parametrize("persona", PAGE_PERSONAS)
def test_client_list_second_page_and_search(login, personas, persona):
    http = login(persona)
    _scales(personas, lambda: http.get("/clients/", {"q": "family", "page": 1}))
    response = http.get("/clients/", {"page": 3})
    assert len(response.context["page"].object_list) == 25


def test_client_search_htmx_partial(login, personas):
    http = login("therapist")
    _scales(personas, lambda: http.get("/clients/", {"q": "given"}, HTTP_HX_REQUEST="true"))


@pytest.mark.parametrize("persona", PAGE_PERSONAS)
def test_client_detail_page(login, personas, persona):
    http = login(persona)
    _scales(personas, lambda: http.get(f"/clients/{personas.carol.pk}/"))


@pytest.mark.parametrize("persona", ["owner", "therapist"])
def test_client_edit_page(login, personas, persona):
    http = login(persona)
    _scales(personas, lambda: http.get(f"/clients/{personas.carol.pk}/edit/"))


def _add_locations(personas: Personas, count: int) -> None:
    """``count`` more Harbour locations, every one of them Tess's."""
    made = Location.objects.bulk_create(
        Location(clinic=personas.harbour, name=f"Site {Location.objects.count() + i:03d}") for i in range(count)
    )
    personas.therapist_profile.locations.add(*made)


@pytest.mark.parametrize(
    "path",
    [
        # session, user, memberships (the middleware); the clinic's locations for the checkboxes
        pytest.param(lambda p: "/therapists/new/", id="add-therapist"),
        # the same, then the profile with its user, licences, certifications and locations
        pytest.param(lambda p: f"/therapists/{p.therapist_profile.pk}/", id="therapist-detail"),
        pytest.param(lambda p: f"/therapists/{p.therapist_profile.pk}/edit/", id="therapist-edit"),
    ],
)
def test_therapist_pages_with_more_locations(login, personas, path):
    """The add-therapist form and a therapist's pages list locations in the same queries for 2 and for 30."""
    http = login("owner")
    _add_locations(personas, 1)
    small = _count(lambda: http.get(path(personas)))
    _add_locations(personas, 28)
    large = _count(lambda: http.get(path(personas)))
    _assert_same(small, large)


def test_invitation_page(client, personas):
    """The set-password page an invitation opens: the user, then nothing else whoever they are."""
    personas.therapist2.set_unusable_password()
    personas.therapist2.save()
    uid = urlsafe_base64_encode(force_bytes(personas.therapist2.pk))
    token = invitation_tokens.make_token(personas.therapist2)
    # The first visit moves the token into the session and redirects; the form page is measured.
    page = client.get(f"/invitation/{uid}/{token}/", follow=True).redirect_chain[-1][0]
    small = _count(lambda: client.get(page))
    _grow_to(personas, LARGE)
    _assert_same(small, _count(lambda: client.get(page)))


@pytest.mark.parametrize("persona", PAGE_PERSONAS)
def test_therapist_list_page(login, personas, persona):
    http = login(persona)
    _scales(personas, lambda: http.get("/therapists/"))


def test_therapist_list_page_with_more_therapists(login, personas):
    """The list runs the same queries with 3 and with 30 therapists, each with licences."""

    def add_therapists(count: int) -> None:
        for i in range(count):
            user = type(personas.owner).objects.create_user(email=f"t{i}-{count}@test.example", password="x" * 12)
            membership = Membership.objects.create(clinic=personas.harbour, user=user, role=Role.THERAPIST)
            profile = TherapistProfile.objects.create(
                membership=membership, clinic=personas.harbour, display_name=f"Therapist {count}-{i}"
            )
            Licence.objects.bulk_create(
                Licence(
                    profile=profile,
                    clinic=personas.harbour,
                    licence_type="LMT",
                    number=f"L-{i}-{n}",
                    issuing_body="Board",
                    jurisdiction="Ontario",
                    expires_on=date(2031, 1 + n, 1),
                )
                for n in range(2)
            )

    http = login("owner")
    add_therapists(1)
    small = _count(lambda: http.get("/therapists/"))
    add_therapists(27)
    large = _count(lambda: http.get("/therapists/"))
    _assert_same(small, large)


@pytest.mark.parametrize("persona", PAGE_PERSONAS)
def test_api_client_list(client, personas, persona):
    membership = personas.memberships[persona]
    token = api_token_create(user=membership.user, clinic=membership.clinic).raw
    _scales(personas, lambda: client.get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {token}"))
    listed = client.get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert listed["count"] == LARGE
    assert len(listed["items"]) == 25
    assert all(item["primary_therapist_id"] == personas.therapist_profile.pk for item in listed["items"])


def test_api_client_detail(client, personas):
    token = api_token_create(user=personas.therapist, clinic=personas.harbour).raw
    _scales(personas, lambda: client.get(f"/api/v1/clients/{personas.carol.pk}", HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_api_therapist_list(client, personas):
    token = api_token_create(user=personas.owner, clinic=personas.harbour).raw
    _scales(personas, lambda: client.get("/api/v1/therapists", HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_account_page_with_more_sign_in_factors(login, personas):
    """The account page reads a fixed set however many factors the person has: session, user and
    memberships (3), the authenticator apps, the passkeys and the recovery codes left (3), and
    whatever the token list beside them reads, none of it per factor."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend.accounts.models import Passkey

    user = personas.therapist
    http = login("therapist")

    def grow(count: int) -> None:
        for i in range(Passkey.objects.filter(user=user).count(), count):
            Passkey.objects.create(user=user, name=f"Key {i}", credential_id=f"cred-{i}", public_key=b"k")
            TOTPDevice.objects.create(user=user, name=f"App {i}", confirmed=True)
        device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes", confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=f"c{i:07d}") for i in range(count))

    grow(1)
    small = _count(lambda: http.get("/accounts/"))
    grow(20)
    large = _count(lambda: http.get("/accounts/"))
    _assert_same(small, large)


def test_member_page_and_settings_with_more_members_and_factors(login, personas):
    """A member's page reads a fixed set however many factors they have: session, user and
    memberships (3), the member with their user (1), their apps, passkeys and recovery codes left
    (3). The settings page lists the members in one query however many there are."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend.accounts.models import Passkey

    member = personas.memberships["therapist"]
    user = personas.therapist
    http = login("owner")

    def grow(count: int) -> None:
        for i in range(Passkey.objects.filter(user=user).count(), count):
            Passkey.objects.create(user=user, name=f"Key {i}", credential_id=f"cred-{i}", public_key=b"k")
            TOTPDevice.objects.create(user=user, name=f"App {i}", confirmed=True)
            staff = type(user).objects.create_user(email=f"m{i}@test.example", password="x" * 12)
            Membership.objects.create(clinic=personas.harbour, user=staff, role=Role.FRONT_DESK)
        device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes", confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=f"c{i:07d}") for i in range(count))

    for path in (f"/settings/members/{member.pk}/", "/settings/"):
        grow(1)
        small = _count(lambda path=path: http.get(path))
        grow(20 if path == "/settings/" else 10)
        large = _count(lambda path=path: http.get(path))
        _assert_same(small, large)


def _book_today(personas: Personas, total: int) -> None:
    """Appointments on Harbour's today until Tess has ``total``, each a client on her care team with
    an open episode, a referral and (every other one) a finding waiting for a physician's clearance."""
    from datetime import time, timedelta

    from mend.clinical import services as clinical
    from mend.clinical.services import FindingInput
    from mend.core.availability import exact_local
    from mend.scheduling.models import Appointment, AppointmentType

    tess = personas.actor("therapist")
    kind, _ = AppointmentType.objects.get_or_create(
        clinic=personas.harbour, name="Check-in", defaults={"duration_minutes": 20}
    )
    existing = Appointment.objects.filter(clinic=personas.harbour).count()
    for i in range(existing, total):
        client = Client.objects.create(
            clinic=personas.harbour,
            legal_given_name=f"Day{i:02d}",
            legal_family_name="Client",
            date_of_birth=date(1980, 1, 1),
        )
        CareTeamMember.objects.create(
            clinic=personas.harbour, client=client, therapist=tess.membership, is_primary=True
        )
        episode = clinical.episode_open(
            actor=tess,
            client=client,
            data={"title": "Neck pain", "condition": "low_back_pain", "started_on": tess.today()},
        )
        clinical.referral_save(
            actor=tess,
            episode=episode,
            diagnoses=["M54.50"],
            data={"referred_on": tess.today() - timedelta(days=3), "visits_authorised": 6},
        )
        if i % 2:
            clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("bleeding_disorder"))
        starts_at = exact_local(tess.today(), time(0), personas.harbour.timezone) + timedelta(minutes=30 * i)
        Appointment.objects.create(
            clinic=personas.harbour,
            client=client,
            therapist=tess.membership,
            room=personas.room,
            location=personas.location,
            appointment_type=kind,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=20),
        )


@pytest.mark.parametrize("persona", PAGE_PERSONAS)
def test_today_page_with_more_appointments(login, personas, persona):
    """Today lists 2 and 20 appointments with their flags, referrals and episodes in the same queries:
    the middleware's, the home page's counts and licences, the day's appointments with client,
    therapist, room and type, the referrals, their signed visits, the appointments ahead, the
    findings and their clearances; for clinicians also today's flags (2), measures due (1 without
    plans), the open episodes and the audit rows; and a therapist's caseload flags and measures."""
    http = login(persona)
    _book_today(personas, 2)
    small = _count(lambda: http.get("/"))
    _book_today(personas, 20)
    large = _count(lambda: http.get("/"))
    _assert_same(small, large)
