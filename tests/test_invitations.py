"""Adding a therapist invites them: an emailed set-password link, sent through a real SMTP server
after the transaction commits, that works once and for a limited time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mend.accounts.models import User
from mend.audit.models import Action, AuditEvent
from mend.clinics.models import Location, Membership, Role
from mend.people.models import TherapistProfile
from mend.testing import PASSWORD

NEW_PASSWORD = "a long and fresh passphrase 42"
LINK = re.compile(r"http://testserver(/invitation/[^/\s]+/[^/\s]+/)")


def _add(http, captured, **fields):
    data = {
        "full_name": "Nina Newcomer",
        "email": "nina@test.example",
        "professional_title": "RMT",
        "languages": "English, Portuguese",
        "specialties": ["low_back_pain", "neck_pain"],
        "inclusive_practice_statement": "Tell me your name and pronouns; you can stop at any time.",
        **fields,
    }
    with captured(execute=True):
        return http.post("/therapists/new/", data, follow=True)


def _link(smtp_server) -> str:
    match = LINK.search(smtp_server.body())
    assert match, smtp_server.body()
    return match[1]


def test_adding_a_therapist_saves_their_practice_and_emails_a_link_that_lets_them_sign_in(
    client, login, personas, smtp_server, django_capture_on_commit_callbacks
):
    owner = login("owner")
    page = _add(owner, django_capture_on_commit_callbacks, locations=[personas.location.pk])
    assert page.redirect_chain[-1][0].startswith("/therapists/")
    assert "invited by email to nina@test.example" in page.content.decode()

    profile = TherapistProfile.objects.get(membership__user__email="nina@test.example")
    assert profile.specialties == ["low_back_pain", "neck_pain"]
    assert profile.languages == ["English", "Portuguese"]
    assert list(profile.locations.all()) == [personas.location]
    assert profile.inclusive_practice_statement.startswith("Tell me your name")
    assert profile.membership.role == Role.THERAPIST
    assert not profile.membership.user.has_usable_password()

    [(recipients, message)] = smtp_server.messages
    assert recipients == ["nina@test.example"]
    assert "Harbour Test Clinic" in message["Subject"]
    assert "Olivia Owner added you to Harbour Test Clinic as a therapist" in smtp_server.body()
    assert "works once, for 3 days" in smtp_server.body()
    invited = AuditEvent.objects.get(object_type="clinics.invitation")
    assert (invited.action, invited.object_id, invited.user_id) == (
        Action.CREATE,
        str(profile.membership.pk),
        personas.owner.pk,
    )

    owner.post("/accounts/logout/")
    form_page = client.get(_link(smtp_server), follow=True)
    # Django's reset view moves the token from the address into the session before showing the form.
    set_password_url = form_page.redirect_chain[-1][0]
    assert set_password_url.endswith("/set-password/")
    assert b"Choose your password" in form_page.content and b"nina@test.example" in form_page.content
    done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == "/accounts/login/"
    assert b"Your password is set" in done.content

    set_event = AuditEvent.objects.get(object_type="accounts.user", action=Action.UPDATE)
    assert (set_event.user_id, set_event.clinic_id) == (profile.membership.user_id, personas.harbour.pk)
    signed_in = client.post("/accounts/login/", {"username": "nina@test.example", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    assert client.get("/clients/").status_code == 200


def test_nothing_is_emailed_when_adding_the_therapist_fails(login, personas, smtp_server):
    """The email waits for the commit: a refused addition (already a member) sends nothing."""
    response = login("owner").post("/therapists/new/", {"full_name": "Tess Again", "email": "TESS@test.example"})
    assert response.status_code == 400
    assert "tess@test.example is already a member of this clinic." in response.content.decode()
    assert smtp_server.messages == []


def test_another_clinics_therapist_keeps_their_account_and_is_told_to_sign_in(
    login, personas, smtp_server, django_capture_on_commit_callbacks
):
    users = User.objects.count()
    _add(login("owner"), django_capture_on_commit_callbacks, full_name="Otto O.", email="  OTTO@Test.Example ")
    assert User.objects.count() == users
    otto = personas.outsider_therapist
    assert set(Membership.objects.filter(user=otto).values_list("clinic__slug", flat=True)) == {"harbour", "northside"}
    otto.refresh_from_db()
    # Their name and password are theirs: adding them to a second clinic changes neither.
    assert otto.full_name == "Otto Outsider" and otto.check_password(PASSWORD)
    body = smtp_server.body()
    assert "You already have a Mend account" in body and "/invitation/" not in body
    assert "http://testserver/accounts/login/" in body


def test_a_location_of_another_clinic_is_refused_naming_the_field(login, personas, smtp_server):
    theirs = Location.objects.create(clinic=personas.northside, name="Northside Studio")
    response = login("owner").post(
        "/therapists/new/", {"full_name": "Nina", "email": "nina@test.example", "locations": [theirs.pk]}
    )
    assert response.status_code == 400
    assert re.search(r'id="id_locations_error".*?not one of the available choices', response.content.decode(), re.S)
    assert not User.objects.filter(email="nina@test.example").exists()


def test_the_set_password_page_names_the_field_of_each_problem(
    client, login, personas, smtp_server, django_capture_on_commit_callbacks
):
    _add(login("owner"), django_capture_on_commit_callbacks)
    client.logout()
    set_password_url = client.get(_link(smtp_server), follow=True).redirect_chain[-1][0]

    short = client.post(set_password_url, {"new_password1": "nina", "new_password2": "nina"})
    text = short.content.decode()
    assert '<a href="#id_new_password1">Password</a>: This password is too short' in text
    assert "Your password is not set yet." in text

    mismatch = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"})
    assert '<a href="#id_new_password2">Password again</a>: The two password fields didn’t match.' in (
        mismatch.content.decode()
    )
    common = client.post(set_password_url, {"new_password1": "password123", "new_password2": "password123"})
    assert "This password is too common." in common.content.decode()
    assert not User.objects.get(email="nina@test.example").has_usable_password()


def test_a_used_invitation_says_so_and_points_to_sign_in(
    client, login, personas, smtp_server, django_capture_on_commit_callbacks
):
    _add(login("owner"), django_capture_on_commit_callbacks)
    client.logout()
    link = _link(smtp_server)
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = client.get(link, follow=True)
    assert b"This invitation was already used" in again.content
    assert b'href="/accounts/login/"' in again.content


def test_an_expired_invitation_says_so_and_a_new_one_works(
    client, login, personas, smtp_server, django_capture_on_commit_callbacks
):
    _add(login("owner"), django_capture_on_commit_callbacks)
    old_link = _link(smtp_server)
    profile = TherapistProfile.objects.get(membership__user__email="nina@test.example")
    client.logout()

    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later, tick=False):
        expired = client.get(old_link, follow=True)
        assert b"This invitation has expired" in expired.content
        assert b"Invitation links work for 3 days" in expired.content

        owner = login("owner")
        detail = owner.get(f"/therapists/{profile.pk}/")
        assert b"has not chosen a password yet" in detail.content
        with django_capture_on_commit_callbacks(execute=True):
            resent = owner.post(f"/therapists/{profile.pk}/invite/", follow=True)
        assert b"Invitation sent again to nina@test.example" in resent.content
        assert len(smtp_server.messages) == 2
        new_link = _link(smtp_server)
        owner.post("/accounts/logout/")
        assert client.get(new_link, follow=True).redirect_chain[-1][0].endswith("/set-password/")
    assert AuditEvent.objects.filter(object_type="clinics.invitation").count() == 2


def test_a_mangled_link_says_it_does_not_work(client, login, personas, smtp_server, django_capture_on_commit_callbacks):
    _add(login("owner"), django_capture_on_commit_callbacks)
    client.logout()
    link = _link(smtp_server)
    mangled = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = client.get(mangled)
    assert b"This invitation link does not work" in response.content
    assert client.get("/invitation/AAAA/abc-def/").status_code == 200


def test_a_reset_link_is_no_invitation(client, personas):
    """The invitation's tokens have their own salt: a password-reset token does not open the page."""
    user = personas.therapist2
    user.set_unusable_password()
    user.save()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(f"/invitation/{uid}/{default_token_generator.make_token(user)}/")
    assert b"Choose your password" not in response.content


