"""An attacker's view of signing in, uploads, request limits and the API: each test is a way in or
a leak that was tried and is now refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.test_mfa import _enrol_app, _password_step

pytestmark = pytest.mark.clock


def test_wrong_second_step_codes_make_the_next_try_wait(client, login, personas):
    """Guessing app codes: each wrong one must count, so the next try waits longer (django-otp's
    throttle). The count must survive the refusal, not roll back with it."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, _ = _enrol_app(login("therapist"))
        client.logout()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        _password_step(client, personas.therapist.email)
        right = app.now()
        wrong = "000000" if right != "000000" else "111111"
        for _ in range(3):
            client.post("/accounts/login/verify/", {"code": wrong})
        assert TOTPDevice.objects.get(user=personas.therapist).throttling_failure_count >= 1
        # Even the right code waits out the throttle: guessing a million codes is not possible.
        response = client.post("/accounts/login/verify/", {"code": right})
        assert response.status_code == 400
        assert b"Too many wrong codes" in response.content
