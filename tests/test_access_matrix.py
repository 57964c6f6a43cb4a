"""Every page route × every persona, against the policy in mend/access.py.

Harbour's owner, admin, therapist (Tess, on Carol's care team) and front desk act in Harbour;
the outsider owns Northside, so every Harbour object is 404 for them and every page without an
object answers as it would for any owner of their own clinic.

The clinical record has its own matrix (every route of mend/clinical/urls.py, pages and POST
actions), with therapist2 (Theo, not on Carol's care team) as a seventh persona: a clinical object
is visible exactly when its client is, front desk gets 403 and everyone else 404. Outcome measures
(every route of mend/outcomes/urls.py and every operation of its API router) follow the same rules,
except the evidence report (no client in it) and the client's emailed questionnaire (no sign-in).
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, NamedTuple

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from mend.accounts.services import api_token_create
from mend.audit.models import AuditEvent
from mend.clinical import services
from mend.clinical import urls as clinical_urls
from mend.clinical.models import Assessment, Clearance, Episode, Goal, Referral, ScreeningFinding, TreatmentNote
from mend.clinical.services import FindingInput, PainInput, RomInput, TechniqueInput
from mend.outcomes import services as outcome_services
from mend.outcomes import urls as outcomes_urls
from mend.outcomes.api import router as outcomes_router
from mend.outcomes.models import MeasureResponse, QuestionnaireLink
from mend.people.models import CareTeamMember
from mend.platform import clock
from mend.testing import Personas, harbour_today

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
    # A member's page and the confirmation before resetting their second sign-in step: owners only.
    "member_detail": (
        lambda p: f"/settings/members/{p.memberships['therapist'].pk}/",
        (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    ),
    "member_second_step_reset": (
        lambda p: f"/settings/members/{p.memberships['therapist'].pk}/second-step/reset/",
        (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    ),
    "audit_log": (lambda p: "/audit/", (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)),
    "admin_index": (lambda p: "/admin/", (OK, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK)),
    "admin_clients": (lambda p: "/admin/people/client/", (OK, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK)),
    "password_change": (lambda p: "/accounts/password/", (OK, OK, OK, OK, OK)),
    "account": (lambda p: "/accounts/", (OK, OK, OK, OK, OK)),
    "reauthenticate": (lambda p: "/accounts/confirm/", (OK, OK, OK, OK, OK)),
    # Changing sign-in factors first asks for the password again (302 to reauthenticate).
    "totp_enrol": (lambda p: "/accounts/mfa/app/", (302, 302, 302, 302, 302)),
    # Recovery codes are shown once, right after they are made; otherwise back to the account page.
    "recovery_codes": (lambda p: "/accounts/mfa/recovery-codes/", (302, 302, 302, 302, 302)),
    # Financial reports (billing/views/reports.py): owners and admins; the outsider sees Northside's own books.
    "billing_reports": (lambda p: "/billing/reports/", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
    "billing_report_write_offs": (lambda p: "/billing/reports/write-offs/", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
    "billing_report_csv": (lambda p: "/billing/reports/ageing.csv", (OK, OK, FORBIDDEN, FORBIDDEN, OK)),
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


# POST-only routes of people and clinics: route name → (path builder, status for owner, admin,
# therapist, front_desk, outsider). A 302 is the action done (back to the page it was pressed on).
POST_ROUTES: dict[str, tuple[Path, tuple[int, ...]]] = {
    "therapist_invite": (
        lambda p: f"/therapists/{p.therapist2_profile.pk}/invite/",
        (302, 302, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    ),
    "member_second_step_reset": (
        lambda p: f"/settings/members/{p.memberships['therapist'].pk}/second-step/reset/",
        (302, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    ),
    # Today's status buttons: any of the clinic's staff (a therapist their own visit), back to Today.
    "today_status": (
        lambda p: f"/today/appointments/{_todays_appointment(p).pk}/status/",
        (302, 302, 302, 302, NOT_FOUND),
    ),
}


def _todays_appointment(p: Personas) -> Any:
    """Carol's visit with Tess at noon on Harbour's today."""
    from mend.core.availability import exact_local
    from mend.scheduling.models import Appointment, AppointmentType

    kind = AppointmentType.objects.create(clinic=p.harbour, name="Treatment 60", duration_minutes=60)
    starts_at = exact_local(harbour_today(), time(12), p.harbour.timezone)
    return Appointment.objects.create(
        clinic=p.harbour,
        client=p.carol,
        therapist=p.memberships["therapist"],
        room=p.room,
        location=p.location,
        appointment_type=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in POST_ROUTES for p in PERSONAS]
)
def test_post_route_access(client, login, personas, route, persona):
    build, expected_by_role = POST_ROUTES[route]
    path = build(personas)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    response = http.post(path)
    if persona == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        assert AuditEvent.objects.count() == events
        return
    expected = expected_by_role[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected in (FORBIDDEN, NOT_FOUND):
        assert AuditEvent.objects.count() == events


# Routes that need no sign-in: the emailed link is the credential. Anyone gets the page; a link
# that is not one says so without telling whose it might be.
PUBLIC_ROUTES: dict[str, Path] = {
    "invitation_accept": lambda p: "/invitation/OTk5OTk5/bad-token/",  # user 999999
}


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in PUBLIC_ROUTES for p in PERSONAS]
)
def test_public_route_access(client, login, personas, route, persona):
    http = client if persona == "anonymous" else login(persona)
    response = http.get(PUBLIC_ROUTES[route](personas))
    assert response.status_code == 200
    assert b"This invitation link does not work" in response.content


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


# --- Clinical record ---------------------------------------------------------------------

CLINICAL_PERSONAS = ["anonymous", "owner", "admin", "therapist", "therapist2", "front_desk", "outsider"]
FOUND = 302  # an action done: back to the chart or note, never to the sign-in page
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# What a 404 must not give away of Carol's record, besides her name.
CLINICAL_SECRETS = (b"Caroline", b"Chronic low back pain", b"Rita Referrer", b"M54.50", b"Dr. Sam Surgeon")


@dataclass(frozen=True, slots=True)
class Record:
    """One of each of Carol's clinical objects, written by Tess through the services."""

    episode: Episode
    referral: Referral
    finding: ScreeningFinding
    clearance: Clearance
    assessment: Assessment
    goal: Goal
    draft: TreatmentNote
    signed: TreatmentNote


