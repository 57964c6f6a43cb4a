"""Uploaded documents: stored under random names with the detected type's extension, the uploader's
name kept as data, and a replaced document never left on disk."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from mend.clinical import documents, services
from mend.clinical.models import Clearance, Referral
from mend.testing import harbour_today

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 32
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _form(personas, **overrides):
    today = harbour_today()
    return {
        "provider": personas.referrer.pk,
        "referred_on": (today - timedelta(days=2)).isoformat(),
        "received_on": today.isoformat(),
        "diagnoses": "M54.50",
        "visits_authorised": "8",
        **overrides,
    }


def _files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("content", "extension", "kind"),
    [
        (PDF, ".pdf", "PDF"),
        (PNG, ".png", "PNG"),
        (JPEG, ".jpg", "JPEG"),
        (TIFF, ".tif", "TIFF"),
        (HEIC, ".heic", "HEIC"),
    ],
)
def test_a_document_is_stored_under_a_random_name_with_the_detected_extension(
    login, personas, episode, media, content, extension, kind
):
    """The name on disk is random and its extension follows the bytes, whatever the upload was called."""
    http = login("therapist")
    upload = SimpleUploadedFile("../../Dr Referrer scan.pdf", content, content_type="application/pdf")
    response = http.post(f"/episodes/{episode.pk}/referrals/new/", {**_form(personas), "document": upload})
    assert response.status_code == 302
    referral = Referral.objects.get(episode=episode)
    folder = f"referrals/{referral.clinic_id}/{referral.client_id}/"
    assert re.fullmatch(re.escape(folder) + r"[0-9a-f]{32}" + re.escape(extension), referral.document.name)
    assert _files(media) == [referral.document.name]
    # The uploader's name is data: shown on the chart, offered (with the real type's extension) on download.
    assert referral.document_name == "Dr Referrer scan.pdf"
    chart = http.get(f"/episodes/{episode.pk}/").content.decode()
    assert f'Dr Referrer scan.pdf</a> <span class="muted small">({kind})' in chart
    download = http.get(f"/referrals/{referral.pk}/document/")
    assert download["Content-Disposition"] == f'attachment; filename="Dr Referrer scan{extension}"'
    assert b"".join(download.streaming_content) == content


def test_a_file_that_only_claims_to_be_a_pdf_is_refused_naming_the_field(login, personas, episode, media):
    upload = SimpleUploadedFile("letter.pdf", HTML, content_type="application/pdf")
    response = login("therapist").post(
        f"/episodes/{episode.pk}/referrals/new/", {**_form(personas), "document": upload}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["document"] == [
        "The referral document must be a PDF, JPEG, PNG, HEIC or TIFF file; letter.pdf is not."
    ]
    assert _files(media) == [] and not Referral.objects.exists()


def test_a_clearance_letter_is_stored_under_a_random_name(login, episode, tess, media):
    services.finding_add(actor=tess, episode=episode, finding=services.FindingInput("recent_surgery", region="knee"))
    clearance = services.clearance_record(
        actor=tess,
        episode=episode,
        data={"rule_id": "recent_surgery", "cleared_by": "Dr. Bone", "cleared_on": tess.today()},
        document=SimpleUploadedFile("Dr Bone <i>clearance.jpeg", JPEG),
    )
    clearance = Clearance.objects.get(pk=clearance.pk)
    assert re.fullmatch(
        rf"clearances/{clearance.clinic_id}/{clearance.client_id}/[0-9a-f]{{32}}\.jpg", clearance.document.name
    )
    assert clearance.document_name == "Dr Bone <i>clearance.jpeg"
    assert clearance.document_download_name == "Dr Bone <i>clearance.jpg"
    # The chart names the letter as it was uploaded (escaped) and links to it.
    chart = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    link = f'<a href="/clearances/{clearance.pk}/document/">Dr Bone &lt;i&gt;clearance.jpeg</a> (JPEG)'
    assert link in chart


def test_replacing_a_referral_document_deletes_the_old_file(
    login, personas, episode, media, django_capture_on_commit_callbacks
):
    http = login("therapist")
    with django_capture_on_commit_callbacks(execute=True):
        http.post(
            f"/episodes/{episode.pk}/referrals/new/",
            {**_form(personas), "document": SimpleUploadedFile("first.pdf", PDF)},
        )
    referral = Referral.objects.get(episode=episode)
    first = referral.document.name
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            f"/referrals/{referral.pk}/edit/", {**_form(personas), "document": SimpleUploadedFile("second.png", PNG)}
        )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.document.name != first and referral.document_name == "second.png"
    assert not default_storage.exists(first)
    assert _files(media) == [referral.document.name]
    # Editing without a new file keeps the one on file.
    with django_capture_on_commit_callbacks(execute=True):
        http.post(f"/referrals/{referral.pk}/edit/", _form(personas, visits_authorised="9"))
    assert _files(media) == [referral.document.name]


def test_a_replacement_that_fails_keeps_the_old_file_and_leaves_no_new_one(
    personas, episode, referral, tess, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_save(
            actor=tess,
            episode=episode,
            referral=referral,
            data={"referred_on": referral.referred_on},
            diagnoses=referral.diagnosis_codes,
            document=SimpleUploadedFile("first.pdf", PDF),
        )
    kept = referral.document.name
    failing_audit = mock.patch("mend.clinical.services.referrals.audit", side_effect=RuntimeError("audit down"))
    with failing_audit, pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        services.referral_save(
            actor=tess,
            episode=episode,
            referral=Referral.objects.get(pk=referral.pk),
            data={"referred_on": referral.referred_on},
            diagnoses=referral.diagnosis_codes,
            document=SimpleUploadedFile("second.pdf", PDF),
        )
    assert _files(media) == [kept]


def test_the_uploaders_name_is_kept_as_plain_data():
    assert documents.original_name("C:\\Users\\me\\scan\x00\x1b.pdf") == "scan.pdf"
    assert documents.original_name("../../etc/passwd") == "passwd"
    assert documents.download_name("scan", "image/png", fallback="referral") == "scan.png"
    assert documents.download_name("", "application/pdf", fallback="referral") == "referral.pdf"


def test_a_referral_whose_file_is_gone_answers_404_not_a_server_error(login, personas, episode, media):
    """A file lost from storage (a restore without media, a disk swap) is a 404 naming nothing, as for
    a clearance letter, never a 500 with the storage path in the log."""
    http = login("therapist")
    upload = SimpleUploadedFile("scan.pdf", PDF)
    http.post(f"/episodes/{episode.pk}/referrals/new/", {**_form(personas), "document": upload})
    referral = Referral.objects.get(episode=episode)
    default_storage.delete(referral.document.name)
    assert http.get(f"/referrals/{referral.pk}/document/").status_code == 404
