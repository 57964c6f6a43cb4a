"""Passwords and sign-in emails: changes and resets are audited without their secrets, reset
requests are limited per network address and per account, and an email signs in whatever its case."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.db import IntegrityError
from django.test import override_settings

from mend.accounts.models import User
from mend.audit.models import Action, AuditEvent
from mend.testing import PASSWORD

NEW_PASSWORD = "a fresh and long passphrase 42"


def _audit_text(events) -> str:
    return " ".join(f"{e.object_type} {e.object_id} {e.user_email} {e.digest}" for e in events)


def test_password_change_is_audited_in_the_persons_clinic_without_the_password(login, personas):
    http = login("therapist")
    response = http.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="accounts.password")
    assert (event.action, event.object_id, event.user_id) == (
        Action.UPDATE,
        str(personas.therapist.pk),
        personas.therapist.pk,
    )
    assert (event.clinic_id, event.role) == (personas.harbour.pk, "therapist")
    assert NEW_PASSWORD not in _audit_text(AuditEvent.objects.all())
    assert PASSWORD not in _audit_text(AuditEvent.objects.all())


def test_password_reset_request_and_use_are_audited_without_the_link(client, personas, mailoutbox):
    email = personas.therapist.email
    client.post("/accounts/password/reset/", {"email": email})
    assert len(mailoutbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/([^/\s]+)/)", mailoutbox[0].body)
    assert link
    requested = AuditEvent.objects.get(object_type="accounts.password_reset")
    assert (requested.action, requested.object_id, requested.clinic_id) == (
        Action.CREATE,
        str(personas.therapist.pk),
        personas.harbour.pk,
    )

    form = client.get(link[1], follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    done = AuditEvent.objects.get(object_type="accounts.password_reset", action=Action.UPDATE)
    assert (done.object_id, done.user_id, done.clinic_id) == (
        str(personas.therapist.pk),
        personas.therapist.pk,
        personas.harbour.pk,
    )
    everything = _audit_text(AuditEvent.objects.all())
    assert link[2] not in everything and NEW_PASSWORD not in everything


@override_settings(MEND_PASSWORD_RESETS_PER_HOUR=3)
def test_reset_requests_for_one_account_stop_after_three_an_hour_whatever_the_case_or_address(
    client, personas, mailoutbox
):
    email = personas.therapist.email
    typed = [email, email.upper(), email.title(), email]
    for n, address in enumerate(typed):
        response = client.post("/accounts/password/reset/", {"email": address}, REMOTE_ADDR=f"192.0.2.{n + 1}")
        # The same answer every time: the page tells nothing of accounts or limits.
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 3
    assert all(message.to == [email] for message in mailoutbox)


@override_settings(MEND_PASSWORD_RESETS_PER_HOUR=3)
def test_reset_requests_from_one_address_stop_after_three_an_hour(client, personas, mailoutbox):
    for persona in ("therapist", "front_desk", "admin"):
        client.post("/accounts/password/reset/", {"email": getattr(personas, persona).email})
    assert len(mailoutbox) == 3
    # A fourth account, a fourth request from the same machine: nothing sent, the same page.
    response = client.post("/accounts/password/reset/", {"email": personas.owner.email})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 3
    # Another machine still gets its email.
    client.post("/accounts/password/reset/", {"email": personas.owner.email}, REMOTE_ADDR="198.51.100.7")
    assert [message.to for message in mailoutbox][-1] == [personas.owner.email]


def test_sign_in_takes_the_email_in_any_case(client, personas):
    response = client.post(
        "/accounts/login/", {"username": f"  {personas.therapist.email.upper()} ", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200


@override_settings(AXES_ENABLED=True)
def test_failed_sign_ins_in_different_cases_count_against_one_person(client, personas):
    email = personas.front_desk.email
    for attempt, typed in enumerate([email, email.upper(), email.title(), email.swapcase()]):
        assert client.post("/accounts/login/", {"username": typed, "password": f"wrong-{attempt}"}).status_code == 200
    assert client.post("/accounts/login/", {"username": email.upper(), "password": "wrong-4"}).status_code == 429
    assert client.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code == 429


def test_new_accounts_are_stored_lower_case_and_unique_whatever_the_case(personas):
    user = User.objects.create_user(email=" New.Person@Example.ORG ", password=PASSWORD)
    assert user.email == "new.person@example.org"
    with pytest.raises(IntegrityError):
        # Even a write that skips the manager's normalising cannot add the same address again.
        User.objects.create(email="NEW.PERSON@example.org")


def test_migration_stores_existing_emails_lower_case(personas):
    migration = importlib.import_module("mend.accounts.migrations.0005_user_email_lowercase")
    User.objects.filter(pk=personas.therapist.pk).update(email="Tess.Mixed@Example.ORG")
    migration.lowercase_emails(apps, None)
    personas.therapist.refresh_from_db()
    assert personas.therapist.email == "tess.mixed@example.org"
