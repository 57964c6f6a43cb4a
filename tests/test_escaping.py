"""Names are data, never markup: a client and a therapist called ``<script>alert(1)</script>``, and the
same payload in every free-text field of the clinical record."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

import pytest

from mend.accounts.services import api_token_create
from mend.clinical import services
from mend.clinical.services import FindingInput, PainInput, TechniqueInput
from mend.people.models import CareTeamMember, Client
from mend.testing import harbour_today, intake_answers

PAYLOAD = "<script>alert(1)</script>"
RAW = PAYLOAD.encode()
ESCAPED = b"&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def evil(personas):
    """A client whose names are the payload, on the care team of a therapist whose name is the payload too."""
    personas.therapist_profile.display_name = PAYLOAD
    personas.therapist_profile.save()
    evil_client = Client.objects.create(
        clinic=personas.harbour,
        legal_given_name=PAYLOAD,
        chosen_name=PAYLOAD,
        legal_family_name=PAYLOAD,
        date_of_birth=date(1985, 5, 5),
        email="evil@example.net",
    )
    CareTeamMember.objects.create(
        clinic=personas.harbour, client=evil_client, therapist=personas.memberships["therapist"], is_primary=True
    )
    return evil_client


def assert_escaped(response, *, status=200):
    assert response.status_code == status, response.content[:300]
    assert RAW not in response.content
    assert ESCAPED in response.content


def test_client_list(login, evil):
    assert_escaped(login("owner").get("/clients/"))


def test_client_list_as_therapist(login, evil):
    assert_escaped(login("therapist").get("/clients/"))


def test_client_detail(login, evil):
    assert_escaped(login("owner").get(f"/clients/{evil.pk}/"))


def test_client_edit_form(login, evil):
    response = login("owner").get(f"/clients/{evil.pk}/edit/")
    assert_escaped(response)
    # The inputs hold the escaped value, so saving the form unchanged keeps the name intact.
    assert b'value="' + ESCAPED + b'"' in response.content


def test_client_edit_round_trip_keeps_the_name(login, evil, personas):
    response = login("owner").post(
        f"/clients/{evil.pk}/edit/",
        {
            "legal_given_name": PAYLOAD,
            "legal_family_name": PAYLOAD,
            "chosen_name": PAYLOAD,
            "date_of_birth": "1985-05-05",
            "sex": "unknown",
            "email": "evil@example.net",
            "primary_therapist": personas.memberships["therapist"].pk,
        },
    )
    assert response.status_code == 302
    evil.refresh_from_db()
    assert evil.legal_given_name == PAYLOAD


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_search_results(login, evil, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    http = login("owner")
    # By a word of the name: the result row shows the names escaped.
    response = http.get("/clients/?q=alert", **headers)
    assert_escaped(response)
    if htmx:
        assert b"<html" not in response.content
    # By the payload itself: it is echoed back (search box, caption) escaped as well.
    response = http.get("/clients/?q=" + quote(PAYLOAD), **headers)
    assert_escaped(response)


def test_search_echo_without_match_is_escaped(login, personas):
    response = login("owner").get("/clients/?q=" + quote(PAYLOAD), HTTP_HX_REQUEST="true")
    assert_escaped(response)
    assert b"No client matches" in response.content


def test_therapist_pages(login, evil, personas):
    http = login("owner")
    assert_escaped(http.get("/therapists/"))
    assert_escaped(http.get(f"/therapists/{personas.therapist_profile.pk}/"))
    assert_escaped(http.get(f"/therapists/{personas.therapist_profile.pk}/edit/"))
    # The therapist's name is also the "primary therapist" on the client's page and the picker.
    assert_escaped(http.get("/clients/new/"))


def test_audit_page(login, evil):
    http = login("owner")
    http.get(f"/clients/{evil.pk}/")
    response = http.get(f"/audit/?client={evil.pk}")
    assert_escaped(response)


def test_admin_client_changelist_and_change_page(login, evil):
    http = login("owner")
    assert_escaped(http.get("/admin/people/client/"))
    assert_escaped(http.get(f"/admin/people/client/{evil.pk}/change/"))
    assert_escaped(http.get("/admin/people/client/?q=alert"))
    assert_escaped(http.get("/admin/people/therapistprofile/"))


def test_api_returns_the_name_as_json_data(client, evil, personas):
    token = api_token_create(user=personas.owner, clinic=personas.harbour).raw
    response = client.get(f"/api/v1/clients/{evil.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["legal_given_name"] == PAYLOAD
    assert body["chosen_name"] == PAYLOAD
    assert body["display_name"] == f"{PAYLOAD} {PAYLOAD}"


# --- Clinical free text ------------------------------------------------------------------
# Carol keeps her own name here, so each escaped payload on a page comes from the clinical field it
# is prefixed with ("Title <script>…", "Complaint <script>…"): every field is shown, and escaped.


@pytest.fixture
def evil_record(personas):
    """Carol's episode with the payload in every free-text field a therapist types."""
    tess = personas.actor("therapist")
    today = harbour_today()
    episode = services.episode_open(
        actor=tess, client=personas.carol, data={"title": f"Title {PAYLOAD}", "condition": "low_back_pain"}
    )
    services.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={"referred_on": today - timedelta(days=2), "reason": f"Reason {PAYLOAD}"},
    )
    assessment = services.assessment_save(
        actor=tess,
        episode=episode,
        data={"chief_complaint": f"Complaint {PAYLOAD}", "nprs": 6},
        pain=[PainInput("lower_back", 6)],
    )
    signed = services.note_start(actor=tess, episode=episode)
    services.note_update(
        actor=tess,
        note=signed,
        data={"subjective": f"Subjective {PAYLOAD}", "pain_pre": 6, "pain_post": 4},
        techniques=[TechniqueInput("swedish", "lower_back", 30, 2)],
    )
    services.note_sign(actor=tess, note=signed)
    services.addendum_add(actor=tess, note=signed, text=f"Addendum {PAYLOAD}", reason=f"Why {PAYLOAD}")
    services.plan_save(
        actor=tess,
        episode=episode,
        data={
            "sessions_per_week": 1,
            "weeks": 6,
            "home_program": [{"kind": "stretch", "title": f"Exercise {PAYLOAD}", "instructions": "", "frequency": ""}],
        },
        techniques=[{"technique": "swedish", "region": "lower_back"}],
    )
    # After the signed note: a surgery waiting for its clearance puts the episode among Tess's flags.
    services.health_history_record(
        actor=tess,
        episode=episode,
        data={},
        answers=intake_answers("recent_surgery"),
        findings=[FindingInput("recent_surgery", "knee", "right", f"Finding {PAYLOAD}")],
    )
    draft = services.note_start(actor=tess, episode=episode)
    services.note_update(actor=tess, note=draft, data={"subjective": f"Draft {PAYLOAD}"})
    return {"episode": episode, "assessment": assessment, "signed": signed, "draft": draft}


