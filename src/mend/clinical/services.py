"""Writes of the clinical record. Each function checks access, validates, writes inside one
transaction and appends to the audit trail. Validation errors name their field
(``ValidationError({"field": …})``) so pages and the API can show them beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone

from mend import access, knowledge
from mend.audit.models import Action as AuditAction
from mend.audit.services import audit_record
from mend.clinical import icd10, queries, rules
from mend.clinical.models import (
    Addendum,
    Assessment,
    Clearance,
    DischargeReason,
    Episode,
    FindingSource,
    Goal,
    HealthHistory,
    NoteStatus,
    NoteTechnique,
    PainQuality,
    PainRegion,
    PalpationFinding,
    PalpationKind,
    PlanOfCare,
    PreSessionCheck,
    PsfsActivity,
    Referral,
    RomMeasurement,
    ScreeningFinding,
    TreatmentNote,
)
from mend.clinical.screening import SIDES, Action, catalogue
from mend.clinics.models import Membership, Role
from mend.outcomes import measures
from mend.people.models import Client, ReferringProvider
from mend.platform.actor import Actor
from mend.writes import apply_fields, editable_fields, merge_errors

HEALTH_HISTORY_VERSION = "2026.1"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class NoteLocked(PermissionDenied):
    """A signed note was about to change. Signed notes change only through addenda."""


class SigningRefused(ValidationError):
    pass


def _require_write(actor: Actor, episode: Episode) -> None:
    access.require_clinical(actor)
    if episode.clinic_id != actor.clinic_id:
        raise ValueError("Clinical records are changed only within their own clinic.")


def _require_open(episode: Episode) -> None:
    if not episode.is_open:
        raise ValidationError({"__all__": "This episode of care was discharged; open a new episode to record more."})


def _audit(action: str, obj: models.Model, actor: Actor, client_id: int) -> None:
    audit_record(action=action, obj=obj, client_id=client_id, user=actor.user)


def _check_region(field: str, region: str, side: str, errors: dict[str, list[str]]) -> None:
    if region and region not in knowledge.body_regions():
        errors.setdefault(field, []).append(f"{region!r} is not a body region.")
    if side and side not in SIDES:
        errors.setdefault(field, []).append(f"Side must be left, right or both sides, not {side!r}.")


def check_document(upload: UploadedFile | None, field: str = "document") -> str:
    """The document's content type, read from its first bytes (not its name); size and type checked."""
    if upload is None:
        return ""
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({field: f"The file is {upload.size // (1024 * 1024)} MB; the limit is 10 MB."})
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in DOCUMENT_TYPES.items():
        if head.startswith(magic):
            return content_type
    raise ValidationError({field: "Attach a PDF, PNG or JPEG file."})


# --- Episode ------------------------------------------------------------------------------


EPISODE_FIELDS = {"title", "condition", "started_on"}


@transaction.atomic
def episode_open(
    *, actor: Actor, client: Client, data: Mapping[str, Any], therapist: Membership | None = None
) -> Episode:
    access.require_clinical(actor)
    if client.clinic_id != actor.clinic_id:
        raise ValueError("An episode is opened within the client's own clinic.")
    if therapist is None:
        therapist = actor.membership if actor.role == Role.THERAPIST else _primary_therapist(client)
    if therapist is None or therapist.clinic_id != actor.clinic_id or therapist.role != Role.THERAPIST:
        raise ValidationError({"therapist": "Choose a therapist of this clinic for the episode."})
    episode = apply_fields(Episode(clinic_id=actor.clinic_id, client=client, therapist=therapist), data, EPISODE_FIELDS)
    if not episode.started_on:
        episode.started_on = timezone.localdate()
    if episode.condition and episode.condition not in knowledge.conditions():
        raise ValidationError({"condition": "Choose a condition from the list."})
    episode.full_clean()
    episode.save()
    _audit(AuditAction.CREATE, episode, actor, client.pk)
    return episode


def _primary_therapist(client: Client) -> Membership | None:
    member = client.care_team.filter(is_primary=True).select_related("therapist").first()
    return member.therapist if member else None


