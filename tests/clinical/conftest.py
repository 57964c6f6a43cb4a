"""Carol's episode of low back pain with Tess, and its referral: what the clinical record's tests start from."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mend.clinical import services


@pytest.fixture
def episode(personas, tess):
    return services.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": tess.today()},
    )


@pytest.fixture
def referral(personas, tess, episode):
    today = tess.today()
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
