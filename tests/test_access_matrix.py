"""Every page route × every persona, against the policy in mend/access.py.

Harbour's owner, admin, therapist (Tess, on Carol's care team) and front desk act in Harbour;
the outsider owns Northside, so every Harbour object is 404 for them and every page without an
object answers as it would for any owner of their own clinic.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mend.accounts.services import api_token_create
from mend.testing import Personas

PERSONAS = ["anonymous", "owner", "admin", "therapist", "front_desk", "outsider"]

OK, FORBIDDEN, NOT_FOUND = 200, 403, 404
# Django's admin sends signed-in people who may not use it to its own sign-in page.
ADMIN_LOGIN = "admin-login"

Path = Callable[[Personas], str]

# route name → (path builder, expected status for owner, admin, therapist, front_desk, outsider)
ROUTES: dict[str, tuple[Path, tuple[int | str, ...]]] = {
    "client_list": (lambda p: "/clients/", (OK, OK, OK, OK, OK)),
    "client_create": (lambda p: "/clients/new/", (OK, OK, OK, OK, OK)),
    "client_detail": (lambda p: f"/clients/{p.carol.pk}/", (OK, OK, OK, OK, NOT_FOUND)),
    "client_edit": (lambda p: f"/clients/{p.carol.pk}/edit/", (OK, OK, OK, OK, NOT_FOUND)),
    "therapist_list": (lambda p: "/therapists/", (OK, OK, OK, OK, OK)),
    "therapist_create": (lambda p: "/therapists/new/", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
    "therapist_detail": (lambda p: f"/therapists/{p.therapist_profile.pk}/", (OK, OK, OK, OK, NOT_FOUND)),
    # Tess edits her own profile; front desk may not; the outsider never sees it.
    "therapist_edit": (
        lambda p: f"/therapists/{p.therapist_profile.pk}/edit/",
        (OK, OK, OK, FORBIDDEN, NOT_FOUND),
    ),
    "licence_create": (
        lambda p: f"/therapists/{p.therapist_profile.pk}/licences/new/",
        (OK, OK, OK, FORBIDDEN, NOT_FOUND),
    ),
    "licence_edit": (
        lambda p: f"/therapists/{p.therapist_profile.pk}/licences/{p.licence.pk}/",
        (OK, OK, OK, FORBIDDEN, NOT_FOUND),
    ),
    "certification_create": (
        lambda p: f"/therapists/{p.therapist_profile.pk}/certifications/new/",
        (OK, OK, OK, FORBIDDEN, NOT_FOUND),
    ),
    "referrer_list": (lambda p: "/referrers/", (OK, OK, OK, OK, OK)),
    "referrer_create": (lambda p: "/referrers/new/", (OK, OK, OK, OK, OK)),
    "referrer_edit": (lambda p: f"/referrers/{p.referrer.pk}/", (OK, OK, OK, OK, NOT_FOUND)),
    "clinic_settings": (lambda p: "/settings/", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
    "location_create": (lambda p: "/settings/locations/new/", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
    "location_edit": (lambda p: f"/settings/locations/{p.location.pk}/", (OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND)),
    "room_create": (lambda p: "/settings/rooms/new/", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
    "room_edit": (lambda p: f"/settings/rooms/{p.room.pk}/", (OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND)),
    "audit_log": (lambda p: "/audit/", (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
    "admin_index": (lambda p: "/admin/", (OK, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK)),
    "admin_clients": (lambda p: "/admin/people/client/", (OK, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK)),
    "password_change": (lambda p: "/accounts/password/", (OK, OK, OK, OK, OK)),
}

CASES = [pytest.param(route, persona, id=f"{route}-{persona}") for route in ROUTES for persona in PERSONAS]


@pytest.mark.parametrize(("route", "persona"), CASES)
def test_page_access(client, login, personas, route, persona):
    build, expected_by_role = ROUTES[route]
    path = build(personas)
    http = client if persona == "anonymous" else login(persona)
    response = http.get(path)

    if persona == "anonymous":
        assert response.status_code == 302, path
        login_page = "/admin/login/" if path.startswith("/admin/") else "/accounts/login/"
        assert response["Location"].startswith(login_page), response["Location"]
        assert "next=" in response["Location"]
        return

    expected = expected_by_role[PERSONAS.index(persona) - 1]
    if expected == ADMIN_LOGIN:
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith("/admin/login/")
        # Following it does not let them in either: the admin says they are not authorised.
        page = http.get(response["Location"])
        assert b"not authorized" in page.content
        return
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == FORBIDDEN:
        # A role denial says why, in a sentence.
        assert b"Not allowed" in response.content
    if expected == NOT_FOUND:
        # Nothing of the other clinic's object leaks into the 404 page.
        for secret in (b"Caroline", b"Tess Therapist", b"Harbourfront", b"Rita Referrer", b"R-1234"):
            assert secret not in response.content


@pytest.mark.parametrize("persona", ["owner", "admin", "therapist", "front_desk"])
def test_other_clinic_objects_are_404_for_harbour_staff(login, personas, persona):
    http = login(persona)
    for path in [
        f"/clients/{personas.stranger.pk}/",
        f"/clients/{personas.stranger.pk}/edit/",
        f"/therapists/{personas.outsider_profile.pk}/",
        f"/therapists/{personas.outsider_profile.pk}/edit/",
    ]:
        response = http.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert b"Stranger" not in response.content


def test_other_clinic_location_and_room_are_404_for_outsider_posting(login, personas):
    http = login("outsider")
    response = http.post(f"/settings/locations/{personas.location.pk}/", {"name": "Taken over"})
    assert response.status_code == 404
    personas.location.refresh_from_db()
    assert personas.location.name == "Harbourfront"
    assert http.post(f"/settings/rooms/{personas.room.pk}/", {"name": "Taken"}).status_code == 404


def test_therapist_sees_carol_but_not_dan(login, personas):
    http = login("therapist")
    assert http.get(f"/clients/{personas.carol.pk}/").status_code == 200
    assert http.get(f"/clients/{personas.carol.pk}/edit/").status_code == 200
    assert http.get(f"/clients/{personas.dan.pk}/").status_code == 404
    assert http.get(f"/clients/{personas.dan.pk}/edit/").status_code == 404
    listing = http.get("/clients/")
    assert b"Carol" in listing.content
    assert b"Unassigned" not in listing.content


def test_therapist_cannot_edit_a_colleagues_profile(login, personas):
    http = login("therapist2")
    assert http.get(f"/therapists/{personas.therapist_profile.pk}/").status_code == 200
    assert http.get(f"/therapists/{personas.therapist_profile.pk}/edit/").status_code == 403
    assert http.get(f"/therapists/{personas.therapist_profile.pk}/licences/new/").status_code == 403
    response = http.post(
        f"/therapists/{personas.therapist_profile.pk}/edit/", {"display_name": "Renamed by a colleague"}
    )
    assert response.status_code == 403
    personas.therapist_profile.refresh_from_db()
    assert personas.therapist_profile.display_name == "Tess Therapist"


def test_front_desk_sees_demographics_but_not_audit_or_admin(login, personas):
    """No clinical page exists yet: front desk reads demographics, never the audit trail or admin."""
    http = login("front_desk")
    listing = http.get("/clients/")
    assert b"Carol" in listing.content and b"Unassigned" in listing.content
    detail = http.get(f"/clients/{personas.carol.pk}/")
    assert detail.status_code == 200
    assert b"born 23 Apr 1980" in detail.content
    assert b"carol@example.net" in detail.content
    assert http.get("/audit/").status_code == 403
    assert http.get("/admin/").status_code == 302
    assert http.get(f"/admin/people/client/{personas.carol.pk}/change/").status_code == 302


def test_admin_does_not_reveal_another_clinics_client(login, personas):
    http = login("outsider")
    response = http.get(f"/admin/people/client/{personas.carol.pk}/change/", follow=True)
    assert b"Caroline" not in response.content
    missing = http.get("/admin/people/client/999999/change/", follow=True)
    # An existing foreign id answers exactly like an id that does not exist.
    assert response.redirect_chain == missing.redirect_chain
    changelist = http.get("/admin/people/client/")
    assert b"Caroline" not in changelist.content
    assert b"Stranger" in changelist.content


# --- API ---------------------------------------------------------------------------------


def _bearer(personas: Personas, name: str) -> dict[str, str]:
    user = getattr(personas, name)
    clinic = personas.memberships[name].clinic
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, clinic=clinic).raw}"}


@pytest.mark.parametrize(
    ("persona", "carol", "dan", "tess"),
    [
        ("owner", 200, 200, 200),
        ("admin", 200, 200, 200),
        ("therapist", 200, 404, 200),
        ("front_desk", 200, 200, 200),
        ("outsider", 404, 404, 404),
    ],
)
def test_api_object_access(client, personas, persona, carol, dan, tess):
    headers = _bearer(personas, persona)
    assert client.get(f"/api/v1/clients/{personas.carol.pk}", **headers).status_code == carol
    assert client.get(f"/api/v1/clients/{personas.dan.pk}", **headers).status_code == dan
    assert client.get(f"/api/v1/therapists/{personas.therapist_profile.pk}", **headers).status_code == tess


def test_api_outsider_cannot_change_harbour_client(client, personas):
    headers = _bearer(personas, "outsider")
    response = client.patch(
        f"/api/v1/clients/{personas.carol.pk}",
        data={"legal_family_name": "Hijacked"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    personas.carol.refresh_from_db()
    assert personas.carol.legal_family_name == "Client"


def test_api_anonymous_is_401(client, personas):
    for path in ["/api/v1/clients/", f"/api/v1/clients/{personas.carol.pk}", "/api/v1/therapists/", "/api/v1/me"]:
        assert client.get(path).status_code == 401, path