# page → (path, the fields it shows)
CLINICAL_PAGES = {
    "home-flags": (lambda r: "/", ["Title"]),
    "chart": (lambda r: f"/episodes/{r['episode'].pk}/", ["Title", "Reason", "Complaint"]),
    "timeline": (lambda r: f"/episodes/{r['episode'].pk}/timeline/", ["Title", "Complaint", "Why"]),
    "assessment-detail": (lambda r: f"/assessments/{r['assessment'].pk}/", ["Title", "Complaint"]),
    "note-detail": (lambda r: f"/notes/{r['signed'].pk}/", ["Title", "Subjective", "Addendum", "Why"]),
    "note-edit": (lambda r: f"/notes/{r['draft'].pk}/edit/", ["Title", "Draft"]),
    "plan": (lambda r: f"/episodes/{r['episode'].pk}/plan/", ["Title", "Exercise"]),
    "home-program": (lambda r: f"/episodes/{r['episode'].pk}/plan/home-program/", ["Title", "Exercise"]),
    # The finding's note is shown where it is written: the intake form, pre-filled from the last one.
    "intake": (lambda r: f"/episodes/{r['episode'].pk}/intake/", ["Title", "Finding"]),
}


@pytest.mark.parametrize("page", CLINICAL_PAGES)
def test_clinical_free_text(login, evil_record, page):
    build, fields = CLINICAL_PAGES[page]
    response = login("therapist").get(build(evil_record))
    assert_escaped(response)
    for field in fields:
        assert field.encode() + b" " + ESCAPED in response.content, field
