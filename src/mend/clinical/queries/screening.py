"""Reads of screening: what holds on a day, and today's flags across a therapist's caseload."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from mend import access
from mend.clinical.models import (
    Clearance,
    Episode,
    ScreeningFinding,
)
from mend.clinical.screening import Action, Finding, Screening, apply_clearances, screen
from mend.platform.actor import Actor

# --- Screening ------------------------------------------------------------------------------


def active_findings(findings: Iterable[ScreeningFinding], on: date) -> list[ScreeningFinding]:
    """Findings that hold on ``on``: recorded by then, not yet resolved, and day-only ones on that day."""
    return [
        f
        for f in findings
        if f.recorded_on <= on
        and (f.resolved_on is None or f.resolved_on > on)
        and (f.applies_on is None or f.applies_on == on)
    ]


def screening_from(findings: Iterable[ScreeningFinding], clearances: Iterable[Clearance], on: date) -> Screening:
    live = active_findings(findings, on)
    result = screen(Finding(f.rule_id, f.region or None, f.side or None) for f in live)
    cleared = {c.rule_id for c in clearances if c.cleared_on <= on}
    return apply_clearances(result, cleared)


def screening_on(episode: Episode, on: date) -> Screening:
    """The screening that holds for ``episode`` on ``on`` (two queries)."""
    return screening_from(
        ScreeningFinding.objects.filter(episode=episode), Clearance.objects.filter(episode=episode), on
    )


# --- Today ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TodayFlag:
    episode: Episode
    screening: Screening
    rule_ids: list[str]


def todays_flags(actor: Actor, today: date) -> list[TodayFlag]:
    """The therapist's open episodes whose screening today stops treatment (REFER, BLOCK) or
    waits for a clearance, in two queries however many clients they have."""
    findings = list(
        ScreeningFinding.objects.filter(
            episode__in=access.episodes(actor).filter(therapist=actor.membership, discharged_on__isnull=True),
            recorded_on__lte=today,
        )
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=today))
        .filter(Q(applies_on__isnull=True) | Q(applies_on=today))
        .select_related("episode__client")
    )  # 1: findings that hold today, with their episode and client
    if not findings:
        return []
    by_episode: dict[int, list[ScreeningFinding]] = {}
    for finding in findings:
        by_episode.setdefault(finding.episode_id, []).append(finding)
    cleared: dict[int, list[Clearance]] = {}
    for clearance in Clearance.objects.filter(episode_id__in=by_episode, cleared_on__lte=today):  # 2
        cleared.setdefault(clearance.episode_id, []).append(clearance)
    flags = []
    for episode_id, held in by_episode.items():
        screening = screening_from(held, cleared.get(episode_id, []), today)
        if screening.can_treat_today and not screening.uncleared:
            continue
        stopping = screening.uncleared if screening.can_treat_today else screening.by_action(screening.status)
        rule_ids = list(dict.fromkeys(a.rule_id for a in stopping))
        flags.append(TodayFlag(held[0].episode, screening, rule_ids))
    flags.sort(key=lambda f: (Action(f.screening.status).severity, f.episode.client.display_name))
    return flags
