"""Treatment notes (SOAP): start, write with autosave, sign, read, amend."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from mend import knowledge
from mend.clinical import queries, services
from mend.clinical.forms.notes import AddendumForm, NoteForm, NoteTechniqueFormSet
from mend.clinical.forms.plans import kept_forms
from mend.clinical.models import SIDE_CHOICES, TreatmentNote
from mend.clinical.screening import Screening
from mend.clinical.seal import note_seal_ok
from mend.platform.actor import Actor
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, error_messages, merge_validation_error

SIDES = dict(SIDE_CHOICES)


def _technique_initial(note: TreatmentNote) -> list[dict[str, Any]]:
    return [
        {"technique": t.technique, "region": t.region, "side": t.side, "minutes": t.minutes, "pressure": t.pressure}
        for t in note.techniques.all()
    ]


class _Typed:
    """A technique row as typed, partly valid: what the screening check needs of it."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.technique = data.get("technique") or ""
        self.region = data.get("region") or ""
        self.side = data.get("side") or ""
        self.pressure = data.get("pressure")


class _Draft:
    """The note form and its techniques formset, bound to a request or to the saved note."""

    def __init__(self, note: TreatmentNote, data: Any = None) -> None:
        self.note = note
        self.form = NoteForm(data, instance=note)
        # Bound rows are what was typed: an initial would make a row that equals it count as unchanged,
        # and Django skips unchanged extra rows.
        initial = _technique_initial(note) if data is None else None
        self.techniques = NoteTechniqueFormSet(data, initial=initial, prefix="technique")
        self.technique_errors: list[str] = []

    def save(self, actor: Actor) -> bool:
        """Validate and save through the service; errors land beside their fields."""
        if not all([self.form.is_valid(), self.techniques.is_valid()]):
            return False
        kept = kept_forms(self.techniques)
        try:
            self.note = services.note_update(
                actor=actor, note=self.note, data=self.form.note_data(), techniques=[f.item() for _, f in kept]
            )
        except ValidationError as error:
            self.merge(error, kept)
            return False
        return True

    def merge(self, error: ValidationError, kept: list[tuple[int, Any]] | None = None) -> None:
        """``techniques[N]`` is the N-th saved row, which is another row of the page when rows were skipped."""
        if kept is None:
            valid = self.techniques.is_bound and self.techniques.is_valid()
            kept = kept_forms(self.techniques) if valid else list(enumerate(self.techniques.forms))
        merge_validation_error(
            self.form, error, rows={"techniques": [f for _, f in kept]}, lists={"techniques": self.technique_errors}
        )

    def warnings(self, screening: Screening) -> dict[int, list[str]]:
        """Screening warnings beside each technique row of the page, for what the row holds now."""
        rows: list[tuple[int, Any]] = []
        for index, row in enumerate(self.techniques.forms):
            if row.is_bound:
                data = getattr(row, "cleaned_data", {})
                if data.get("technique") and not data.get("DELETE"):
                    rows.append((index, _Typed(data)))
            elif row.initial.get("technique"):
                rows.append((index, _Typed(row.initial)))
        found = queries.technique_warnings(screening, [item for _, item in rows])
        return {rows[n][0]: messages for n, messages in found.items()}

    def errors(self) -> list[dict[str, str]]:
        """Every problem with a link target, for the autosave status and the error summary."""
        found: list[dict[str, str]] = []
        for name, errors in self.form.errors.items():
            label = self.form.fields[name].label if name in self.form.fields else ""
            target = f"id_{name}" if name in self.form.fields else "note-form"
            found.extend({"label": str(label or ""), "message": e, "target": target} for e in error_messages(errors))
        for index, row in enumerate(self.techniques.forms):
            for name, errors in row.errors.items():
                target = f"id_technique-{index}-{name}" if name in row.fields else f"technique-row-{index}"
                row_label = f"Technique row {index + 1}"
                found.extend({"label": row_label, "message": e, "target": target} for e in error_messages(errors))
        found.extend({"label": "Techniques", "message": e, "target": "techniques"} for e in self.technique_errors)
        found.extend(
            {"label": "Techniques", "message": e, "target": "techniques"}
            for e in error_messages(self.techniques.non_form_errors())
        )
        return found


