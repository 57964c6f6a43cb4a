"""The demo clinics a newcomer sees, and the synthetic clinics benchmarks run on."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mend.accounts.models import User
from mend.clinics.models import Clinic, Membership, Role
from mend.core.credentials import licence_status
from mend.demo.generate import TORONTO, client_rows
from mend.demo.load import DEMO_PASSWORD, SEED_PASSWORD
from mend.people.models import CareTeamMember, Client, Licence, TherapistProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(capsys):
    call_command("demo")
    return capsys.readouterr().out


def test_demo_loads_both_clinics_with_the_promised_shape(demo):
    harbour = Clinic.objects.get(slug="harbour")
    northside = Clinic.objects.get(slug="northside")
    assert harbour.name == "Harbour Medical Massage"
    assert northside.name == "Northside Rehab Massage"
    assert (harbour.locations.count(), harbour.rooms.count()) == (2, 5)
    assert (northside.locations.count(), northside.rooms.count()) == (1, 2)
    assert harbour.clients.count() == 250
    assert northside.clients.count() == 20
    assert harbour.referring_providers.count() == 20
    assert TherapistProfile.objects.filter(clinic=harbour).count() == 6
    assert Membership.objects.filter(clinic=northside, role=Role.THERAPIST, user__email="therapist7@example.org")


def test_every_demo_account_signs_in_and_is_printed(demo, client):
    for email in ["owner@example.org", "frontdesk@example.org", "owner2@example.org"] + [
        f"therapist{n}@example.org" for n in range(1, 8)
    ]:
        response = client.post(reverse("login"), {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post(reverse("logout"))
        assert email in demo
    assert DEMO_PASSWORD in demo
    therapist1_clinics = set(
        Membership.objects.filter(user__email="therapist1@example.org").values_list("clinic__slug", flat=True)
    )
    assert therapist1_clinics == {"harbour", "northside"}


def test_demo_shows_licences_needing_attention(demo):
    today = timezone.localdate()
    licences = Licence.objects.filter(clinic__slug="harbour")
    states = {str(licence_status(lic.expires_on, today).state) for lic in licences}
    assert states == {"expired", "expiring", "valid"}


def test_demo_care_teams_let_therapists_see_clients(demo):
    harbour = Clinic.objects.get(slug="harbour")
    with_primary = CareTeamMember.objects.filter(clinic=harbour, is_primary=True).count()
    assert 200 <= with_primary < 250  # a few new clients wait for a therapist
    specialties = set()
    for profile in TherapistProfile.objects.filter(clinic=harbour):
        specialties |= set(profile.specialties)
    assert {"low_back_pain", "neck_pain", "lymphedema"} <= specialties


def test_demo_runs_again_without_changing_anything(demo, capsys):
    names = list(Client.objects.order_by("pk").values_list("legal_family_name", flat=True))
    call_command("demo")
    assert "already loaded" in capsys.readouterr().out
    assert list(Client.objects.order_by("pk").values_list("legal_family_name", flat=True)) == names


def test_demo_people_are_the_same_on_every_machine():
    first = client_rows(seed=1, count=30, place=TORONTO, today=date(2026, 1, 1))
    again = client_rows(seed=1, count=30, place=TORONTO, today=date(2026, 1, 1))
    assert first == again
    assert all(row["phone"].split(" ")[1].startswith("555-01") for row in first)
    assert all(row["email"].endswith("@example.net") for row in first if row["email"])
    ages = [(date(2026, 1, 1) - row["date_of_birth"]).days // 365 for row in first]
    assert min(ages) >= 18


@pytest.mark.parametrize("command", ["demo", "seed"])
def test_demo_data_is_refused_in_production(command):
    with override_settings(MEND_ENV="production"), pytest.raises(CommandError, match="production"):
        call_command(command)
    assert not Clinic.objects.exists()


def test_seed_creates_clinics_at_scale_and_keeps_existing_ones(capsys):
    call_command("seed", clinics=2, clients=30, no_progress=True)
    assert [c.clients.count() for c in Clinic.objects.filter(slug__startswith="seed-").order_by("slug")] == [30, 30]
    owner = User.objects.get(email="owner@seed-2.example.org")
    assert owner.check_password(SEED_PASSWORD)
    assert owner.memberships.get().clinic.slug == "seed-2"
    call_command("seed", clinics=2, clients=30, no_progress=True)
    assert Client.objects.count() == 60
    assert "owner@seed-1.example.org" in capsys.readouterr().out