@transaction.atomic
def episode_update(*, actor: Actor, episode: Episode, data: Mapping[str, Any]) -> Episode:
    _require_write(actor, episode)
    _require_open(episode)
    apply_fields(episode, data, EPISODE_FIELDS)
    if episode.condition and episode.condition not in knowledge.conditions():
        raise ValidationError({"condition": "Choose a condition from the list."})
    episode.full_clean()
    episode.save()
    _audit(AuditAction.UPDATE, episode, actor, episode.client_id)
    return episode


# --- Referral -----------------------------------------------------------------------------

REFERRAL_FIELDS = editable_fields(
    Referral, {"clinic", "client", "episode", "diagnoses", "document", "document_type", "closed_at", "provider"}
)


def _diagnoses(codes: Iterable[str]) -> list[dict[str, str]]:
    found, problems = [], []
    for raw in codes:
        if not str(raw).strip():
            continue
        try:
            code = icd10.lookup(str(raw))
        except icd10.InvalidCode as error:
            problems.append(str(error))
            continue
        if code.code not in {d["code"] for d in found}:
            found.append({"code": code.code, "description": code.description})
    if problems:
        raise ValidationError({"diagnoses": problems})
    if not found:
        raise ValidationError({"diagnoses": "Add at least one ICD-10-CM diagnosis from the referral."})
    return found


@transaction.atomic
def referral_save(
    *,
    actor: Actor,
    episode: Episode,
    data: Mapping[str, Any],
    diagnoses: Sequence[str],
    provider: ReferringProvider | None = None,
    document: UploadedFile | None = None,
    referral: Referral | None = None,
) -> Referral:
    _require_write(actor, episode)
    _require_open(episode)
    created = referral is None
    referral = referral or Referral(clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode)
    if referral.episode_id != episode.pk:
        raise ValueError("That referral belongs to another episode.")
    if provider is not None and provider.clinic_id != actor.clinic_id:
        raise ValidationError({"provider": "Choose a referring provider of this clinic."})
    apply_fields(referral, data, REFERRAL_FIELDS)
    referral.provider = provider
    if not referral.received_on:
        referral.received_on = timezone.localdate()
    errors: dict[str, list[str]] = {}
    try:
        referral.diagnoses = _diagnoses(diagnoses)
    except ValidationError as error:
        errors.update(error.message_dict)
    today = timezone.localdate()
    if referral.referred_on and referral.referred_on > today:
        errors.setdefault("referred_on", []).append("The referral date cannot be in the future.")
    if referral.referred_on and referral.valid_until and referral.valid_until < referral.referred_on:
        errors.setdefault("valid_until", []).append(
            f"The referral would have expired on {referral.valid_until:%Y-%m-%d}, before it was written "
            f"on {referral.referred_on:%Y-%m-%d}. Check both dates."
        )
    try:
        referral.document_type = check_document(document) or referral.document_type
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        referral.full_clean(exclude=["diagnoses", "document"])
    except ValidationError as error:
        merge_errors(errors, error)
    if errors:
        raise ValidationError(errors)
    if document is not None:
        referral.document.save(document.name or "referral", document, save=False)
    referral.save()
    _audit(AuditAction.CREATE if created else AuditAction.UPDATE, referral, actor, episode.client_id)
    return referral


@transaction.atomic
def referral_close(*, actor: Actor, referral: Referral) -> Referral:
    _require_write(actor, referral.episode)
    if referral.closed_at is None:
        Referral.objects.filter(pk=referral.pk, closed_at__isnull=True).update(closed_at=timezone.now())
        referral.refresh_from_db(fields=["closed_at"])
        _audit(AuditAction.UPDATE, referral, actor, referral.client_id)
    return referral


# --- Screening ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingInput:
    rule_id: str
    region: str = ""
    side: str = ""
    note: str = ""


