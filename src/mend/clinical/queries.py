"""Reads of the clinical record: screening on a day, goal status, the chart in a bounded number
of queries, and what a new note starts from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from mend import access, knowledge
from mend.clinical import rules
from mend.clinical.models import (
    Addendum,
    Assessment,
    Clearance,
    Episode,
    Goal,
    HealthHistory,
    NoteStatus,
    NoteTechnique,
    PlanOfCare,
    PreSessionCheck,
    Referral,
    ScreeningFinding,
    TreatmentNote,
)
from mend.clinical.rules import Direction, GoalState, PlannedTechnique, ReferralStatus
from mend.clinical.screening import Action, Finding, Screening, apply_clearances, screen
from mend.platform.actor import Actor

# --- Measures a goal can follow -----------------------------------------------------------------
# "nprs" (pain 0–10, lower is better), "psfs:<activity>" (0–10, higher is better),
# "rom:<motion>:<side>" (degrees, higher is better).


def measure_problem(measure: str) -> str | None:
    """Why ``measure`` cannot be a goal's measure, or None when it can."""
    kind, _, rest = (measure or "").partition(":")
    if kind == "nprs" and not rest:
        return None
    if kind == "psfs" and rest.strip():
        return None
    if kind == "rom":
        motion, _, side = rest.partition(":")
        if motion in knowledge.rom_motions() and side in ("", "left", "right", "bilateral"):
            return None
        return "Choose a joint motion from the norm table."
    return "Choose pain (NPRS), a PSFS activity or a range of motion."


def measure_direction(measure: str) -> str:
    return Direction.LOWER if measure == "nprs" else Direction.HIGHER


def measure_range(measure: str) -> tuple[float, float]:
    if measure.startswith("rom:"):
        motion = knowledge.rom_motions()[measure.split(":")[1]]
        return 0.0, float(motion.max)
    return 0.0, 10.0


def measure_label(measure: str) -> str:
    kind, _, rest = measure.partition(":")
    if kind == "nprs":
        return "Pain (NPRS)"
    if kind == "psfs":
        return f"PSFS: {rest}"
    if kind == "rom":
        motion, _, side = rest.partition(":")
        name = knowledge.rom_motions()[motion].name if motion in knowledge.rom_motions() else motion
        return f"{name}, {side}" if side else name
    return measure


@dataclass(frozen=True, slots=True)
class Measurement:
    on: date
    value: float
    source: str  # "assessment" or "note"


def measurements(assessments: Sequence[Assessment], notes: Sequence[TreatmentNote]) -> dict[str, list[Measurement]]:
    """Every goal-measure time series of an episode, oldest first, from already-loaded rows.

    Pain comes from assessments and from signed notes (pain before the session); PSFS and range
    of motion from assessments.
    """
    series: dict[str, list[Measurement]] = {}

    def add(key: str, on: date, value: float, source: str) -> None:
        series.setdefault(key, []).append(Measurement(on, float(value), source))

    for a in sorted(assessments, key=lambda a: (a.assessed_on, a.pk)):
        if a.nprs is not None:
            add("nprs", a.assessed_on, a.nprs, "assessment")
        for s in a.psfs.all():
            add(f"psfs:{s.activity.strip().lower()}", a.assessed_on, s.score, "assessment")
        for r in a.rom.all():
            add(f"rom:{r.motion}:{r.side}", a.assessed_on, r.degrees, "assessment")
    # Oldest first, like the assessments: notes usually arrive newest first (the model's ordering),
    # and the stable sort below would keep two notes of one day in that order.
    for n in sorted(notes, key=lambda n: (n.visit_on, n.pk)):
        if n.status == NoteStatus.SIGNED and n.pain_pre is not None:
            add("nprs", n.visit_on, n.pain_pre, "note")
    for values in series.values():
        values.sort(key=lambda m: m.on)
    return series


def _series_key(measure: str) -> str:
    if measure.startswith("psfs:"):
        return "psfs:" + measure[5:].strip().lower()
    return measure


