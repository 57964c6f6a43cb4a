from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mend.clinical import services as clinical
from mend.outcomes.models import MeasureResponse
from mend.testing import harbour_today


def planned(measure, *, baseline=True, every_sessions=None, every_weeks=None, discharge=False):
    """A plan's measure item, as plans store it."""
    return {"measure": measure, "baseline": baseline, "every_sessions": every_sessions,
            "every_weeks": every_weeks, "discharge": discharge}  # fmt: skip


@pytest.fixture
def episode(personas, tess):
    """Carol's low back pain, started three weeks ago, with a plan that schedules NPRS, ODI and PSFS."""
    started = harbour_today() - timedelta(days=21)
    episode = clinical.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": started},
    )
    clinical.plan_save(
        actor=tess,
        episode=episode,
        data={
            "sessions_per_week": 1,
            "weeks": 6,
            "session_minutes": 60,
            "measures": [
                planned("nprs", every_sessions=2, discharge=True),
                planned("odi", every_sessions=4, discharge=True),
                planned("psfs", discharge=True),
            ],
        },
        techniques=[{"technique": "myofascial_release", "region": "lower_back", "side": "", "pressure": 3}],
    )
    return episode


@pytest.fixture
def emailable(personas):
    """Carol with an email address and consent to be emailed."""
    carol = personas.carol
    carol.consent_email = True
    carol.save(update_fields=["consent_email"])
    return carol


def token_from_mail() -> str:
    """The token of the questionnaire link in the last email sent."""
    body = mail.outbox[-1].body
    match = re.search(r"/q/([^/\s]+)/", body)
    assert match, body
    return match.group(1)


def grow_responses(tess, episode, n):
    """``n`` NPRS/ODI/PSFS responses inserted directly, for query-count tests."""
    today = harbour_today()
    MeasureResponse.objects.bulk_create(
        MeasureResponse(
            clinic_id=episode.clinic_id, client_id=episode.client_id, episode=episode,
            measure_id=("nprs", "odi", "psfs")[i % 3], answers=[5], value=5.0, scoring_version="2026.1",
            collected_on=today - timedelta(days=i % 20), collected_at=timezone.now(), recorded_by=tess.membership,
        )
        for i in range(n)
    )  # fmt: skip


@pytest.fixture(autouse=True)
def licensed_wording(tmp_path, settings):
    """The clinic holds an ODI licence and has loaded its wording: remote links may ask ODI."""
    path = tmp_path / "measure-wording.json"
    items = [f"ODI section {n}" for n in range(1, 11)]
    choices = [[f"Statement {n}.{v}" for v in range(6)] for n in range(1, 11)]
    path.write_text(json.dumps({"odi": {"items": items, "choices": choices}}))
    settings.MEND_MEASURE_TEXT = str(path)
    return path