def _findings(
    *,
    actor: Actor,
    episode: Episode,
    items: Iterable[FindingInput],
    source: str,
    on: date,
    field: str = "findings",
    applies_on: date | None = None,
    **links: Any,
) -> list[ScreeningFinding]:
    rules_known = catalogue().rules
    errors: dict[str, list[str]] = {}
    rows = []
    for item in items:
        rule = rules_known.get(item.rule_id)
        if rule is None:
            errors.setdefault(field, []).append(f"{item.rule_id!r} is not a screening finding.")
            continue
        _check_region(field, item.region, item.side, errors)
        rows.append(
            ScreeningFinding(
                clinic_id=actor.clinic_id,
                client_id=episode.client_id,
                episode=episode,
                rule_id=rule.id,
                region=item.region,
                side=item.side,
                note=item.note[:300],
                source=source,
                recorded_on=on,
                applies_on=applies_on,
                recorded_by=actor.membership,
                **links,
            )
        )
    if errors:
        raise ValidationError(errors)
    return ScreeningFinding.objects.bulk_create(rows)


HEALTH_HISTORY_FIELDS = editable_fields(
    HealthHistory, {"clinic", "client", "episode", "recorded_by", "questionnaire_version"}
)


@transaction.atomic
def health_history_record(
    *, actor: Actor, episode: Episode, data: Mapping[str, Any], findings: Iterable[FindingInput]
) -> HealthHistory:
    """Record the intake questionnaire; its findings replace those of the previous one."""
    _require_write(actor, episode)
    _require_open(episode)
    history = apply_fields(
        HealthHistory(
            clinic_id=actor.clinic_id,
            client_id=episode.client_id,
            episode=episode,
            recorded_by=actor.membership,
            questionnaire_version=HEALTH_HISTORY_VERSION,
        ),
        data,
        HEALTH_HISTORY_FIELDS,
    )
    if not history.completed_on:
        history.completed_on = timezone.localdate()
    history.full_clean()
    history.save()
    # The newest health history is the truth about long-standing findings: older ones resolve.
    ScreeningFinding.objects.filter(
        episode=episode, source=FindingSource.HEALTH_HISTORY, resolved_on__isnull=True
    ).update(resolved_on=history.completed_on)
    _findings(
        actor=actor,
        episode=episode,
        items=findings,
        source=FindingSource.HEALTH_HISTORY,
        on=history.completed_on,
        health_history=history,
    )
    _audit(AuditAction.CREATE, history, actor, episode.client_id)
    return history


CHECK_FIELDS = {"checked_on", "fever", "new_symptoms", "new_medications", "able_to_consent"}


@transaction.atomic
def pre_session_check_record(
    *, actor: Actor, episode: Episode, data: Mapping[str, Any], findings: Iterable[FindingInput] = ()
) -> PreSessionCheck:
    """The check at the start of a visit. Fever and inability to consent hold for that day only."""
    _require_write(actor, episode)
    _require_open(episode)
    check = apply_fields(
        PreSessionCheck(
            clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, recorded_by=actor.membership
        ),
        data,
        CHECK_FIELDS,
    )
    if not check.checked_on:
        check.checked_on = timezone.localdate()
    check.full_clean()
    check.save()
    today_only = []
    if check.fever:
        today_only.append(FindingInput("fever", note="Reported at the pre-session check."))
    if not check.able_to_consent:
        today_only.append(FindingInput("impaired_consent", note="Observed at the pre-session check."))
    _findings(
        actor=actor,
        episode=episode,
        items=today_only,
        source=FindingSource.PRE_SESSION,
        on=check.checked_on,
        applies_on=check.checked_on,
        pre_session_check=check,
    )
    _findings(
        actor=actor,
        episode=episode,
        items=findings,
        source=FindingSource.PRE_SESSION,
        on=check.checked_on,
        pre_session_check=check,
    )
    _audit(AuditAction.CREATE, check, actor, episode.client_id)
    return check


@transaction.atomic
def finding_add(*, actor: Actor, episode: Episode, finding: FindingInput, on: date | None = None) -> ScreeningFinding:
    _require_write(actor, episode)
    _require_open(episode)
    (row,) = _findings(
        actor=actor,
        episode=episode,
        items=[finding],
        source=FindingSource.THERAPIST,
        on=on or timezone.localdate(),
        field="rule_id",
    )
    _audit(AuditAction.CREATE, row, actor, episode.client_id)
    return row


