"""Page behaviour people rely on: forms that keep their input, credential warnings, sign-in
throttling, password reset over real SMTP, and switching clinics."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from mend.audit.models import Action, AuditEvent
from mend.clinics.models import Membership, Role
from mend.people.models import Client, Licence
from mend.testing import PASSWORD

# --- Client forms ---------------------------------------------------------------------------

NEW_CLIENT = {
    "legal_given_name": "Ramona",
    "legal_family_name": "Keeper",
    "chosen_name": "Mona",
    "pronouns": "she/her",
    "date_of_birth": "1988-08-08",
    "sex": "female",
    "gender_identity": "woman",
    "phone": "416-555-0177",
    "email": "not-an-email",
    "street": "12 Queen St W",
    "city": "Kingston",
    "region": "Ontario",
    "postal_code": "K7L 1A1",
    "country": "CA",
    "emergency_contact_name": "Rex Keeper",
    "emergency_contact_phone": "416-555-0178",
    "preferred_language": "French",
    "notes": "Prefers mornings",
}


def test_client_create_with_invalid_email_keeps_every_value(login, personas):
    clients_before = Client.objects.count()
    audit_before = AuditEvent.objects.count()
    response = login("front_desk").post(
        "/clients/new/", {**NEW_CLIENT, "primary_therapist": personas.memberships["therapist"].pk}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert re.search(r'class="field has-error[^"]*">\s*<label for="id_email"', html)
    for name, value in NEW_CLIENT.items():
        if name in ("notes", "sex", "country"):
            continue
        assert f'name="{name}" value="{value}"' in html, name
    assert "Prefers mornings</textarea>" in html
    assert re.search(r'<option value="female"[^>]*selected', html)
    assert re.search(r'<option value="CA"[^>]*selected', html)
    assert re.search(rf'<option value="{personas.memberships["therapist"].pk}"[^>]*selected', html)
    # Nothing saved, nothing audited.
    assert Client.objects.count() == clients_before
    assert AuditEvent.objects.count() == audit_before


def test_client_create_then_shows_the_new_client(login, personas):
    http = login("front_desk")
    response = http.post("/clients/new/", {**NEW_CLIENT, "email": "Mona@Example.org"}, follow=True)
    assert response.status_code == 200
    created = Client.objects.get(legal_family_name="Keeper")
    assert response.redirect_chain[-1][0] == f"/clients/{created.pk}/"
    assert created.email == "mona@example.org"
    assert created.phone_digits == "4165550177"
    assert b"Mona Keeper was added." in response.content
    assert AuditEvent.objects.filter(
        action=Action.CREATE, client_id=created.pk, user_id=personas.front_desk.pk
    ).exists()


def test_client_edit_saves_and_audits_the_update(login, personas):
    http = login("owner")
    form = http.get(f"/clients/{personas.carol.pk}/edit/")
    assert form.status_code == 200
    assert b'value="Caroline"' in form.content
    response = http.post(
        f"/clients/{personas.carol.pk}/edit/",
        {
            "legal_given_name": "Caroline",
            "legal_family_name": "Client-Moss",
            "chosen_name": "Carol",
            "date_of_birth": "1980-04-23",
            "sex": "female",
            "phone": "(416) 555-0150",
            "email": "carol@example.net",
            "preferred_language": "English",
            "primary_therapist": personas.memberships["therapist"].pk,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/clients/{personas.carol.pk}/"
    assert b"Changes saved." in response.content
    assert b"Carol Client-Moss" in response.content
    personas.carol.refresh_from_db()
    assert personas.carol.legal_family_name == "Client-Moss"
    assert personas.carol.phone_digits == "4165550150"
    update = AuditEvent.objects.get(action=Action.UPDATE, client_id=personas.carol.pk)
    assert (update.user_id, update.role, update.clinic_id) == (personas.owner.pk, "owner", personas.harbour.pk)
    # Tess is still the primary therapist, so she still sees Carol.
    assert login("therapist").get(f"/clients/{personas.carol.pk}/").status_code == 200


def test_client_edit_with_errors_saves_nothing(login, personas):
    response = login("owner").post(
        f"/clients/{personas.carol.pk}/edit/",
        {"legal_given_name": "", "legal_family_name": "Changed", "date_of_birth": "2999-01-01", "sex": "female"},
    )
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert b"Date of birth cannot be in the future." in response.content
    personas.carol.refresh_from_db()
    assert personas.carol.legal_family_name == "Client"
    assert not AuditEvent.objects.filter(action=Action.UPDATE).exists()


# --- Licence expiry ---------------------------------------------------------------------------

TODAY = date(2027, 3, 15)


@pytest.fixture
def frozen_today():
    with time_machine.travel(datetime(2027, 3, 15, 12, 0, tzinfo=ZoneInfo("America/Toronto")), tick=False):
        yield TODAY


def _licence(personas, number: str, expires_on: date) -> Licence:
    return Licence.objects.create(
        profile=personas.therapist_profile,
        clinic=personas.harbour,
        licence_type="LMT",
        number=number,
        issuing_body="State Board",
        jurisdiction="New York",
        expires_on=expires_on,
    )


def _badge_after(html: str, number: str) -> str:
    row = html[html.index(f"No. {number}") :]
    row = row[: row.index("</tr>")]
    match = re.search(r'<span class="badge ([a-z-]+)"[^>]*>([^<]+)</span>', row)
    assert match, row
    return f"{match[1]}: {match[2]}"


def test_licence_badges_on_the_therapist_page(login, personas, frozen_today):
    personas.licence.delete()
    _licence(personas, "EXPIRED-1", date(2027, 3, 10))
    _licence(personas, "TODAY-1", date(2027, 3, 15))
    _licence(personas, "SOON-1", date(2027, 4, 14))
    _licence(personas, "EDGE-1", date(2027, 5, 14))  # day 60: still flagged
    _licence(personas, "LATER-1", date(2027, 5, 15))  # day 61: valid
    html = login("therapist").get(f"/therapists/{personas.therapist_profile.pk}/").content.decode()
    assert _badge_after(html, "EXPIRED-1") == "badge-danger: expired 5 days ago"
    assert _badge_after(html, "TODAY-1") == "badge-warn: expires today"
    assert _badge_after(html, "SOON-1") == "badge-warn: expires in 30 days"
    assert _badge_after(html, "EDGE-1") == "badge-warn: expires in 60 days"
    assert _badge_after(html, "LATER-1") == "badge-ok: valid"


def test_licence_badges_on_the_therapist_list(login, personas, frozen_today):
    personas.licence.delete()
    _licence(personas, "EXPIRED-1", date(2027, 1, 1))
    html = login("front_desk").get("/therapists/").content.decode()
    assert "expired 73 days ago" in html
    # Theo has no licence at all, which is flagged too.
    assert "no licence on file" in html


def test_licence_turns_expired_the_day_after_in_the_clinics_time_zone(login, personas):
    personas.licence.delete()
    _licence(personas, "X-1", date(2027, 3, 15))
    path = f"/therapists/{personas.therapist_profile.pk}/"
    # 23:30 in Toronto is already the 16th in UTC; the clinic's own date is what counts.
    with time_machine.travel(datetime(2027, 3, 15, 23, 30, tzinfo=ZoneInfo("America/Toronto")), tick=False):
        html = login("therapist").get(path).content.decode()
        assert _badge_after(html, "X-1") == "badge-warn: expires today"
    with time_machine.travel(datetime(2027, 3, 16, 0, 30, tzinfo=ZoneInfo("America/Toronto")), tick=False):
        html = login("therapist").get(path).content.decode()
        assert _badge_after(html, "X-1") == "badge-danger: expired 1 day ago"


# --- Sign-in throttling -----------------------------------------------------------------------


@override_settings(AXES_ENABLED=True)
def test_sixth_sign_in_is_refused_after_five_failures_even_with_the_right_password(client, personas):
    email = personas.front_desk.email
    for attempt in range(4):
        response = client.post("/accounts/login/", {"username": email, "password": f"wrong-{attempt}"})
        assert response.status_code == 200
        assert b"That email and password do not match an account." in response.content
    # The fifth failure uses up the allowance: from then on the account is paused.
    assert client.post("/accounts/login/", {"username": email, "password": "wrong-4"}).status_code == 429
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert b"paused for 15 minutes" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/clients/").status_code == 302

    failed = AuditEvent.objects.filter(action=Action.FAILED_LOGIN, user_email=email)
    assert failed.count() >= 5
    assert {(e.clinic_id, e.role, e.ip) for e in failed} == {(personas.harbour.pk, "front_desk", "127.0.0.1")}
    assert not AuditEvent.objects.filter(action=Action.LOGIN, user_id=personas.front_desk.pk).exists()


@override_settings(AXES_ENABLED=True)
def test_sign_in_works_again_after_the_pause(client, personas):
    email = personas.front_desk.email
    start = datetime(2027, 3, 15, 9, 0, tzinfo=ZoneInfo("UTC"))
    with time_machine.travel(start, tick=False):
        for attempt in range(5):
            client.post("/accounts/login/", {"username": email, "password": f"wrong-{attempt}"})
        assert client.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code == 429
    with time_machine.travel(datetime(2027, 3, 15, 9, 16, tzinfo=ZoneInfo("UTC")), tick=False):
        response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
        assert response.status_code == 302
        assert client.get("/clients/").status_code == 200


@override_settings(AXES_ENABLED=True)
def test_failures_on_one_account_do_not_lock_another(client, personas):
    for attempt in range(5):
        client.post("/accounts/login/", {"username": personas.front_desk.email, "password": f"wrong-{attempt}"})
    response = client.post("/accounts/login/", {"username": personas.therapist.email, "password": PASSWORD})
    assert response.status_code == 302


def test_failed_and_successful_sign_ins_are_audited(client, personas):
    client.post("/accounts/login/", {"username": personas.therapist.email, "password": "nope"})
    client.post("/accounts/login/", {"username": "unknown@nowhere.example", "password": "nope"})
    response = client.post("/accounts/login/", {"username": personas.therapist.email, "password": PASSWORD})
    assert response.status_code == 302
    failed = AuditEvent.objects.get(action=Action.FAILED_LOGIN, user_email=personas.therapist.email)
    assert failed.clinic_id == personas.harbour.pk
    unknown = AuditEvent.objects.get(action=Action.FAILED_LOGIN, user_email="unknown@nowhere.example")
    assert unknown.clinic_id is None
    login = AuditEvent.objects.get(action=Action.LOGIN)
    assert (login.user_id, login.clinic_id, login.role) == (personas.therapist.pk, personas.harbour.pk, "therapist")


# --- Password reset by email over real SMTP ---------------------------------------------------


# The `smtp_server` fixture (tests/conftest.py) is a real aiosmtpd server Django sends to.


def test_password_reset_through_a_real_smtp_server(client, personas, smtp_server):
    email = personas.therapist.email
    response = client.post("/accounts/password/reset/", {"email": email}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/password/reset/sent/"

    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == [email]
    assert message["To"] == email
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert email in body
    link = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", body)
    assert link, body

    form_page = client.get(link[1], follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0]
    assert set_password_url.endswith("/set-password/")
    new_password = "a fresh and long passphrase 42"
    done = client.post(set_password_url, {"new_password1": new_password, "new_password2": new_password}, follow=True)
    assert done.redirect_chain[-1][0] == "/accounts/password/reset/done/"

    # The link works once.
    reused = client.get(link[1], follow=True)
    assert b"This link no longer works" in reused.content

    assert client.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code == 200
    signed_in = client.post("/accounts/login/", {"username": email, "password": new_password})
    assert signed_in.status_code == 302
    assert client.get("/clients/").status_code == 200


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, personas, smtp_server):
    response = client.post("/accounts/password/reset/", {"email": "nobody@test.example"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/password/reset/sent/"
    assert smtp_server.messages == []


# --- Switching clinics -------------------------------------------------------------------------


def _listed_family_names(response) -> set[str]:
    assert response.status_code == 200
    return {c.legal_family_name for c in response.context["page"].object_list}


def test_switching_clinic_changes_the_client_list(login, personas):
    Membership.objects.create(clinic=personas.northside, user=personas.therapist, role=Role.ADMIN)
    http = login("therapist")

    response = http.post("/clinic/switch/", {"clinic": "harbour", "next": "/clients/"})
    assert response.status_code == 302 and response["Location"] == "/clients/"
    # In Harbour Tess is a therapist: only her care team.
    assert _listed_family_names(http.get("/clients/")) == {"Client"}

    response = http.post("/clinic/switch/", {"clinic": "northside", "next": "/clients/"}, follow=True)
    assert b"You are now working in Northside Test Clinic." in response.content
    # In Northside she is an admin: every Northside client, and nothing of Harbour.
    assert _listed_family_names(response) == {"Stranger"}
    assert http.get(f"/clients/{personas.carol.pk}/").status_code == 404
    assert http.get(f"/clients/{personas.stranger.pk}/").status_code == 200
    assert http.get("/settings/").status_code == 200

    # Switching by clinic id works as well, and the choice sticks across requests.
    http.post("/clinic/switch/", {"clinic": str(personas.harbour.pk)})
    assert _listed_family_names(http.get("/clients/")) == {"Client"}
    assert http.get("/settings/").status_code == 403


def test_switching_to_a_clinic_one_is_not_a_member_of_is_refused(login, personas):
    http = login("owner")
    response = http.post("/clinic/switch/", {"clinic": "northside"}, follow=True)
    assert b"You are not a member of that clinic." in response.content
    assert _listed_family_names(http.get("/clients/")) == {"Client", "Unassigned"}


def test_switch_from_an_object_page_goes_to_the_dashboard(login, personas):
    Membership.objects.create(clinic=personas.northside, user=personas.owner, role=Role.OWNER)
    http = login("owner")
    response = http.post("/clinic/switch/", {"clinic": "northside", "next": f"/clients/{personas.carol.pk}/"})
    assert response["Location"] == "/"
    response = http.post("/clinic/switch/", {"clinic": "harbour", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_switch_requires_post(login, personas):
    assert login("owner").get("/clinic/switch/").status_code == 405


def test_clinic_switcher_lists_only_the_users_clinics(login, personas):
    Membership.objects.create(clinic=personas.northside, user=personas.therapist, role=Role.THERAPIST)
    html = login("therapist").get("/clients/").content.decode()
    assert 'value="harbour"' in html and 'value="northside"' in html
    assert "clinic-switcher" not in login("front_desk").get("/clients/").content.decode()