def _locked(request: ActorRequest, note: TreatmentNote, error: PermissionDenied | None = None) -> HttpResponse:
    """409: a signed note changes only through addenda."""
    message = (
        str(error)
        if error
        else (
            f"This note was signed on {timezone.localtime(note.signed_at):%Y-%m-%d %H:%M} and cannot be changed. "
            "Add an addendum instead."
        )
    )
    if request.htmx:
        return render(request, "clinical/_note_autosave_status.html", {"note": note, "locked": message}, status=409)
    return _detail(request, queries.note_with_details(request.actor, note.pk), locked=message, status=409)


def _edit_page(
    request: ActorRequest, draft: _Draft, *, refused: list[str] | None = None, summary: bool = True, status: int = 200
) -> HttpResponse:
    note = draft.note
    episode = note.episode
    screening = queries.screening_on(episode, note.visit_on)
    warnings = draft.warnings(screening)
    last = queries.previous_signed_note(note)
    context = {
        "note": note,
        "episode": episode,
        "client": note.client,
        "form": draft.form,
        "techniques": draft.techniques,
        "technique_errors": draft.technique_errors,
        "errors": draft.errors() if summary else [],
        "refused": refused or [],
        "screening": screening,
        "technique_rows": [(f, warnings.get(i, [])) for i, f in enumerate(draft.techniques.forms)],
        "last_note": last,
    }
    return render(request, "clinical/note_form.html", context, status=status)


