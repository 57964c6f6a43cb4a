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


def test_a_session_that_never_passed_the_second_step_cannot_change_the_factors(client, login, personas):
    """Someone with the password, signed in before the person added an app (a session on a shared
    computer, a stolen password used earlier), types the password again: they may neither remove
    the person's app nor add their own, which would make their session count as having passed it."""
    from django.test import Client

    from mend.testing import PASSWORD
    from tests.test_mfa import _confirm_password, _require_mfa

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _require_mfa(login)
        intruder = Client()
        intruder.force_login(personas.therapist, backend="django.contrib.auth.backends.ModelBackend")
        _enrol_app(login("therapist"))
        device = TOTPDevice.objects.get(user=personas.therapist)
        _confirm_password(intruder)
        assert intruder.post(f"/accounts/mfa/app/{device.pk}/remove/").status_code == 302
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
        assert intruder.get("/accounts/mfa/app/")["Location"] == "/accounts/"
        assert intruder.post("/accounts/mfa/app/", {"code": "123456"})["Location"] == "/accounts/"
        assert intruder.post("/accounts/mfa/recovery-codes/")["Location"] == "/accounts/"
        assert intruder.post("/accounts/mfa/passkeys/options/").status_code == 403
        assert intruder.post("/accounts/mfa/passkeys/").status_code == 403
        assert TOTPDevice.objects.filter(user=personas.therapist).count() == 1
        # Nor change the password, which would sign the person out everywhere else.
        new = "a fresh and long passphrase 42"
        changed = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        assert intruder.post("/accounts/password/", changed)["Location"] == "/accounts/"
        personas.therapist.refresh_from_db()
        assert personas.therapist.check_password(PASSWORD)
        # Still held at the account page, told to sign in again with the second step.
        assert intruder.get("/clients/")["Location"] == "/accounts/"
        page = intruder.get("/accounts/").content
        assert b"sign out, then sign in again with your second step" in page
        assert b"Add an authenticator app" not in page


def test_the_admins_password_form_sends_owners_to_the_audited_page(login, personas):
    """A password changed through Django's admin left no audit row; the admin sends to Mend's page."""
    from mend.testing import PASSWORD

    http = login("owner")
    assert http.get("/admin/password_change/")["Location"] == "/accounts/password/"
    new = "a fresh and long passphrase 42"
    data = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    assert http.post("/admin/password_change/", data)["Location"] == "/accounts/password/"
    personas.owner.refresh_from_db()
    assert personas.owner.check_password(PASSWORD)


@pytest.mark.parametrize("kind", ["app", "recovery"])
def test_wrong_second_step_codes_lock_the_person_out_for_fifteen_minutes_at_most(client, login, personas, kind):
    """Someone with the password types wrong codes all evening: django-otp doubles the wait each
    time (twenty wrong codes would mean six days), which would keep the person out of their own
    account. The wait stops at the password lockout's fifteen minutes."""
    from django_otp.plugins.otp_static.models import StaticDevice

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, codes = _enrol_app(login("therapist"))
        client.logout()
        model = TOTPDevice if kind == "app" else StaticDevice
        # As after twenty wrong codes, the last one just now.
        model.objects.filter(user=personas.therapist).update(
            throttling_failure_count=20, throttling_failure_timestamp=timezone.now()
        )
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        _password_step(client, personas.therapist.email)
        code = app.now() if kind == "app" else codes[0]
        refused = client.post("/accounts/login/verify/", {"code": code})
        assert refused.status_code == 400
        assert b"Too many wrong codes" in refused.content
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        _password_step(client, personas.therapist.email)
        code = app.now() if kind == "app" else codes[0]
        assert client.post("/accounts/login/verify/", {"code": code}).status_code == 302
