"""SOAP treatment notes: a draft starts pre-filled, signing locks it with a content hash, and a
signed note changes only through signed addenda (a PATCH or DELETE of it answers 409)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from ninja import P, QueryEx, Router, Schema, Status
from pydantic import Field

from mend import knowledge
from mend.clinical import queries, services
from mend.clinical.api._common import ScreeningOut, conflict, person_name, region_name, screening_dict, text_fields
from mend.clinical.models import Addendum, TreatmentNote
from mend.clinical.seal import note_seal_ok
from mend.clinical.services import NoteLocked, SigningRefused, TechniqueInput
from mend.platform.api import ERRORS, MAX_PAGE, MAX_PAGE_SIZE, Detail, invalid
from mend.platform.errors import dotted, messages_by_path
from mend.platform.http import ActorRequest

router = Router(tags=["notes"])

NOTE_ERRORS: dict[int, Any] = {**ERRORS, 409: Detail}


class TechniqueIO(Schema):
    technique: str = Field(description="A technique id of the knowledge base")
    region: str = Field(description="A body region id")
    side: str = ""
    minutes: int = Field(description="1–120")
    pressure: int = Field(description="1 (light) to 5 (very deep)")


class TechniqueOut(TechniqueIO):
    technique_name: str
    region_name: str


class AddendumIn(Schema):
    text: str
    reason: str = ""


class AddendumOut(Schema):
    id: int
    text: str
    reason: str
    signed_by_name: str
    signed_at: datetime
    content_hash: str


class NoteOut(Schema):
    id: int
    episode_id: int
    client_id: int
    therapist_name: str
    visit_on: date
    duration_minutes: int
    status: str = Field(description="draft or signed")
    subjective: str
    pain_pre: int | None
    sleep_quality: int | None
    stress: int | None
    muscle_tension: int | None = Field(description="Muscle tension since the last visit, 0 (none) to 10 (worst)")
    medication_days: int | None = Field(description="Days with pain medication of the last 7, 0–7")
    medication_note: str = Field(description="The pain medication taken, as the client said it")
    objective: str
    techniques: list[TechniqueOut]
    modalities: list[str]
    pain_post: int | None
    response: str
    adverse_events: str
    home_care: str
    plan_next: str
    referral_id: int | None = Field(description="The referral the visit counted against, once signed")
    signed_at: datetime | None
    signed_by_name: str
    content_hash: str
    addenda: list[AddendumOut]
    updated_at: datetime


class NoteDetail(NoteOut):
    hash_ok: bool | None = Field(description="For a signed note: whether it still holds what was signed")
    screening: ScreeningOut = Field(description="Screening on the day of the visit")


class NotePage(Schema):
    items: list[NoteOut]
    count: int


class NoteStartIn(Schema):
    visit_on: date | None = Field(None, description="Default today")


class NotePatch(Schema):
    """Send only what changes; ``techniques`` replaces the whole list when sent."""

    visit_on: date | None = None
    duration_minutes: int | None = None
    subjective: str | None = None
    pain_pre: int | None = None
    sleep_quality: int | None = None
    stress: int | None = None
    muscle_tension: int | None = Field(None, description="0 (none) to 10 (worst)")
    medication_days: int | None = Field(None, description="Days with pain medication of the last 7, 0–7")
    medication_note: str | None = Field(None, description="As the client says it; at most 200 characters")
    objective: str | None = None
    techniques: list[TechniqueIO] | None = None
    modalities: list[str] | None = Field(None, description="heat, cold")
    pain_post: int | None = None
    response: str | None = None
    adverse_events: str | None = None
    home_care: str | None = None
    plan_next: str | None = None


_TEXT = {"subjective", "medication_note", "objective", "response", "adverse_events", "home_care", "plan_next"}


def note_dict(note: TreatmentNote) -> dict[str, Any]:
    techniques = knowledge.techniques()
    return {
        "id": note.pk,
        "episode_id": note.episode_id,
        "client_id": note.client_id,
        "therapist_name": person_name(note.therapist),
        "visit_on": note.visit_on,
        "duration_minutes": note.duration_minutes,
        "status": note.status,
        "subjective": note.subjective,
        "pain_pre": note.pain_pre,
        "sleep_quality": note.sleep_quality,
        "stress": note.stress,
        "muscle_tension": note.muscle_tension,
        "medication_days": note.medication_days,
        "medication_note": note.medication_note,
        "objective": note.objective,
        "techniques": [
            {
                "technique": t.technique,
                "technique_name": techniques[t.technique].name if t.technique in techniques else t.technique,
                "region": t.region,
                "region_name": region_name(t.region),
                "side": t.side,
                "minutes": t.minutes,
                "pressure": t.pressure,
            }
            for t in note.techniques.all()
        ],
        "modalities": list(note.modalities or []),
        "pain_post": note.pain_post,
        "response": note.response,
        "adverse_events": note.adverse_events,
        "home_care": note.home_care,
        "plan_next": note.plan_next,
        "referral_id": note.referral_id,
        "signed_at": note.signed_at,
        "signed_by_name": person_name(note.signed_by),
        "content_hash": note.content_hash,
        "addenda": [addendum_dict(a) for a in note.addenda.all()],
        "updated_at": note.updated_at,
    }


def addendum_dict(addendum: Addendum) -> dict[str, Any]:
    return {
        "id": addendum.pk,
        "text": addendum.text,
        "reason": addendum.reason,
        "signed_by_name": person_name(addendum.signed_by),
        "signed_at": addendum.signed_at,
        "content_hash": addendum.content_hash,
    }


def _detail(note: TreatmentNote) -> dict[str, Any]:
    """A note loaded with its details (``queries.note_with_details``, ``note_for_reading``)."""
    return {
        **note_dict(note),
        "hash_ok": note_seal_ok(note) if note.is_signed else None,
        "screening": screening_dict(queries.screening_on(note.episode, note.visit_on), note.visit_on),
    }


@router.get(
    "/episodes/{episode_id}/notes",
    response={200: NotePage, **ERRORS},
    summary="List treatment notes",
    description="Newest visit first, 25 a page (page_size up to 100).",
)
def list_notes(
    request: ActorRequest,
    episode_id: int,
    page: QueryEx[int, P(ge=1, le=MAX_PAGE)] = 1,
    page_size: QueryEx[int, P(ge=1, le=MAX_PAGE_SIZE)] = 25,
) -> Any:
    notes, count = queries.note_page(request.actor, episode_id, page=page, page_size=page_size)
    return {"items": [note_dict(n) for n in notes], "count": count}


@router.post(
    "/episodes/{episode_id}/notes",
    response={201: NoteDetail, **ERRORS},
    summary="Start a note",
    description="A draft for the visit, pre-filled from the last signed note, else from the plan of care.",
)
def start_note(request: ActorRequest, episode_id: int, payload: NoteStartIn | None = None) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        note = services.note_start(actor=actor, episode=episode, visit_on=payload.visit_on if payload else None)
    except ValidationError as error:
        return invalid(request, error)
    return Status(201, _detail(queries.note_with_details(actor, note.pk)))


@router.get("/notes/{note_id}", response={200: NoteDetail, **ERRORS}, summary="Read a note")
def get_note(request: ActorRequest, note_id: int) -> Any:
    return _detail(queries.note_for_reading(request.actor, note_id))


@router.patch(
    "/notes/{note_id}",
    response={200: NoteDetail, **NOTE_ERRORS},
    summary="Save a draft",
    description="Only drafts change: a signed note answers 409; add an addendum instead.",
)
def update_note(request: ActorRequest, note_id: int, payload: NotePatch) -> Any:
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    supplied = text_fields(payload.dict(exclude_unset=True), _TEXT)
    rows = supplied.pop("techniques", None)
    for required in ("visit_on", "duration_minutes", "modalities"):
        if required in supplied and supplied[required] is None:
            del supplied[required]
    techniques = None if rows is None else [TechniqueInput(**row) for row in rows]
    try:
        note = services.note_update(actor=actor, note=note, data=supplied, techniques=techniques)
    except NoteLocked as locked:
        return conflict(str(locked))
    except ValidationError as error:
        return invalid(request, error)
    return _detail(queries.note_with_details(actor, note.pk))


@router.post(
    "/notes/{note_id}/sign",
    response={200: NoteDetail, **NOTE_ERRORS},
    summary="Sign a note",
    description="Locks the note and stores its content hash. Refused (422, with the reason) on a day screening "
    "blocks treatment, while a needed clearance is missing, or without techniques and pain before and after.",
)
def sign_note(request: ActorRequest, note_id: int) -> Any:
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    try:
        note = services.note_sign(actor=actor, note=note)
    except NoteLocked as locked:
        return conflict(str(locked))
    except SigningRefused as refused:
        errors = {dotted(name): messages for name, messages in messages_by_path(refused).items()}
        reason = " ".join(message for messages in errors.values() for message in messages)
        return JsonResponse({"detail": reason, "errors": errors}, status=422)
    return _detail(queries.note_with_details(actor, note.pk))


@router.post(
    "/notes/{note_id}/addenda",
    response={201: AddendumOut, **NOTE_ERRORS},
    summary="Add a signed addendum to a signed note",
)
def add_addendum(request: ActorRequest, note_id: int, payload: AddendumIn) -> Any:
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    try:
        addendum = services.addendum_add(actor=actor, note=note, text=payload.text, reason=payload.reason)
    except ValidationError as error:
        return invalid(request, error)
    return Status(201, addendum_dict(queries.with_signer(addendum)))


@router.delete(
    "/notes/{note_id}",
    response={204: None, **NOTE_ERRORS},
    summary="Delete a draft",
    description="Signed notes are never deleted: 409.",
)
def delete_note(request: ActorRequest, note_id: int) -> Any:
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    try:
        services.note_delete_draft(actor=actor, note=note)
    except NoteLocked as locked:
        return conflict(str(locked))
    return Status(204, None)
