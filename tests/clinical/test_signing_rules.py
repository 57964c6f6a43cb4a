"""Signing a note as the legal record: every screening rule of the day holds (BLOCK, clearance, and
each restriction or pressure cap row by row), signing works on the row as the database holds it,
and the seal is keyed and recorded in the audit chain. Defects 1, 4 and 6 of the seams review."""

from __future__ import annotations

import hashlib
import importlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from mend.accounts.services import api_token_create
from mend.audit.models import AuditEvent
from mend.clinical import queries, rules, services
from mend.clinical.models import NoteTechnique, TreatmentNote
from mend.clinical.seal import note_seal_ok, seal, verify_seals
from mend.clinical.services import FindingInput, SigningRefused, TechniqueInput
from mend.testing import intake_answers

DEEP_AT_4 = TechniqueInput("deep_tissue", "lower_back", 30, 4)


@pytest.fixture
def api_as(client, personas):
    """``api_as("therapist").post(path)`` with a bearer token of that persona."""

    def _as(name: str):
        membership = personas.memberships[name]
        raw = api_token_create(user=membership.user, clinic=membership.clinic).raw
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

        class Api:
            def post(self, path, data=None):
                return client.post(path, data or {}, content_type="application/json", **headers)

        return Api()

    return _as


def _plan_with_deep_tissue(actor, episode):
    services.plan_save(
        actor=actor,
        episode=episode,
        data={"sessions_per_week": 1, "weeks": 6, "session_minutes": 60},
        techniques=[{"technique": "deep_tissue", "region": "lower_back", "pressure": 4}],
    )


def _draft(actor, episode, techniques=None):
    note = services.note_start(actor=actor, episode=episode)
    services.note_update(actor=actor, note=note, data={"pain_pre": 6, "pain_post": 4}, techniques=techniques)
    return note


def _anticoagulant_today(actor, episode):
    services.pre_session_check_record(
        actor=actor,
        episode=episode,
        data={"fever": False, "able_to_consent": True, "new_medications": "Apixaban since Monday"},
        findings=[FindingInput("anticoagulant")],
    )


# --- Defect 1: a MODIFY is enforced on the note, row by row ---------------------------------------


def test_the_plans_deep_tissue_cannot_be_signed_after_an_anticoagulant_is_reported(tess, episode):
    """The review's case: the note starts from the plan (deep tissue, pressure 4); the pre-session
    check adds an anticoagulant (pressure at most 2, no deep tissue): signing is refused naming the
    row and the rule, and nothing is signed."""
    _plan_with_deep_tissue(tess, episode)
    _anticoagulant_today(tess, episode)
    note = services.note_start(actor=tess, episode=episode)
    assert [(t.technique, t.pressure) for t in note.techniques.all()] == [("deep_tissue", 4)]
    services.note_update(actor=tess, note=note, data={"pain_pre": 6, "pain_post": 4})
    with pytest.raises(SigningRefused) as refused:
        services.note_sign(actor=tess, note=note)
    messages = refused.value.message_dict
    assert list(messages) == ["techniques[0]"]
    assert "Row 1 (Deep tissue" in messages["techniques[0]"][0]
    assert "Anticoagulant" in messages["techniques[0]"][0]
    assert not TreatmentNote.objects.get(pk=note.pk).is_signed


def test_the_same_note_signs_once_its_rows_respect_the_cap(tess, episode):
    _anticoagulant_today(tess, episode)
    note = _draft(tess, episode, [DEEP_AT_4, TechniqueInput("swedish", "upper_back", 20, 2)])
    with pytest.raises(SigningRefused) as refused:
        services.note_sign(actor=tess, note=note)
    assert list(refused.value.message_dict) == ["techniques[0]"]
    services.note_update(
        actor=tess,
        note=note,
        data={},
        techniques=[TechniqueInput("swedish", "lower_back", 30, 2), TechniqueInput("swedish", "upper_back", 20, 2)],
    )
    assert services.note_sign(actor=tess, note=note).is_signed


