"""Reads of outcome measures: an episode's responses, what is due, the chart's card and the
progress page, each in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from mend import access, knowledge
from mend.clinical.models import Assessment, Episode, Goal, NoteStatus, PlanOfCare, TreatmentNote
from mend.clinical.queries import measure_label
from mend.outcomes.models import MeasureResponse, QuestionnaireLink
from mend.outcomes.schedule import Due, When, due, parse_when
from mend.outcomes.scoring import Change, Measure, change, measures
from mend.platform.actor import Actor


def episode_responses(episode: Episode) -> list[MeasureResponse]:
    """Every response of the episode, oldest first (one query)."""
    return list(MeasureResponse.objects.filter(episode=episode).order_by("collected_on", "collected_at", "id"))


def open_links(episode: Episode) -> list[QuestionnaireLink]:
    """Links sent and not yet answered or expired (one query)."""
    return list(QuestionnaireLink.objects.filter(episode=episode, used_at__isnull=True, expires_at__gt=timezone.now()))


def responses_for(episode: Episode) -> QuerySet[MeasureResponse]:
    return MeasureResponse.objects.filter(episode=episode).select_related("recorded_by__user")


@dataclass
class MeasureSummary:
    """One measure of an episode: its schedule, responses, baseline, latest and change."""

    measure: Measure
    when_text: str
    when: When
    due: Due
    responses: list[MeasureResponse]
    in_plan: bool

    @property
    def scored(self) -> list[MeasureResponse]:
        return [r for r in self.responses if r.value is not None]

    @property
    def baseline(self) -> MeasureResponse | None:
        scored = self.scored
        return scored[0] if scored else None

    @property
    def latest(self) -> MeasureResponse | None:
        return self.responses[-1] if self.responses else None

    @property
    def change(self) -> Change | None:
        """Latest computable score against the baseline; None with fewer than two scores."""
        scored = self.scored
        if len(scored) < 2:
            return None
        assert scored[0].value is not None and scored[-1].value is not None
        return change(self.measure.id, scored[0].value, scored[-1].value)

    @property
    def responder(self) -> bool | None:
        """Against the measure's default MCID; an anchor measure (PGIC) judges its latest answer alone."""
        mcid = self.measure.mcid
        latest = self.scored[-1] if self.scored else None
        if mcid is None or latest is None or latest.value is None:
            return None
        if mcid.followup_at_most is not None or mcid.followup_at_least is not None:
            return change(self.measure.id, latest.value, latest.value).responder
        found = self.change
        return found.responder if found is not None else None

    @property
    def worse(self) -> bool:
        """Worse than at baseline by at least the MCID: a change the client feels, the wrong way."""
        found, mcid = self.change, self.measure.mcid
        if found is None or mcid is None or found.improvement >= 0:
            return False
        by_points = mcid.absolute is not None and -found.improvement >= mcid.absolute - 1e-9
        by_share = mcid.relative is not None and found.relative is not None and -found.relative >= mcid.relative - 1e-9
        return by_points or by_share

    @property
    def mcid_text(self) -> str:
        mcid = self.measure.mcid
        if mcid is None:
            return ""
        if mcid.absolute is not None:
            return f"{mcid.absolute:g} points" + (f" or {mcid.relative:.0%}" if mcid.relative else "")
        if mcid.followup_at_most is not None:
            return f"an answer of {mcid.followup_at_most:g} or better"
        if mcid.followup_at_least is not None:
            return f"an answer of {mcid.followup_at_least:g} or more"
        return f"{mcid.relative:.0%}" if mcid.relative else ""


def summaries(
    *,
    plan: PlanOfCare | None,
    responses: Sequence[MeasureResponse],
    sessions: Sequence[date],
    today: date,
    discharged_on: date | None,
) -> list[MeasureSummary]:
    """The plan's measures in its order, then any other measure that has responses."""
    registry = measures()
    by_measure: dict[str, list[MeasureResponse]] = {}
    for r in responses:
        by_measure.setdefault(r.measure_id, []).append(r)
    planned: list[tuple[str, str]] = []
    for item in plan.measures if plan else []:
        measure_id = item.get("measure", "")
        if measure_id in registry and measure_id not in dict(planned):
            planned.append((measure_id, item.get("when", "") or ""))
    extra = [(m, "") for m in by_measure if m not in dict(planned) and m in registry]
    planned_sessions = plan.total_sessions if plan else None
    result = []
    for measure_id, when_text in planned + extra:
        when = parse_when(when_text)
        own = by_measure.get(measure_id, [])
        in_plan = (measure_id, when_text) in planned
        status = (
            due(
                when,
                collected=[r.collected_on for r in own],
                sessions=sessions,
                today=today,
                planned_sessions=planned_sessions,
                discharged_on=discharged_on,
            )
            if in_plan
            else Due(False, "")
        )
        result.append(MeasureSummary(registry[measure_id], when_text, when, status, own, in_plan))
    return result


