"""Reads of outcome measures: an episode's responses, what is due, the chart's card, the progress,
record and send pages, and the client's questionnaire, each in a fixed number of queries.

A page's read takes the actor, loads through the access policy (another clinic's or another care
team's episode is a 404, front desk a 403), loads what the page shows with its related rows, and
audits the read itself, so the views and API routes only adapt HTTP. Every "today" is the clinic's:
``actor.today()``, or the clinic's zone for the signed-out questionnaire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core import signing
from django.http import Http404
from django.utils import timezone

from mend import access, knowledge
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical import queries as clinical_queries
from mend.clinical.models import Assessment, Episode, Goal, NoteStatus, PlanOfCare, PsfsActivity, TreatmentNote
from mend.clinical.queries import measure_label
from mend.clinics import queries as clinics_queries
from mend.outcomes.models import MeasureResponse, QuestionnaireLink
from mend.outcomes.schedule import Due, PlanMeasure, due
from mend.outcomes.scoring import Change, Measure, change, measures
from mend.platform.actor import Actor

PSFS_MAX_ACTIVITIES = 5
_LINK_SALT = "mend.outcomes.questionnaire-link"


def episode_responses(episode: Episode) -> list[MeasureResponse]:
    """Every response of the episode, oldest first (one query)."""
    return list(MeasureResponse.objects.filter(episode=episode).order_by("collected_on", "collected_at", "id"))


def open_links(episode: Episode) -> list[QuestionnaireLink]:
    """Links sent and not yet answered or expired (one query)."""
    return list(QuestionnaireLink.objects.filter(episode=episode, used_at__isnull=True, expires_at__gt=timezone.now()))


@dataclass
class MeasureSummary:
    """One measure of an episode: its schedule, responses, baseline, latest and change."""

    measure: Measure
    planned: PlanMeasure | None  # None: not in the plan, recorded anyway
    due: Due
    responses: list[MeasureResponse]

    @property
    def in_plan(self) -> bool:
        return self.planned is not None

    @property
    def schedule_text(self) -> str:
        """ "baseline, every 4 sessions, discharge", and any old text that could not be converted."""
        if self.planned is None:
            return ""
        parts = [self.planned.schedule.describe(), self.planned.legacy_when]
        return "; ".join(p for p in parts if p)

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
        if found is None or mcid is None or mcid.anchor or found.improvement >= 0:
            return False
        return found.worsening.meets_mcid(mcid) is True

    @property
    def mcid_text(self) -> str:
        """The responder rule in words ("2 points or 30% better than baseline")."""
        mcid = self.measure.mcid
        return "" if mcid is None else mcid.describe()


def summaries(
    *,
    plan: PlanOfCare | None,
    responses: Sequence[MeasureResponse],
    sessions: Sequence[date],
    today: date,
    discharged_on: date | None,
    started_on: date | None = None,
) -> list[MeasureSummary]:
    """The plan's measures in its order, then any other measure that has responses."""
    registry = measures()
    by_measure: dict[str, list[MeasureResponse]] = {}
    for r in responses:
        by_measure.setdefault(r.measure_id, []).append(r)
    planned: dict[str, PlanMeasure] = {}
    for item in plan.measures if plan else []:
        found = PlanMeasure.from_item(item)
        if found.measure in registry:
            planned.setdefault(found.measure, found)
    extra = [m for m in by_measure if m not in planned and m in registry]
    planned_sessions = plan.total_sessions if plan else None
    result = []
    for measure_id in [*planned, *extra]:
        own = by_measure.get(measure_id, [])
        plan_measure = planned.get(measure_id)
        status = (
            due(
                plan_measure.schedule,
                collected=[r.collected_on for r in own],
                sessions=sessions,
                today=today,
                planned_sessions=planned_sessions,
                discharged_on=discharged_on,
                started_on=started_on,
            )
            if plan_measure is not None
            else Due(False, "")
        )
        result.append(MeasureSummary(registry[measure_id], plan_measure, status, own))
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
            started_on=episode.started_on,
        ),
        links,
        can_email=bool(episode.client.email and episode.client.consent_email),
    )