@transaction.atomic
def finding_resolve(*, actor: Actor, finding: ScreeningFinding, on: date | None = None) -> ScreeningFinding:
    _require_write(actor, finding.episode)
    if finding.resolved_on is None:
        finding.resolved_on = on or timezone.localdate()
        finding.save(update_fields=["resolved_on"])
        _audit(AuditAction.UPDATE, finding, actor, finding.client_id)
    return finding


CLEARANCE_FIELDS = {"rule_id", "cleared_by", "cleared_on", "conditions"}


@transaction.atomic
def clearance_record(
    *,
    actor: Actor,
    episode: Episode,
    data: Mapping[str, Any],
    provider: ReferringProvider | None = None,
    document: UploadedFile | None = None,
) -> Clearance:
    _require_write(actor, episode)
    _require_open(episode)
    clearance = apply_fields(
        Clearance(
            clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, recorded_by=actor.membership
        ),
        data,
        CLEARANCE_FIELDS,
    )
    if provider is not None:
        if provider.clinic_id != actor.clinic_id:
            raise ValidationError({"provider": "Choose a referring provider of this clinic."})
        clearance.provider = provider
        clearance.cleared_by = clearance.cleared_by or f"{provider.name}, {provider.profession}"
    errors: dict[str, list[str]] = {}
    rule = catalogue().rules.get(clearance.rule_id)
    if rule is None or Action.CLEARANCE not in {a.action for a in rule.actions}:
        errors["rule_id"] = ["Choose a finding that needs a physician's clearance."]
    if clearance.cleared_on and clearance.cleared_on > timezone.localdate():
        errors["cleared_on"] = ["A clearance cannot be dated in the future."]
    try:
        clearance.document_type = check_document(document)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        clearance.full_clean(exclude=["document"])
    except ValidationError as error:
        merge_errors(errors, error)
    if errors:
        raise ValidationError(errors)
    if document is not None:
        clearance.document.save(document.name or "clearance", document, save=False)
    clearance.save()
    _audit(AuditAction.CREATE, clearance, actor, episode.client_id)
    return clearance


# --- Assessment -----------------------------------------------------------------------------

ASSESSMENT_FIELDS = {"kind", "assessed_on", "chief_complaint", "history", "nprs", "posture", "notes"}


@dataclass(frozen=True, slots=True)
class PainInput:
    region: str
    intensity: int
    side: str = ""
    quality: str = ""


@dataclass(frozen=True, slots=True)
class RomInput:
    motion: str
    degrees: int
    side: str = ""
    mode: str = "active"


@dataclass(frozen=True, slots=True)
class PsfsInput:
    activity: str
    score: int


@dataclass(frozen=True, slots=True)
class PalpationInput:
    region: str
    kind: str
    side: str = ""
    note: str = ""


