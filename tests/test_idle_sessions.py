"""Sessions end after MEND_IDLE_MINUTES without a request (ONC 170.315(d)(5)) and, however busy,
MEND_SESSION_SECONDS after signing in; any request extends the idle time."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from mend.audit.models import Action, AuditEvent
from mend.testing import PASSWORD

pytestmark = pytest.mark.clock


def _sign_in(client, personas) -> None:
    assert (
        client.post("/accounts/login/", {"username": personas.therapist.email, "password": PASSWORD}).status_code == 302
    )


def test_a_page_after_thirty_idle_minutes_asks_to_sign_in_again(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, personas)
        assert client.get("/clients/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get("/clients/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        response = client.get("/clients/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/clients/"
        page = client.get(response["Location"])
        assert b"You were signed out after 30 minutes without activity." in page.content
        # The session is gone, not only hidden: the next request is anonymous too.
        assert "_auth_user_id" not in client.session
    ended = AuditEvent.objects.get(action=Action.LOGOUT, object_type="accounts.session.idle")
    assert ended.user_id == personas.therapist.pk


def test_activity_keeps_the_session_open(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, personas)
    for minutes in (20, 40, 60, 80):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/clients/").status_code == 200, minutes


@override_settings(MEND_IDLE_MINUTES=5)
def test_the_idle_time_is_configurable(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, personas)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert client.get("/clients/").status_code == 302


@override_settings(SESSION_COOKIE_AGE=3600)
def test_a_busy_session_still_ends_its_time_after_signing_in(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, personas)
    for minutes in (20, 40, 59):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/clients/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        response = client.get("/clients/")
        assert response["Location"].startswith("/accounts/login/")
        assert b"reached its time limit" in client.get(response["Location"]).content


def test_an_htmx_request_after_the_idle_time_loads_the_sign_in_page(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, personas)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get("/clients/", HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_an_api_call_on_an_idle_session_is_told_the_session_ended(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, personas)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json() == {"detail": "The session has ended; sign in again."}
        assert "_auth_user_id" not in client.session


def _settings_read(tmp_path, value: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "DJANGO_", "DATABASE_URL"))}
    env.update({"MEND_ENV": "test", "MEND_VAR_DIR": str(tmp_path), "MEND_IDLE_MINUTES": value})
    code = "from django.conf import settings; print(settings.MEND_IDLE_MINUTES)"
    return subprocess.run(
        [sys.executable, "-m", "mend", "shell", "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_idle_time_comes_from_mend_idle_minutes_and_a_bad_value_is_refused_by_name(tmp_path):
    assert _settings_read(tmp_path, "12").stdout.strip().splitlines()[-1] == "12"
    refused = _settings_read(tmp_path, "0")
    assert refused.returncode != 0
    assert "MEND_IDLE_MINUTES" in refused.stderr
