"""Writes of the health history a client reports from home: send the link, take the answers once,
mark them reviewed.

The answers are checked with the therapist's own rules (``screening._answer_errors`` for "every
question answered yes or no", ``_check_where`` for the follow-ups, ``trimester_disagreement``), so
the two questionnaires cannot drift apart. They are kept as the client gave them and make no
finding on the chart: the therapist confirms what to act on in their own health history.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mend import access
from mend.audit.models import Action as AuditAction
from mend.audit.services import audit_record
from mend.clinical.models import ClientIntake
from mend.clinical.queries.intake import IntakeUnusable, client_questions, intake_by_token, token_digest
from mend.clinical.screening import trimester_disagreement
from mend.clinical.services.common import HEALTH_HISTORY_VERSION, audit, check_region
from mend.clinical.services.screening import FindingInput, _answer_errors, _check_where
from mend.clinics.models import Clinic
from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor

__all__ = ["IntakeUnusable", "client_intake_review", "client_intake_send", "client_intake_submit"]


@transaction.atomic
def client_intake_send(*, clinic: Clinic, client: Client, now: datetime) -> ClientIntake:
    """Email ``client`` a single-use link to the health-history questionnaire.

    The token is random and only its SHA-256 is stored. The email (through the outbox, sent by
    ``mend worker`` after this commits) says who it is from, the link and until when it works:
    no health information.
    """
    if client.clinic_id != clinic.pk:
        raise ValueError("An intake questionnaire is sent only within the client's own clinic.")
    if not client.email:
        raise ValidationError({"email": f"{client.display_name} has no email address on file; add one first."})
    token = secrets.token_urlsafe(32)
    intake = ClientIntake.objects.create(
        clinic=clinic,
        client=client,
        token_digest=token_digest(token),
        sent_to=client.email,
        sent_at=now,
        expires_at=now + timedelta(days=settings.MEND_QUESTIONNAIRE_DAYS),
        questionnaire_version=HEALTH_HISTORY_VERSION,
    )
    audit_record(action=AuditAction.CREATE, obj=intake, client_id=client.pk, user=None, clinic_id=clinic.pk)
    expires = intake.expires_at.astimezone(clock.zone(clinic.timezone))
    context = {
        "first_name": client.chosen_name or client.legal_given_name,
        "clinic": clinic,
        "url": settings.MEND_PUBLIC_URL.rstrip("/") + reverse("client_intake", args=[token]),
        "expires": f"{expires:%A} {expires.day} {expires:%B %Y}",
    }
    message_schedule(
        key=f"intake:{intake.pk}",
        channel=OutboundMessage.Channel.EMAIL,
        to=client.email,
        subject=f"{clinic.name}: a few health questions before your first visit",
        body=render_to_string("clinical/intake/email.txt", context),
    )
    return intake


def _errors(
    answers: Mapping[str, object], items: list[FindingInput], pregnancy_weeks: int | None
) -> dict[str, list[str]]:
    asked = {rule.id: rule for rule in client_questions()}
    errors = _answer_errors(answers, items, asked)
    for item in items:
        rule = asked.get(item.rule_id)
        if rule is None or answers.get(rule.id) is not True:
            continue
        field = f"answers.{rule.id}"
        check_region(field, item.region, item.side, errors)
        _check_where(rule, item, field, errors)
    missing = [rule for rule in asked.values() if answers.get(rule.id) is True and rule.needs_region]
    for rule in missing:
        if not any(i.rule_id == rule.id for i in items):
            _check_where(rule, FindingInput(rule.id), f"answers.{rule.id}", errors)
    if pregnancy_weeks is not None and not 0 <= pregnancy_weeks <= 45:
        errors.setdefault("pregnancy_weeks", []).append("Weeks pregnant is a number from 0 to 45.")
    first = answers.get("pregnancy_first_trimester")
    if isinstance(first, bool) and (problem := trimester_disagreement(pregnancy_weeks, first)):
        errors.setdefault("answers.pregnancy_first_trimester", []).append(problem)
    return errors


def client_intake_submit(
    *,
    token: str,
    answers: Mapping[str, object],
    findings: Iterable[FindingInput] = (),
    pregnancy_weeks: int | None = None,
    notes: str = "",
    now: datetime,
) -> ClientIntake:
    """Record the client's answers from the emailed link, once.

    Every question put to the client needs an explicit yes or no (``answers.<rule id>``), and a
    "yes" the follow-ups the catalogue asks (where, which side), refused naming the question: the
    link stays usable. A used or expired link raises :class:`IntakeUnusable`. The link is claimed
    with one conditional UPDATE that writes the answers too: of two submissions racing, only the
    one whose UPDATE changes the row records anything. No check-then-save.
    """
    intake = intake_by_token(token, now=now)
    items = list(findings)
    errors = _errors(answers, items, pregnancy_weeks)
    if errors:
        raise ValidationError(errors)
    details = {
        item.rule_id: {"region": item.region, "side": item.side if item.region else "", "note": item.note[:300]}
        for item in items
        if answers.get(item.rule_id) is True
    }
    with transaction.atomic():
        claimed = ClientIntake.objects.filter(pk=intake.pk, submitted_at__isnull=True, expires_at__gt=now).update(
            submitted_at=now,
            answers={rule.id: answers[rule.id] for rule in client_questions()},
            details=details,
            pregnancy_weeks=pregnancy_weeks,
            notes=notes.strip()[:5000],
        )
        if claimed != 1:
            raise IntakeUnusable("used")
        # Nobody is signed in: the client, named by the address the link went to, wrote their own record.
        audit_record(
            action=AuditAction.UPDATE,
            obj=intake,
            client_id=intake.client_id,
            user_email=intake.sent_to,
            clinic_id=intake.clinic_id,
            role="client",
        )
    intake.refresh_from_db()
    return intake


@transaction.atomic
def client_intake_review(*, actor: Actor, intake: ClientIntake, now: datetime | None = None) -> ClientIntake:
    """A therapist has read what the client reported: it leaves the client page's "to review" and
    the booking flag it raised. Clinical roles only; the first review stands."""
    access.require_clinical(actor)
    if intake.clinic_id != actor.clinic_id:
        raise ValueError("Questionnaires are reviewed only within their own clinic.")
    if intake.submitted_at is None:
        raise PermissionDenied("The client has not sent this questionnaire yet.")
    moment = now or timezone.now()
    ClientIntake.objects.filter(pk=intake.pk, reviewed_at__isnull=True).update(
        reviewed_at=moment, reviewed_by=actor.membership
    )
    intake.refresh_from_db()
    audit(AuditAction.UPDATE, intake, actor, intake.client_id)
    return intake