@pytest.fixture(scope="module")
def module_record(module_db, module_personas, tmp_path_factory) -> Iterator[Record]:
    """Carol's record, written once for the module: each test only reads it, or writes in its own transaction."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield module_db(lambda: _write_record(module_personas))


@pytest.fixture
def record(db, module_record) -> Record:
    return copy.deepcopy(module_record)


def _write_record(personas: Personas) -> Record:
    tess = personas.actor("therapist")
    today = tess.today()
    episode = services.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": today},
    )
    referral = services.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={"referred_on": today - timedelta(days=3), "visits_authorised": 6, "reason": "Low back pain"},
        document=SimpleUploadedFile("referral.pdf", PDF, content_type="application/pdf"),
    )
    finding = services.finding_add(
        actor=tess, episode=episode, finding=FindingInput("recent_surgery", "knee", "right", "Arthroscopy")
    )
    clearance = services.clearance_record(
        actor=tess,
        episode=episode,
        data={"rule_id": "recent_surgery", "cleared_by": "Dr. Sam Surgeon, orthopaedics", "cleared_on": today},
        document=SimpleUploadedFile("clearance.pdf", PDF, content_type="application/pdf"),
    )
    assessment = services.assessment_save(
        actor=tess,
        episode=episode,
        data={"chief_complaint": "Low back pain when sitting", "nprs": 6},
        pain=[PainInput("lower_back", 6, quality="aching")],
        rom=[RomInput("thoracolumbar_flexion", 50)],
    )
    goal = services.goal_save(
        actor=tess,
        episode=episode,
        data={"description": "Pain at most 3 out of 10", "measure": "nprs", "baseline": 6, "target": 3},
    )
    services.plan_save(
        actor=tess,
        episode=episode,
        data={
            "sessions_per_week": 1,
            "weeks": 6,
            "home_program": [{"kind": "stretch", "title": "Knee to chest", "instructions": "", "frequency": ""}],
        },
        techniques=[{"technique": "swedish", "region": "lower_back"}],
    )
    signed = services.note_start(actor=tess, episode=episode, visit_on=today - timedelta(days=1))
    services.note_update(
        actor=tess,
        note=signed,
        data={"subjective": "Stiff in the mornings.", "pain_pre": 6, "pain_post": 4},
        techniques=[TechniqueInput("swedish", "lower_back", 30, 2)],
    )
    services.note_sign(actor=tess, note=signed)
    draft = services.note_start(actor=tess, episode=episode)
    services.note_update(
        actor=tess,
        note=draft,
        data={"pain_pre": 5, "pain_post": 3},
        techniques=[TechniqueInput("swedish", "lower_back", 30, 2)],
    )
    return Record(episode, referral, finding, clearance, assessment, goal, draft, signed)


NOTE_FORM = {
    "visit_on": "",  # filled in with today
    "duration_minutes": "60",
    "subjective": "Better after the weekend.",
    "pain_pre": "5",
    "pain_post": "3",
    "technique-TOTAL_FORMS": "1",
    "technique-INITIAL_FORMS": "0",
    "technique-0-technique": "swedish",
    "technique-0-region": "lower_back",
    "technique-0-minutes": "30",
    "technique-0-pressure": "2",
}


def _note_form() -> dict[str, str]:
    return {**NOTE_FORM, "visit_on": harbour_today().isoformat()}


class Route(NamedTuple):
    path: Callable[[Personas, Record], str]
    # Expected status for owner, admin, therapist, therapist2, front_desk, outsider.
    expected: tuple[int, ...]
    method: str = "get"
    data: Callable[[], dict[str, Any]] | None = None


# Carol's record: seen by her clinic's owner and admin and by Tess (her care team), never by Theo or
# the outsider (404), never by front desk (403). The ICD-10 search holds no client: any clinician's.
SEEN = (OK, OK, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND)
DONE = (FOUND, FOUND, FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND)
# Only a note's author writes and signs it: the owner and admin read Tess's draft but may not change it.
AUTHOR_ONLY = (FORBIDDEN, FORBIDDEN, FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND)

CLINICAL_ROUTES: dict[str, Route] = {
    "episode_create": Route(lambda p, r: f"/clients/{p.carol.pk}/episodes/new/", SEEN),
    "chart": Route(lambda p, r: f"/episodes/{r.episode.pk}/", SEEN),
    "episode_edit": Route(lambda p, r: f"/episodes/{r.episode.pk}/edit/", SEEN),
    "episode_timeline": Route(lambda p, r: f"/episodes/{r.episode.pk}/timeline/", SEEN),
    "episode_discharge": Route(lambda p, r: f"/episodes/{r.episode.pk}/discharge/", SEEN),
    "referral_create": Route(lambda p, r: f"/episodes/{r.episode.pk}/referrals/new/", SEEN),
    "referral_edit": Route(lambda p, r: f"/referrals/{r.referral.pk}/edit/", SEEN),
    "referral_close": Route(lambda p, r: f"/referrals/{r.referral.pk}/close/", DONE, "post"),
    "referral_document": Route(lambda p, r: f"/referrals/{r.referral.pk}/document/", SEEN),
    "icd10_search": Route(lambda p, r: "/icd10/?q=back", (OK, OK, OK, OK, FORBIDDEN, OK)),
    "health_history": Route(lambda p, r: f"/episodes/{r.episode.pk}/intake/", SEEN),
    "pre_session_check": Route(lambda p, r: f"/episodes/{r.episode.pk}/check/", SEEN),
    "finding_add": Route(lambda p, r: f"/episodes/{r.episode.pk}/findings/new/", SEEN),
    "finding_resolve": Route(lambda p, r: f"/findings/{r.finding.pk}/resolve/", DONE, "post"),
    "clearance_add": Route(lambda p, r: f"/episodes/{r.episode.pk}/clearances/new/", SEEN),
    "clearance_document": Route(lambda p, r: f"/clearances/{r.clearance.pk}/document/", SEEN),
    "client_intake_review": Route(lambda p, r: f"/intakes/{_reported_intake(p).pk}/review/", DONE, "post"),
    "assessment_create": Route(lambda p, r: f"/episodes/{r.episode.pk}/assessments/new/", SEEN),
    "assessment_detail": Route(lambda p, r: f"/assessments/{r.assessment.pk}/", SEEN),
    "assessment_edit": Route(lambda p, r: f"/assessments/{r.assessment.pk}/edit/", SEEN),
    "plan_edit": Route(lambda p, r: f"/episodes/{r.episode.pk}/plan/", SEEN),
    "home_program": Route(lambda p, r: f"/episodes/{r.episode.pk}/plan/home-program/", SEEN),
    "goal_create": Route(lambda p, r: f"/episodes/{r.episode.pk}/goals/new/", SEEN),
    "goal_edit": Route(lambda p, r: f"/goals/{r.goal.pk}/edit/", SEEN),
    "goal_delete": Route(lambda p, r: f"/goals/{r.goal.pk}/delete/", DONE, "post"),
    "note_start": Route(lambda p, r: f"/episodes/{r.episode.pk}/notes/new/", DONE, "post"),
    "note_detail": Route(lambda p, r: f"/notes/{r.signed.pk}/", SEEN),
    # Owners and admins are sent to the read-only note: a draft is its author's to write.
    "note_edit": Route(lambda p, r: f"/notes/{r.draft.pk}/edit/", (FOUND, FOUND, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND)),
    "note_autosave": Route(
        lambda p, r: f"/notes/{r.draft.pk}/autosave/",
        (FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND),
        "post",
        _note_form,
    ),
    "note_sign": Route(lambda p, r: f"/notes/{r.draft.pk}/sign/", AUTHOR_ONLY, "post"),
    "note_delete": Route(lambda p, r: f"/notes/{r.draft.pk}/delete/", AUTHOR_ONLY, "post"),
    "addendum_add": Route(
        lambda p, r: f"/notes/{r.signed.pk}/addenda/new/", DONE, "post", lambda: {"text": "Left side, not right."}
    ),
}

# Pages that are also forms: who may not open them may not post to them either.
CLINICAL_FORMS = [
    "episode_create",
    "episode_edit",
    "episode_discharge",
    "referral_create",
    "referral_edit",
    "health_history",
    "pre_session_check",
    "finding_add",
    "clearance_add",
    "assessment_create",
    "assessment_edit",
    "plan_edit",
    "goal_create",
    "goal_edit",
    "note_edit",
]

CLINICAL_CASES = [
    pytest.param(route, persona, id=f"{route}-{persona}") for route in CLINICAL_ROUTES for persona in CLINICAL_PERSONAS
]


def test_every_clinical_route_is_in_the_matrix():
    names = {pattern.name for pattern in clinical_urls.urlpatterns}
    assert set(CLINICAL_ROUTES) | set(INTAKE_PUBLIC_ROUTES) == names, "add a row to CLINICAL_ROUTES for every route"
    assert set(CLINICAL_FORMS) <= names


def _request(http, route: Route, path: str):
    if route.method == "get":
        return http.get(path)
    # Autosave is what htmx posts as the therapist types.
    headers = {"HTTP_HX_REQUEST": "true"} if route.data is _note_form else {}
    return http.post(path, route.data() if route.data else {}, **headers)


@pytest.mark.parametrize(("route", "persona"), CLINICAL_CASES)
def test_clinical_access(client, login, personas, record, route, persona):
    row = CLINICAL_ROUTES[route]
    path = row.path(personas, record)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    response = _request(http, row, path)

    if persona == "anonymous":
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), response["Location"]
        assert AuditEvent.objects.count() == events
        return

    expected = row.expected[CLINICAL_PERSONAS.index(persona) - 1]
    body = b"" if response.streaming else response.content
    assert response.status_code == expected, (path, persona, response.status_code, body[:300])
    if expected == FOUND:
        assert not response["Location"].startswith("/accounts/"), response["Location"]
    elif expected == OK and route.endswith("_document"):
        # The file itself, as stored: a download, not a page.
        # Reading it to the end closes it, as a WSGI server would.
        assert b"".join(response.streaming_content) == PDF
    elif expected == FORBIDDEN:
        assert b"Not allowed" in response.content
    if expected in (FORBIDDEN, NOT_FOUND):
        # Refused before anything was read or written: no audit row (every read and write has one).
        assert AuditEvent.objects.count() == events, (path, persona)
    if expected == NOT_FOUND:
        for secret in CLINICAL_SECRETS:
            assert secret not in body, (path, persona, secret)


@pytest.mark.parametrize(
    ("route", "persona"),
    [
        pytest.param(route, persona, id=f"{route}-{persona}")
        for route in CLINICAL_FORMS
        for persona in ("therapist2", "front_desk", "outsider")
    ],
)
def test_clinical_forms_refuse_a_post_from_who_may_not_open_them(login, personas, record, route, persona):
    row = CLINICAL_ROUTES[route]
    events = AuditEvent.objects.count()
    response = login(persona).post(row.path(personas, record), {"title": "Taken over", "description": "Taken"})
    assert response.status_code == row.expected[CLINICAL_PERSONAS.index(persona) - 1]
    assert AuditEvent.objects.count() == events
    record.episode.refresh_from_db()
    assert record.episode.title == "Chronic low back pain"


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
    for path in ["/api/v1/clients", f"/api/v1/clients/{personas.carol.pk}", "/api/v1/therapists", "/api/v1/me"]:
        assert client.get(path).status_code == 401, path


# --- Outcome measures --------------------------------------------------------------------
# Every route of mend/outcomes/urls.py and every operation of its API router, for the same seven
# personas. Outcome pages are clinical (SEEN, DONE); the evidence report holds no client and
# answers every clinical role with the episodes it may see; the emailed questionnaire is the
# client's and its token is the only credential, signed in as anyone or not at all.

SIGN_IN = "sign-in"
CREATED, GONE = 201, 410
OUTCOME_SECRETS = (*CLINICAL_SECRETS, b"carol@example.net")


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Carol's record with an NPRS Tess recorded in clinic and an unanswered NPRS questionnaire link."""

    record: Record
    response: MeasureResponse
    token: str

    @property
    def episode(self) -> Episode:
        return self.record.episode