@dataclass(frozen=True, slots=True)
class GoalView:
    goal: Goal
    label: str
    state: GoalState
    latest: float | None
    progress: float | None
    history: tuple[Measurement, ...]


def goal_views(goals: Iterable[Goal], series: dict[str, list[Measurement]], today: date) -> list[GoalView]:
    views = []
    for goal in goals:
        history = tuple(series.get(_series_key(goal.measure), ()))
        latest = history[-1].value if history else None
        state = rules.goal_state(
            direction=goal.direction,
            baseline=float(goal.baseline),
            target=float(goal.target),
            latest=latest,
            due=goal.due_on,
            today=today,
        )
        progress = rules.goal_progress(baseline=float(goal.baseline), target=float(goal.target), latest=latest)
        views.append(GoalView(goal, goal.description or measure_label(goal.measure), state, latest, progress, history))
    return views


def goal_outcomes(episode: Episode, today: date) -> list[dict[str, Any]]:
    """Every goal with baseline, target, latest and status: what a discharge records."""
    assessments = list(Assessment.objects.filter(episode=episode).prefetch_related("psfs", "rom"))
    notes = list(TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED))
    series = measurements(assessments, notes)
    return [
        {
            "description": v.label,
            "measure": v.goal.measure,
            "baseline": float(v.goal.baseline),
            "target": float(v.goal.target),
            "latest": v.latest,
            "status": str(v.state),
        }
        for v in goal_views(Goal.objects.filter(episode=episode), series, today)
    ]


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


# --- Referrals ------------------------------------------------------------------------------


def referral_statuses(referrals: Iterable[Referral], today: date) -> dict[int, ReferralStatus]:
    """Status of referrals annotated with ``visits_used`` (see :func:`referrals_with_use`)."""
    return {
        r.pk: rules.referral_status(
            visits_authorised=r.visits_authorised,
            visits_used=getattr(r, "visits_used", 0),
            valid_until=r.valid_until,
            today=today,
            closed=r.closed_at is not None,
        )
        for r in referrals
    }


def referrals_with_use(episode: Episode) -> Any:
    return (
        Referral.objects.filter(episode=episode)
        .select_related("provider")
        .annotate(visits_used=Count("notes", filter=Q(notes__status=NoteStatus.SIGNED)))
    )


def usable_referral(episode: Episode, on: date) -> Referral | None:
    """The newest referral a visit on ``on`` can count against."""
    for referral in referrals_with_use(episode).order_by("-referred_on", "-id"):
        if referral.referred_on <= on and referral_statuses([referral], on)[referral.pk].usable:
            return referral
    return None


# --- Notes ----------------------------------------------------------------------------------


def note_content(note: TreatmentNote, techniques: Sequence[NoteTechnique]) -> dict[str, Any]:
    """What a signature covers: every clinical field of the note and its techniques."""
    return {
        "note": note.pk,
        "client": note.client_id,
        "therapist": note.therapist_id,
        "visit_on": note.visit_on.isoformat(),
        "duration_minutes": note.duration_minutes,
        "subjective": note.subjective,
        "pain_pre": note.pain_pre,
        "sleep_quality": note.sleep_quality,
        "stress": note.stress,
        "objective": note.objective,
        "modalities": sorted(note.modalities or []),
        "pain_post": note.pain_post,
        "response": note.response,
        "adverse_events": note.adverse_events,
        "home_care": note.home_care,
        "plan_next": note.plan_next,
        "techniques": [
            [t.technique, t.region, t.side, t.minutes, t.pressure] for t in sorted(techniques, key=lambda t: t.pk)
        ],
    }


def note_hash_matches(note: TreatmentNote) -> bool:
    """Whether a signed note still holds what was signed."""
    return note.is_signed and note.content_hash == rules.content_hash(note_content(note, list(note.techniques.all())))


@dataclass(frozen=True, slots=True)
class NoteDraft:
    duration_minutes: int
    techniques: list[dict[str, Any]]
    home_care: str
    objective: str