@dataclass(frozen=True, slots=True)
class DueToday:
    episode: Episode
    due: list[MeasureSummary]


def todays_due(actor: Actor, today: date | None = None, *, client_ids: Iterable[int] | None = None) -> list[DueToday]:
    """The therapist's open episodes with a plan whose measures are due, in three queries however
    many clients they have: the episodes with client and plan, their responses, their signed visits.
    ``today`` is the clinic's (``actor.today()``) unless a caller asks about another day. With
    ``client_ids``, the open episodes of those clients the actor may see instead (a day's appointments)."""
    today = today or actor.today()
    open_episodes = clinical_queries.episodes(actor).filter(discharged_on__isnull=True, plan__isnull=False)
    if client_ids is None:
        open_episodes = open_episodes.filter(therapist=actor.membership)
    else:
        open_episodes = open_episodes.filter(client_id__in=list(client_ids))
    episodes = list(open_episodes.select_related("client", "plan"))  # 1
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
            started_on=episode.started_on,
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


@dataclass(frozen=True, slots=True)
class VisitScores:
    """What the therapist asks at every visit, as the signed note records it: sleep, stress and
    muscle tension since the last visit (0–10), and the days with pain medication of the last 7."""

    on: date
    sleep: int | None
    stress: int | None
    tension: int | None
    medication_days: int | None


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
    visits: list[VisitScores] = field(default_factory=list)

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


def progress(episode: Episode, *, today: date) -> Progress:
    """Everything the progress page draws, in six queries whatever the episode's size."""
    responses = episode_responses(episode)  # 1
    plan = PlanOfCare.objects.filter(episode=episode).first()  # 2
    signed = TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED).order_by("visit_on", "id")
    # 3: every signed visit's day (the sessions) with what was asked at it.
    asked = ("visit_on", "sleep_quality", "stress", "muscle_tension", "medication_days")
    visits = [VisitScores(*row) for row in signed.values_list(*asked)]
    sessions = [v.on for v in visits]
    goals = list(Goal.objects.filter(episode=episode))  # 4
    assessments = list(Assessment.objects.filter(episode=episode).prefetch_related("rom"))  # 5, 6
    return Progress(
        summaries(
            plan=plan,
            responses=responses,
            sessions=sessions,
            today=today,
            discharged_on=episode.discharged_on,
            started_on=episode.started_on,
        ),
        sessions,
        goals,
        rom_series(assessments, goals),
        visits,
    )


# --- What each page reads, audited --------------------------------------------------------------


def _audit_view(actor: Actor, episode: Episode, object_type: str = "") -> None:
    if object_type:
        audit_record(action=Action.VIEW, object_type=object_type, object_id=episode.pk,
                     client_id=episode.client_id, user=actor.user)  # fmt: skip
    else:
        audit_record(action=Action.VIEW, obj=episode, client_id=episode.client_id, user=actor.user)


def measure_or_404(measure_id: str) -> Measure:
    measure = measures().get(measure_id)
    if measure is None:
        raise Http404("No such outcome measure.")
    return measure


def psfs_activities(episode: Episode) -> list[str]:
    """The activities the client rated last time (PSFS re-reads the same list at follow-up), else
    those of the assessments: two queries at most."""
    last = MeasureResponse.objects.filter(episode=episode, measure_id="psfs").order_by("-collected_on", "-id").first()
    if last is not None and last.item_labels:
        return list(last.item_labels)
    rows = PsfsActivity.objects.filter(assessment__episode=episode).order_by("-assessment__assessed_on", "id")
    seen: dict[str, None] = {}
    for row in rows[:20]:
        seen.setdefault(row.activity, None)
    return list(seen)[:PSFS_MAX_ACTIVITIES]


@dataclass(frozen=True, slots=True)
class RecordPage:
    episode: Episode
    measure: Measure
    activities: list[str]  # PSFS: the activities to rate again