@pytest.fixture(scope="module")
def module_outcomes(module_db, module_personas, module_record) -> Outcomes:
    return module_db(lambda: _write_outcomes(module_personas, module_record))


@pytest.fixture
def outcomes(db, module_outcomes) -> Outcomes:
    return copy.deepcopy(module_outcomes)


def _write_outcomes(personas: Personas, record: Record) -> Outcomes:
    tess = personas.actor("therapist")
    response = outcome_services.response_record(actor=tess, episode=record.episode, measure_id="nprs", answers=[6])
    carol = record.episode.client
    carol.consent_email = True
    carol.save(update_fields=["consent_email"])
    sent = outcome_services.link_create_and_send(
        actor=tess, episode=record.episode, measure_ids=["nprs"], base_url="http://testserver/"
    )
    token = sent.url.removeprefix("http://testserver/q/").removesuffix("/")
    return Outcomes(record, response, token)


class OutcomeRoute(NamedTuple):
    path: Callable[[Personas, Outcomes], str]
    # Expected status for owner, admin, therapist, therapist2, front_desk, outsider.
    expected: tuple[int, ...]
    anonymous: int | str = SIGN_IN


# Theo and the outsider get a report too: of their own episodes (none here), never of Tess's.
REPORT = (OK, OK, OK, OK, FORBIDDEN, OK)
PUBLIC = (OK, OK, OK, OK, OK, OK)

OUTCOME_ROUTES: dict[str, OutcomeRoute] = {
    "episode_progress": OutcomeRoute(lambda p, o: f"/episodes/{o.episode.pk}/progress/", SEEN),
    "outcome_record": OutcomeRoute(lambda p, o: f"/episodes/{o.episode.pk}/outcomes/nprs/", SEEN),
    "outcome_link_send": OutcomeRoute(lambda p, o: f"/episodes/{o.episode.pk}/outcomes/send/", SEEN),
    "evidence_report": OutcomeRoute(lambda p, o: "/outcomes/evidence/", REPORT),
    "evidence_csv": OutcomeRoute(lambda p, o: "/outcomes/evidence.csv", REPORT),
    # A condition's curves need five episodes; Carol's one gives none, so every clinical role gets a 404
    # (tests/outcomes/test_evidence_page.py draws them for a group big enough, within a therapist's scope).
    "evidence_curves": OutcomeRoute(
        lambda p, o: "/outcomes/evidence/curves.svg?condition=M54.5", (*[NOT_FOUND] * 4, FORBIDDEN, NOT_FOUND)
    ),
    "questionnaire": OutcomeRoute(lambda p, o: f"/q/{o.token}/", PUBLIC, OK),
    "questionnaire_thanks": OutcomeRoute(lambda p, o: "/q/thanks/", PUBLIC, OK),
}


class OutcomeWrite(NamedTuple):
    path: Callable[[Personas, Outcomes], str]
    data: Callable[[], dict[str, Any]]
    # Expected status for owner, admin, therapist, therapist2, front_desk, outsider.
    expected: tuple[int, ...]
    # The rows a write adds: one when it is done, none when it is refused.
    rows: Callable[[], int]
    anonymous: int | str = SIGN_IN


def _nprs_in_clinic() -> dict[str, Any]:
    # Harbour's day (Toronto): the service refuses a day after the clinic's today as in the future.
    return {"item_0": "4", "collected_on": clock.local_today("America/Toronto").isoformat()}


# Recording a measure and sending a link are clinical writes; answering the link is the client's.
OUTCOME_WRITES: dict[str, OutcomeWrite] = {
    "outcome_record": OutcomeWrite(
        lambda p, o: f"/episodes/{o.episode.pk}/outcomes/nprs/", _nprs_in_clinic, DONE, MeasureResponse.objects.count
    ),
    "outcome_link_send": OutcomeWrite(
        lambda p, o: f"/episodes/{o.episode.pk}/outcomes/send/",
        lambda: {"measures": ["nprs"]},
        DONE,
        QuestionnaireLink.objects.count,
    ),
    "questionnaire": OutcomeWrite(
        lambda p, o: f"/q/{o.token}/",
        lambda: {"nprs-item_0": "3"},
        (FOUND,) * 6,
        MeasureResponse.objects.count,
        FOUND,
    ),
}


def _cases(routes: dict[str, Any]) -> list[Any]:
    return [pytest.param(route, persona, id=f"{route}-{persona}") for route in routes for persona in CLINICAL_PERSONAS]


def _expected(row: OutcomeRoute | OutcomeWrite, persona: str) -> int | str:
    return row.anonymous if persona == "anonymous" else row.expected[CLINICAL_PERSONAS.index(persona) - 1]


def test_every_outcomes_route_is_in_the_matrix():
    names = {pattern.name for pattern in outcomes_urls.urlpatterns}
    assert set(OUTCOME_ROUTES) == names, "add a row to OUTCOME_ROUTES for every outcomes route"
    assert set(OUTCOME_WRITES) <= names


@pytest.mark.parametrize(("route", "persona"), _cases(OUTCOME_ROUTES))
def test_outcome_access(client, login, personas, outcomes, route, persona):
    row = OUTCOME_ROUTES[route]
    path = row.path(personas, outcomes)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    response = http.get(path)
    expected = _expected(row, persona)

    if expected == SIGN_IN:
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), response["Location"]
        assert AuditEvent.objects.count() == events
        return
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == FORBIDDEN:
        assert b"Not allowed" in response.content
    if expected in (FORBIDDEN, NOT_FOUND):
        assert AuditEvent.objects.count() == events, (path, persona)
    if expected == NOT_FOUND:
        for secret in OUTCOME_SECRETS:
            assert secret not in response.content, (path, persona, secret)


@pytest.mark.clock  # posts the clinic's today into a record written at the run's instant
@pytest.mark.parametrize(("route", "persona"), _cases(OUTCOME_WRITES))
def test_outcome_writes(client, login, personas, outcomes, route, persona):
    """Who may write gets the write done, once; who may not changes nothing and leaves no audit row."""
    row = OUTCOME_WRITES[route]
    path = row.path(personas, outcomes)
    http = client if persona == "anonymous" else login(persona)
    events, rows = AuditEvent.objects.count(), row.rows()
    response = http.post(path, row.data())
    expected = _expected(row, persona)

    if expected == SIGN_IN:
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), response["Location"]
    else:
        assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == FOUND:
        assert not response["Location"].startswith("/accounts/"), response["Location"]
        assert row.rows() == rows + 1
        return
    assert row.rows() == rows
    assert AuditEvent.objects.count() == events
    if expected == NOT_FOUND:
        for secret in OUTCOME_SECRETS:
            assert secret not in response.content, (path, persona, secret)


