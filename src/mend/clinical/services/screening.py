"""Writes of screening: the intake health history, the pre-session check, findings and clearances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from mend import knowledge
from mend.audit.models import Action as AuditAction
from mend.clinical import documents
from mend.clinical.models import (
    Clearance,
    Episode,
    FindingSource,
    HealthHistory,
    PreSessionCheck,
    ScreeningFinding,
)
from mend.clinical.screening import Action, Rule, catalogue, trimester_disagreement
from mend.clinical.services.common import (
    HEALTH_HISTORY_VERSION,
    audit,
    check_document,
    check_region,
    require_open,
    require_write,
    storing_document,
)
from mend.people.models import ReferringProvider
from mend.platform.actor import Actor
from mend.writes import apply_fields, editable_fields, merge_errors

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
        check_region(field, item.region, item.side, errors)
        _check_where(rule, item, field, errors)
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


def _check_where(rule: Rule, item: FindingInput, field: str, errors: dict[str, list[str]]) -> None:
    """A rule that acts on a site needs the site, and the side of a limb when it asks for one
    (lymphedema: the restrictions follow the affected arm or leg). Enforced here, so the page, the
    API and every import record the same; a single finding names its own region and side fields."""
    single = field == "rule_id"
    if rule.needs_region and not item.region:
        errors.setdefault("region" if single else field, []).append(
            f"{rule.name}: where on the body? Choose the region so the restrictions apply there."
        )
    region = knowledge.body_regions().get(item.region)
    if rule.needs_side and region is not None and region.lateral and not item.side:
        errors.setdefault("side" if single else field, []).append(
            f"{rule.name}: which side? Choose left, right or both sides for the {region.name.lower()}."
        )


HEALTH_HISTORY_FIELDS = editable_fields(
    HealthHistory, {"clinic", "client", "episode", "recorded_by", "questionnaire_version", "answers"}
)


def _answer_errors(
    answers: Mapping[str, object], findings: list[FindingInput], asked: Mapping[str, Rule] | None = None
) -> dict[str, list[str]]:
    """What keeps the answers from being a whole intake: a question without an explicit yes or
    no (``answers.<rule id>``), an answer to no question, a finding of a question answered no.
    ``asked``: the questions put (the client's own questionnaire leaves out the therapist's
    observations); every catalogue question by default."""
    rules = catalogue().rules if asked is None else asked
    errors: dict[str, list[str]] = {
        f"answers.{rule.id}": [f"Answer this safety question, yes or no: {rule.question or rule.name}"]
        for rule in rules.values()
        if not isinstance(answers.get(rule.id), bool)
    }
    unknown = sorted(set(answers) - set(rules))
    if unknown:
        errors["answers"] = [f"{', '.join(map(repr, unknown))}: not a question of the health history."]
    for item in findings:
        rule = rules.get(item.rule_id)
        if rule is not None and answers.get(rule.id) is False:
            errors.setdefault("findings", []).append(
                f"{rule.name}: answered no, yet listed as a finding. Answer yes, or remove the finding."
            )
    return errors


@transaction.atomic
def health_history_record(
    *,
    actor: Actor,
    episode: Episode,
    data: Mapping[str, Any],
    answers: Mapping[str, object],
    findings: Iterable[FindingInput] = (),
) -> HealthHistory:
    """Record the intake questionnaire; its findings replace those of the previous one.

    Every catalogue question is a safety question: it starts unanswered, and an intake without an
    explicit answer to each (True or False in ``answers``, by rule id, never assumed) is refused
    naming each question missing. ``findings`` say where a "yes" was found (region, side, note; a
    second site is a second item); a "yes" without one is recorded without a site, which a rule
    that needs one refuses.
    """
    require_write(actor, episode)
    require_open(episode)
    items = list(findings)
    errors = _answer_errors(answers, items)
    # The weeks pregnant decide the first-trimester precautions (NYSED) whoever records the intake:
    # an answer that contradicts them would drop or invent them.
    weeks, first = data.get("pregnancy_weeks"), answers.get("pregnancy_first_trimester")
    if isinstance(weeks, int) and isinstance(first, bool) and (problem := trimester_disagreement(weeks, first)):
        errors.setdefault("answers.pregnancy_first_trimester", []).append(problem)
    if errors:
        raise ValidationError(errors)
    listed = {item.rule_id for item in items}
    items += [FindingInput(rule_id) for rule_id, yes in answers.items() if yes and rule_id not in listed]
    history = apply_fields(
        HealthHistory(
            clinic_id=actor.clinic_id,
            client_id=episode.client_id,
            episode=episode,
            recorded_by=actor.membership,
            questionnaire_version=HEALTH_HISTORY_VERSION,
            answers={rule_id: answers[rule_id] for rule_id in catalogue().rules},
        ),
        data,
        HEALTH_HISTORY_FIELDS,
    )
    if not history.completed_on:
        history.completed_on = actor.today()
    history.full_clean()
    history.save()
    # The newest health history is the truth about long-standing findings: older ones resolve.
    ScreeningFinding.objects.filter(
        episode=episode, source=FindingSource.HEALTH_HISTORY, resolved_on__isnull=True
    ).update(resolved_on=history.completed_on)
    _findings(
        actor=actor,
        episode=episode,
        items=items,
        source=FindingSource.HEALTH_HISTORY,
        on=history.completed_on,
        health_history=history,
    )
    audit(AuditAction.CREATE, history, actor, episode.client_id)
    return history


CHECK_FIELDS = {"checked_on", "fever", "new_symptoms", "new_medications", "able_to_consent"}
# Asked at every check, answered yes or no by the person in the room: never defaulted.
SAFETY_QUESTIONS = {
    "fever": "fever, or feeling unwell with an infection, today?",
    "able_to_consent": "able to understand and consent today?",
}


@transaction.atomic
def pre_session_check_record(
    *, actor: Actor, episode: Episode, data: Mapping[str, Any], findings: Iterable[FindingInput] = ()
) -> PreSessionCheck:
    """The check at the start of a visit. Fever and inability to consent hold for that day only.

    Both are safety questions: they start unanswered, and a check without an explicit answer to
    each (True or False, never assumed) is refused naming the question.
    """
    require_write(actor, episode)
    require_open(episode)
    unanswered = {
        name: [f"Answer this safety question: {question}"]
        for name, question in SAFETY_QUESTIONS.items()
        if not isinstance(data.get(name), bool)
    }
    if unanswered:
        raise ValidationError(unanswered)
    check = apply_fields(
        PreSessionCheck(
            clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, recorded_by=actor.membership
        ),
        data,
        CHECK_FIELDS,
    )
    if not check.checked_on:
        check.checked_on = actor.today()
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
    audit(AuditAction.CREATE, check, actor, episode.client_id)
    return check


@transaction.atomic
def finding_add(*, actor: Actor, episode: Episode, finding: FindingInput, on: date | None = None) -> ScreeningFinding:
    require_write(actor, episode)
    require_open(episode)
    (row,) = _findings(
        actor=actor,
        episode=episode,
        items=[finding],
        source=FindingSource.THERAPIST,
        on=on or actor.today(),
        field="rule_id",
    )
    audit(AuditAction.CREATE, row, actor, episode.client_id)
    return row


@transaction.atomic
def finding_resolve(*, actor: Actor, finding: ScreeningFinding, on: date | None = None) -> ScreeningFinding:
    """Mark the finding resolved (today by default). Resolving a resolved one changes nothing; a
    discharged episode's record is read-only."""
    require_write(actor, finding.episode)
    if finding.resolved_on is None:
        require_open(finding.episode)
        finding.resolved_on = on or actor.today()
        finding.save(update_fields=["resolved_on"])
        audit(AuditAction.UPDATE, finding, actor, finding.client_id)
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
    require_write(actor, episode)
    require_open(episode)
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
    if clearance.cleared_on and clearance.cleared_on > actor.today():
        errors["cleared_on"] = ["A clearance cannot be dated in the future."]
    try:
        clearance.document_type = check_document(document, label="The clearance document")
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        clearance.full_clean(exclude=["document"])
    except ValidationError as error:
        merge_errors(errors, error)
    if errors:
        raise ValidationError(errors)
    if document is not None:
        clearance.document_name = documents.original_name(document.name)
    with storing_document(clearance.document, document):
        clearance.save()
        audit(AuditAction.CREATE, clearance, actor, episode.client_id)
    return clearance