def signed_visit_days(notes: Iterable[TreatmentNote]) -> list[date]:
    return sorted(n.visit_on for n in notes if n.status == NoteStatus.SIGNED)


@dataclass
class OutcomesCard:
    summaries: list[MeasureSummary]
    links: list[QuestionnaireLink] = field(default_factory=list)
    can_email: bool = True  # the client has an email address and agreed to be emailed

    @property
    def due(self) -> list[MeasureSummary]:
        return [s for s in self.summaries if s.due.due]

    @property
    def sendable_due(self) -> list[str]:
        return [s.measure.id for s in self.due if s.measure.items is not None]


def outcomes_card(
    episode: Episode, *, plan: PlanOfCare | None, notes: Sequence[TreatmentNote], today: date
) -> OutcomesCard:
    """The chart's card, from the plan and notes the chart already loaded: two queries."""
    responses = episode_responses(episode)  # 1
    links = open_links(episode) if episode.is_open else []  # 2
    return OutcomesCard(
        summaries(
            plan=plan,
            responses=responses,
            sessions=signed_visit_days(notes),
            today=today,
            discharged_on=episode.discharged_on,
        ),
        links,
        can_email=bool(episode.client.email and episode.client.consent_email),
    )


@dataclass(frozen=True, slots=True)
class DueToday:
    episode: Episode
    due: list[MeasureSummary]


def todays_due(actor: Actor, today: date) -> list[DueToday]:
    """The therapist's open episodes with a plan whose measures are due, in three queries however
    many clients they have: the episodes with client and plan, their responses, their signed visits."""
    episodes = list(
        access.episodes(actor)
        .filter(therapist=actor.membership, discharged_on__isnull=True, plan__isnull=False)
        .select_related("client", "plan")
    )  # 1
    ids = [e.pk for e in episodes]
    responses: dict[int, list[MeasureResponse]] = {}
    for r in MeasureResponse.objects.filter(episode_id__in=ids).order_by("collected_on", "collected_at", "id"):  # 2
        responses.setdefault(r.episode_id, []).append(r)
    visits: dict[int, list[date]] = {}
    signed = TreatmentNote.objects.filter(episode_id__in=ids, status=NoteStatus.SIGNED).order_by("visit_on")
    for episode_id, visit_on in signed.values_list("episode_id", "visit_on"):  # 3
        visits.setdefault(episode_id, []).append(visit_on)
    found = []
    for episode in episodes:
        listed = summaries(
            plan=episode.plan,
            responses=responses.get(episode.pk, []),
            sessions=visits.get(episode.pk, []),
            today=today,
            discharged_on=None,
        )
        due_now = [s for s in listed if s.due.due]
        if due_now:
            found.append(DueToday(episode, due_now))
    found.sort(key=lambda d: (d.episode.client.display_name, d.episode.started_on))
    return found


# --- Progress page --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RomPoint:
    on: date
    degrees: int
    percent: float


@dataclass
class RomSeries:
    key: str  # rom:<motion>:<side>
    label: str
    normal: int
    points: list[RomPoint]
    goal_percent: float | None = None


@dataclass
class Progress:
    summaries: list[MeasureSummary]
    sessions: list[date]
    goals: list[Goal]
    rom: list[RomSeries]

    def goals_for(self, measure_id: str) -> list[Goal]:
        return [g for g in self.goals if g.measure == measure_id]


def rom_series(assessments: Sequence[Assessment], goals: Sequence[Goal]) -> list[RomSeries]:
    """Range of motion per motion and side, as a percentage of the normal range (norm table)."""
    norms = knowledge.rom_motions()
    series: dict[str, RomSeries] = {}
    for a in sorted(assessments, key=lambda a: (a.assessed_on, a.pk)):
        for r in a.rom.all():
            norm = norms.get(r.motion)
            if norm is None or not norm.normal:
                continue
            key = f"rom:{r.motion}:{r.side}"
            entry = series.setdefault(key, RomSeries(key, measure_label(key), norm.normal, []))
            entry.points.append(RomPoint(a.assessed_on, r.degrees, r.degrees / norm.normal * 100))
    for goal in goals:
        if goal.measure in series:
            entry = series[goal.measure]
            entry.goal_percent = float(goal.target) / entry.normal * 100
    return list(series.values())


def progress(episode: Episode, *, today: date | None = None) -> Progress:
    """Everything the progress page draws, in six queries whatever the episode's size."""
    today = today or timezone.localdate()
    responses = episode_responses(episode)  # 1
    plan = PlanOfCare.objects.filter(episode=episode).first()  # 2
    sessions = sorted(
        TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED).values_list("visit_on", flat=True)
    )  # 3
    goals = list(Goal.objects.filter(episode=episode))  # 4
    assessments = list(Assessment.objects.filter(episode=episode).prefetch_related("rom"))  # 5, 6
    return Progress(
        summaries(plan=plan, responses=responses, sessions=sessions, today=today, discharged_on=episode.discharged_on),
        list(sessions),
        goals,
        rom_series(assessments, goals),
    )
