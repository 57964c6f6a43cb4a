"""The REST API at /api/v1: tokens, pagination, search, validation errors, access."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mend.accounts.models import ApiToken
from mend.accounts.services import api_token_revoke
from mend.audit.models import Action, AuditEvent
from mend.people.models import CareTeamMember, Client
from mend.testing import harbour_today


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [item["legal_family_name"] for item in response.json()["items"]]


# --- Tokens -----------------------------------------------------------------------------


def test_missing_token_is_401_with_json_detail(client, personas):
    response = client.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.json() == {"detail": "A valid bearer token is required."}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Bearer mend_not-a-real-token", "Bearer ", "Token abc", "Basic b3duZXI6cGFzcw==", "Bearer " + "x" * 500],
)
def test_invalid_token_is_401(client, personas, header):
    response = client.get("/api/v1/clients", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_revoked_token_is_401(api, client, personas):
    owner = api("owner")
    assert owner.get("/api/v1/me").status_code == 200
    api_token_revoke(token=owner.issued.token, by=personas.owner)
    assert owner.get("/api/v1/me").status_code == 401


def test_token_of_a_deactivated_member_is_401(api, personas):
    tess = api("therapist")
    membership = personas.memberships["therapist"]
    membership.is_active = False
    membership.save()
    assert tess.get("/api/v1/clients").status_code == 401


def test_using_a_token_records_when(api, personas):
    owner = api("owner")
    assert owner.issued.token.last_used_at is None
    response = owner.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["clinic"]["slug"] == "harbour"
    assert response.json()["role"] == "owner"
    owner.issued.token.refresh_from_db()
    assert owner.issued.token.last_used_at is not None


def test_token_is_stored_only_as_a_hash(api):
    owner = api("owner")
    stored = ApiToken.objects.get(pk=owner.issued.token.pk)
    assert owner.issued.raw not in (stored.token_hash, stored.prefix, stored.name)
    assert stored.prefix == owner.issued.raw[:12]


def test_token_create_command_prints_a_working_token(client, personas):
    out, err = StringIO(), StringIO()
    call_command("token", "create", personas.front_desk.email, "--clinic", "harbour", stdout=out, stderr=err)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("mend_")
    assert "shown once" in err.getvalue()
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["email"] == personas.front_desk.email
    assert response.json()["role"] == "front_desk"


def test_token_create_command_refuses_a_clinic_the_user_is_not_in(personas):
    with pytest.raises(CommandError, match="not a member"):
        call_command("token", "create", personas.front_desk.email, "--clinic", "northside", stdout=StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("token", "create", "nobody@test.example", stdout=StringIO())
    assert not ApiToken.objects.exists()


# --- Listing and searching -----------------------------------------------------------------


@pytest.fixture
def many_clients(personas):
    Client.objects.bulk_create(
        Client(
            clinic=personas.harbour,
            legal_given_name=f"Given{i:02d}",
            legal_family_name=f"Family{i:02d}",
            date_of_birth=date(1960, 1, 1),
        )
        for i in range(60)
    )
    return Client.objects.filter(clinic=personas.harbour).count()


def test_pagination(api, many_clients):
    owner = api("owner")
    first = owner.get("/api/v1/clients").json()
    assert first["count"] == many_clients == 62
    assert len(first["items"]) == 25
    third = owner.get("/api/v1/clients", {"page": 3}).json()
    assert len(third["items"]) == many_clients - 50
    sized = owner.get("/api/v1/clients", {"page_size": 10, "page": 2}).json()
    assert len(sized["items"]) == 10
    assert sized["count"] == many_clients
    # Pages do not overlap, and together they are every client exactly once.
    seen = [item["id"] for page in (1, 2, 3) for item in owner.get("/api/v1/clients", {"page": page}).json()["items"]]
    assert len(seen) == len(set(seen)) == many_clients
    # Both numbers are bounded: out of bounds is a 422 naming the field.
    too_big = owner.get("/api/v1/clients", {"page_size": 1000})
    assert too_big.status_code == 422 and list(too_big.json()["errors"]) == ["page_size"]
    assert owner.get("/api/v1/clients", {"page_size": 100}).status_code == 200
    assert owner.get("/api/v1/clients", {"page": 0}).status_code == 422


@pytest.mark.parametrize(
    "q",
    ["Carol", "caroline", "client", "416-555-0101", "5550101", "carol@example.net", "1980-04-23", "23/04/1980"],
)
def test_search_finds_carol(api, personas, q):
    found = api("owner").get("/api/v1/clients", {"q": q}).json()
    assert [item["id"] for item in found["items"]] == [personas.carol.pk]
    assert found["count"] == 1


@pytest.mark.parametrize("q", ["Zebedee", "1980-04-24", "nobody@example.net", "9999999"])
def test_search_without_match_is_empty(api, personas, q):
    assert api("owner").get("/api/v1/clients", {"q": q}).json() == {"items": [], "count": 0}


def test_listing_and_reading_are_audited(api, personas):
    owner = api("owner")
    owner.get("/api/v1/clients", {"q": "carol"})
    owner.get(f"/api/v1/clients/{personas.carol.pk}")
    search, view = AuditEvent.objects.order_by("-id")[:2][::-1]
    assert (search.action, search.object_type, search.user_id) == (
        Action.SEARCH,
        "people.client_list",
        personas.owner.pk,
    )
    assert (view.action, view.client_id, view.clinic_id) == (Action.VIEW, personas.carol.pk, personas.harbour.pk)


# --- Access -------------------------------------------------------------------------------


def test_therapist_lists_only_care_team_clients(api, personas, many_clients):
    shared = Client.objects.get(legal_family_name="Family07")
    CareTeamMember.objects.create(clinic=personas.harbour, client=shared, therapist=personas.memberships["therapist"])
    tess = api("therapist")
    listed = tess.get("/api/v1/clients").json()
    assert listed["count"] == 2
    assert sorted(item["id"] for item in listed["items"]) == sorted([personas.carol.pk, shared.pk])
    assert tess.get("/api/v1/clients", {"q": "Dan"}).json()["count"] == 0
    assert tess.get(f"/api/v1/clients/{personas.dan.pk}").status_code == 404


def test_outsider_gets_404_for_a_harbour_client(api, personas):
    oscar = api("outsider")
    response = oscar.get(f"/api/v1/clients/{personas.carol.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert oscar.get(f"/api/v1/therapists/{personas.therapist_profile.pk}").status_code == 404
    assert [i["id"] for i in oscar.get("/api/v1/clients").json()["items"]] == [personas.stranger.pk]


def test_front_desk_can_list_clients(api, personas):
    listed = api("front_desk").get("/api/v1/clients").json()
    assert listed["count"] == 2
    assert {item["legal_family_name"] for item in listed["items"]} == {"Client", "Unassigned"}


def test_front_desk_cannot_add_a_therapist(api, personas):
    response = api("front_desk").post("/api/v1/therapists", {"email": "new@test.example", "full_name": "New One"})
    assert response.status_code == 403
    assert "owners and admins" in response.json()["detail"]


# --- Writes and validation ----------------------------------------------------------------

VALID = {"legal_given_name": "Nina", "legal_family_name": "Newcomer", "date_of_birth": "1991-09-09"}


def test_create_client(api, personas):
    response = api("front_desk").post(
        "/api/v1/clients",
        {**VALID, "email": "Nina@Example.org", "primary_therapist_id": personas.therapist_profile.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["display_name"] == "Nina Newcomer"
    assert body["email"] == "nina@example.org"
    assert body["primary_therapist_id"] == personas.therapist_profile.pk
    created = Client.objects.get(pk=body["id"])
    assert created.clinic_id == personas.harbour.pk
    assert AuditEvent.objects.filter(action=Action.CREATE, client_id=created.pk).exists()


def test_client_a_therapist_creates_is_on_their_care_team(api, personas):
    tess = api("therapist")
    body = tess.post("/api/v1/clients", VALID).json()
    assert body["primary_therapist_id"] == personas.therapist_profile.pk
    assert tess.get(f"/api/v1/clients/{body['id']}").status_code == 200


def _assert_field_errors(response, fields):
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"]
    assert set(fields) <= set(body["errors"]), body["errors"]
    for field in fields:
        messages = body["errors"][field]
        assert isinstance(messages, list) and messages and all(isinstance(m, str) and m for m in messages)
    return body["errors"]


def test_create_with_invalid_email_names_the_field(api, personas):
    errors = _assert_field_errors(api("owner").post("/api/v1/clients", {**VALID, "email": "not-an-email"}), ["email"])
    assert errors["email"] == ["Enter a valid email address."]
    assert not Client.objects.filter(legal_family_name="Newcomer").exists()


def test_create_without_required_fields_names_each(api, personas):
    errors = _assert_field_errors(
        api("owner").post("/api/v1/clients", {"email": "x@example.org"}),
        ["legal_given_name", "legal_family_name", "date_of_birth"],
    )
    assert errors["date_of_birth"] == ["This field is required."]


@pytest.mark.parametrize("bad", ["1980-13-45", "yesterday", "31/02/1980"])
def test_create_with_a_bad_date(api, personas, bad):
    errors = _assert_field_errors(
        api("owner").post("/api/v1/clients", {**VALID, "date_of_birth": bad}), ["date_of_birth"]
    )
    assert errors["date_of_birth"] == ["Enter a valid date."]


def test_create_with_a_future_birth_date(api, personas):
    _assert_field_errors(
        api("owner").post("/api/v1/clients", {**VALID, "date_of_birth": "2999-01-01"}), ["date_of_birth"]
    )


@pytest.mark.clock
def test_a_birth_date_is_in_the_future_by_the_clinics_calendar(api, personas):
    """Born "tomorrow" is refused and born today accepted, by Harbour's date in Toronto: at 22:30
    there UTC's date is already tomorrow, and the server's calendar let that birth date through."""
    today = harbour_today()
    _assert_field_errors(
        api("owner").post("/api/v1/clients", {**VALID, "date_of_birth": (today + timedelta(days=1)).isoformat()}),
        ["date_of_birth"],
    )
    created = api("owner").post("/api/v1/clients", {**VALID, "date_of_birth": today.isoformat()})
    assert created.status_code == 201, created.content


def test_several_bad_fields_are_all_named(api, personas):
    _assert_field_errors(
        api("owner").post(
            "/api/v1/clients",
            {**VALID, "email": "nope", "date_of_birth": "nope", "phone": "12", "primary_therapist_id": 999999},
        ),
        ["email", "date_of_birth", "phone", "primary_therapist_id"],
    )


def test_schema_errors_use_the_same_shape(api, personas):
    _assert_field_errors(api("owner").post("/api/v1/clients", {**VALID, "consent_email": "perhaps"}), ["consent_email"])


def test_update_with_patch(api, personas):
    owner = api("owner")
    response = owner.patch(f"/api/v1/clients/{personas.carol.pk}", {"phone": "416 555 0199", "city": "Toronto"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "416 555 0199"
    assert body["city"] == "Toronto"
    # Fields not sent are left as they were.
    assert body["legal_given_name"] == "Caroline"
    assert body["email"] == "carol@example.net"
    assert body["primary_therapist_id"] == personas.therapist_profile.pk
    personas.carol.refresh_from_db()
    assert personas.carol.phone_digits == "4165550199"
    assert AuditEvent.objects.filter(action=Action.UPDATE, client_id=personas.carol.pk).count() == 1
    # Found by the new number.
    assert owner.get("/api/v1/clients", {"q": "555-0199"}).json()["count"] == 1


def test_invalid_patch_changes_nothing(api, personas):
    response = api("owner").patch(f"/api/v1/clients/{personas.carol.pk}", {"email": "broken", "city": "Halifax"})
    _assert_field_errors(response, ["email"])
    personas.carol.refresh_from_db()
    assert personas.carol.email == "carol@example.net"
    assert personas.carol.city == ""


# --- Documentation ----------------------------------------------------------------------------


def test_openapi_document(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Mend API"
    assert "/api/v1/clients" in document["paths"]
    assert "/api/v1/clients/{client_id}" in document["paths"]


def test_docs_page(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
