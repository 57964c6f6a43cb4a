"""Reads of screening: what holds on a day, and today's flags across a therapist's caseload."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.files import File
from django.db.models import Q
from django.http import Http404

from mend.clinical.models import (
    Clearance,
    Episode,
    HealthHistory,
    ScreeningFinding,
)
from mend.clinical.queries.loaders import audit_read, clearance_or_404, episode_or_404, episodes
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


def screening_for_reading(actor: Actor, episode_id: int | str, on: date | None = None) -> tuple[Screening, date]:
    """The screening that holds on ``on`` (default the clinic's today) and that day, audited as a
    read of the episode's screening."""
    episode = episode_or_404(actor, episode_id)
    on = on or actor.today()
    audit_read(actor, client_id=episode.client_id, what="clinical.screening", of=episode.pk)
    return screening_on(episode, on), on


def finding_list(actor: Actor, episode_id: int | str, *, active: bool = False) -> list[ScreeningFinding]:
    """The episode's findings (only those that hold today when ``active``), audited as a list read."""
    episode = episode_or_404(actor, episode_id)
    findings = list(ScreeningFinding.objects.filter(episode=episode))
    if active:
        findings = active_findings(findings, actor.today())
    audit_read(actor, client_id=episode.client_id, what="clinical.finding_list", of=episode.pk)
    return findings


def clearance_list(actor: Actor, episode_id: int | str) -> list[Clearance]:
    """The episode's physicians' clearances, audited as a list read."""
    episode = episode_or_404(actor, episode_id)
    audit_read(actor, client_id=episode.client_id, what="clinical.clearance_list", of=episode.pk)
    return list(Clearance.objects.filter(episode=episode))


def clearance_document(actor: Actor, clearance_id: int | str) -> tuple[Clearance, File[bytes]]:
    """A clearance's document, opened for reading: 404 when there is none or its file is missing,
    audited as a view of the clearance once it is there to hand over."""
    clearance = clearance_or_404(actor, clearance_id)
    if not clearance.document:
        raise Http404("This clearance has no document.")
    try:
        handle = clearance.document.open("rb")
    except FileNotFoundError:
        raise Http404("The document file is missing.") from None
    audit_read(actor, obj=clearance, client_id=clearance.client_id)
    return clearance, handle


# --- Intake ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryStart:
    """What a new health history starts from: the latest one and its findings still open."""

    episode: Episode
    latest: HealthHistory | None
    open_findings: list[ScreeningFinding]

    @property
    def from_previous_episode(self) -> bool:
        return self.latest is not None and self.latest.episode_id != self.episode.pk


def latest_health_history(episode: Episode) -> HealthHistory | None:
    """This episode's latest health history, else the client's latest from an earlier episode."""
    history = HealthHistory.objects.filter(episode=episode).order_by("-completed_on", "-id").first()
    if history is None:
        history = (
            HealthHistory.objects.filter(clinic_id=episode.clinic_id, client_id=episode.client_id)
            .order_by("-completed_on", "-id")
            .first()
        )
    return history


def health_history_start(actor: Actor, episode_id: int | str, *, reading: bool) -> HistoryStart:
    """The intake form's starting point. Opening the form (``reading``) shows the latest history:
    audited as a view of it; a form re-shown after a refused save is not a new read."""
    episode = episode_or_404(actor, episode_id)
    latest = latest_health_history(episode)
    open_findings = list(latest.findings.filter(resolved_on__isnull=True)) if latest else []
    if reading and latest is not None:
        audit_read(actor, obj=latest, client_id=episode.client_id)
    return HistoryStart(episode, latest, open_findings)


# --- Today ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TodayFlag:
    episode: Episode
    screening: Screening
    rule_ids: list[str]


def todays_flags(actor: Actor, today: date, *, client_ids: Iterable[int] | None = None) -> list[TodayFlag]:
    """The therapist's open episodes whose screening today stops treatment (REFER, BLOCK) or
    waits for a clearance, in two queries however many clients they have. With ``client_ids``,
    the open episodes of those clients the actor may see instead (a day's appointments)."""
    open_episodes = episodes(actor).filter(discharged_on__isnull=True)
    if client_ids is None:
        open_episodes = open_episodes.filter(therapist=actor.membership)
    else:
        open_episodes = open_episodes.filter(client_id__in=list(client_ids))
    findings = list(
        ScreeningFinding.objects.filter(
            episode__in=open_episodes,
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
