from __future__ import annotations

import pytest

PAGES = [
    "/",
    "/clients/",
    "/clients/new/",
    "/therapists/",
    "/referrers/",
    "/referrers/new/",
    "/settings/",
    "/settings/locations/new/",
    "/settings/rooms/new/",
    "/audit/",
    "/accounts/password/",
]


@pytest.mark.parametrize("path", PAGES)
def test_owner_can_open_every_top_level_page(login, path):
    response = login("owner").get(path)
    assert response.status_code == 200, response.content[:500]


def test_object_pages_open_for_owner(login, personas):
    client = login("owner")
    for path in [
        f"/clients/{personas.carol.pk}/",
        f"/clients/{personas.carol.pk}/edit/",
        f"/therapists/{personas.therapist_profile.pk}/",
        f"/therapists/{personas.therapist_profile.pk}/edit/",
        f"/therapists/{personas.therapist_profile.pk}/licences/{personas.licence.pk}/",
        f"/therapists/{personas.therapist_profile.pk}/licences/new/",
        f"/therapists/{personas.therapist_profile.pk}/certifications/new/",
        f"/referrers/{personas.referrer.pk}/",
        f"/settings/locations/{personas.location.pk}/",
        f"/settings/rooms/{personas.room.pk}/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:300])


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get("/clients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
