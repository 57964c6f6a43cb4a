"""Writes of outcome measures: record a response, send a questionnaire link, redeem it.

Every write validates, runs inside ``transaction.atomic`` and appends to the audit trail in the
same transaction. Emails leave only after the transaction commits (``transaction.on_commit``),
so a rolled-back link is never sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mend import access
from mend.audit.models import Action as AuditAction
from mend.audit.services import audit_record
from mend.clinical.models import Episode, NoteStatus, TreatmentNote
from mend.outcomes.models import MeasureResponse, QuestionnaireLink, Source
from mend.outcomes.queries import PSFS_MAX_ACTIVITIES as PSFS_MAX_ACTIVITIES  # the form and demo read it here
from mend.outcomes.queries import LinkUnusable, link_lookup, link_signer, token_hash
from mend.outcomes.scoring import SCORING_VERSION, ScoringError, measures, score
from mend.outcomes.wording import WordingError, wording
from mend.platform import clock
from mend.platform.actor import Actor

# --- Responses --------------------------------------------------------------------------------


def _clean_answers(measure_id: str, answers: Sequence[object], item_labels: Sequence[str]) -> list[float | None]:
    """Answers as the scorer takes them: numbers (whole numbers kept as int) or None for a blank."""
    measure = measures().get(measure_id)
    if measure is None:
        raise ValidationError({"measure": f"{measure_id!r} is not a measure in the registry."})
    if not isinstance(answers, list | tuple):
        raise ValidationError({"answers": "Give the answers as a list in the published item order."})
    cleaned: list[float | None] = []
    for n, answer in enumerate(answers, start=1):
        if answer is None or answer == "":
            cleaned.append(None)
        elif isinstance(answer, bool):
            raise ValidationError({"answers": f"Item {n}: {answer!r} is not a number."})
        elif isinstance(answer, int | float):
            cleaned.append(int(answer) if float(answer).is_integer() else float(answer))
        elif isinstance(answer, str):
            try:
                value = float(answer)
            except ValueError:
                raise ValidationError({"answers": f"Item {n}: {answer!r} is not a number."}) from None
            cleaned.append(int(value) if value.is_integer() else value)
        else:
            raise ValidationError({"answers": f"Item {n}: {answer!r} is not a number."})
    if measure.activities is not None:
        # The client's own activities: as many as the instrument's source allows, each one named.
        # Unrated activities do not count towards the minimum (the score is over those rated).
        low, high = measure.activities.min, measure.activities.max
        rated = sum(1 for a in cleaned if a is not None)
        if len(cleaned) > high or rated < low:
            raise ValidationError(
                {
                    "answers": f"The {measure.short} takes {low} to {high} activities, each rated: "
                    f"{len(cleaned)} named, {rated} rated."
                }
            )
        if len(item_labels) != len(cleaned) or any(not str(label).strip() for label in item_labels):
            raise ValidationError({"item_labels": "Name each activity the client rated."})
    if all(a is None for a in cleaned):
        raise ValidationError({"answers": "Nothing was answered."})
    try:
        score(measure_id, cleaned)  # range and count checks, named per item
    except ScoringError as error:
        raise ValidationError({"answers": str(error)}) from None
    return cleaned


def _session_number(episode: Episode, on: date) -> int:
    return TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED, visit_on__lte=on).count()


def _build(
    *,
    episode: Episode,
    measure_id: str,
    answers: list[float | None],
    item_labels: Sequence[str],
    collected_on: date,
    now: datetime,
    source: Source,
) -> MeasureResponse:
    result = score(measure_id, answers)
    return MeasureResponse(
        clinic_id=episode.clinic_id,
        client_id=episode.client_id,
        episode=episode,
        measure_id=measure_id,
        answers=list(answers),
        item_labels=[str(label).strip()[:120] for label in item_labels],
        value=result.value if result else None,
        band=(result.band or "") if result else "",
        raw=result.raw if result else None,
        answered=sum(1 for a in answers if a is not None),
        scoring_version=result.version if result else SCORING_VERSION,
        collected_on=collected_on,
        collected_at=now,
        source=source,
        session_number=_session_number(episode, collected_on),
    )


@transaction.atomic
def response_record(
    *,
    actor: Actor,
    episode: Episode,
    measure_id: str,
    answers: Sequence[object],
    item_labels: Sequence[str] = (),
    collected_on: date | None = None,
    note: TreatmentNote | None = None,
) -> MeasureResponse:
    """Record a measure answered in clinic (or entered from paper) and its score.

    The score is computed with ``mend.outcomes.score``; when the instrument's rules say it cannot be
    computed (too many blanks) the response is kept with no score, so it shows "not computable".
    """
    access.require_clinical(actor)
    if episode.clinic_id != actor.clinic_id:
        raise ValueError("Outcome measures are recorded only within their own clinic.")
    # A discharged record is read-only whoever writes (page, API, import), read from the locked row
    # (a discharge may have committed since the caller loaded it). Answers to a link sent before
    # discharge still arrive through link_redeem: the client was asked in time.
    if Episode.objects.select_for_update().only("discharged_on").get(pk=episode.pk).discharged_on is not None:
        raise ValidationError({"__all__": "This episode was discharged; its record is read-only."})
    today = actor.today()
    collected_on = collected_on or today
    if collected_on > today:
        raise ValidationError({"collected_on": "A measure cannot be collected in the future."})
    if collected_on < episode.started_on:
        raise ValidationError({"collected_on": "That day is before the episode started."})
    if note is not None and note.episode_id != episode.pk:
        raise ValidationError({"note": "That note belongs to another episode."})
    cleaned = _clean_answers(measure_id, answers, item_labels)
    response = _build(
        episode=episode,
        measure_id=measure_id,
        answers=cleaned,
        item_labels=item_labels,
        collected_on=collected_on,
        now=timezone.now(),
        source=Source.CLINIC,
    )
    response.note = note
    response.recorded_by = actor.membership
    response.save()
    audit_record(action=AuditAction.CREATE, obj=response, client_id=episode.client_id, user=actor.user)
    return response


# --- Questionnaire links ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentLink:
    link: QuestionnaireLink
    url: str


def link_create_and_send(
    *,
    actor: Actor,
    episode: Episode,
    measure_ids: Sequence[str],
    base_url: str,
    days: int | None = None,
) -> SentLink:
    """Create a single-use link for ``measure_ids`` and email it to the client after commit.

    Refused, naming why, when the client has no email address or has not agreed to be contacted
    by email, when the episode is closed, or when a measure is unknown.
    """
    access.require_clinical(actor)
    if episode.clinic_id != actor.clinic_id:
        raise ValueError("Links are sent only within their own clinic.")
    client = episode.client
    if not episode.is_open:
        raise ValidationError({"__all__": "This episode was discharged; questionnaires are sent for open episodes."})
    if not client.email:
        raise ValidationError({"__all__": f"{client.display_name} has no email address on file; add one first."})
    if not client.consent_email:
        raise ValidationError(
            {"__all__": f"{client.display_name} has not agreed to be contacted by email; record their consent first."}
        )
    chosen = list(dict.fromkeys(m for m in measure_ids if m))
    if not chosen:
        raise ValidationError({"measures": "Choose at least one measure to send."})
    unknown = [m for m in chosen if m not in measures()]
    if unknown:
        raise ValidationError({"measures": f"Unknown measure: {', '.join(unknown)}."})
    if any(measures()[m].items is None for m in chosen):
        raise ValidationError({"measures": "PSFS is recorded in clinic: the client names the activities with you."})
    try:
        unworded = [measures()[m].short for m in chosen if wording(measures()[m]) is None]
    except WordingError as error:
        raise ValidationError({"measures": str(error)}) from None
    if unworded:
        # A client alone cannot answer item ids: licensed wording must be loaded first (docs/outcomes.md).
        names = ", ".join(unworded)
        raise ValidationError({"measures": f"{names}: the licensed wording is not loaded; record it in clinic."})
    days = days or settings.MEND_QUESTIONNAIRE_DAYS
    nonce = secrets.token_urlsafe(32)
    # The URL carries the random part signed with SECRET_KEY: a tampered or truncated token
    # fails the signature before the database is asked; the database holds only its hash.
    token = link_signer().sign(nonce)
    now = timezone.now()
    with transaction.atomic():
        link = QuestionnaireLink.objects.create(
            clinic_id=episode.clinic_id,
            client=client,
            episode=episode,
            token_hash=token_hash(nonce),
            measures=chosen,
            sent_to=client.email,
            expires_at=now + timedelta(days=days),
            created_by=actor.membership,
        )
        audit_record(action=AuditAction.CREATE, obj=link, client_id=client.pk, user=actor.user)
        url = base_url.rstrip("/") + f"/q/{token}/"
        subject, body = _email(link, url)
        transaction.on_commit(lambda: send_mail(subject, body, None, [link.sent_to]))
    return SentLink(link, url)


def _email(link: QuestionnaireLink, url: str) -> tuple[str, str]:
    clinic = link.clinic
    context = {
        "first_name": link.client.chosen_name or link.client.legal_given_name,
        "clinic": clinic,
        "measures": [measures()[m] for m in link.measures],
        "url": url,
        "expires_at": link.expires_at,
    }
    subject = f"{clinic.name}: a few questions about your progress"
    return subject, render_to_string("outcomes/link_email.txt", context)


@dataclass(frozen=True, slots=True)
class RemoteAnswers:
    measure_id: str
    answers: Sequence[object]


def link_redeem(*, token: str, responses: Sequence[RemoteAnswers]) -> list[MeasureResponse]:
    """Record the client's answers from a link, once.

    Validates every measure first (a field error leaves the link usable), then claims the link
    with a conditional UPDATE: of two submissions racing, only the one whose UPDATE changes a
    row records anything; the other gets ``LinkUnusable("used")``. No check-then-save.
    """
    link = link_lookup(token)
    asked = list(link.measures)
    given = {r.measure_id: r.answers for r in responses}
    if set(given) - set(asked):
        raise ValidationError({"__all__": "These answers are for measures the link did not ask."})
    cleaned: dict[str, list[float | None]] = {}
    errors: dict[str, list[str]] = {}
    for measure_id in asked:
        try:
            cleaned[measure_id] = _clean_answers(measure_id, list(given.get(measure_id, [])), ())
        except ValidationError as error:
            errors.setdefault(measure_id, []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        claimed = QuestionnaireLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        if claimed != 1:
            raise LinkUnusable("used")
        # The client answers from home, signed out: the day is the clinic's day.
        today = clock.local_today(link.clinic.timezone)
        recorded = []
        for measure_id in asked:
            response = _build(
                episode=link.episode,
                measure_id=measure_id,
                answers=cleaned[measure_id],
                item_labels=(),
                collected_on=today,
                now=now,
                source=Source.REMOTE,
            )
            response.link = link
            response.save()
            recorded.append(response)
            audit_record(
                action=AuditAction.CREATE,
                obj=response,
                client_id=link.client_id,
                user_email=link.sent_to,
                clinic_id=link.clinic_id,
                role="client",
            )
    return recorded