def note_prefill(episode: Episode) -> NoteDraft:
    """A new note starts from the last signed note's techniques, else from the plan."""
    plan = PlanOfCare.objects.filter(episode=episode).first()
    last = (
        TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED)
        .prefetch_related("techniques")
        .order_by("-visit_on", "-id")
        .first()
    )
    duration = plan.session_minutes if plan else 60
    if last is not None:
        techniques = [
            {"technique": t.technique, "region": t.region, "side": t.side, "minutes": t.minutes, "pressure": t.pressure}
            for t in last.techniques.all()
        ]
        return NoteDraft(last.duration_minutes, techniques, last.home_care, "")
    techniques = []
    if plan is not None and plan.techniques:
        share = max(5, duration // max(1, len(plan.techniques)))
        known = knowledge.techniques()
        for t in plan.techniques:
            default_pressure = known[t["technique"]].pressure if t["technique"] in known else 3
            techniques.append(
                {
                    "technique": t["technique"],
                    "region": t.get("region") or "",
                    "side": t.get("side") or "",
                    "minutes": share,
                    "pressure": t.get("pressure") or default_pressure,
                }
            )
    return NoteDraft(duration, techniques, plan.home_care if plan else "", "")


# --- Plan suggestion and conflicts ------------------------------------------------------------


def plan_suggestion(condition_id: str) -> dict[str, Any]:
    """A starting plan from the conditions knowledge base, for the therapist to edit."""
    condition = knowledge.conditions().get(condition_id)
    if condition is None:
        return {"sessions_per_week": 1, "weeks": 6, "session_minutes": 60, "techniques": [], "measures": []}
    dose = condition.dose
    region = condition.regions[0] if condition.regions else ""
    return {
        "sessions_per_week": dose.per_week if dose else 1,
        "weeks": dose.weeks if dose else 6,
        "session_minutes": dose.minutes if dose else 60,
        "dose_source": dose.source_text if dose else "",
        "techniques": [{"technique": t, "region": region, "side": "", "pressure": None} for t in condition.techniques],
        "measures": [{"measure": m, "when": "baseline, every 4 sessions, discharge"} for m in condition.measures],
        "home_program": [
            {"kind": h.kind, "title": h.title, "instructions": h.instructions} for h in condition.home_program
        ],
        "home_care": "",
        "precautions": condition.precautions,
    }


def plan_conflicts(plan: PlanOfCare | None, screening: Screening) -> list[rules.Conflict]:
    if plan is None:
        return []
    planned = [
        PlannedTechnique(t["technique"], t.get("region") or None, t.get("side") or None, t.get("pressure"))
        for t in plan.techniques
    ]
    return rules.plan_conflicts(planned, screening)


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


def chart(episode: Episode, *, today: date | None = None, recent: int = 5) -> Chart:
    """Everything the chart shows, in a fixed number of queries whatever the episode's size."""
    today = today or timezone.localdate()
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
    timeline = _timeline(episode, referrals, histories, checks, assessments, notes, clearances)
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


def _timeline(
    episode: Episode,
    referrals: Sequence[Referral],
    histories: Sequence[HealthHistory],
    checks: Sequence[PreSessionCheck],
    assessments: Sequence[Assessment],
    notes: Sequence[TreatmentNote],
    clearances: Sequence[Clearance],
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
            events.append(TimelineEvent(addendum.signed_at.date(), "addendum", "Addendum", addendum.reason, addendum))
    if episode.discharged_on:
        events.append(
            TimelineEvent(episode.discharged_on, "discharge", "Discharged", episode.get_discharge_reason_display())
        )
    # Newest first; on one day, in the order things happen (referral … notes … discharge).
    order = ["episode", "referral", "intake", "check", "clearance", "assessment", "note", "addendum", "discharge"]
    events.sort(key=lambda e: (e.on, order.index(e.kind)), reverse=True)
    return events


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