@pytest.mark.parametrize(
    ("persona", "counted"),
    [("owner", True), ("admin", True), ("therapist", True), ("therapist2", False), ("outsider", False)],
)
def test_evidence_report_counts_only_the_episodes_the_persona_may_see(login, personas, outcomes, persona, counted):
    """Tess's episode is in her own, the owner's and the admin's report; never in Theo's (he has no
    therapist filter: asking for Tess's is ignored), nor in Northside's (Tess is no choice there)."""
    http = login(persona)
    page, export = http.get("/outcomes/evidence/"), http.get("/outcomes/evidence.csv")
    assert page.status_code == export.status_code == OK, (page.status_code, export.status_code)
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    # One episode is a group too small to leave Mend: no CSV holds it, whoever asks (the small-cell
    # rule, docs/outcomes.md); the page shows it to those who may see the episode.
    assert rows == []
    if counted:
        assert b"M54.5 " in page.content
        return
    assert b"No episode with a baseline score" in page.content
    assert b"M54.5 " not in page.content
    tess = personas.memberships["therapist"].pk
    filtered = http.get(f"/outcomes/evidence/?therapist={tess}")
    assert filtered.status_code == (OK if persona == "therapist2" else 400)
    assert b"M54.5 " not in filtered.content
    assert b"M54" not in http.get(f"/outcomes/evidence.csv?therapist={tess}").content


def test_a_therapist_sharing_the_client_still_reports_only_their_own_episodes(login, personas, outcomes):
    """Theo on Carol's care team opens her chart, but the report counts the episodes he treats."""
    CareTeamMember.objects.create(
        clinic=personas.harbour, client=personas.carol, therapist=personas.memberships["therapist2"]
    )
    http = login("therapist2")
    assert http.get(f"/episodes/{outcomes.episode.pk}/progress/").status_code == OK
    assert b"M54" not in http.get("/outcomes/evidence.csv").content
    assert b"No episode with a baseline score" in http.get("/outcomes/evidence/").content


@pytest.mark.parametrize("persona", CLINICAL_PERSONAS)
@pytest.mark.parametrize(
    ("state", "status", "says"),
    [
        ("tampered", NOT_FOUND, b"This link does not work"),
        ("withdrawn", NOT_FOUND, b"This link does not work"),
        ("expired", GONE, b"This link has expired"),
        ("used", GONE, b"already answered"),
    ],
)
def test_an_unusable_questionnaire_link_answers_the_same_to_everyone(
    client, login, personas, outcomes, state, status, says, persona
):
    """The link's own rules, whoever is signed in: a token that does not check out (tampered, or well
    signed but without its row) is 404, an expired or answered one 410; nothing of Carol shows and
    nothing is written or audited."""
    token = outcomes.token
    links = QuestionnaireLink.objects.filter(episode=outcomes.episode)
    if state == "tampered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif state == "withdrawn":
        links.delete()
    elif state == "expired":
        links.update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        links.update(used_at=timezone.now())
    http = client if persona == "anonymous" else login(persona)
    events, responses = AuditEvent.objects.count(), MeasureResponse.objects.count()

    for response in (http.get(f"/q/{token}/"), http.post(f"/q/{token}/", {"nprs-item_0": "3"})):
        assert response.status_code == status, (state, persona, response.status_code)
        assert says in response.content
        for secret in (b"Carol", *OUTCOME_SECRETS):
            assert secret not in response.content, (state, persona, secret)
    assert MeasureResponse.objects.count() == responses
    assert AuditEvent.objects.count() == events


class ApiRoute(NamedTuple):
    method: str
    path: Callable[[Outcomes], str]
    # Expected status for owner, admin, therapist, therapist2, front_desk, outsider; signed out is 401.
    expected: tuple[int, ...]
    payload: dict[str, Any] | None = None
    # The rows a write adds: one when it is done, none when it is refused.
    rows: Callable[[], int] = lambda: 0


API_DONE = (CREATED, CREATED, CREATED, NOT_FOUND, FORBIDDEN, NOT_FOUND)

# Keyed by the operation's function in mend/outcomes/api.py.
OUTCOME_API: dict[str, ApiRoute] = {
    # The registry of instruments holds no client: any token of any clinic and role reads it.
    "list_measures": ApiRoute("get", lambda o: "/api/v1/measures", (OK,) * 6),
    "list_responses": ApiRoute("get", lambda o: f"/api/v1/episodes/{o.episode.pk}/responses", SEEN),
    "create_response": ApiRoute(
        "post",
        lambda o: f"/api/v1/episodes/{o.episode.pk}/responses",
        API_DONE,
        {"measure": "nprs", "answers": [4]},
        MeasureResponse.objects.count,
    ),
    "create_link": ApiRoute(
        "post",
        lambda o: f"/api/v1/episodes/{o.episode.pk}/questionnaire-links",
        API_DONE,
        {"measures": ["nprs"]},
        QuestionnaireLink.objects.count,
    ),
}


def test_every_outcomes_api_operation_is_in_the_matrix():
    operations = {
        operation.view_func.__name__
        for path_view in outcomes_router.path_operations.values()
        for operation in path_view.operations
    }
    assert set(OUTCOME_API) == operations, "add a row to OUTCOME_API for every outcomes API operation"


