"""Two-step sign-in: an authenticator app (TOTP, RFC 6238) or a passkey after the password,
recovery codes, re-authentication to change factors, and a clinic that requires a factor of its staff.

Codes are computed with pyotp, an implementation independent of the django-otp that checks them.
Passkeys are tested in Chromium with a virtual authenticator (tests/browser/test_passkeys.py).
"""

from __future__ import annotations

import re
from base64 import b32encode
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from mend.audit.models import Action, AuditEvent
from mend.testing import PASSWORD

pytestmark = pytest.mark.clock


def _confirm_password(http) -> None:
    assert http.post("/accounts/confirm/", {"password": PASSWORD, "next": "/accounts/"}).status_code == 302


def _enrol_app(http) -> tuple[pyotp.TOTP, list[str]]:
    """Add an authenticator app through the pages; returns the app and the recovery codes shown."""
    _confirm_password(http)
    page = http.get("/accounts/mfa/app/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, drawn on the server
    key = bytes.fromhex(http.session["mend_totp_key"])
    app = pyotp.TOTP(b32encode(key).decode())
    assert app.secret.encode() in page.content.replace(b" ", b"")  # the key to type by hand
    response = http.post("/accounts/mfa/app/", {"code": app.now(), "name": "Phone"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/recovery-codes/"
    shown = http.get("/accounts/mfa/recovery-codes/")
    codes = [c.decode() for c in re.findall(rb"<code>([a-z2-7]{8})</code>", shown.content)]
    assert len(codes) == 10
    # Shown once: the page does not show them again.
    assert http.get("/accounts/mfa/recovery-codes/").status_code == 302
    return app, codes


def _password_step(client, email: str):
    return client.post("/accounts/login/", {"username": email, "password": PASSWORD})


def test_sign_in_asks_for_the_app_code_after_the_password(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, _ = _enrol_app(login("therapist"))
        client.logout()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        response = _password_step(client, personas.therapist.email)
        assert response["Location"] == "/accounts/login/verify/"
        # The password alone opens nothing.
        assert client.get("/clients/")["Location"].startswith("/accounts/login/")

        wrong = client.post("/accounts/login/verify/", {"code": "000000" if app.now() != "000000" else "111111"})
        assert wrong.status_code == 400
        assert b"That code is not right" in wrong.content
        assert AuditEvent.objects.filter(action=Action.FAILED_LOGIN, user_email=personas.therapist.email).exists()

    # django-otp makes the next try wait after a wrong code.
    with time_machine.travel(start + timedelta(minutes=2, seconds=5), tick=False):
        response = client.post("/accounts/login/verify/", {"code": app.now()})
        assert response.status_code == 302
        assert client.get("/clients/").status_code == 200
    login_event = AuditEvent.objects.filter(action=Action.LOGIN, user_id=personas.therapist.pk).get()
    assert login_event.clinic_id == personas.harbour.pk


def test_an_app_code_signs_in_once(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, _ = _enrol_app(login("therapist"))
        client.logout()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        code = app.now()
        _password_step(client, personas.therapist.email)
        assert client.post("/accounts/login/verify/", {"code": code}).status_code == 302
        client.logout()
        # Within the same 30-second window, the same code is refused.
        _password_step(client, personas.therapist.email)
        replay = client.post("/accounts/login/verify/", {"code": code})
        assert replay.status_code == 400
        assert b"was used already" in replay.content


def test_the_code_used_to_add_the_app_cannot_sign_in(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, _ = _enrol_app(login("therapist"))
        client.logout()
        _password_step(client, personas.therapist.email)
        assert client.post("/accounts/login/verify/", {"code": app.now()}).status_code == 400


def test_a_recovery_code_signs_in_once(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _, codes = _enrol_app(login("therapist"))
        client.logout()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        _password_step(client, personas.therapist.email)
        typed = codes[3].upper()[:4] + "-" + codes[3].upper()[4:]  # as someone might copy it
        response = client.post("/accounts/login/verify/", {"code": typed})
        assert response.status_code == 302
        assert client.get("/accounts/").content.count(b"Recovery codes left: 9.") == 1
        client.logout()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        _password_step(client, personas.therapist.email)
        assert client.post("/accounts/login/verify/", {"code": codes[3]}).status_code == 400


def test_the_second_step_expires_after_five_minutes(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, _ = _enrol_app(login("therapist"))
        client.logout()
        _password_step(client, personas.therapist.email)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = client.post("/accounts/login/verify/", {"code": app.now()})
        assert response["Location"] == "/accounts/login/"
        assert client.get("/clients/").status_code == 302


def test_a_password_reset_does_not_skip_the_second_step(client, login, personas, mailoutbox):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _enrol_app(login("therapist"))
        client.logout()
        client.post("/accounts/password/reset/", {"email": personas.therapist.email})
        link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mailoutbox[0].body)[1]
        form = client.get(link, follow=True)
        new = "a fresh and long passphrase 42"
        client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
        response = client.post("/accounts/login/", {"username": personas.therapist.email, "password": new})
        assert response["Location"] == "/accounts/login/verify/"
        assert client.get("/clients/").status_code == 302


def test_changing_factors_needs_the_password_typed_again(login, personas):
    http = login("therapist")
    response = http.get("/accounts/mfa/app/")
    assert response["Location"].startswith("/accounts/confirm/")
    assert http.post("/accounts/confirm/", {"password": "wrong", "next": "/accounts/"}).status_code == 400
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _enrol_app(http)
        device = personas.therapist.totpdevice_set.get()
    # Ten minutes later, removing it asks for the password again.
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        response = http.post(f"/accounts/mfa/app/{device.pk}/remove/")
        assert response["Location"].startswith("/accounts/confirm/")
        assert personas.therapist.totpdevice_set.exists()
        _confirm_password(http)
        assert http.post(f"/accounts/mfa/app/{device.pk}/remove/").status_code == 302
        assert not personas.therapist.totpdevice_set.exists()
        # With no factor left, the recovery codes go too.
        assert not personas.therapist.staticdevice_set.exists()
    removed = AuditEvent.objects.get(object_type="accounts.totp_device", action=Action.DELETE)
    assert removed.clinic_id == personas.harbour.pk


def test_someone_elses_factor_cannot_be_removed(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _enrol_app(login("therapist"))
        device = personas.therapist.totpdevice_set.get()
        client.logout()
        http = login("front_desk")
        _confirm_password(http)
        assert http.post(f"/accounts/mfa/app/{device.pk}/remove/").status_code == 404
    assert personas.therapist.totpdevice_set.exists()


def _require_mfa(login) -> None:
    owner = login("owner")
    settings_page = owner.get("/settings/")
    form = settings_page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["require_staff_mfa"] = "on"
    assert owner.post("/settings/", data).status_code == 302
    owner.logout()


def test_a_clinic_requiring_a_second_step_sends_staff_without_one_to_set_it_up(client, login, personas):
    _require_mfa(login)
    http = login("therapist")
    response = http.get("/clients/")
    assert response["Location"] == "/accounts/"
    page = http.get("/accounts/")
    assert b"asks everyone who works there to sign in with a second step" in page.content
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        app, _ = _enrol_app(http)
        assert http.get("/clients/").status_code == 200
        http.logout()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        _password_step(client, personas.therapist.email)
        client.post("/accounts/login/verify/", {"code": app.now()})
        assert client.get("/clients/").status_code == 200


def test_a_clinic_requiring_a_second_step_refuses_api_tokens_of_staff_without_one(api, login, personas):
    therapist = api("therapist")
    assert therapist.get("/me").status_code == 200
    _require_mfa(login)
    assert therapist.get("/me").status_code == 401
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _enrol_app(login("therapist"))
    assert therapist.get("/me").status_code == 200


def test_the_requirement_is_the_owners_to_set(login, personas):
    http = login("therapist")
    assert http.post("/settings/", {"name": "Taken", "require_staff_mfa": "on"}).status_code == 403
    personas.harbour.refresh_from_db()
    assert not personas.harbour.require_staff_mfa


def test_the_admins_own_sign_in_form_cannot_skip_the_second_step(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _enrol_app(login("owner"))
        client.logout()
        response = client.post("/admin/login/?next=/admin/", {"username": personas.owner.email, "password": PASSWORD})
        assert response["Location"] == "/accounts/login/?next=/admin/"
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_session_begun_before_the_factor_existed_is_told_to_sign_in_again(client, login, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _require_mfa(login)
        other = Client()
        other.force_login(personas.therapist, backend="django.contrib.auth.backends.ModelBackend")
        _enrol_app(login("therapist"))
        # The other session passed no second step: still held at the account page, told why.
        assert other.get("/clients/")["Location"] == "/accounts/"
        assert b"sign out, then sign in again with your second step" in other.get("/accounts/").content