def test_only_someone_without_a_password_is_offered_the_invitation_again(login, personas):
    owner = login("owner")
    assert b"Send the invitation again" not in owner.get(f"/therapists/{personas.therapist_profile.pk}/").content
    user = personas.therapist2
    user.set_unusable_password()
    user.save()
    assert b"Send the invitation again" in owner.get(f"/therapists/{personas.therapist2_profile.pk}/").content
    # Tess sees her colleague's page but may not send invitations.
    assert (
        b"Send the invitation again"
        not in login("therapist").get(f"/therapists/{personas.therapist2_profile.pk}/").content
    )


@pytest.mark.parametrize("persona", ["therapist", "front_desk"])
def test_staff_who_do_not_manage_the_clinic_cannot_send_invitations(login, personas, persona, smtp_server):
    response = login(persona).post(f"/therapists/{personas.therapist2_profile.pk}/invite/")
    assert response.status_code == 403
    assert smtp_server.messages == []


def test_a_therapist_added_through_the_api_is_invited_too(
    api, personas, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        # By name: the API's trailing-slash convention is the API's own business.
        path = reverse("api-v1:create_therapist")
        new = {"email": "Api.Added@Test.Example", "full_name": "Api Added", "display_name": "Api Added"}
        response = api("owner").post(path, new)
    assert response.status_code == 201, response.content
    [(recipients, _message)] = smtp_server.messages
    assert recipients == ["api.added@test.example"]
    assert LINK.search(smtp_server.body())