@pytest.mark.parametrize(("route", "persona"), _cases(OUTCOME_API))
def test_outcome_api_access(client, personas, outcomes, route, persona):
    row = OUTCOME_API[route]
    headers = {} if persona == "anonymous" else _bearer(personas, persona)
    events = AuditEvent.objects.count()
    rows = row.rows()
    call = getattr(client, row.method)
    if row.payload is None:
        response = call(row.path(outcomes), **headers)
    else:
        response = call(row.path(outcomes), data=row.payload, content_type="application/json", **headers)

    expected = 401 if persona == "anonymous" else row.expected[CLINICAL_PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (route, persona, response.status_code, response.content[:300])
    if expected == OK and route == "list_responses":
        assert [r["id"] for r in response.json()] == [outcomes.response.pk]
    if expected == CREATED:
        assert row.rows() == rows + 1
        return
    assert row.rows() == rows
    if expected == FORBIDDEN:
        assert response.json()["detail"]
    if expected == NOT_FOUND:
        assert response.json() == {"detail": "Not found."}
    if expected in (401, FORBIDDEN, NOT_FOUND):
        assert AuditEvent.objects.count() == events, (route, persona)


# --- The staff calendar (mend/scheduling/views/calendar.py) -------------------------------------
# Every staff role sees the clinic's schedule and books, moves, cancels and changes statuses; the
# outsider's /schedule/ is Northside's own, and every Harbour appointment is a 404 to them. A
# therapist opens a colleague's appointment only when its client is on their care team (Dan with
# Theo is a 404 to Tess: tests/scheduling/test_calendar_pages.py).


class CalendarRow(NamedTuple):
    path: Callable[[Personas, Any], str]
    # Expected status for owner, admin, therapist, front_desk, outsider.
    expected: tuple[int, ...]
    data: Callable[[Personas, Any], dict[str, Any]] | None = None  # a POST when given


@pytest.fixture
def calendar_appointment(personas: Personas) -> Any:
    """Carol with Tess a month ahead at 10:00, booked; and Dan's request with Tess at 14:00."""
    from datetime import time

    from mend.core.availability import exact_local
    from mend.scheduling.services import appointment_book
    from mend.testing import build_schedule

    schedule = build_schedule(personas)
    day = harbour_today() + timedelta(days=30)

    def book(client: Any, hour: int, status: str) -> Any:
        return appointment_book(
            clinic=personas.harbour,
            actor=personas.actor("front_desk"),
            client=client,
            therapist=personas.memberships["therapist"],
            appointment_type=schedule.treatment,
            starts_at=exact_local(day, time(hour), personas.harbour.timezone),
            status=status,
        )

    return book(personas.carol, 10, "booked"), book(personas.dan, 14, "requested")


def _move_to(p: Personas, a: Any) -> dict[str, Any]:
    day = clock.local_date(a[0].starts_at, p.harbour.timezone)
    return {"day": day.isoformat(), "time": "12:00", "therapist": p.memberships["therapist"].pk}


CALENDAR_ROUTES: dict[str, CalendarRow] = {
    "schedule": CalendarRow(lambda p, a: "/schedule/", (OK, OK, OK, OK, OK)),
    "appointment_new": CalendarRow(lambda p, a: "/schedule/new/", (OK, OK, OK, OK, OK)),
    "appointment_detail": CalendarRow(lambda p, a: f"/schedule/appointments/{a[0].pk}/", (OK, OK, OK, OK, NOT_FOUND)),
    "appointment_move": CalendarRow(
        lambda p, a: f"/schedule/appointments/{a[0].pk}/move/", (302, 302, 302, 302, NOT_FOUND), _move_to
    ),
    "appointment_cancel": CalendarRow(
        lambda p, a: f"/schedule/appointments/{a[0].pk}/cancel/",
        (302, 302, 302, 302, NOT_FOUND),
        lambda p, a: {"reason": "Matrix"},
    ),
    # Approving Dan's request (Tess's own appointment, so she may open it).
    "appointment_status": CalendarRow(
        lambda p, a: f"/schedule/appointments/{a[1].pk}/status/",
        (302, 302, 302, 302, NOT_FOUND),
        lambda p, a: {"status": "booked"},
    ),
}


def test_every_calendar_route_is_in_the_matrix():
    from mend.scheduling import urls as scheduling_urls

    names = {p.name for p in scheduling_urls.urlpatterns if p.callback.__module__ == "mend.scheduling.views.calendar"}
    assert names == set(CALENDAR_ROUTES), "add a row to CALENDAR_ROUTES for every calendar route"


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in CALENDAR_ROUTES for p in PERSONAS]
)
def test_calendar_access(client, login, personas, calendar_appointment, route, persona):
    """Staff act; the outsider gets a 404 that names nothing of Harbour's and changes nothing."""
    row = CALENDAR_ROUTES[route]
    path = row.path(personas, calendar_appointment)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    data = row.data(personas, calendar_appointment) if row.data is not None else None
    response = http.get(path) if data is None else http.post(path, data)
    if persona == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        assert AuditEvent.objects.count() == events
        return
    expected = row.expected[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == NOT_FOUND:
        assert AuditEvent.objects.count() == events
        for secret in (b"Caroline", b"Carol", b"Dan", b"Tess Therapist"):
            assert secret not in response.content, (path, persona, secret)


# --- Schedule setup (mend/scheduling/views/setup.py) ----------------------------------------------
# Owners and admins set up everything; Tess opens and changes her own hours, exceptions and time off
# (403 for types and closures); front desk nothing (403); the outsider's own clinic answers the pages
# without an object, and every Harbour row is 404 to them. A refused write changes and audits nothing.


class SetupRows(NamedTuple):
    kind: Any  # an appointment type
    block: Any  # Tess's Monday 09:00–17:00
    exception: Any  # a day off of Tess's
    time_off: Any  # a day of time off of Tess's
    closure: Any  # Harbour closed one day


@pytest.fixture
def setup_rows(personas: Personas) -> SetupRows:
    from datetime import time

    from mend.scheduling.models import AppointmentType, Closure, HoursException, TimeOff, WorkingHours

    tess, day = personas.memberships["therapist"], harbour_today() + timedelta(days=40)
    return SetupRows(
        kind=AppointmentType.objects.create(clinic=personas.harbour, name="Treatment 60", duration_minutes=60),
        block=WorkingHours.objects.create(
            clinic=personas.harbour, therapist=tess, location=personas.location, weekday=0, start=time(9), end=time(17)
        ),
        exception=HoursException.objects.create(clinic=personas.harbour, therapist=tess, day=day, kind="day_off"),
        time_off=TimeOff.objects.create(clinic=personas.harbour, therapist=tess, first_day=day, last_day=day),
        closure=Closure.objects.create(clinic=personas.harbour, first_day=day, last_day=day),
    )


class SetupRow(NamedTuple):
    path: Callable[[Personas, SetupRows], str]
    # Expected status for owner, admin, therapist, front_desk, outsider.
    expected: tuple[int, ...]
    data: Callable[[Personas], dict[str, Any]] | None = None  # a POST when given


def _nothing(p: Personas) -> dict[str, Any]:
    return {}  # a button with no fields


def _hours(p: Personas, rest: str = "") -> str:
    return f"/schedule/setup/therapists/{p.memberships['therapist'].pk}/hours/{rest}"


MANAGERS = (OK, OK, FORBIDDEN, FORBIDDEN, OK)
HARBOUR_MANAGERS = (OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND)
TESS_AND_MANAGERS = (OK, OK, OK, FORBIDDEN, NOT_FOUND)
TESS_AND_MANAGERS_DO = (FOUND, FOUND, FOUND, FORBIDDEN, NOT_FOUND)
HARBOUR_MANAGERS_DO = (FOUND, FOUND, FORBIDDEN, FORBIDDEN, NOT_FOUND)
_LATER = (harbour_today() + timedelta(days=50)).isoformat()

SETUP_ROUTES: dict[str, SetupRow] = {
    "setup_index": SetupRow(lambda p, r: "/schedule/setup/", MANAGERS),
    "appointment_type_list": SetupRow(lambda p, r: "/schedule/setup/types/", MANAGERS),
    "appointment_type_create": SetupRow(lambda p, r: "/schedule/setup/types/new/", MANAGERS),
    "appointment_type_edit": SetupRow(lambda p, r: f"/schedule/setup/types/{r.kind.pk}/", HARBOUR_MANAGERS),
    "working_hours": SetupRow(lambda p, r: _hours(p), TESS_AND_MANAGERS),
    "working_hours_add": SetupRow(
        lambda p, r: _hours(p, "add/"),
        TESS_AND_MANAGERS_DO,
        lambda p: {"hours-weekday": "1", "hours-start": "09:00", "hours-end": "12:00", "hours-location": p.location.pk},
    ),
    "working_hours_remove": SetupRow(lambda p, r: _hours(p, f"{r.block.pk}/remove/"), TESS_AND_MANAGERS_DO, _nothing),
    "hours_exception_add": SetupRow(
        lambda p, r: _hours(p, "exceptions/add/"),
        TESS_AND_MANAGERS_DO,
        lambda p: {"exception-day": _LATER, "exception-kind": "day_off"},
    ),
    "hours_exception_remove": SetupRow(
        lambda p, r: _hours(p, f"exceptions/{r.exception.pk}/remove/"), TESS_AND_MANAGERS_DO, _nothing
    ),
    "time_off_add": SetupRow(
        lambda p, r: _hours(p, "time-off/add/"), TESS_AND_MANAGERS_DO, lambda p: {"off-first_day": _LATER}
    ),
    "time_off_remove": SetupRow(
        lambda p, r: _hours(p, f"time-off/{r.time_off.pk}/remove/"), TESS_AND_MANAGERS_DO, _nothing
    ),
    "closure_list": SetupRow(lambda p, r: "/schedule/setup/closures/", MANAGERS),
    # The outsider closes their own clinic: the route holds no Harbour object.
    "closure_add": SetupRow(
        lambda p, r: "/schedule/setup/closures/add/",
        (FOUND, FOUND, FORBIDDEN, FORBIDDEN, FOUND),
        lambda p: {"first_day": _LATER},
    ),
    "closure_remove": SetupRow(
        lambda p, r: f"/schedule/setup/closures/{r.closure.pk}/remove/", HARBOUR_MANAGERS_DO, _nothing
    ),
}


def test_every_setup_route_is_in_the_matrix():
    from mend.scheduling import urls as scheduling_urls

    names = {p.name for p in scheduling_urls.urlpatterns if p.callback.__module__ == "mend.scheduling.views.setup"}
    assert names == set(SETUP_ROUTES), "add a row to SETUP_ROUTES for every schedule setup route"


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in SETUP_ROUTES for p in PERSONAS]
)
def test_setup_access(client, login, personas, setup_rows, route, persona):
    from mend.scheduling.models import AppointmentType, Closure, HoursException, TimeOff, WorkingHours

    def rows() -> list[int]:
        return [m.objects.count() for m in (AppointmentType, Closure, HoursException, TimeOff, WorkingHours)]

    row = SETUP_ROUTES[route]
    path = row.path(personas, setup_rows)
    http = client if persona == "anonymous" else login(persona)
    events, before = AuditEvent.objects.count(), rows()
    data = row.data(personas) if row.data is not None else None
    response = http.get(path) if data is None else http.post(path, data)
    if persona == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        assert (AuditEvent.objects.count(), rows()) == (events, before)
        return
    expected = row.expected[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == FOUND:
        assert not response["Location"].startswith("/accounts/"), response["Location"]
        assert rows() != before and AuditEvent.objects.count() == events + 1
    if expected == FORBIDDEN:
        assert b"Not allowed" in response.content
    if expected in (FORBIDDEN, NOT_FOUND):
        assert (AuditEvent.objects.count(), rows()) == (events, before)
    if expected == NOT_FOUND:
        for secret in (b"Tess Therapist", b"Harbourfront", b"Treatment 60"):
            assert secret not in response.content, (path, persona, secret)


# --- Scheduling API (mend/scheduling/api.py) -----------------------------------------------------
# An appointment is client information: visible to the clinic's owner, admin and front desk, to its
# therapist and to the client's care team (Tess, not Theo), 404 for everyone else. Slots and types
# name no client: every member reads them; another clinic's type is unknown there (422).

UNPROCESSABLE = 422


class SchedulingApiRoute(NamedTuple):
    method: str
    path: Callable[[Any], str]
    # Expected status for owner, admin, therapist, therapist2, front_desk, outsider; signed out is 401.
    expected: tuple[int, ...]
    payload: Callable[[Personas, Any], dict[str, Any]] | None = None


def _scheduling_rows(p: Personas) -> Any:
    """Harbour's schedule and Carol's visit with Tess yesterday at noon (booked, so every change applies)."""
    from mend.core.availability import exact_local
    from mend.scheduling.models import Appointment
    from mend.testing import build_schedule

    schedule = build_schedule(p)
    starts_at = exact_local(harbour_today() - timedelta(days=1), time(12), p.harbour.timezone)
    schedule.appointment = Appointment.objects.create(
        clinic=p.harbour,
        client=p.carol,
        therapist=p.memberships["therapist"],
        room=p.room,
        location=p.location,
        appointment_type=schedule.treatment,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )
    schedule.future = (harbour_today() + timedelta(days=30)).isoformat()
    return schedule


SEEN_BY_TEAM = (OK, OK, OK, NOT_FOUND, OK, NOT_FOUND)
SCHEDULING_API: dict[str, SchedulingApiRoute] = {
    "availability": SchedulingApiRoute(
        "get",
        lambda s: f"/api/v1/availability?appointment_type={s.treatment.pk}&start={s.future}&end={s.future}",
        (OK, OK, OK, OK, OK, UNPROCESSABLE),
    ),
    "list_appointment_types": SchedulingApiRoute("get", lambda s: "/api/v1/appointment-types", (OK,) * 6),
    "list_appointments": SchedulingApiRoute("get", lambda s: "/api/v1/appointments", (OK,) * 6),
    "get_appointment": SchedulingApiRoute("get", lambda s: f"/api/v1/appointments/{s.appointment.pk}", SEEN_BY_TEAM),
    # Theo and the outsider cannot see Carol, so for them she is an unknown client.
    "create_appointment": SchedulingApiRoute(
        "post",
        lambda s: "/api/v1/appointments",
        (CREATED, CREATED, CREATED, UNPROCESSABLE, CREATED, UNPROCESSABLE),
        lambda p, s: {
            "client": p.carol.pk,
            "therapist": p.therapist_profile.pk,
            "appointment_type": s.treatment.pk,
            "start": f"{s.future}T10:00:00{_offset(p, s.future)}",
        },
    ),
    "reschedule_appointment": SchedulingApiRoute(
        "post",
        lambda s: f"/api/v1/appointments/{s.appointment.pk}/reschedule",
        SEEN_BY_TEAM,
        lambda p, s: {"start": f"{s.future}T14:00:00{_offset(p, s.future)}"},
    ),
    "cancel_appointment": SchedulingApiRoute(
        "post", lambda s: f"/api/v1/appointments/{s.appointment.pk}/cancel", SEEN_BY_TEAM, lambda p, s: {}
    ),
    "set_appointment_status": SchedulingApiRoute(
        "post",
        lambda s: f"/api/v1/appointments/{s.appointment.pk}/status",
        SEEN_BY_TEAM,
        lambda p, s: {"status": "arrived"},
    ),
}


def _offset(p: Personas, day: str) -> str:
    from datetime import date

    from mend.core.availability import exact_local

    return exact_local(date.fromisoformat(day), time(10), p.harbour.timezone).isoformat()[-6:]


def test_every_scheduling_api_operation_is_in_the_matrix():
    from mend.scheduling.api import router as scheduling_router

    operations = {
        operation.view_func.__name__
        for path_view in scheduling_router.path_operations.values()
        for operation in path_view.operations
    }
    assert set(SCHEDULING_API) == operations, "add a row to SCHEDULING_API for every scheduling API operation"


@pytest.mark.parametrize(("route", "persona"), _cases(SCHEDULING_API))
def test_scheduling_api_access(client, personas, route, persona):
    from mend.scheduling.models import Appointment

    rows = _scheduling_rows(personas)
    row = SCHEDULING_API[route]
    headers = {} if persona == "anonymous" else _bearer(personas, persona)
    events, count = AuditEvent.objects.count(), Appointment.objects.count()
    before = Appointment.objects.values_list("status", "starts_at").get(pk=rows.appointment.pk)
    call = getattr(client, row.method)
    if row.payload is None:
        response = call(row.path(rows), **headers)
    else:
        payload = row.payload(personas, rows)
        response = call(row.path(rows), data=payload, content_type="application/json", **headers)

    expected = 401 if persona == "anonymous" else row.expected[CLINICAL_PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (route, persona, response.status_code, response.content[:300])
    after = Appointment.objects.values_list("status", "starts_at").get(pk=rows.appointment.pk)
    if expected == CREATED:
        assert Appointment.objects.count() == count + 1
    elif row.method == "post" and expected == OK:
        assert after != before
    else:
        assert (Appointment.objects.count(), after) == (count, before)
    if expected == NOT_FOUND:
        assert response.json() == {"detail": "Not found."}
    if expected in (401, NOT_FOUND, UNPROCESSABLE):
        assert AuditEvent.objects.count() == events, (route, persona)
    if expected == OK and route == "list_appointments":
        ids = [a["id"] for a in response.json()["items"]]
        assert ids == ([] if persona in ("therapist2", "outsider") else [rows.appointment.pk])


# --- The waitlist (mend/scheduling/views/waitlist.py) ----------------------------------------------
# Every staff role keeps the waitlist (a therapist for the clients on their care team: Carol is on
# Tess's); the outsider's /schedule/waitlist/ is Northside's own and Harbour's entries are 404 to them,
# leaving no audit row. The emailed offer's page is public: its token is the credential.


class WaitlistRow(NamedTuple):
    path: Callable[[Any], str]
    # Expected status for anonymous, owner, admin, therapist, front_desk, outsider.
    expected: tuple[int, ...]
    post: bool = False


@pytest.fixture
def waitlist_rows(personas: Personas) -> Any:
    """Carol waiting for a treatment with anyone; Dan (given an email) offered a time a month ahead."""
    from types import SimpleNamespace

    from mend.core.availability import exact_local
    from mend.scheduling.models import WaitlistEntry, WaitlistOffer
    from mend.testing import build_schedule

    schedule = build_schedule(personas)
    day = harbour_today() + timedelta(days=30)

    def entry(client: Any) -> Any:
        return WaitlistEntry.objects.create(
            clinic=personas.harbour, client=client, appointment_type=schedule.treatment, earliest=day, latest=day
        )

    carol, dan = entry(personas.carol), entry(personas.dan)
    offer = WaitlistOffer.objects.create(
        clinic=personas.harbour,
        entry=dan,
        therapist=personas.memberships["therapist"],
        starts_at=exact_local(day, time(10), personas.harbour.timezone),
        token="matrix-offer",
        expires_at=timezone.now() + timedelta(days=1),
    )
    return SimpleNamespace(carol=carol, offer=offer)


STAFF_LOGIN = 302
WAITLIST_ROUTES: dict[str, WaitlistRow] = {
    "waitlist": WaitlistRow(lambda w: "/schedule/waitlist/", (STAFF_LOGIN, OK, OK, OK, OK, OK)),
    "waitlist_remove": WaitlistRow(
        lambda w: f"/schedule/waitlist/{w.carol.pk}/remove/", (STAFF_LOGIN, 302, 302, 302, 302, NOT_FOUND), post=True
    ),
    "waitlist_offer": WaitlistRow(lambda w: f"/book/offer/{w.offer.token}/", (OK, OK, OK, OK, OK, OK)),
}


def test_every_waitlist_route_is_in_the_matrix():
    from mend.scheduling import urls as scheduling_urls

    names = {p.name for p in scheduling_urls.urlpatterns if p.callback.__module__ == "mend.scheduling.views.waitlist"}
    assert names == set(WAITLIST_ROUTES), "add a row to WAITLIST_ROUTES for every waitlist route"


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in WAITLIST_ROUTES for p in PERSONAS]
)
def test_waitlist_access(client, login, personas, waitlist_rows, route, persona):
    from mend.scheduling.models import WaitlistEntry

    row = WAITLIST_ROUTES[route]
    path = row.path(waitlist_rows)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    response = http.post(path) if row.post else http.get(path)
    expected = row.expected[PERSONAS.index(persona)]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if persona == "anonymous" and route != "waitlist_offer":
        assert response["Location"].startswith("/accounts/login/?next=")
    state = WaitlistEntry.objects.get(pk=waitlist_rows.carol.pk).state
    if expected == NOT_FOUND or persona == "anonymous":
        assert AuditEvent.objects.count() == events
        assert state == WaitlistEntry.State.WAITING
        assert b"Carol" not in response.content and b"Caroline" not in response.content
    elif route == "waitlist_remove":
        assert state == WaitlistEntry.State.REMOVED