def _check_assessment_parts(
    pain: Sequence[PainInput], rom: Sequence[RomInput], psfs: Sequence[PsfsInput], palpation: Sequence[PalpationInput]
) -> None:
    errors: dict[str, list[str]] = {}
    motions = knowledge.rom_motions()
    for n, p in enumerate(pain):
        field = f"pain-{n}"
        _check_region(field, p.region, p.side, errors)
        if not isinstance(p.intensity, int) or not 0 <= p.intensity <= 10:
            errors.setdefault(field, []).append(f"Pain intensity is 0 to 10; {p.intensity} is out of range.")
    seen = set()
    for p in pain:
        if (p.region, p.side) in seen:
            errors.setdefault("pain", []).append(f"{p.region} {p.side} is on the pain map twice.".replace("  ", " "))
        seen.add((p.region, p.side))
    for n, r in enumerate(rom):
        field = f"rom-{n}"
        motion = motions.get(r.motion)
        if motion is None:
            errors.setdefault(field, []).append(f"{r.motion!r} is not a joint motion in the norm table.")
            continue
        if not isinstance(r.degrees, int) or not 0 <= r.degrees <= motion.max:
            errors.setdefault(field, []).append(
                f"{motion.name} of {r.degrees}° is not possible; the norm is {motion.normal}° and Mend accepts "
                f"up to {motion.max}°."
            )
        if r.side and r.side not in SIDES:
            errors.setdefault(field, []).append("Side must be left, right or both sides.")
        if r.mode not in ("active", "passive"):
            errors.setdefault(field, []).append("Range is active or passive.")
    for n, s in enumerate(psfs):
        field = f"psfs-{n}"
        if not s.activity.strip():
            errors.setdefault(field, []).append("Name the activity.")
        if not isinstance(s.score, int) or not 0 <= s.score <= 10:
            errors.setdefault(field, []).append(f"PSFS scores run from 0 (unable) to 10; {s.score} is out of range.")
    for n, p in enumerate(pain):
        if p.quality and p.quality not in PainQuality.values:
            errors.setdefault(f"pain-{n}", []).append("Choose the quality of the pain from the list.")
    for n, f in enumerate(palpation):
        _check_region(f"palpation-{n}", f.region, f.side, errors)
        if f.kind not in PalpationKind.values:
            errors.setdefault(f"palpation-{n}", []).append("Choose what was palpated from the list.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assessment_save(
    *,
    actor: Actor,
    episode: Episode,
    data: Mapping[str, Any],
    pain: Sequence[PainInput] = (),
    rom: Sequence[RomInput] = (),
    psfs: Sequence[PsfsInput] = (),
    palpation: Sequence[PalpationInput] = (),
    assessment: Assessment | None = None,
) -> Assessment:
    """Create or replace an assessment with its pain map, ROM, PSFS and palpation findings."""
    _require_write(actor, episode)
    _require_open(episode)
    created = assessment is None
    assessment = assessment or Assessment(
        clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, therapist=actor.membership
    )
    if assessment.episode_id != episode.pk:
        raise ValueError("That assessment belongs to another episode.")
    apply_fields(assessment, data, ASSESSMENT_FIELDS)
    if not assessment.assessed_on:
        assessment.assessed_on = timezone.localdate()
    errors: dict[str, list[str]] = {}
    try:
        assessment.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        _check_assessment_parts(pain, rom, psfs, palpation)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    assessment.save()
    if not created:
        for related in (PainRegion, RomMeasurement, PsfsActivity, PalpationFinding):
            related.objects.filter(assessment=assessment).delete()
    common = {"clinic_id": actor.clinic_id, "assessment": assessment}
    PainRegion.objects.bulk_create(
        [PainRegion(region=p.region, side=p.side, intensity=p.intensity, quality=p.quality, **common) for p in pain]
    )
    RomMeasurement.objects.bulk_create(
        [RomMeasurement(motion=r.motion, side=r.side, mode=r.mode, degrees=r.degrees, **common) for r in rom]
    )
    PsfsActivity.objects.bulk_create([PsfsActivity(activity=s.activity.strip(), score=s.score, **common) for s in psfs])
    PalpationFinding.objects.bulk_create(
        [PalpationFinding(region=f.region, side=f.side, kind=f.kind, note=f.note, **common) for f in palpation]
    )
    _audit(AuditAction.CREATE if created else AuditAction.UPDATE, assessment, actor, episode.client_id)
    return assessment


# --- Goals and plan -------------------------------------------------------------------------

GOAL_FIELDS = {"description", "measure", "direction", "baseline", "target", "due_on"}


@transaction.atomic
def goal_save(*, actor: Actor, episode: Episode, data: Mapping[str, Any], goal: Goal | None = None) -> Goal:
    _require_write(actor, episode)
    _require_open(episode)
    created = goal is None
    goal = goal or Goal(clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode)
    if goal.episode_id != episode.pk:
        raise ValueError("That goal belongs to another episode.")
    apply_fields(goal, data, GOAL_FIELDS)
    errors: dict[str, list[str]] = {}
    problem = queries.measure_problem(goal.measure)
    if problem:
        errors["measure"] = [problem]
    elif not goal.direction:
        goal.direction = queries.measure_direction(goal.measure)
    try:
        goal.full_clean()
    except ValidationError as error:
        merge_errors(errors, error)
    if not errors and goal.measure:
        low, high = queries.measure_range(goal.measure)
        for field in ("baseline", "target"):
            value = getattr(goal, field)
            if value is not None and not low <= float(value) <= high:
                errors.setdefault(field, []).append(f"This measure runs from {low:g} to {high:g}.")
        if goal.baseline is not None and goal.target is not None and goal.baseline == goal.target:
            errors.setdefault("target", []).append("The target must differ from the baseline.")
    if errors:
        raise ValidationError(errors)
    goal.save()
    _audit(AuditAction.CREATE if created else AuditAction.UPDATE, goal, actor, episode.client_id)
    return goal


