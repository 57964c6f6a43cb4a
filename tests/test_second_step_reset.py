"""A clinic owner resets a member's second sign-in step (lost phone, locked out): from the member's
page in clinic settings, after a confirmation, audited, and the person is told by email. Nobody
else may, and no owner may do it to their own account that way."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend.accounts.models import Passkey
from mend.audit.models import Action, AuditEvent
from tests.test_mfa import _enrol_app, _password_step

pytestmark = pytest.mark.clock

RESET = "accounts.second_step_reset"


def _has_factors(user) -> bool:
    return (
        TOTPDevice.objects.filter(user=user).exists()
        or StaticDevice.objects.filter(user=user).exists()
        or Passkey.objects.filter(user=user).exists()
    )


def test_an_owner_resets_a_members_second_step_and_they_are_told_by_email(
    client, login, personas, smtp_server, django_capture_on_commit_callbacks
):
    start = timezone.now()
    member = personas.memberships["therapist"]
    with time_machine.travel(start, tick=False):
        _enrol_app(login("therapist"))
        owner = login("owner")
        settings_page = owner.get("/settings/")
        assert f'href="/settings/members/{member.pk}/"'.encode() in settings_page.content
        page = owner.get(f"/settings/members/{member.pk}/")
        assert page.status_code == 200
        assert b"Authenticator apps: 1" in page.content
        confirm = owner.get(f"/settings/members/{member.pk}/second-step/reset/")
        assert confirm.status_code == 200
        assert b"removes every authenticator app, passkey and recovery code" in confirm.content
        assert _has_factors(personas.therapist)  # asking changes nothing
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.post(f"/settings/members/{member.pk}/second-step/reset/")
        assert response["Location"] == f"/settings/members/{member.pk}/"
    assert not _has_factors(personas.therapist)
    event = AuditEvent.objects.get(object_type=RESET, clinic_id=personas.harbour.pk)
    assert (event.action, event.object_id, event.user_id, event.clinic_id) == (
        Action.DELETE,
        str(personas.therapist.pk),
        personas.owner.pk,
        personas.harbour.pk,
    )
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == [personas.therapist.email]
    assert message["Subject"] == "Harbour Test Clinic: your second sign-in step was reset"
    assert "reset your second sign-in step" in smtp_server.body()
    # The password alone signs them in now, so they can add a new app.
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert _password_step(client, personas.therapist.email)["Location"] != "/accounts/login/verify/"


@pytest.mark.parametrize(
    ("persona", "member", "status"),
    [
        ("admin", "therapist", 403),
        ("therapist", "front_desk", 403),
        ("outsider", "therapist", 404),  # another clinic's member
        ("owner", "owner", 403),  # their own account: the account page, behind their second step
    ],
)
def test_a_reset_is_refused_to_anyone_but_an_owner_for_another_member_of_their_clinic(
    login, personas, smtp_server, django_capture_on_commit_callbacks, persona, member, status
):
    with time_machine.travel(timezone.now(), tick=False):
        _enrol_app(login(member))
        membership = personas.memberships[member]
        http = login(persona)
        assert http.get(f"/settings/members/{membership.pk}/second-step/reset/").status_code == status
        with django_capture_on_commit_callbacks(execute=True):
            assert http.post(f"/settings/members/{membership.pk}/second-step/reset/").status_code == status
    assert _has_factors(getattr(personas, member))
    assert not AuditEvent.objects.filter(object_type=RESET).exists()
    assert smtp_server.messages == []


def test_the_persons_other_clinics_see_the_reset_in_their_audit_trail(login, personas):
    """The factors belong to the account: Northside, where Tess also works, sees that Harbour's
    owner removed them."""
    from mend.clinics.models import Membership, Role

    Membership.objects.create(clinic=personas.northside, user=personas.therapist, role=Role.THERAPIST)
    with time_machine.travel(timezone.now(), tick=False):
        _enrol_app(login("therapist"))
        member = personas.memberships["therapist"]
        assert login("owner").post(f"/settings/members/{member.pk}/second-step/reset/").status_code == 302
    seen = AuditEvent.objects.filter(object_type=RESET, object_id=str(personas.therapist.pk))
    assert sorted(seen.values_list("clinic_id", "user_id")) == sorted(
        [(personas.harbour.pk, personas.owner.pk), (personas.northside.pk, personas.owner.pk)]
    )