def test_a_forged_waitlist_offer_link_is_404(client, waitlist_rows):
    assert client.get("/book/offer/matrix-offer-forged/").status_code == 404


# --- Calendar feeds and series (mend/scheduling/views/feeds.py, series.py) -------------------------
# Tess manages her own calendars; owners and admins anyone's; a colleague or front desk 403; the
# outsider 404. The feed itself needs no sign-in: its secret token is the key (unknown tokens 404).
# Series: staff book a client's series; front desk from the client (the plan is clinical, so 403 from
# the episode); the outsider never sees Harbour's client or series (404).


class FeedRows(NamedTuple):
    tess: Any  # Tess's membership
    external: Any  # a personal calendar of Tess's
    series_id: str  # a series of Carol's with Tess
    session: Any  # its first session
    episode: Any  # Carol's episode with a plan


@pytest.fixture
def feed_rows(personas: Personas) -> FeedRows:
    from datetime import time

    from mend.clinical import services as clinical
    from mend.scheduling.services import series_book, series_rule
    from mend.scheduling.services.feeds import external_calendar_save
    from mend.testing import build_schedule

    schedule = build_schedule(personas)
    tess = personas.memberships["therapist"]
    external = external_calendar_save(
        actor=personas.actor("therapist"), therapist=tess, url="https://cal.example/t.ics"
    )
    booked = series_book(
        actor=personas.actor("front_desk"),
        clinic=personas.harbour,
        client=personas.carol,
        therapist=tess,
        appointment_type=schedule.treatment,
        rule=series_rule(first_day=harbour_today() + timedelta(days=20), wall=time(10), count=3),
    )
    episode = clinical.episode_open(
        actor=personas.actor("therapist"),
        client=personas.carol,
        data={"title": "Low back pain", "condition": "low_back_pain", "started_on": harbour_today()},
    )
    clinical.plan_save(
        actor=personas.actor("therapist"),
        episode=episode,
        data={"sessions_per_week": 1, "weeks": 4, "session_minutes": 60},
        techniques=[{"technique": "swedish", "region": "lower_back"}],
    )
    return FeedRows(tess, external, str(booked[0].series_id), booked[0], episode)


