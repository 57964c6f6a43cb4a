"""Reads of the health history a client reports from home: the emailed link, the client page's
section, and what booking must know before a therapist has reviewed it.

What a client reports stays *reported by the client, to be reviewed*: it makes no finding on the
chart, and the severity of each answer comes from the same catalogue and ``screen`` the therapist's
health history uses, never from a copy of the rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from mend import access
from mend.clinical.body_map import region_label
from mend.clinical.models import ClientIntake
from mend.clinical.queries.loaders import audit_read
from mend.clinical.screening import Action, Finding, Rule, catalogue, screen
from mend.people import queries as people_queries
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor

# The most severe actions of a reported answer that matter before the visit, shown first and marked.
MARKED = (Action.REFER, Action.BLOCK, Action.CLEARANCE)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IntakeUnusable(Exception):
    """An intake link that cannot be used: ``reason`` is invalid, expired or used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def intake_by_token(token: str, *, now: datetime) -> ClientIntake:
    """The questionnaire behind an emailed ``token``, with its client and clinic (one query), or
    ``IntakeUnusable`` saying why it cannot be used."""
    intake = (
        ClientIntake.objects.filter(token_digest=token_digest(token[:200])).select_related("client", "clinic").first()
    )
    if intake is None:
        raise IntakeUnusable("invalid")
    if intake.submitted_at is not None:
        raise IntakeUnusable("used")
    if intake.expires_at <= now:
        raise IntakeUnusable("expired")
    return intake


def client_questions() -> list[Rule]:
    """The catalogue's questions a client answers at home, in catalogue order: all but the
    therapist's observations in the room."""
    return [rule for rule in catalogue().rules.values() if rule.asked_by == "client"]


def _findings(intake: ClientIntake) -> list[Finding]:
    found = []
    for rule_id, yes in intake.answers.items():
        if yes and rule_id in catalogue().rules:
            where = intake.details.get(rule_id) or {}
            found.append(Finding(rule_id, where.get("region") or None, where.get("side") or None))
    return found


def reported_status(intake: ClientIntake) -> Action:
    """The most severe action the client's answers call for, combinations included."""
    return screen(_findings(intake)).status


@dataclass(frozen=True, slots=True)
class ReportedAnswer:
    rule: Rule
    yes: bool
    where: str
    note: str

    @property
    def action(self) -> Action | None:
        """The rule's most severe action for a "yes"; None for a "no"."""
        return self.rule.most_severe if self.yes else None

    @property
    def marked(self) -> bool:
        return self.action in MARKED


def reported_answers(intake: ClientIntake) -> list[ReportedAnswer]:
    """Every answer, REFER, BLOCK and CLEARANCE "yes" first (most severe first), then the other
    "yes", then the "no", each group in catalogue order."""
    rules = catalogue().rules
    answers = []
    for rule_id, yes in intake.answers.items():
        rule = rules.get(rule_id)
        if rule is None:
            continue
        where = intake.details.get(rule_id) or {}
        region = where.get("region") or ""
        answers.append(
            ReportedAnswer(
                rule=rule,
                yes=bool(yes),
                where=region_label(region, where.get("side") or None) if yes and region else "",
                note=(where.get("note") or "") if yes else "",
            )
        )
    order = {rule_id: n for n, rule_id in enumerate(rules)}

    def rank(a: ReportedAnswer) -> tuple[int, int, int]:
        if a.action is None:
            return (2, 0, order[a.rule.id])
        return (0 if a.marked else 1, a.action.severity, order[a.rule.id])

    return sorted(answers, key=rank)


@dataclass(frozen=True, slots=True)
class IntakeView:
    intake: ClientIntake
    # Empty for front desk, who sees only that the questionnaire came back.
    answers: list[ReportedAnswer]
    status: Action | None


def intakes(actor: Actor) -> QuerySet[ClientIntake]:
    """The clinic's questionnaires of the clients the actor may see (clinical roles only)."""
    access.require_clinical(actor)
    return ClientIntake.objects.filter(clinic_id=actor.clinic_id, client__in=people_queries.clients(actor))


def intake_or_404(actor: Actor, pk: int | str) -> ClientIntake:
    return access.object_or_404(intakes(actor).select_related("client"), pk, "intake questionnaire")


def client_intake_section(actor: Actor, client: Client) -> dict[str, object]:
    """The client page's section (``people.queries.add_client_section``): the questionnaires the
    client sent that no therapist has reviewed yet, newest first (one query, and the audit row when
    there are some). A clinical role sees the answers (an audited read); front desk only that one
    arrived."""
    pending = list(
        ClientIntake.objects.filter(
            clinic_id=actor.clinic_id, client=client, submitted_at__isnull=False, reviewed_at__isnull=True
        ).order_by("-submitted_at", "-id")
    )
    if not access.can_see_clinical(actor):
        return {"client_intakes": [IntakeView(i, [], None) for i in pending]}
    views = [IntakeView(i, reported_answers(i), reported_status(i)) for i in pending]
    if views:
        # One row for the section, however many questionnaires wait: a read of what the client reported.
        audit_read(actor, client_id=client.pk, what="clinical.client_intakes", of=client.pk)
    return {"client_intakes": views}


def clients_do_not_book(clinic_id: int, client_ids: Collection[int]) -> set[int]:
    """Clients with a questionnaire they sent, not yet reviewed, whose answers call for REFER or
    BLOCK: booking shows "do not book: see therapist" until a therapist reviews it. One query."""
    rows: Iterable[ClientIntake] = ClientIntake.objects.filter(
        clinic_id=clinic_id, client_id__in=list(client_ids), submitted_at__isnull=False, reviewed_at__isnull=True
    ).only("client_id", "answers", "details")
    return {i.client_id for i in rows if reported_status(i) in (Action.REFER, Action.BLOCK)}


def reported_beside(actor: Actor, client_id: int) -> dict[str, str]:
    """The client's answers from their newest questionnaire, in words by rule id, for the therapist's
    own health history to show beside each question ("Reported by the client 7 Dec 2026: yes (left
    upper arm)"). Shown, never pre-selected: the therapist asks and answers each question. One query."""
    intake = (
        ClientIntake.objects.filter(clinic_id=actor.clinic_id, client_id=client_id, submitted_at__isnull=False)
        .order_by("-submitted_at", "-id")
        .first()
    )
    if intake is None or intake.submitted_at is None:
        return {}
    on = f"Reported by the client {clock.local_date(intake.submitted_at, actor.timezone):%-d %b %Y}"
    words = {}
    for answer in reported_answers(intake):
        where = f" ({answer.where})" if answer.where else ""
        note = f" “{answer.note}”" if answer.note else ""
        words[answer.rule.id] = f"{on}: {'yes' if answer.yes else 'no'}{where}{note}"
    return words
