"""The API's edges: bounded pages, one trailing-slash convention without redirects, API tokens that
expire and show their last use, and another clinic's settings objects answering 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from mend.accounts.models import ApiToken
from mend.accounts.services import TokenError, api_token_create
from mend.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

HUGE = "121645100408832000"


@pytest.mark.parametrize("path", ["/clients", "/therapists", "/episodes", "/episodes/1/notes"])
def test_a_page_number_past_the_bound_is_a_422_naming_page(api, path):
    response = api("owner").get(path, {"page": HUGE})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["page"]


@pytest.mark.parametrize("path", ["/clients", "/episodes"])
def test_a_page_size_over_100_is_a_422_naming_page_size(api, path):
    response = api("owner").get(path, {"page_size": 101})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["page_size"]


@pytest.mark.parametrize(
    ("sent", "meant"),
    [("/api/v1/clients/", "/api/v1/clients"), ("/api/v1/episodes/", "/api/v1/episodes"), ("/api/v1/me/", "/api/v1/me")],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_the_other_slash_form_is_a_json_404_naming_the_path_never_a_redirect(api, sent, meant, method):
    owner = api("owner")
    response = getattr(owner.client, method)(sent, {}, content_type="application/json", **owner.headers)
    assert response.status_code == 404 and not response.has_header("Location")
    assert response.json() == {
        "detail": f"There is no API route at {sent}. Use {meant}: Mend's API paths have no trailing slash.",
        "path": meant,
    }


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.post("/api/v1/nothing-here", {})
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no API route at /api/v1/nothing-here."}


def test_every_api_route_has_no_trailing_slash():
    from mend.api import api

    paths = api.get_openapi_schema()["paths"]
    assert paths and not [p for p in paths if p.endswith("/")]


def test_a_token_expires_after_the_lifetime_chosen_at_creation(personas):
    issued = api_token_create(user=personas.owner, clinic=personas.harbour, lifetime=timedelta(days=30))
    assert issued.token.expires_at == issued.token.created_at + timedelta(days=30)
    default = api_token_create(user=personas.owner, clinic=personas.harbour)
    assert default.token.expires_at - default.token.created_at == timedelta(days=90)
    for days in (0, 367):
        with pytest.raises(TokenError, match="between 1 and 366 days"):
            api_token_create(user=personas.owner, clinic=personas.harbour, lifetime=timedelta(days=days))


def test_an_expired_token_is_refused_with_401_saying_so(client, personas):
    issued = api_token_create(user=personas.owner, clinic=personas.harbour, lifetime=timedelta(days=1))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.raw}"}
    assert client.get("/api/v1/me", **headers).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = client.get("/api/v1/me", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    detail = response.json()["detail"]
    assert detail.startswith(f"This API token ({issued.token.prefix}…) expired on ") and "Create a new one" in detail
    # An unknown token still gets the plain message.
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer mend_nope").json() == {
        "detail": "A valid bearer token is required."
    }


def test_last_use_is_recorded_at_most_once_a_minute(client, personas):
    issued = api_token_create(user=personas.owner, clinic=personas.harbour)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.raw}"}
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/me", **headers)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        client.get("/api/v1/me", **headers)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get("/api/v1/me", **headers)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == start + timedelta(seconds=61)


def test_the_account_page_lists_tokens_with_expiry_and_last_use_and_revokes_them(client, login, personas):
    issued = api_token_create(user=personas.owner, clinic=personas.harbour, name="Bookkeeping sync")
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    other = api_token_create(user=personas.memberships["therapist"].user, clinic=personas.harbour)
    http = login("owner")
    page = http.get("/accounts/").content.decode()
    assert f"<code>{issued.token.prefix}…</code> Bookkeeping sync" in page
    assert "Harbour Test Clinic" in page and "Never" not in page
    assert other.token.prefix not in page

    # Someone else's token is not yours to revoke: 404, and it keeps working.
    assert http.post(f"/accounts/tokens/{other.token.pk}/revoke/").status_code == 404
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {other.raw}").status_code == 200

    response = http.post(f"/accounts/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issued.raw}").status_code == 401
    assert AuditEvent.objects.filter(
        action=Action.DELETE, object_type="accounts.apitoken", object_id=str(issued.token.pk)
    ).exists()
    # The message says it was revoked; the list no longer shows it.
    revoked_page = http.get("/accounts/").content.decode()
    assert f"API token {issued.token.prefix}… revoked" in revoked_page
    assert f"<code>{issued.token.prefix}…</code>" not in http.get("/accounts/").content.decode()


def test_an_expired_token_is_marked_on_the_account_page(login, personas):
    issued = api_token_create(user=personas.owner, clinic=personas.harbour, lifetime=timedelta(days=1))
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "<strong>Expired</strong>" in login("owner").get("/accounts/").content.decode()


def test_another_clinics_settings_objects_answer_404_in_the_admin(login, personas):
    """The outsider owns Northside and may use the admin; Harbour's rows are not there for them."""
    http = login("outsider")
    harbour_membership = personas.memberships["therapist"]
    for path in [
        f"/admin/clinics/location/{personas.location.pk}/change/",
        f"/admin/clinics/room/{personas.room.pk}/change/",
        f"/admin/clinics/membership/{harbour_membership.pk}/change/",
        f"/admin/clinics/location/{personas.location.pk}/history/",
        "/admin/clinics/location/999999/change/",
    ]:
        response = http.get(path)
        assert response.status_code == 404, path
        assert b"Harbourfront" not in response.content and b"Room 1" not in response.content
    # Their own clinic's rows still open.
    assert login("owner").get(f"/admin/clinics/location/{personas.location.pk}/change/").status_code == 200


def test_the_account_page_reads_tokens_in_one_query_however_many(login, personas):
    """The token list is one query (tokens with their clinic), whatever the number of tokens."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = login("owner")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get("/accounts/").status_code == 200
        return len(queries)

    api_token_create(user=personas.owner, clinic=personas.harbour)
    one = count()
    for _ in range(9):
        api_token_create(user=personas.owner, clinic=personas.harbour)
    assert count() == one
