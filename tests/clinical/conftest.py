from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from mend.clinical import services
from mend.clinical.services import FindingInput, PainInput, PsfsInput, RomInput, TechniqueInput


@pytest.fixture
def tess(personas):
    return personas.actor("therapist")


@pytest.fixture
def episode(personas, tess):
    return services.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": timezone.localdate()},
    )


@pytest.fixture
def referral(personas, tess, episode):
    today = timezone.localdate()
    return services.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={
            "referred_on": today - timedelta(days=3),
            "visits_authorised": 3,
            "frequency": "1× per week",
            "valid_until": today + timedelta(days=60),
            "reason": "Chronic low back pain, 6 months",
        },
    )


def signed_note(actor, episode, *, on: date | None = None, pain=(6, 4)):
    note = services.note_start(actor=actor, episode=episode, visit_on=on or timezone.localdate())
    services.note_update(
        actor=actor,
        note=note,
        data={"subjective": "Stiff in the mornings.", "pain_pre": pain[0], "pain_post": pain[1]},
        techniques=[TechniqueInput("myofascial_release", "lower_back", 30, 2)],
    )
    return services.note_sign(actor=actor, note=note)


__all__ = ["FindingInput", "PainInput", "PsfsInput", "RomInput", "TechniqueInput", "signed_note"]