class FeedRow(NamedTuple):
    path: Callable[[FeedRows], str]
    # Expected status for owner, admin, therapist, front_desk, outsider.
    expected: tuple[int, ...]
    data: Callable[[FeedRows], dict[str, Any]] | None = None


FEED_ROUTES: dict[str, FeedRow] = {
    # Only a therapist has calendars of their own; the others are sent nowhere.
    "schedule_my_calendars": FeedRow(
        lambda r: "/schedule/calendars/", (NOT_FOUND, NOT_FOUND, 302, NOT_FOUND, NOT_FOUND)
    ),
    "schedule_calendars": FeedRow(lambda r: f"/schedule/calendars/{r.tess.pk}/", (OK, OK, OK, FORBIDDEN, NOT_FOUND)),
    "schedule_feed_create": FeedRow(
        lambda r: f"/schedule/calendars/{r.tess.pk}/feed/new/", (OK, OK, OK, FORBIDDEN, NOT_FOUND), lambda r: {}
    ),
    "schedule_feed_revoke": FeedRow(
        lambda r: f"/schedule/calendars/{r.tess.pk}/feed/revoke/", (302, 302, 302, FORBIDDEN, NOT_FOUND), lambda r: {}
    ),
    "schedule_external_add": FeedRow(
        lambda r: f"/schedule/calendars/{r.tess.pk}/external/",
        (422, 422, 422, FORBIDDEN, NOT_FOUND),
        lambda r: {"url": "ftp://nowhere"},
    ),
    "schedule_external_delete": FeedRow(
        lambda r: f"/schedule/calendars/external/{r.external.pk}/delete/",
        (302, 302, 302, NOT_FOUND, NOT_FOUND),
        lambda r: {},
    ),
    "schedule_external_refresh": FeedRow(
        lambda r: f"/schedule/calendars/external/{r.external.pk}/refresh/",
        (302, 302, 302, NOT_FOUND, NOT_FOUND),
        lambda r: {},
    ),
    "schedule_feed": FeedRow(lambda r: "/schedule/feed/unknown-token.ics", (NOT_FOUND,) * 5),
    "series_new": FeedRow(
        lambda r: f"/schedule/series/new/?episode={r.episode.pk}", (OK, OK, OK, FORBIDDEN, NOT_FOUND)
    ),
    "series_detail": FeedRow(lambda r: f"/schedule/series/{r.series_id}/", (OK, OK, OK, OK, NOT_FOUND)),
    "series_change": FeedRow(
        lambda r: f"/schedule/series/{r.series_id}/{r.session.pk}/",
        (302, 302, 302, 302, NOT_FOUND),
        lambda r: {"action": "move", "time": "11:00"},
    ),
}


def test_every_feed_and_series_route_is_in_the_matrix():
    from mend.scheduling import urls as scheduling_urls

    modules = ("mend.scheduling.views.feeds", "mend.scheduling.views.series")
    names = {p.name for p in scheduling_urls.urlpatterns if p.callback.__module__ in modules}
    assert names == set(FEED_ROUTES), "add a row to FEED_ROUTES for every calendar feed and series route"


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in FEED_ROUTES for p in PERSONAS]
)
def test_feed_and_series_access(client, login, personas, feed_rows, route, persona):
    row = FEED_ROUTES[route]
    path = row.path(feed_rows)
    http = client if persona == "anonymous" else login(persona)
    data = row.data(feed_rows) if row.data is not None else None
    response = http.get(path) if data is None else http.post(path, data)
    if persona == "anonymous":
        if route == "schedule_feed":
            assert response.status_code == NOT_FOUND
        else:
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        return
    expected = row.expected[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == NOT_FOUND:
        for secret in (b"Caroline", b"Carol", b"Tess Therapist", b"cal.example"):
            assert secret not in response.content, (path, persona, secret)


# --- Online booking (mend/scheduling/views/online.py): public, no sign-in -----------------------
# Anyone may book: every persona, signed in or not, gets the same public pages (a staff member's
# session changes nothing). The hold's token and the emailed links are the credentials; another
# clinic's service under this clinic's address, or a link that is not one, is a 404.


class OnlineBooking(NamedTuple):
    type_id: int
    hold: str
    cancel: str
    reschedule: str
    booked: str


@pytest.fixture
def online(personas: Personas) -> OnlineBooking:
    from mend.core.availability import exact_local
    from mend.scheduling.models import Hold
    from mend.scheduling.queries.online import link_token
    from mend.scheduling.services import appointment_book
    from mend.testing import build_schedule

    schedule = build_schedule(personas)
    day = harbour_today() + timedelta(days=30)
    appointment = appointment_book(
        clinic=personas.harbour,
        actor=personas.actor("front_desk"),
        client=personas.carol,
        therapist=personas.memberships["therapist"],
        appointment_type=schedule.treatment,
        starts_at=exact_local(day, time(10), personas.harbour.timezone),
    )
    start = exact_local(day, time(14), personas.harbour.timezone)
    hold = Hold.objects.create(
        clinic=personas.harbour,
        therapist=personas.memberships["therapist"],
        appointment_type=schedule.treatment,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        token="matrix-hold",
        expires_at=timezone.now() + timedelta(days=1),
    )
    return OnlineBooking(
        type_id=schedule.treatment.pk,
        hold=hold.token,
        cancel=link_token(appointment, "cancel"),
        reschedule=link_token(appointment, "reschedule"),
        booked=link_token(appointment, "booked"),
    )


# route name → (path builder, status for everyone, anonymous included). The code and confirm steps
# send a visitor who has not given their details yet back to the details page.
ONLINE_ROUTES: dict[str, tuple[Callable[[OnlineBooking], str], int]] = {
    "book_start": (lambda o: "/book/harbour/", OK),
    "book_therapist": (lambda o: f"/book/harbour/{o.type_id}/", OK),
    "book_slots": (lambda o: f"/book/harbour/{o.type_id}/times/?therapist=any", OK),
    "book_details": (lambda o: f"/book/harbour/hold/{o.hold}/", OK),
    "book_code": (lambda o: f"/book/harbour/hold/{o.hold}/code/", 302),
    "book_confirm": (lambda o: f"/book/harbour/hold/{o.hold}/confirm/", 302),
    "book_done": (lambda o: f"/book/harbour/booked/{o.booked}/", OK),
    "book_cancel": (lambda o: f"/booking/cancel/{o.cancel}/", OK),
    "book_reschedule": (lambda o: f"/booking/reschedule/{o.reschedule}/", OK),
}


def test_every_online_booking_route_is_in_the_matrix():
    from mend.scheduling import urls as scheduling_urls

    names = {p.name for p in scheduling_urls.urlpatterns if p.name and p.name.startswith("book_")}
    assert names == set(ONLINE_ROUTES), "add a row to ONLINE_ROUTES for every online booking route"


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in ONLINE_ROUTES for p in PERSONAS]
)
def test_online_booking_is_open_to_everyone(client, login, personas, online, route, persona):
    build, expected = ONLINE_ROUTES[route]
    http = client if persona == "anonymous" else login(persona)
    response = http.get(build(online))
    assert response.status_code == expected, (route, persona, response.status_code, response.content[:300])
    if expected == 302:
        assert response["Location"] == f"/book/harbour/hold/{online.hold}/"