def test_a_region_restriction_is_side_aware_on_the_note(tess, episode):
    services.health_history_record(
        actor=tess,
        episode=episode,
        data={},
        answers=intake_answers("acute_inflammation"),
        findings=[FindingInput("acute_inflammation", "knee", "right")],
    )
    left = _draft(tess, episode, [TechniqueInput("swedish", "knee", 20, 2, side="left")])
    assert services.note_sign(actor=tess, note=left).is_signed
    right = _draft(tess, episode, [TechniqueInput("swedish", "knee", 20, 2, side="right")])
    with pytest.raises(SigningRefused, match="Row 1"):
        services.note_sign(actor=tess, note=right)


def test_the_api_refuses_signing_naming_the_row_and_rule(tess, episode, api_as):
    _anticoagulant_today(tess, episode)
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2), DEEP_AT_4])
    response = api_as("therapist").post(f"/api/v1/notes/{note.pk}/sign")
    assert response.status_code == 422, response.content
    body = response.json()
    assert list(body["errors"]) == ["techniques.1"]
    assert "Row 2 (Deep tissue" in body["detail"] and "Anticoagulant" in body["detail"]


def test_the_note_page_marks_the_row_and_refuses_to_sign(tess, episode, login):
    _anticoagulant_today(tess, episode)
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2), DEEP_AT_4])
    client = login("therapist")
    page = client.get(f"/notes/{note.pk}/edit/").content.decode()
    assert 'id="technique-warnings-1"' in page
    row_box = page.split('id="technique-warnings-1"', 1)[1].split("</div>", 1)[0]
    assert "Cannot sign" in row_box and "Anticoagulant" in row_box
    quiet_box = page.split('id="technique-warnings-0"', 1)[1].split("</div>", 1)[0]
    assert "Cannot sign" not in quiet_box
    response = client.post(f"/notes/{note.pk}/sign/")
    assert response.status_code == 400
    assert "Row 2 (Deep tissue" in response.content.decode()
    assert not TreatmentNote.objects.get(pk=note.pk).is_signed


def test_autosave_marks_a_row_as_the_pressure_is_typed(tess, episode, login):
    """The autosave answer carries each row's warning box, swapped in beside the row (htmx out of band)."""
    _anticoagulant_today(tess, episode)
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)])
    form = {
        "visit_on": note.visit_on.isoformat(),
        "duration_minutes": 60,
        "pain_pre": 6,
        "pain_post": 4,
        "technique-TOTAL_FORMS": 1,
        "technique-INITIAL_FORMS": 0,
        "technique-0-technique": "swedish",
        "technique-0-region": "neck",
        "technique-0-minutes": 10,
        "technique-0-pressure": 4,
    }
    answer = login("therapist").post(f"/notes/{note.pk}/autosave/", form, HTTP_HX_REQUEST="true").content.decode()
    box = answer.split('id="technique-warnings-0"', 1)[1].split("</div>", 1)[0]
    assert 'hx-swap-oob="true"' in box and "above the cap of 2" in box
    form["technique-0-pressure"] = 2
    answer = login("therapist").post(f"/notes/{note.pk}/autosave/", form, HTTP_HX_REQUEST="true").content.decode()
    assert "Cannot sign" not in answer.split('id="technique-warnings-0"', 1)[1].split("</div>", 1)[0]


# --- Defect 4: sign and save work on the locked row ---------------------------------------------


def test_signing_a_stale_copy_signs_what_autosave_committed(tess, episode):
    """A copy loaded before an autosave must not bring the old text back, nor mix it into the seal."""
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)])
    stale = TreatmentNote.objects.get(pk=note.pk)
    services.note_update(
        actor=tess,
        note=TreatmentNote.objects.get(pk=note.pk),
        data={"subjective": "Slept through the night for the first time."},
        techniques=[TechniqueInput("swedish", "neck", 15, 2)],
    )
    signed = services.note_sign(actor=tess, note=stale)
    saved = TreatmentNote.objects.get(pk=note.pk)
    assert saved.subjective == "Slept through the night for the first time."
    assert saved.content_hash == signed.content_hash and note_seal_ok(saved)
    assert [t.minutes for t in saved.techniques.all()] == [15]


