"""The demo and seed commands on an empty database, and the synthetic clinics benchmarks run on.

Apart from test_demo.py, whose demo clinics are loaded once for the whole module.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from mend.accounts.models import User
from mend.clinical.models import Episode, NoteStatus
from mend.clinics.models import Clinic
from mend.demo.load import SEED_PASSWORD, seed_clinic
from mend.outcomes.models import MeasureResponse
from mend.people.models import Client
from mend.testing import harbour_today
from mend.web import bench

pytestmark = pytest.mark.django_db


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


def test_seed_gives_the_bench_therapist_a_long_chart():
    seed_clinic(1, clients=40, today=harbour_today())
    clinic = Clinic.objects.get(slug="seed-1")
    subjects = bench.seed_subjects(1)
    busiest = Episode.objects.get(pk=bench.busiest_episode(subjects))
    assert busiest.client_id == subjects.client_id
    assert busiest.notes.filter(status=NoteStatus.SIGNED).count() == 40
    assert busiest.referrals.count() >= 4  # renewed as each one's visits ran out
    assert Episode.objects.filter(clinic=clinic).exclude(title__startswith="Synthetic ").count() == 1 + 4
    # The evidence report's benchmark: one synthetic episode with scores per client.
    synthetic = Episode.objects.filter(clinic=clinic, title__startswith="Synthetic ")
    assert synthetic.count() == 40
    assert MeasureResponse.objects.filter(episode__in=synthetic).exists()
    assert seed_clinic(2, clients=10, today=harbour_today(), clinical=False).created
    assert not Episode.objects.filter(clinic__slug="seed-2").exists()