def record_page(actor: Actor, *, episode_id: int, measure_id: str, audit: bool = True) -> RecordPage:
    """The in-clinic form for one measure. ``audit``: False when the page answers its own POST, whose
    write the service audits."""
    episode = clinical_queries.episode_or_404(actor, episode_id)
    measure = measure_or_404(measure_id)
    activities = psfs_activities(episode) if measure.items is None and episode.is_open else []
    if audit:
        _audit_view(actor, episode)
    return RecordPage(episode, measure, activities)


@dataclass(frozen=True, slots=True)
class SendPage:
    episode: Episode
    card: OutcomesCard


def send_page(actor: Actor, *, episode_id: int, audit: bool = True) -> SendPage:
    """The send-a-link page: the episode's measures and what is due (the plan, its signed visit days,
    the responses and open links)."""
    episode = clinical_queries.episode_or_404(actor, episode_id)
    plan = PlanOfCare.objects.filter(episode=episode).first()
    notes = list(TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED).only("visit_on", "status"))
    card = outcomes_card(episode, plan=plan, notes=notes, today=actor.today())
    if audit:
        _audit_view(actor, episode, "outcomes.send")
    return SendPage(episode, card)


@dataclass(frozen=True, slots=True)
class ProgressPage:
    episode: Episode
    progress: Progress


def progress_page(actor: Actor, *, episode_id: int) -> ProgressPage:
    episode = clinical_queries.episode_or_404(actor, episode_id)
    data = progress(episode, today=actor.today())
    _audit_view(actor, episode, "outcomes.progress")
    return ProgressPage(episode, data)


def responses_read(actor: Actor, *, episode_id: int, measure_id: str | None = None) -> list[MeasureResponse]:
    """An episode's responses, oldest first, for the API (one query after the episode)."""
    episode = clinical_queries.episode_or_404(actor, episode_id)
    rows = MeasureResponse.objects.filter(episode=episode).order_by("collected_on", "collected_at", "id")
    if measure_id:
        rows = rows.filter(measure_id=measure_id)
    found = list(rows)
    _audit_view(actor, episode, "outcomes.response_list")
    return found


# --- The client's questionnaire, signed out -------------------------------------------------


def token_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def link_signer() -> signing.Signer:
    return signing.Signer(salt=_LINK_SALT)


class LinkUnusable(Exception):
    """A questionnaire link that cannot be used: ``reason`` is invalid, expired or used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def link_lookup(token: str) -> QuestionnaireLink:
    """The link behind ``token`` with its client, episode and clinic (one query), or
    ``LinkUnusable`` saying why it cannot be used. A tampered token fails its signature before the
    database is asked."""
    try:
        nonce = link_signer().unsign(token)
    except signing.BadSignature:
        raise LinkUnusable("invalid") from None
    link = (
        QuestionnaireLink.objects.filter(token_hash=token_hash(nonce))
        .select_related("client", "episode", "clinic")
        .first()
    )
    if link is None:
        raise LinkUnusable("invalid")
    if link.used_at is not None:
        raise LinkUnusable("used")
    if link.expires_at <= timezone.now():
        raise LinkUnusable("expired")
    return link


def questionnaire_read(token: str, *, audit: bool = True) -> QuestionnaireLink:
    """The client opening their emailed link: a read of their own record, audited as theirs.
    ``audit``: False when the page answers its own POST, whose responses the service audits."""
    link = link_lookup(token)
    if audit:
        audit_record(action=Action.VIEW, obj=link, client_id=link.client_id, user_email=link.sent_to,
                     clinic_id=link.clinic_id, role="client")  # fmt: skip
    return link


def evidence_therapists(actor: Actor) -> list[tuple[int, str]] | None:
    """The evidence report's therapist filter: None for a therapist, who sees only their own."""
    access.require_clinical(actor)
    if actor.is_therapist:
        return None
    return [(m.pk, m.user.full_name or m.user.email) for m in clinics_queries.therapist_memberships(actor)]