def test_saving_a_stale_copy_keeps_what_another_save_committed(tess, episode):
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)])
    stale = TreatmentNote.objects.get(pk=note.pk)
    services.note_update(actor=tess, note=TreatmentNote.objects.get(pk=note.pk), data={"pain_pre": 8})
    services.note_update(actor=tess, note=stale, data={"subjective": "Typed on the tablet."})
    saved = TreatmentNote.objects.get(pk=note.pk)
    assert (saved.pain_pre, saved.subjective) == (8, "Typed on the tablet.")


# --- Defect 6: a keyed seal, recorded in the audit chain ---------------------------------------


def _drop_note_triggers() -> None:
    statements = {
        "sqlite": ["DROP TRIGGER clinical_signed_note_no_update"],
        "postgresql": ["DROP TRIGGER clinical_signed_note_guard ON clinical_treatmentnote"],
    }[connection.vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_a_seal_is_keyed_and_recorded_in_the_audit_chain(tess, episode):
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)])
    note = services.note_sign(actor=tess, note=note)
    content = queries.note_content(note, list(NoteTechnique.objects.filter(note=note)))
    unkeyed = hashlib.sha256(rules.canonical(content)).hexdigest()
    assert note.content_hash != unkeyed and note_seal_ok(note)
    event = AuditEvent.objects.filter(object_type="clinical.treatmentnote", object_id=str(note.pk)).exclude(digest="")
    assert [e.digest for e in event] == [note.content_hash]
    assert verify_seals(episode.clinic_id) == []


def test_a_note_rewritten_and_rehashed_in_the_database_fails_verification(personas):
    """Someone with write access drops the trigger, changes the text and stores a new SHA-256: the
    page no longer says verified, and `mend audit verify` names the note."""
    tess = personas.actor("therapist")
    episode = services.episode_open(actor=tess, client=personas.carol, data={"title": "Neck pain"})
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)])
    note = services.note_sign(actor=tess, note=note)
    call_command("audit", "verify")
    _drop_note_triggers()
    content = queries.note_content(note, list(NoteTechnique.objects.filter(note=note)))
    content["subjective"] = "Client declined deep work."
    forged = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    TreatmentNote.objects.filter(pk=note.pk).update(subjective="Client declined deep work.", content_hash=forged)
    assert not note_seal_ok(TreatmentNote.objects.get(pk=note.pk))
    with pytest.raises(CommandError) as refused:
        call_command("audit", "verify")
    assert f"treatment note {note.pk}" in str(refused.value)


class _Editor:
    """What the seal migration needs of a schema editor: the connection, and execute()."""

    connection = connection

    def execute(self, sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_migration_gives_notes_signed_with_a_bare_hash_a_keyed_seal(tess, episode):
    """Notes signed before keyed seals (bare SHA-256) are sealed with the key and the seal goes into
    the audit chain; a note changed after signing keeps failing verification."""
    from django.apps import apps

    migration = importlib.import_module("mend.clinical.migrations.0004_keyed_seals")
    kept = services.note_sign(actor=tess, note=_draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)]))
    addendum = services.addendum_add(actor=tess, note=kept, text="Late entry: client drove home.")
    altered = services.note_sign(actor=tess, note=_draft(tess, episode, [TechniqueInput("swedish", "neck", 12, 2)]))
    _drop_note_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER "
            + (
                "clinical_addendum_no_update"
                if connection.vendor == "sqlite"
                else "clinical_addendum_guard ON clinical_addendum"
            )
        )
    for note in (kept, altered):
        content = queries.note_content(note, list(NoteTechnique.objects.filter(note=note)))
        TreatmentNote.objects.filter(pk=note.pk).update(
            content_hash=hashlib.sha256(rules.canonical(content)).hexdigest()
        )
    legacy_note_hash = TreatmentNote.objects.get(pk=kept.pk).content_hash
    legacy = {
        "note": kept.pk,
        "note_hash": legacy_note_hash,
        "text": addendum.text,
        "reason": "",
        "at": addendum.signed_at,
    }
    type(addendum).objects.filter(pk=addendum.pk).update(
        content_hash=hashlib.sha256(rules.canonical(legacy)).hexdigest()
    )
    TreatmentNote.objects.filter(pk=altered.pk).update(subjective="Rewritten after signing.")
    assert not note_seal_ok(TreatmentNote.objects.get(pk=kept.pk))

    migration.seal_legacy(apps, _Editor())

    kept = TreatmentNote.objects.get(pk=kept.pk)
    assert note_seal_ok(kept) and kept.content_hash != legacy_note_hash
    assert not note_seal_ok(TreatmentNote.objects.get(pk=altered.pk))
    problems = verify_seals(episode.clinic_id)
    assert problems and all(p.startswith(f"treatment note {altered.pk} ") for p in problems)
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentNote.objects.filter(pk=kept.pk).update(subjective="once more")


