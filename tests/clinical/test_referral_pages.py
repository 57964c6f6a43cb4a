"""Referral pages: entering the physician's prescription, its diagnoses and document, and the
ICD-10-CM search that helps fill it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mend.audit.models import Action, AuditEvent
from mend.clinical.models import Referral
from mend.testing import harbour_today

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _form(personas, **overrides):
    today = harbour_today()
    data = {
        "provider": personas.referrer.pk,
        "referred_on": (today - timedelta(days=2)).isoformat(),
        "received_on": today.isoformat(),
        "diagnoses": "M54.50 Low back pain, unspecified\nM54.2",
        "reason": "Chronic low back pain, six months",
        "requested_treatment": "Massage therapy, soft tissue",
        "visits_authorised": "8",
        "frequency": "1× per week",
        "valid_until": (today + timedelta(days=90)).isoformat(),
        "precautions": "Avoid prone positioning for long",
    }
    data.update(overrides)
    return data


def test_a_referral_is_added_with_its_codes_and_document(login, personas, episode):
    http = login("therapist")
    upload = SimpleUploadedFile("referral.pdf", PDF, content_type="application/pdf")
    response = http.post(f"/episodes/{episode.pk}/referrals/new/", {**_form(personas), "document": upload})
    assert response.status_code == 302 and response["Location"] == f"/episodes/{episode.pk}/"
    referral = Referral.objects.get(episode=episode)
    assert referral.diagnosis_codes == ["M54.50", "M54.2"]
    assert referral.diagnoses[1]["description"] == "Cervicalgia"
    assert referral.document_type == "application/pdf" and referral.visits_authorised == 8

    chart = http.get(f"/episodes/{episode.pk}/").content.decode()
    assert "Cervicalgia" in chart and "0 of 8 used" in chart and f"/referrals/{referral.pk}/document/" in chart


def test_the_document_downloads_with_its_stored_type_and_is_audited(login, personas, episode):
    http = login("therapist")
    upload = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    http.post(f"/episodes/{episode.pk}/referrals/new/", {**_form(personas), "document": upload})
    referral = Referral.objects.get(episode=episode)
    response = http.get(f"/referrals/{referral.pk}/document/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_type="clinical.referral", object_id=str(referral.pk), client_id=personas.carol.pk
    ).exists()


@pytest.mark.parametrize(("persona", "status"), [("front_desk", 403), ("therapist2", 404), ("outsider", 404)])
def test_the_document_is_closed_to_those_who_may_not_see_the_client(login, personas, episode, persona, status):
    login("therapist").post(
        f"/episodes/{episode.pk}/referrals/new/",
        {**_form(personas), "document": SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")},
    )
    referral = Referral.objects.get(episode=episode)
    assert login(persona).get(f"/referrals/{referral.pk}/document/").status_code == status


def test_an_unknown_code_is_named_and_every_typed_code_is_kept(login, personas, episode):
    typed = "M54.50\nQ99.999X\nM54.5"
    response = login("therapist").post(f"/episodes/{episode.pk}/referrals/new/", _form(personas, diagnoses=typed))
    assert response.status_code == 400
    errors = response.context["form"].errors["diagnoses"]
    assert any("Q99.999X is not an ICD-10-CM code" in e for e in errors)
    assert any("M54.5 is a heading" in e for e in errors)
    page = response.content.decode()
    assert "M54.50\nQ99.999X\nM54.5</textarea>" in page
    assert "Chronic low back pain, six months" in page
    assert not Referral.objects.exists()


def test_a_referral_that_expired_before_it_was_written_is_refused(login, personas, episode):
    today = harbour_today()
    response = login("therapist").post(
        f"/episodes/{episode.pk}/referrals/new/",
        _form(personas, referred_on=today.isoformat(), valid_until=(today - timedelta(days=10)).isoformat()),
    )
    assert response.status_code == 400
    assert "before it was written" in response.context["form"].errors["valid_until"][0]
    page = response.content.decode()
    assert f'value="{(today - timedelta(days=10)).isoformat()}"' in page
    assert "M54.50 Low back pain, unspecified" in page


def test_a_document_that_is_not_a_pdf_or_image_is_refused(login, personas, episode):
    upload = SimpleUploadedFile("referral.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = login("therapist").post(
        f"/episodes/{episode.pk}/referrals/new/", {**_form(personas), "document": upload}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["document"] == [
        "The referral document must be a PDF, JPEG, PNG, HEIC or TIFF file; referral.pdf is not."
    ]
    assert "choose the file again" in response.content.decode()
    assert not Referral.objects.exists()


def test_editing_a_referral_shows_its_codes_and_saves_changes(login, personas, episode, referral):
    http = login("therapist")
    page = http.get(f"/referrals/{referral.pk}/edit/").content.decode()
    assert "M54.50 Low back pain, unspecified" in page
    response = http.post(f"/referrals/{referral.pk}/edit/", _form(personas, visits_authorised="12"))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.visits_authorised == 12 and referral.diagnosis_codes == ["M54.50", "M54.2"]


def test_closing_a_referral(login, episode, referral):
    http = login("therapist")
    assert http.get(f"/referrals/{referral.pk}/close/").status_code == 405
    assert http.post(f"/referrals/{referral.pk}/close/").status_code == 302
    referral.refresh_from_db()
    assert referral.closed_at is not None
    assert "Closed" in http.get(f"/episodes/{episode.pk}/").content.decode()


@pytest.mark.parametrize(("persona", "status"), [("front_desk", 403), ("therapist2", 404), ("outsider", 404)])
def test_referral_pages_are_closed_to_those_who_may_not_see_the_client(login, episode, referral, persona, status):
    http = login(persona)
    assert http.get(f"/episodes/{episode.pk}/referrals/new/").status_code == status
    assert http.get(f"/referrals/{referral.pk}/edit/").status_code == status
    assert http.post(f"/referrals/{referral.pk}/close/").status_code == status


def test_icd10_search_finds_billable_codes_by_words_and_by_code(login):
    http = login("therapist")
    by_words = http.get("/icd10/", {"q": "cervicalgia"}, HTTP_HX_REQUEST="true")
    assert by_words.status_code == 200
    assert 'data-code="M54.2"' in by_words.content.decode()
    by_code = http.get("/icd10/", {"q": "M54.5"})
    codes = [c.code for c in by_code.context["codes"]]
    assert "M54.50" in codes and "M54.5" not in codes and len(codes) <= 20


def test_icd10_search_is_for_clinical_roles_only(login):
    assert login("front_desk").get("/icd10/", {"q": "back"}).status_code == 403