@transaction.atomic
def goal_delete(*, actor: Actor, goal: Goal) -> None:
    _require_write(actor, goal.episode)
    _audit(AuditAction.DELETE, goal, actor, goal.client_id)
    goal.delete()


PLAN_FIELDS = {
    "sessions_per_week",
    "weeks",
    "session_minutes",
    "home_care",
    "re_evaluation_on",
    "measures",
    "home_program",
    "dose_source",
}


def _check_plan_techniques(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    known = knowledge.techniques()
    errors: dict[str, list[str]] = {}
    cleaned = []
    for n, item in enumerate(items):
        field = f"technique-{n}"
        technique = str(item.get("technique", ""))
        region = str(item.get("region", "") or "")
        side = str(item.get("side", "") or "")
        pressure = item.get("pressure")
        if technique not in known:
            errors.setdefault(field, []).append("Choose a technique from the list.")
        _check_region(field, region, side, errors)
        if pressure not in (None, ""):
            try:
                pressure = int(pressure)
            except (TypeError, ValueError):
                pressure = -1
            if not 1 <= pressure <= 5:
                errors.setdefault(field, []).append("Pressure is a level from 1 (light) to 5 (very deep).")
        else:
            pressure = None
        cleaned.append({"technique": technique, "region": region, "side": side, "pressure": pressure})
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def plan_save(
    *, actor: Actor, episode: Episode, data: Mapping[str, Any], techniques: Sequence[Mapping[str, Any]]
) -> PlanOfCare:
    """Create or change the episode's plan. Conflicts with screening are shown, not refused: the
    therapist decides, and the chart keeps the warning in view."""
    _require_write(actor, episode)
    _require_open(episode)
    plan = PlanOfCare.objects.filter(episode=episode).first()
    created = plan is None
    plan = plan or PlanOfCare(
        clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, created_by=actor.membership
    )
    apply_fields(plan, data, PLAN_FIELDS)
    errors: dict[str, list[str]] = {}
    try:
        plan.techniques = _check_plan_techniques(techniques)
    except ValidationError as error:
        errors.update(error.message_dict)
    known_measures = measures()
    for n, item in enumerate(plan.measures or []):
        if item.get("measure") not in known_measures:
            errors.setdefault(f"measure-{n}", []).append("Choose a measure from the list.")
    for n, item in enumerate(plan.home_program or []):
        if item.get("kind") not in knowledge.HOME_PROGRAM_KINDS or not str(item.get("title", "")).strip():
            errors.setdefault(f"home-{n}", []).append("Each home exercise needs a kind and a title.")
    try:
        plan.full_clean()
    except ValidationError as error:
        merge_errors(errors, error)
    if errors:
        raise ValidationError(errors)
    plan.save()
    _audit(AuditAction.CREATE if created else AuditAction.UPDATE, plan, actor, episode.client_id)
    return plan


# --- Treatment notes --------------------------------------------------------------------------

NOTE_FIELDS = {
    "visit_on",
    "duration_minutes",
    "subjective",
    "pain_pre",
    "sleep_quality",
    "stress",
    "objective",
    "modalities",
    "pain_post",
    "response",
    "adverse_events",
    "home_care",
    "plan_next",
}
MODALITIES = ("heat", "cold")


@dataclass(frozen=True, slots=True)
class TechniqueInput:
    technique: str
    region: str
    minutes: int
    pressure: int
    side: str = ""


def _require_author(actor: Actor, note: TreatmentNote) -> None:
    # A note is its therapist's own record of the visit: others read it, only the author writes
    # and signs it (and may amend it later with an addendum like anyone treating the client).
    if note.therapist_id != actor.membership.pk:
        raise PermissionDenied("Only the therapist who is writing this note can change it.")


def _lock(note: TreatmentNote) -> None:
    if note.is_signed:
        raise NoteLocked(
            f"This note was signed on {note.signed_at:%Y-%m-%d %H:%M} and cannot be changed. Add an addendum instead."
        )


@transaction.atomic
def note_start(*, actor: Actor, episode: Episode, visit_on: date | None = None) -> TreatmentNote:
    """A draft for today's visit, pre-filled from the plan and the last signed note."""
    _require_write(actor, episode)
    _require_open(episode)
    if actor.role != Role.THERAPIST and not access.can_manage_clinic(actor):
        raise PermissionDenied("Only therapists write treatment notes.")
    visit_on = visit_on or timezone.localdate()
    draft = queries.note_prefill(episode)
    note = TreatmentNote(
        clinic_id=actor.clinic_id,
        client_id=episode.client_id,
        episode=episode,
        therapist=actor.membership,
        visit_on=visit_on,
        duration_minutes=draft.duration_minutes,
        home_care=draft.home_care,
        objective=draft.objective,
    )
    note.full_clean()
    note.save()
    NoteTechnique.objects.bulk_create(
        [
            NoteTechnique(clinic_id=actor.clinic_id, note=note, **t)
            for t in draft.techniques
            if t.get("region") and t.get("minutes") and t.get("pressure")
        ]
    )
    _audit(AuditAction.CREATE, note, actor, episode.client_id)
    return note


def _check_note_techniques(items: Sequence[TechniqueInput], duration: int | None) -> None:
    errors: dict[str, list[str]] = {}
    known = knowledge.techniques()
    total = 0
    for n, t in enumerate(items):
        field = f"technique-{n}"
        if t.technique not in known:
            errors.setdefault(field, []).append("Choose a technique from the list.")
        if not t.region:
            errors.setdefault(field, []).append("Say where on the body.")
        _check_region(field, t.region, t.side, errors)
        if not isinstance(t.minutes, int) or not 1 <= t.minutes <= 120:
            errors.setdefault(field, []).append("Minutes run from 1 to 120.")
        else:
            total += t.minutes
        if not isinstance(t.pressure, int) or not 1 <= t.pressure <= 5:
            errors.setdefault(field, []).append("Pressure is a level from 1 (light) to 5 (very deep).")
    if duration and total > duration:
        errors.setdefault("techniques", []).append(
            f"The techniques add up to {total} minutes, more than the {duration}-minute session."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def note_update(
    *,
    actor: Actor,
    note: TreatmentNote,
    data: Mapping[str, Any],
    techniques: Sequence[TechniqueInput] | None = None,
) -> TreatmentNote:
    """Save a draft (also what autosave calls). A signed note refuses: :class:`NoteLocked`."""
    _require_write(actor, note.episode)
    # Lock the row: a sign and an autosave racing on the same note must not both win.
    current = TreatmentNote.objects.select_for_update().get(pk=note.pk)
    _lock(current)
    _require_author(actor, current)
    apply_fields(note, data, NOTE_FIELDS)
    errors: dict[str, list[str]] = {}
    if note.modalities and not set(note.modalities) <= set(MODALITIES):
        errors["modalities"] = ["Modalities are heat and cold."]
    try:
        note.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    if techniques is not None:
        try:
            _check_note_techniques(techniques, note.duration_minutes)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    note.save()
    if techniques is not None:
        NoteTechnique.objects.filter(note=note).delete()
        NoteTechnique.objects.bulk_create(
            [
                NoteTechnique(
                    clinic_id=note.clinic_id,
                    note=note,
                    technique=t.technique,
                    region=t.region,
                    side=t.side,
                    minutes=t.minutes,
                    pressure=t.pressure,
                )
                for t in techniques
            ]
        )
    _audit(AuditAction.UPDATE, note, actor, note.client_id)
    return note


@transaction.atomic
def note_sign(*, actor: Actor, note: TreatmentNote) -> TreatmentNote:
    """Lock the note and store its content hash. Refused on a day screening blocks treatment, or
    while a needed clearance is missing; the visit then counts against the usable referral."""
    _require_write(actor, note.episode)
    current = TreatmentNote.objects.select_for_update().get(pk=note.pk)
    _lock(current)
    if note.therapist_id != actor.membership.pk:
        raise PermissionDenied("Only the therapist who wrote the note can sign it.")
    screening = queries.screening_on(note.episode, note.visit_on)
    if not screening.can_treat_today:
        reasons = " ".join(a.explanation for a in screening.by_action(screening.status))
        raise SigningRefused({"__all__": f"Screening says no treatment on {note.visit_on:%Y-%m-%d}: {reasons}"})
    if screening.uncleared:
        names = ", ".join(sorted({catalogue().rules[a.rule_id].name for a in screening.uncleared}))
        raise SigningRefused({"__all__": f"Record the physician's clearance first ({names})."})
    techniques = list(NoteTechnique.objects.filter(note=note))
    if not techniques:
        raise SigningRefused({"techniques": "Record at least one technique before signing."})
    if note.pain_pre is None or note.pain_post is None:
        raise SigningRefused({"pain_post": "Record pain before and after the session before signing."})
    referral = queries.usable_referral(note.episode, note.visit_on)
    note.referral = referral
    note.status = NoteStatus.SIGNED
    note.signed_at = timezone.now()
    note.signed_by = actor.membership
    note.content_hash = rules.content_hash(queries.note_content(note, techniques))
    note.save()
    _audit(AuditAction.UPDATE, note, actor, note.client_id)
    return note


@transaction.atomic
def note_delete_draft(*, actor: Actor, note: TreatmentNote) -> None:
    _require_write(actor, note.episode)
    current = TreatmentNote.objects.select_for_update().get(pk=note.pk)
    _lock(current)
    _require_author(actor, current)
    _audit(AuditAction.DELETE, note, actor, note.client_id)
    note.delete()


@transaction.atomic
def addendum_add(*, actor: Actor, note: TreatmentNote, text: str, reason: str = "") -> Addendum:
    _require_write(actor, note.episode)
    if not note.is_signed:
        raise ValidationError({"text": "This note is still a draft: change it directly."})
    if not text.strip():
        raise ValidationError({"text": "Write what the addendum adds or corrects."})
    now = timezone.now()
    addendum = Addendum(
        clinic_id=note.clinic_id,
        note=note,
        text=text.strip(),
        reason=reason.strip()[:200],
        signed_by=actor.membership,
        signed_at=now,
    )
    addendum.content_hash = rules.content_hash(
        {"note": note.pk, "note_hash": note.content_hash, "text": addendum.text, "reason": addendum.reason, "at": now}
    )
    addendum.save()
    _audit(AuditAction.CREATE, addendum, actor, note.client_id)
    return addendum


# --- Discharge ------------------------------------------------------------------------------


@transaction.atomic
def episode_discharge(
    *, actor: Actor, episode: Episode, reason: str, summary: str = "", on: date | None = None
) -> Episode:
    """Close the episode with a reason and a snapshot of every goal's outcome; close its referrals."""
    _require_write(actor, episode)
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    _require_open(episode)
    on = on or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if reason not in DischargeReason.values:
        errors["discharge_reason"] = ["Choose why the client is discharged."]
    if on < episode.started_on:
        errors["discharged_on"] = ["Discharge cannot come before the episode started."]
    if TreatmentNote.objects.filter(episode=episode, status=NoteStatus.DRAFT).exists():
        errors.setdefault("__all__", []).append("Sign or delete the draft notes before discharging.")
    if errors:
        raise ValidationError(errors)
    outcomes = queries.goal_outcomes(episode, today=on)
    episode.discharged_on = on
    episode.discharge_reason = reason
    episode.discharge_summary = summary.strip()
    episode.discharge_outcomes = outcomes
    episode.save()
    Referral.objects.filter(episode=episode, closed_at__isnull=True).update(closed_at=timezone.now())
    _audit(AuditAction.UPDATE, episode, actor, episode.client_id)
    return episode