# --- Muscle tension and medication days, asked at every visit since migration 0007 -----------


def _content_before_tension_and_medication(note: TreatmentNote) -> dict:
    """What a signature covered before the note asked about muscle tension and medication."""
    return {
        "note": note.pk,
        "client": note.client_id,
        "therapist": note.therapist_id,
        "visit_on": note.visit_on.isoformat(),
        "duration_minutes": note.duration_minutes,
        "subjective": note.subjective,
        "pain_pre": note.pain_pre,
        "sleep_quality": note.sleep_quality,
        "stress": note.stress,
        "objective": note.objective,
        "modalities": sorted(note.modalities or []),
        "pain_post": note.pain_post,
        "response": note.response,
        "adverse_events": note.adverse_events,
        "home_care": note.home_care,
        "plan_next": note.plan_next,
        "techniques": [[t.technique, t.region, t.side, t.minutes, t.pressure] for t in note.techniques.order_by("pk")],
    }


def test_a_note_sealed_before_tension_and_medication_were_asked_still_verifies(tess, episode):
    """Notes signed before the change carry a seal of the old content; their new fields are empty."""
    note = services.note_sign(actor=tess, note=_draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)]))
    # The seal the code before the change gave it: the one it holds and the audit chain recorded.
    assert note.content_hash == seal(_content_before_tension_and_medication(note))
    assert note_seal_ok(TreatmentNote.objects.get(pk=note.pk))
    assert verify_seals(episode.clinic_id) == []
    call_command("audit", "verify")


def test_recorded_tension_and_medication_are_sealed(tess, episode):
    note = _draft(tess, episode, [TechniqueInput("swedish", "neck", 10, 2)])
    data = {"muscle_tension": 6, "medication_days": 3, "medication_note": "ibuprofen 400 mg ×2 on bad days"}
    services.note_update(actor=tess, note=note, data=data)
    note = services.note_sign(actor=tess, note=note)
    assert note_seal_ok(note) and verify_seals(episode.clinic_id) == []
    _drop_note_triggers()
    for change in ({"muscle_tension": 2}, {"medication_days": None}, {"medication_note": ""}):
        TreatmentNote.objects.filter(pk=note.pk).update(**change)
        assert not note_seal_ok(TreatmentNote.objects.get(pk=note.pk)), change
        TreatmentNote.objects.filter(pk=note.pk).update(**data)
    assert note_seal_ok(TreatmentNote.objects.get(pk=note.pk))


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("muscle_tension", 11, "Muscle tension since the last visit is a rating from 0 (none) to 10 (worst)."),
        ("muscle_tension", -1, "Muscle tension since the last visit is a rating from 0 (none) to 10 (worst)."),
        ("medication_days", 8, "Days with pain medication count the last 7 days: a whole number from 0 to 7."),
        ("medication_days", "most", "Days with pain medication count the last 7 days: a whole number from 0 to 7."),
        ("medication_note", "x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_out_of_range_tension_and_medication_are_refused_naming_the_field(tess, episode, field, value, says):
    note = services.note_start(actor=tess, episode=episode)
    with pytest.raises(ValidationError) as refused:
        services.note_update(actor=tess, note=note, data={"subjective": "Typed.", field: value})
    assert refused.value.message_dict == {field: [says]}
    note.refresh_from_db()
    assert note.subjective == "" and getattr(note, field) in (None, "")