@actor_required
@require_POST
def note_start(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    episode = queries.episode_or_404(actor, pk)
    visit_on: date | None = None
    raw = request.POST.get("visit_on", "").strip()
    if raw:
        try:
            visit_on = date.fromisoformat(raw)
        except ValueError:
            messages.error(request, "The visit date was not a date; the note starts today.")
    # The Today page passes the appointment's length; the chart's button does not.
    duration: int | None = None
    raw = request.POST.get("duration_minutes", "").strip()
    if raw:
        try:
            duration = int(raw)
        except ValueError:
            messages.error(request, "The session length was not a number of minutes; the note starts from the plan.")
    try:
        note = services.note_start(actor=actor, episode=episode, visit_on=visit_on, duration_minutes=duration)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("chart", episode.pk)
    return redirect("note_edit", note.pk)


@actor_required
@require_http_methods(["GET", "POST"])
def note_edit(request: ActorRequest, note_id: int) -> HttpResponse:
    actor = request.actor
    note = queries.note_for_editing(actor, note_id, reading=request.method == "GET")
    if note.is_signed:
        if request.method == "POST":
            return _locked(request, note)
        messages.info(request, "This note is signed and can no longer be edited. Add an addendum to amend it.")
        return redirect("note_detail", note.pk)
    if note.therapist_id != actor.membership.pk:
        if request.method == "POST":
            raise PermissionDenied("Only the therapist who is writing this note can change it.")
        messages.info(request, "This draft belongs to the therapist writing it; you can read it here.")
        return redirect("note_detail", note.pk)
    if request.method == "GET":
        return _edit_page(request, _Draft(note))
    draft = _Draft(note, request.POST)
    try:
        saved = draft.save(actor)
    except services.NoteLocked as error:
        return _locked(request, note, error)
    if saved:
        messages.success(request, f"Draft saved at {timezone.localtime():%H:%M}.")
        return redirect("note_edit", note.pk)
    return _edit_page(request, draft, status=400)


@actor_required
@require_POST
def note_autosave(request: ActorRequest, note_id: int) -> HttpResponse:
    """What the note form posts as the therapist types: saves and answers with a one-line status."""
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    if note.is_signed:
        return _locked(request, note)
    draft = _Draft(note, request.POST)
    try:
        saved = draft.save(actor)
    except services.NoteLocked as error:
        return _locked(request, note, error)
    # Each technique row's screening warning is swapped in beside it (out of band) as the therapist types.
    warnings = draft.warnings(queries.screening_on(note.episode, note.visit_on))
    context = {
        "note": note,
        "saved_at": timezone.localtime() if saved else None,
        "errors": draft.errors(),
        "row_warnings": [(i, warnings.get(i, [])) for i in range(len(draft.techniques.forms))],
    }
    return render(request, "clinical/_note_autosave_status.html", context, status=200 if saved else 400)


@actor_required
@require_POST
def note_sign(request: ActorRequest, note_id: int) -> HttpResponse:
    """Save what the form holds, then sign. A refusal re-shows the form with the reason; nothing is lost."""
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    if note.is_signed:
        return _locked(request, note)
    has_form = "subjective" in request.POST
    draft = _Draft(note, request.POST if has_form else None)
    try:
        if has_form and not draft.save(actor):
            refused = ["The note was not signed: correct the problems below."]
            return _edit_page(request, draft, refused=refused, status=400)
        services.note_sign(actor=actor, note=note)
    except services.NoteLocked as error:
        return _locked(request, note, error)
    except services.SigningRefused as error:
        refused = [m for found in error.message_dict.values() for m in found]
        # Field-specific refusals (pain after, techniques) also show beside their field.
        if has_form:
            draft.merge(ValidationError({k: v for k, v in error.message_dict.items() if k != "__all__"}))
        # The refusal banner already lists every reason: no second summary of the same messages.
        return _edit_page(request, draft, refused=refused, summary=False, status=400)
    messages.success(request, "Note signed. It can now only be amended with an addendum.")
    return redirect("note_detail", note.pk)


def _detail(
    request: ActorRequest,
    note: TreatmentNote,
    *,
    addendum_form: AddendumForm | None = None,
    locked: str = "",
    status: int = 200,
) -> HttpResponse:
    """The note as the record holds it, loaded with its techniques, addenda and signer."""
    known, regions = knowledge.techniques(), knowledge.body_regions()
    techniques: list[dict[str, Any]] = [
        {
            "name": known[t.technique].name if t.technique in known else t.technique,
            "region": regions[t.region].name if t.region in regions else t.region,
            "side": SIDES.get(t.side, ""),
            "minutes": t.minutes,
            "pressure": t.pressure,
        }
        for t in note.techniques.all()
    ]
    context = {
        "note": note,
        "episode": note.episode,
        "client": note.client,
        "techniques": techniques,
        "total_minutes": sum(t["minutes"] for t in techniques),
        "addenda": list(note.addenda.all()),
        "hash_ok": note_seal_ok(note) if note.is_signed else None,
        "addendum_form": addendum_form or AddendumForm(),
        "locked": locked,
    }
    return render(request, "clinical/note_detail.html", context, status=status)


@actor_required
def note_detail(request: ActorRequest, note_id: int) -> HttpResponse:
    return _detail(request, queries.note_for_reading(request.actor, note_id))


@actor_required
@require_POST
def note_delete(request: ActorRequest, note_id: int) -> HttpResponse:
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    if note.is_signed:
        return _locked(request, note)
    try:
        services.note_delete_draft(actor=actor, note=note)
    except services.NoteLocked as error:
        return _locked(request, note, error)
    messages.success(request, f"The draft note of {note.visit_on:%Y-%m-%d} was deleted.")
    return redirect("chart", note.episode_id)


@actor_required
@require_POST
def addendum_add(request: ActorRequest, note_id: int) -> HttpResponse:
    actor = request.actor
    note = queries.note_or_404(actor, note_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(
                actor=actor, note=note, text=form.cleaned_data["text"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Addendum signed and added to the note.")
            return redirect(reverse("note_detail", args=[note.pk]) + "#addenda")
    return _detail(request, queries.note_with_details(actor, note.pk), addendum_form=form, status=400)
