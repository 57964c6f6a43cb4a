"""The chart: an episode in a fixed number of queries, and its timeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch

from mend.clinical import rules
from mend.clinical.models import (
    Addendum,
    Assessment,
    Clearance,
    Episode,
    Goal,
    HealthHistory,
    PlanOfCare,
    PreSessionCheck,
    Referral,
    ScreeningFinding,
    TreatmentNote,
)
from mend.clinical.queries.goals import GoalView, goal_views, measurements
from mend.clinical.queries.loaders import audit_read, episode_or_404
from mend.clinical.queries.plans import plan_conflicts
from mend.clinical.queries.referrals import referral_statuses, referrals_with_use
from mend.clinical.queries.screening import active_findings, screening_from
from mend.clinical.rules import ReferralStatus
from mend.clinical.screening import Screening
from mend.platform import clock
from mend.platform.actor import Actor

# --- The chart ----------------------------------------------------------------------------------


@dataclass
class TimelineEvent:
    on: date
    kind: str
    title: str
    detail: str = ""
    obj: Any = None


@dataclass
class Chart:
    episode: Episode
    today: date
    screening: Screening
    findings: list[ScreeningFinding]
    clearances: list[Clearance]
    referrals: list[Referral]
    referral_status: dict[int, ReferralStatus]
    active_referral: Referral | None
    health_history: HealthHistory | None
    checks: list[PreSessionCheck]
    assessments: list[Assessment]
    latest_assessment: Assessment | None
    goals: list[GoalView]
    plan: PlanOfCare | None
    conflicts: list[rules.Conflict]
    notes: list[TreatmentNote]
    recent_notes: list[TreatmentNote]
    timeline: list[TimelineEvent] = field(default_factory=list)
    other_episodes: list[Episode] = field(default_factory=list)
    # What other apps show on the chart page (see add_chart_section), by context name.
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_visits(self) -> int:
        return sum(1 for n in self.notes if n.is_signed)

    @property
    def conflict_messages(self) -> list[str]:
        """Each distinct conflict once: a blocked day conflicts with every technique the same way."""
        return list(dict.fromkeys(c.message for c in self.conflicts))

    @property
    def drafts(self) -> list[TreatmentNote]:
        return [n for n in self.notes if not n.is_signed]


def chart(episode: Episode, *, today: date | None = None, tz: str | None = None, recent: int = 5) -> Chart:
    """Everything the chart shows, in a fixed number of queries whatever the episode's size.

    ``today`` is the clinic's (``actor.today()``): today's screening and goal states depend on it.
    ``tz`` is the clinic's time zone, the one an addendum's signing instant is dated in. Without
    them, the episode's clinic's own (one more query, for the clinic's time zone).
    """
    tz = tz or episode.clinic.timezone
    today = today or clock.local_today(tz)
    findings = list(ScreeningFinding.objects.filter(episode=episode))  # 1
    clearances = list(Clearance.objects.filter(episode=episode))  # 2
    referrals = list(referrals_with_use(episode))  # 3
    histories = list(HealthHistory.objects.filter(episode=episode)[:1])  # 4
    checks = list(PreSessionCheck.objects.filter(episode=episode))  # 5
    assessments = list(
        Assessment.objects.filter(episode=episode).prefetch_related("pain_regions", "rom", "psfs", "palpation")
    )  # 6–10
    goals = list(Goal.objects.filter(episode=episode))  # 11
    plan = PlanOfCare.objects.filter(episode=episode).first()  # 12
    notes = list(
        TreatmentNote.objects.filter(episode=episode)
        .select_related("therapist__user")
        .prefetch_related(
            "techniques", Prefetch("addenda", queryset=Addendum.objects.select_related("signed_by__user"))
        )
    )  # 13–15
    other = list(Episode.objects.filter(client_id=episode.client_id).exclude(pk=episode.pk))  # 16

    screening = screening_from(findings, clearances, today)
    statuses = referral_statuses(referrals, today)
    usable = [r for r in referrals if statuses[r.pk].usable]
    active_referral = usable[0] if usable else (referrals[0] if referrals else None)
    series = measurements(assessments, notes)
    timeline = _timeline(episode, referrals, histories, checks, assessments, notes, clearances, tz=tz)
    return Chart(
        episode=episode,
        today=today,
        screening=screening,
        findings=active_findings(findings, today),
        clearances=clearances,
        referrals=referrals,
        referral_status=statuses,
        active_referral=active_referral,
        health_history=histories[0] if histories else None,
        checks=checks,
        assessments=assessments,
        latest_assessment=assessments[0] if assessments else None,
        goals=goal_views(goals, series, today),
        plan=plan,
        conflicts=plan_conflicts(plan, screening),
        notes=notes,
        recent_notes=notes[:recent],
        timeline=timeline,
        other_episodes=other,
    )


# Apps that build on clinical cannot be imported here (outcomes reads the clinical record), so to
# show their data on the chart page they hand clinical a section instead, from an AppConfig.ready().
ChartSection = Callable[[Actor, Chart], Mapping[str, Any]]
_chart_sections: list[ChartSection] = []


def add_chart_section(section: ChartSection) -> None:
    """Show another app's data on the chart page (outcome measures: see ``mend.outcomes.apps``)."""
    if section not in _chart_sections:
        _chart_sections.append(section)


def chart_for_reading(actor: Actor, episode_id: int | str) -> Chart:
    """The chart of an episode the actor may see, audited as a view of the episode.

    Queries: the episode with client, therapist and profile (1), the chart's own 16, the audit row.
    """
    episode = episode_or_404(actor, episode_id, "therapist__therapist_profile")
    found = chart(episode, today=actor.today(), tz=actor.timezone)
    audit_read(actor, obj=episode, client_id=episode.client_id)
    return found


def chart_page(actor: Actor, episode_id: int | str) -> Chart:
    """The chart page: :func:`chart_for_reading` and each section's own queries."""
    found = chart_for_reading(actor, episode_id)
    for section in _chart_sections:
        found.sections.update(section(actor, found))
    return found


def timeline_for_reading(actor: Actor, episode_id: int | str) -> list[TimelineEvent]:
    """Every event of the episode, newest first, audited as a read of its timeline."""
    episode = episode_or_404(actor, episode_id)
    events = chart(episode, today=actor.today(), tz=actor.timezone).timeline
    audit_read(actor, client_id=episode.client_id, what="clinical.timeline", of=episode.pk)
    return events


def _timeline(
    episode: Episode,
    referrals: Sequence[Referral],
    histories: Sequence[HealthHistory],
    checks: Sequence[PreSessionCheck],
    assessments: Sequence[Assessment],
    notes: Sequence[TreatmentNote],
    clearances: Sequence[Clearance],
    *,
    tz: str,
) -> list[TimelineEvent]:
    events = [TimelineEvent(episode.started_on, "episode", "Episode opened", episode.title, episode)]
    for r in referrals:
        who = r.provider.name if r.provider else "self-referral"
        events.append(TimelineEvent(r.referred_on, "referral", f"Referral from {who}", ", ".join(r.diagnosis_codes), r))
    for h in histories:
        events.append(TimelineEvent(h.completed_on, "intake", "Health history", "", h))
    for check in checks:
        flags = [
            label for flag, label in ((check.fever, "fever"), (not check.able_to_consent, "cannot consent")) if flag
        ]
        events.append(TimelineEvent(check.checked_on, "check", "Pre-session check", ", ".join(flags), check))
    for c in clearances:
        events.append(TimelineEvent(c.cleared_on, "clearance", f"Clearance by {c.cleared_by}", c.rule_id, c))
    for a in assessments:
        events.append(TimelineEvent(a.assessed_on, "assessment", a.get_kind_display(), a.chief_complaint[:80], a))
    for n in notes:
        state = "signed" if n.is_signed else "draft"
        pain = f"pain {n.pain_pre}→{n.pain_post}" if n.pain_pre is not None and n.pain_post is not None else ""
        events.append(TimelineEvent(n.visit_on, "note", f"Treatment ({state})", pain, n))
        for addendum in n.addenda.all():
            # Signed at an instant; dated on the clinic's calendar (22:30 in Toronto is still that day).
            signed_on = clock.local_date(addendum.signed_at, tz)
            events.append(TimelineEvent(signed_on, "addendum", "Addendum", addendum.reason, addendum))
    if episode.discharged_on:
        events.append(
            TimelineEvent(episode.discharged_on, "discharge", "Discharged", episode.get_discharge_reason_display())
        )
    # Newest first; on one day, in the order things happen (referral … notes … discharge).
    order = ["episode", "referral", "intake", "check", "clearance", "assessment", "note", "addendum", "discharge"]
    events.sort(key=lambda e: (e.on, order.index(e.kind)), reverse=True)
    return events
