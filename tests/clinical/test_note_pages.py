"""Treatment-note pages: what a therapist relies on when writing, signing and amending a SOAP note."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.audit.models import Action, AuditEvent
from mend.clinical import services
from mend.clinical.models import NoteStatus, TreatmentNote
from mend.testing import harbour_today, intake_answers, signed_note

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

HTMX = {"HTTP_HX_REQUEST": "true"}


def note_form(**changes: Any) -> dict[str, Any]:
    """What the note form posts: every SOAP field and one technique row."""
    data: dict[str, Any] = {
        "subjective": "Stiff after long drives; better in the evening.",
        "pain_pre": "6",
        "sleep_quality": "5",
        "stress": "4",
        "objective": "Hypertonic left erector spinae; trigger point in left QL.",
        "modalities": ["heat"],
        "pain_post": "3",
        "response": "Looser; tolerated pressure 3 well.",
        "adverse_events": "",
        "home_care": "Knee-to-chest stretch twice a day.",
        "plan_next": "Add gluteal work.",
        "visit_on": harbour_today().isoformat(),
        "duration_minutes": "60",
        "technique-TOTAL_FORMS": "2",
        "technique-INITIAL_FORMS": "0",
        "technique-MIN_NUM_FORMS": "0",
        "technique-MAX_NUM_FORMS": "1000",
        "technique-0-technique": "myofascial_release",
        "technique-0-region": "lower_back",
        "technique-0-side": "left",
        "technique-0-minutes": "30",
        "technique-0-pressure": "3",
        # An empty row, as the form always offers one: it is skipped.
        "technique-1-technique": "",
        "technique-1-region": "",
        "technique-1-side": "",
        "technique-1-minutes": "",
        "technique-1-pressure": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def draft(tess, episode) -> TreatmentNote:
    return services.note_start(actor=tess, episode=episode)


def test_a_note_goes_from_start_through_autosave_and_signing_to_an_addendum(login, episode, referral):
    client = login("therapist")

    response = client.post(f"/episodes/{episode.pk}/notes/new/")
    note = TreatmentNote.objects.get(episode=episode)
    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}/edit/"

    page = client.get(f"/notes/{note.pk}/edit/")
    assert page.status_code == 200
    assert b'name="subjective"' in page.content and b"autofocus" in page.content
    assert f'hx-post="/notes/{note.pk}/autosave/"'.encode() in page.content

    saved = client.post(f"/notes/{note.pk}/autosave/", note_form(), **HTMX)
    assert saved.status_code == 200
    assert b"Draft saved" in saved.content and b"<html" not in saved.content
    note.refresh_from_db()
    assert (note.subjective, note.pain_pre, note.pain_post, note.modalities) == (
        "Stiff after long drives; better in the evening.",
        6,
        3,
        ["heat"],
    )
    assert [(t.technique, t.region, t.side, t.minutes, t.pressure) for t in note.techniques.all()] == [
        ("myofascial_release", "lower_back", "left", 30, 3)
    ]

    signed = client.post(f"/notes/{note.pk}/sign/", note_form())
    assert signed.status_code == 302 and signed["Location"] == f"/notes/{note.pk}/"
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and note.referral_id == referral.pk

    # A signed note: the edit page sends to the note; writes are refused with a clear reason.
    assert client.get(f"/notes/{note.pk}/edit/")["Location"] == f"/notes/{note.pk}/"
    refused = client.post(f"/notes/{note.pk}/autosave/", note_form(subjective="rewritten"), **HTMX)
    assert refused.status_code == 409 and b"was signed" in refused.content and b"Add an addendum" in refused.content
    refused = client.post(f"/notes/{note.pk}/edit/", note_form(subjective="rewritten"))
    assert refused.status_code == 409 and b"Add an addendum" in refused.content
    note.refresh_from_db()
    assert note.subjective == "Stiff after long drives; better in the evening."

    added = client.post(
        f"/notes/{note.pk}/addenda/new/", {"reason": "Late entry", "text": "Client phoned: no soreness."}
    )
    assert added.status_code == 302
    detail = client.get(f"/notes/{note.pk}/")
    content = detail.content.decode()
    assert "Client phoned: no soreness." in content and "Late entry" in content
    assert "verified" in content and note.content_hash[:12] in content
    assert "Myofascial release" in content and "Lower back" in content


def test_autosave_with_a_bad_value_names_the_field_and_saves_nothing(login, draft):
    client = login("therapist")
    response = client.post(f"/notes/{draft.pk}/autosave/", note_form(pain_pre="11"), **HTMX)
    assert response.status_code == 400
    assert b"Not saved yet" in response.content and b"#id_pain_pre" in response.content
    draft.refresh_from_db()
    assert draft.pain_pre is None and draft.subjective == ""


def test_save_draft_with_a_bad_technique_row_keeps_what_was_typed(login, draft):
    client = login("therapist")
    response = client.post(f"/notes/{draft.pk}/edit/", note_form(**{"technique-0-minutes": ""}))
    assert response.status_code == 400
    content = response.content.decode()
    assert "How many minutes?" in content
    assert "Stiff after long drives" in content and 'value="6"' in content


def test_techniques_longer_than_the_session_are_refused_beside_the_techniques(login, draft):
    client = login("therapist")
    response = client.post(f"/notes/{draft.pk}/edit/", note_form(duration_minutes="20"))
    assert response.status_code == 400
    assert "more than the 20-minute session" in response.content.decode()


def test_signing_on_a_fever_day_is_refused_with_the_reason_and_nothing_is_lost(login, tess, episode):
    today = tess.today()
    services.pre_session_check_record(
        actor=tess, episode=episode, data={"checked_on": today, "fever": True, "able_to_consent": True}
    )
    note = services.note_start(actor=tess, episode=episode, visit_on=today)
    client = login("therapist")

    response = client.post(f"/notes/{note.pk}/sign/", note_form())

    assert response.status_code == 400
    content = response.content.decode()
    assert "The note was not signed" in content and "Fever" in content
    assert "Stiff after long drives" in content
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT and note.subjective.startswith("Stiff after long drives")


def test_signing_without_pain_after_says_so_beside_the_field(login, draft):
    client = login("therapist")
    response = client.post(f"/notes/{draft.pk}/sign/", note_form(pain_post=""))
    assert response.status_code == 400
    assert response.content.decode().count("Record pain before and after the session before signing.") == 2
    draft.refresh_from_db()
    assert draft.status == NoteStatus.DRAFT


def test_the_edit_page_shows_todays_screening_flags(login, tess, episode, draft):
    services.health_history_record(actor=tess, episode=episode, data={}, answers=intake_answers("anticoagulant"))
    response = login("therapist").get(f"/notes/{draft.pk}/edit/")
    assert response.status_code == 200
    assert "Blood thinners make bruising easy" in response.content.decode()


def test_a_draft_can_be_deleted_but_a_signed_note_cannot(login, tess, episode, draft):
    client = login("therapist")
    assert client.post(f"/notes/{draft.pk}/delete/").status_code == 302
    assert not TreatmentNote.objects.filter(pk=draft.pk).exists()
    note = signed_note(tess, episode)
    response = client.post(f"/notes/{note.pk}/delete/")
    assert response.status_code == 409
    assert TreatmentNote.objects.filter(pk=note.pk).exists()


def test_an_empty_addendum_is_refused_beside_the_field(login, tess, episode):
    note = signed_note(tess, episode)
    response = login("therapist").post(f"/notes/{note.pk}/addenda/new/", {"reason": "Correction", "text": " "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode() and 'value="Correction"' in response.content.decode()
    assert not note.addenda.exists()


def test_reading_a_note_is_audited(login, personas, tess, episode):
    note = signed_note(tess, episode)
    login("therapist").get(f"/notes/{note.pk}/")
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_type="clinical.treatmentnote", object_id=str(note.pk), client_id=personas.carol.pk
    ).exists()


@pytest.mark.parametrize(
    ("persona", "expected"), [("front_desk", 403), ("outsider", 404), ("therapist2", 404), ("owner", 200)]
)
def test_who_may_open_a_note(login, tess, episode, persona, expected):
    note = signed_note(tess, episode)
    draft = services.note_start(actor=tess, episode=episode)
    client = login(persona)
    assert client.get(f"/notes/{note.pk}/").status_code == expected
    # Someone else's draft opens read-only: the edit page sends the owner to the note itself.
    assert client.get(f"/notes/{draft.pk}/edit/").status_code == (302 if expected == 200 else expected)
    if expected == 200:
        assert client.post(f"/notes/{draft.pk}/autosave/", note_form(), **HTMX).status_code == 403
        assert client.post(f"/notes/{draft.pk}/delete/").status_code == 403
    else:
        assert client.post(f"/notes/{draft.pk}/autosave/", note_form(), **HTMX).status_code == expected
        assert client.post(f"/episodes/{episode.pk}/notes/new/").status_code == expected
        assert client.post(f"/notes/{draft.pk}/delete/").status_code == expected
        assert TreatmentNote.objects.filter(pk=draft.pk).exists()


def test_the_note_pages_use_the_same_queries_with_1_and_10_addenda_and_techniques(login, tess, episode):
    """Note page: session, user, membership (3); the note with episode, client and therapist; its
    techniques; its addenda with signers; the signer; the audit row (4–8). The edit page of a draft
    adds the screening (findings, clearances) and the last note, whatever the note holds."""
    client = login("therapist")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = signed_note(tess, episode)
    services.addendum_add(actor=tess, note=small, text="One.")
    large = services.note_start(actor=tess, episode=episode)
    services.note_update(
        actor=tess,
        note=large,
        data={"pain_pre": 5, "pain_post": 3},
        techniques=[services.TechniqueInput("swedish", "neck", 5, 2) for _ in range(10)],
    )
    draft_count = count(f"/notes/{large.pk}/edit/")
    services.note_sign(actor=tess, note=large)
    for n in range(10):
        services.addendum_add(actor=tess, note=large, text=f"Addendum {n}.")
    assert count(f"/notes/{small.pk}/") == count(f"/notes/{large.pk}/")
    fresh = services.note_start(actor=tess, episode=episode)
    services.note_update(actor=tess, note=fresh, data={}, techniques=[services.TechniqueInput("swedish", "neck", 5, 2)])
    assert count(f"/notes/{fresh.pk}/edit/") == draft_count


def test_muscle_tension_and_medication_days_are_saved_shown_and_kept_on_the_signed_note(login, draft):
    client = login("therapist")
    asked = {"muscle_tension": "7", "medication_days": "3", "medication_note": "ibuprofen 400 mg ×2 on bad days"}
    saved = client.post(f"/notes/{draft.pk}/autosave/", note_form(**asked), **HTMX)
    assert saved.status_code == 200 and b"Draft saved" in saved.content
    draft.refresh_from_db()
    assert (draft.muscle_tension, draft.medication_days, draft.medication_note) == (
        7,
        3,
        "ibuprofen 400 mg ×2 on bad days",
    )
    # The edit page brings back what was typed.
    page = client.get(f"/notes/{draft.pk}/edit/").content.decode()
    assert 'name="muscle_tension" value="7"' in page and 'name="medication_days" value="3"' in page
    assert 'value="ibuprofen 400 mg ×2 on bad days"' in page
    assert client.post(f"/notes/{draft.pk}/sign/", note_form(**asked)).status_code == 302
    read = client.get(f"/notes/{draft.pk}/").content.decode()
    assert "<dt>Muscle tension since last visit</dt><dd>7/10</dd>" in read
    assert "<dd>3 of the last 7 (ibuprofen 400 mg ×2 on bad days)</dd>" in read
    assert "verified" in read


def test_medication_days_over_7_names_the_field_and_saves_nothing(login, draft):
    client = login("therapist")
    response = client.post(f"/notes/{draft.pk}/autosave/", note_form(medication_days="8"), **HTMX)
    assert response.status_code == 400
    assert b"#id_medication_days" in response.content and b"Days with pain medication" in response.content
    draft.refresh_from_db()
    assert draft.medication_days is None and draft.subjective == ""