@pytest.mark.parametrize(
    "path",
    [
        lambda o: f"/book/northside/{o.type_id}/",  # Harbour's service under Northside's address
        lambda o: f"/book/northside/hold/{o.hold}/",  # Harbour's hold under Northside's address
        lambda o: f"/book/northside/booked/{o.booked}/",
        lambda o: "/book/harbour/hold/not-a-hold/",
        lambda o: f"/booking/cancel/{o.reschedule}/",  # a reschedule link is not a cancel link
        lambda o: f"/booking/reschedule/{o.cancel[:-2]}xx/",
    ],
)
def test_online_booking_objects_of_another_clinic_or_forged_links_are_404(client, personas, online, path):
    response = client.get(path(online))
    assert response.status_code == 404
    assert b"Carol" not in response.content and b"Caroline" not in response.content


# --- The health history a client answers from home --------------------------------------------
# The emailed link needs no sign-in: whoever holds it (a staff member opening it too) gets the
# questionnaire; a forged or used link answers the same to everyone and shows no one's name.


def _intake_token(p: Personas) -> str:
    """A questionnaire sent to Carol: the token from the emailed link."""
    import re

    from mend.outbox.models import OutboundMessage

    intake = services.client_intake_send(clinic=p.harbour, client=p.carol, now=timezone.now())
    return re.search(r"/intake/([^/\s]+)/", OutboundMessage.objects.get(key=f"intake:{intake.pk}").body).group(1)


def _reported_intake(p: Personas, token: str = "") -> Any:
    """A questionnaire Carol answered from home (all no), waiting for a clinician's review."""
    from mend.clinical.queries.intake import client_questions

    answers = {rule.id: False for rule in client_questions()}
    return services.client_intake_submit(token=token or _intake_token(p), answers=answers, now=timezone.now())


INTAKE_PUBLIC_ROUTES: dict[str, Callable[[Personas], str]] = {
    "client_intake": lambda p: f"/intake/{_intake_token(p)}/",
    "client_intake_thanks": lambda p: "/intake/thanks/",
}


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in INTAKE_PUBLIC_ROUTES for p in CLINICAL_PERSONAS]
)
def test_the_emailed_intake_is_open_to_everyone(client, login, personas, route, persona):
    http = client if persona == "anonymous" else login(persona)
    response = http.get(INTAKE_PUBLIC_ROUTES[route](personas))
    assert response.status_code == OK, (route, persona)
    assert b"Caroline" not in response.content  # the first name she goes by, never her legal or family name
    assert personas.carol.legal_family_name.encode() not in response.content


@pytest.mark.parametrize("persona", CLINICAL_PERSONAS)
def test_an_unusable_intake_link_answers_the_same_to_everyone(client, login, personas, persona):
    http = client if persona == "anonymous" else login(persona)
    used = _intake_token(personas)
    _reported_intake(personas, token=used)
    for path, status in ((f"/intake/{used}/", 409), ("/intake/forged-token/", NOT_FOUND)):
        response = http.get(path)
        assert response.status_code == status, (path, persona)
        assert b"Carol" not in response.content


# --- Billing settings (mend/billing/views/setup.py) ------------------------------------------------
# Owners and admins set up how the clinic bills; therapists and front desk bill with it and get 403;
# the outsider manages Northside's own settings (pages without a Harbour row) and gets 404 on Harbour's.


def _billing_setup_rows(p: Personas) -> dict[str, Any]:
    """One of each of Harbour's billing settings rows, none in use (so Remove deletes it)."""
    from decimal import Decimal

    from mend.billing.models import MembershipPlan, PackagePlan, Payer, Price, Product, TaxRate
    from mend.scheduling.models import AppointmentType

    kind = AppointmentType.objects.create(clinic=p.harbour, name="Treatment 60", duration_minutes=60)
    return {
        "tax-rates": TaxRate.objects.create(clinic=p.harbour, name="HST", rate=Decimal("13")),
        "prices": Price.objects.create(clinic=p.harbour, appointment_type=kind, amount=Decimal("120")),
        "products": Product.objects.create(clinic=p.harbour, name="Foam roller", price=Decimal("35")),
        "payers": Payer.objects.create(clinic=p.harbour, name="Blue Cross"),
        "packages": PackagePlan.objects.create(
            clinic=p.harbour, name="Five", appointment_type=kind, sessions=5, price=Decimal("550")
        ),
        "memberships": MembershipPlan.objects.create(
            clinic=p.harbour, name="Monthly", monthly_fee=Decimal("99"), appointment_type=kind
        ),
    }


BILLING_MANAGERS = (OK, OK, FORBIDDEN, FORBIDDEN, OK)
BILLING_HARBOUR_MANAGERS = (OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND)
BILLING_HARBOUR_MANAGERS_DO = (302, 302, FORBIDDEN, FORBIDDEN, NOT_FOUND)
_BILLING_KINDS = {
    "tax_rate": "tax-rates",
    "price": "prices",
    "product": "products",
    "payer": "payers",
    "package_plan": "packages",
    "membership_plan": "memberships",
}


class BillingSetupRow(NamedTuple):
    path: Callable[[dict[str, Any]], str]
    # Expected status for owner, admin, therapist, front_desk, outsider.
    expected: tuple[int, ...]
    post: bool = False


def _billing_setup_routes() -> dict[str, BillingSetupRow]:
    routes = {"billing_settings": BillingSetupRow(lambda r: "/billing/settings/", BILLING_MANAGERS)}
    for name, part in _BILLING_KINDS.items():
        routes[f"{name}_create"] = BillingSetupRow(
            lambda r, part=part: f"/billing/settings/{part}/new/", BILLING_MANAGERS
        )
        routes[f"{name}_edit"] = BillingSetupRow(
            lambda r, part=part: f"/billing/settings/{part}/{r[part].pk}/", BILLING_HARBOUR_MANAGERS
        )
        routes[f"{name}_remove"] = BillingSetupRow(
            lambda r, part=part: f"/billing/settings/{part}/{r[part].pk}/remove/",
            BILLING_HARBOUR_MANAGERS_DO,
            post=True,
        )
    return routes


BILLING_SETUP_ROUTES = _billing_setup_routes()


def test_every_billing_setup_route_is_in_the_matrix():
    from mend.billing.views import setup as billing_setup_views

    names = {p.name for p in billing_setup_views.urlpatterns}
    assert names == set(BILLING_SETUP_ROUTES), "add a row to BILLING_SETUP_ROUTES for every billing settings route"


@pytest.mark.parametrize(
    ("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in BILLING_SETUP_ROUTES for p in PERSONAS]
)
def test_billing_setup_access(client, login, personas, route, persona):
    from mend.billing.models import MembershipPlan, PackagePlan, Payer, Price, Product, TaxRate

    def counts() -> list[int]:
        return [m.objects.count() for m in (TaxRate, Price, Product, Payer, PackagePlan, MembershipPlan)]

    rows = _billing_setup_rows(personas)
    row = BILLING_SETUP_ROUTES[route]
    path = row.path(rows)
    http = client if persona == "anonymous" else login(persona)
    events, before = AuditEvent.objects.count(), counts()
    response = http.post(path) if row.post else http.get(path)
    if persona == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        assert (AuditEvent.objects.count(), counts()) == (events, before)
        return
    expected = row.expected[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == 302:
        assert response["Location"] == "/billing/settings/"
        assert counts() != before and AuditEvent.objects.count() == events + 1
    if expected == FORBIDDEN:
        assert b"Not allowed" in response.content
    if expected in (FORBIDDEN, NOT_FOUND):
        assert (AuditEvent.objects.count(), counts()) == (events, before)
    if expected == NOT_FOUND:
        for secret in (b"Blue Cross", b"Foam roller", b"Treatment 60"):
            assert secret not in response.content, (path, persona, secret)
