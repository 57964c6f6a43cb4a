"""The clinic evidence report: what the clinic's own care achieves, by condition and measure.

Reads in a fixed number of queries whatever the clinic's size (episodes, their first referrals,
their signed-session counts, their computable scores) and aggregates in Python with the pure
statistics of :mod:`mend.outcomes.stats`.

Definitions (also on the page and in docs/outcomes.md):

- *Condition*: the ICD-10-CM subcategory (first four characters: M54.5 Low back pain, M54.2
  Cervicalgia) of the first diagnosis on the episode's first referral; without a referral, the
  episode's condition from the knowledge base.
- *Baseline*: an episode's first computable score of the measure; *latest*: its last one, when
  there are at least two. Mean change and responders count episodes with a follow-up only, and
  so do the baseline and latest means (over all episodes only when none was followed up), so
  that the latest mean minus the baseline mean is the mean change.
- *Sessions to MCID*: the session number of the first follow-up that meets the measure's default
  MCID against the baseline. Episodes that never do are censored at their last signed session or
  last measured session, whichever is later (discharged without response, or still in care).
- *Drop-out*: discharged as lost to follow-up or by the client's choice with no follow-up score.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet

from mend import access, knowledge
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical import icd10
from mend.clinical import queries as clinical_queries
from mend.clinical.models import DischargeReason, Episode, NoteStatus, Referral, TreatmentNote
from mend.clinics.models import Role
from mend.outcomes.models import MeasureResponse
from mend.outcomes.scoring import Measure, change, measures
from mend.outcomes.stats import KaplanMeier, MeanEstimate, Proportion, kaplan_meier, mean_ci, proportion_ci
from mend.platform.actor import Actor

DROP_OUT_REASONS = frozenset({DischargeReason.LOST.value, DischargeReason.CLIENT_CHOICE.value})
UNSPECIFIED = ("", "Condition not recorded")

# The small-cell rule. The page lists groups of fewer episodes apart, collapsed: one responder out
# of one is 100% with an interval from 21% to 100%, honest but noise. An export leaves Mend's access
# rules and audit trail, so it never carries a number computed over fewer episodes than this: a
# mean over one episode is that client's score (docs/outcomes.md, "Small groups").
MIN_EPISODES = 5


@dataclass(frozen=True, slots=True)
class EvidenceFilters:
    therapist_id: int | None = None
    started_from: date | None = None
    started_to: date | None = None
    technique: str = ""


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    condition_code: str  # ICD-10-CM subcategory, or the knowledge condition id, or "" when unknown
    condition: str
    measure: Measure
    episodes: int  # with a baseline
    followed_up: int
    baseline_mean: float
    latest_mean: float | None
    change: MeanEstimate | None
    responders: Proportion | None
    km: KaplanMeier | None
    dropout: Proportion | None
    # (baseline, latest) of each episode followed up, for judging them by another rule (a trial's).
    pairs: tuple[tuple[float, float], ...] = ()

    @property
    def anchor(self) -> bool:
        """PGIC, GROC: judged by the latest answer alone, so there is no change from a baseline."""
        return self.measure.mcid is not None and self.measure.mcid.anchor

    def responders_by(self, *, absolute: float | None = None, relative: float | None = None) -> Proportion | None:
        """The share of episodes followed up that improved by another rule than the measure's (a trial's)."""
        if self.anchor or not self.pairs:
            return None
        met = sum(
            1
            for b, latest in self.pairs
            if change(self.measure.id, b, latest).meets(absolute=absolute, relative=relative)
        )
        return proportion_ci(met, len(self.pairs))

    @property
    def responder_rule(self) -> str:
        """Who counts as a responder, in words ("2 points or 30% better than baseline")."""
        return self.measure.mcid.describe() if self.measure.mcid is not None else ""


@dataclass
class EvidenceGroup:
    condition_code: str
    condition: str
    rows: list[EvidenceRow] = field(default_factory=list)

    @property
    def curves(self) -> list[tuple[str, KaplanMeier]]:
        """Each measure's sessions-to-MCID curve, for the measures that have one."""
        return [(row.measure.short, row.km) for row in self.rows if row.km is not None and row.km.steps]


@dataclass
class EvidenceReport:
    filters: EvidenceFilters
    episodes: int  # matching the filters
    rows: list[EvidenceRow] = field(default_factory=list)
    measured: int = 0  # of those, with at least one computable score

    def grouped(self, min_episodes: int) -> tuple[list[EvidenceGroup], list[EvidenceRow]]:
        """Rows by condition, for groups of at least ``min_episodes`` episodes with a baseline; and
        the rows of smaller groups, whose numbers are too unsteady to read beside the others."""
        groups: dict[str, EvidenceGroup] = {}
        small = []
        for row in self.rows:
            if row.episodes < min_episodes:
                small.append(row)
                continue
            group = groups.setdefault(row.condition_code, EvidenceGroup(row.condition_code, row.condition))
            group.rows.append(row)
        return list(groups.values()), small

    def group(self, condition_code: str, min_episodes: int) -> EvidenceGroup | None:
        """One condition's group of at least ``min_episodes`` episodes (its curves are drawn on demand)."""
        groups, _ = self.grouped(min_episodes)
        return next((g for g in groups if g.condition_code == condition_code), None)

    def rows_for(self, measure_id: str, condition_code: str | None = None) -> list[EvidenceRow]:
        return [
            r
            for r in self.rows
            if r.measure.id == measure_id and (condition_code is None or r.condition_code == condition_code)
        ]


def report_episodes(actor: Actor, filters: EvidenceFilters) -> QuerySet[Episode]:
    """The episodes the report covers: the clinic's, or a therapist's own, filtered."""
    queryset = clinical_queries.episodes(actor)
    if actor.role == Role.THERAPIST:
        queryset = queryset.filter(therapist_id=actor.membership.pk)
    elif filters.therapist_id is not None:
        queryset = queryset.filter(therapist_id=filters.therapist_id)
    if filters.started_from is not None:
        queryset = queryset.filter(started_on__gte=filters.started_from)
    if filters.started_to is not None:
        queryset = queryset.filter(started_on__lte=filters.started_to)
    if filters.technique:
        signed_with = TreatmentNote.objects.filter(
            clinic_id=actor.clinic_id, status=NoteStatus.SIGNED, techniques__technique=filters.technique
        ).values("episode_id")
        queryset = queryset.filter(pk__in=signed_with)
    return queryset


def _condition_of(condition: str, diagnoses: Iterable[dict[str, str]] | None) -> tuple[str, str]:
    for diagnosis in diagnoses or ():
        found = icd10.group(str(diagnosis.get("code", "")))
        if found is not None:
            return found.code, f"{found.code} {found.description}"
        break
    known = knowledge.conditions().get(condition)
    if known is not None:
        return known.id, known.name
    return UNSPECIFIED


def evidence_report(actor: Actor, filters: EvidenceFilters | None = None) -> EvidenceReport:
    """The report for the actor's clinic (a therapist: their own episodes) in four queries."""
    filters = filters or EvidenceFilters()
    covered = report_episodes(actor, filters)
    rows = list(covered.values_list("id", "condition", "discharge_reason"))  # 1
    if not rows:
        return EvidenceReport(filters, 0)
    # The same filtered episodes as a subquery, not a list of ids: 5,000 ids would pass SQLite's
    # variable limit on some builds.
    episode_filter = Q(episode__in=covered.values("pk"))

    first_diagnoses: dict[int, list[dict[str, str]]] = {}
    referrals = (
        Referral.objects.filter(episode_filter, clinic_id=actor.clinic_id)
        .order_by("referred_on", "id")
        .values_list("episode_id", "diagnoses")
    )  # 2
    for episode_id, diagnoses in referrals:
        if episode_id not in first_diagnoses and diagnoses:
            first_diagnoses[episode_id] = diagnoses

    sessions = dict(
        TreatmentNote.objects.filter(episode_filter, clinic_id=actor.clinic_id, status=NoteStatus.SIGNED)
        .values("episode_id")
        .annotate(n=Count("id"))
        .values_list("episode_id", "n")
    )  # 3

    scores: dict[tuple[int, str], list[tuple[float, int | None]]] = {}
    responses = (
        MeasureResponse.objects.filter(episode_filter, clinic_id=actor.clinic_id, value__isnull=False)
        .order_by("episode_id", "collected_on", "collected_at", "id")
        .values_list("episode_id", "measure_id", "value", "session_number")
    )  # 4
    for episode_id, measure_id, value, session in responses.iterator(chunk_size=5000):
        assert value is not None  # value__isnull=False above
        scores.setdefault((episode_id, measure_id), []).append((value, session))

    condition_of = {pk: _condition_of(condition, first_diagnoses.get(pk)) for pk, condition, *_ in rows}
    reason_of = {pk: reason for pk, _, reason in rows}
    groups: dict[tuple[tuple[str, str], str], list[int]] = {}
    for episode_id, measure_id in scores:
        groups.setdefault((condition_of[episode_id], measure_id), []).append(episode_id)

    registry = measures()
    report = EvidenceReport(filters, len(rows), measured=len({pk for pk, _ in scores}))
    for ((code, label), measure_id), episode_ids in sorted(groups.items(), key=_group_order):
        measure = registry.get(measure_id)
        if measure is None:
            continue
        series = [(scores[(pk, measure_id)], sessions.get(pk, 0), reason_of[pk]) for pk in episode_ids]
        report.rows.append(_row(code, label, measure, series))
    return report


def evidence_read(actor: Actor, filters: EvidenceFilters | None) -> EvidenceReport:
    """The report page's numbers, audited as a read (without client ids: it names no client).
    ``filters`` None: the filters did not validate, and no numbers come from filters that do not hold."""
    access.require_clinical(actor)
    report = evidence_report(actor, filters) if filters is not None else EvidenceReport(EvidenceFilters(), 0)
    audit_record(action=Action.VIEW, object_type="outcomes.evidence", user=actor.user)
    return report


def evidence_group_read(actor: Actor, filters: EvidenceFilters | None, condition_code: str) -> EvidenceGroup | None:
    """One condition's group with its curves (the report page draws them on demand), audited as a read
    of the report when there is one; None when the filters do not hold or the group is too small to draw."""
    access.require_clinical(actor)
    if filters is None:
        return None
    group = evidence_report(actor, filters).group(condition_code, MIN_EPISODES)
    if group is None or not group.curves:
        return None
    audit_record(action=Action.VIEW, object_type="outcomes.evidence", user=actor.user)
    return group


def evidence_export(actor: Actor, filters: EvidenceFilters) -> str:
    """The report as CSV under the small-cell rule (``report_csv``), audited as an export."""
    report = evidence_report(actor, filters)
    audit_record(action=Action.EXPORT, object_type="outcomes.evidence", user=actor.user)
    return report_csv(report)


def _group_order(item: tuple[tuple[tuple[str, str], str], list[int]]) -> tuple[bool, str, str]:
    ((code, _), measure_id), _ = item
    return (code == "", code, measure_id)


def _row(
    code: str, label: str, measure: Measure, series: list[tuple[list[tuple[float, int | None]], int, str]]
) -> EvidenceRow:
    mcid = measure.mcid
    anchor = mcid is not None and mcid.anchor
    baselines: list[float] = []
    paired: list[float] = []  # the baselines of the episodes followed up, beside their latest scores
    latests: list[float] = []
    improvements: list[float] = []
    responders = judged = dropped = 0
    times: list[float] = []
    reached: list[bool] = []
    for points, signed_sessions, reason in series:
        baseline = points[0][0]
        baselines.append(baseline)
        followups = points if anchor else points[1:]
        if not anchor and followups:
            latest = followups[-1][0]
            paired.append(baseline)
            latests.append(latest)
            improvements.append(change(measure.id, baseline, latest).improvement)
        if not followups and reason in DROP_OUT_REASONS:
            dropped += 1
        if mcid is None or not followups:
            if mcid is not None:
                # Never measured again: censored at the last session known, without response.
                times.append(float(max(signed_sessions, points[0][1] or 0)))
                reached.append(False)
            continue
        judged += 1
        last = followups[-1][0]
        if change(measure.id, baseline if not anchor else last, last).responder:
            responders += 1
        event_at = None
        for index, (value, session) in enumerate(followups, start=1):
            if change(measure.id, baseline if not anchor else value, value).responder:
                event_at = float(session if session is not None else index)
                break
        if event_at is not None:
            times.append(event_at)
            reached.append(True)
        else:
            last_session = max((s or 0) for _, s in points)
            times.append(float(max(signed_sessions, last_session)))
            reached.append(False)
    followed_up = judged if anchor else len(improvements)
    return EvidenceRow(
        condition_code=code,
        condition=label,
        measure=measure,
        episodes=len(baselines),
        followed_up=followed_up,
        # Over the episodes followed up when there are any, so latest − baseline is the mean change.
        baseline_mean=sum(paired) / len(paired) if paired else sum(baselines) / len(baselines),
        latest_mean=(sum(latests) / len(latests)) if latests else None,
        change=mean_ci(improvements),
        responders=proportion_ci(responders, judged) if mcid is not None else None,
        km=kaplan_meier(times, reached) if mcid is not None else None,
        dropout=proportion_ci(dropped, len(baselines)),
        pairs=tuple(zip(paired, latests, strict=True)),
    )


# --- CSV --------------------------------------------------------------------------------------

CSV_HEADER = (
    "condition_code",
    "condition",
    "measure",
    "episodes",
    "followed_up",
    "baseline_mean",
    "latest_mean",
    "mean_change",
    "mean_change_low",
    "mean_change_high",
    "responders",
    "responder_rate",
    "responder_low",
    "responder_high",
    "responder_rule",
    "median_sessions_to_mcid",
    "dropped_out",
    "dropout_rate",
    "dropout_low",
    "dropout_high",
)


def fmt(value: float | None, places: int = 1) -> str:
    """Numbers as the page and the CSV show them: fixed places, empty when there is none."""
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0"


def sessions(value: float | None) -> str:
    """A number of sessions: whole, or a half where a median falls between two (R's midpoint rule)."""
    if value is None:
        return ""
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def row_cells(row: EvidenceRow) -> list[str]:
    """One row's cells, shared by the page and the CSV so the two cannot disagree."""
    change_ = row.change
    resp = row.responders
    drop = row.dropout
    median = row.km.median if row.km is not None else None
    return [
        row.condition_code,
        row.condition,
        row.measure.short,
        str(row.episodes),
        str(row.followed_up),
        fmt(row.baseline_mean),
        fmt(row.latest_mean),
        fmt(change_.mean if change_ else None),
        fmt(change_.low if change_ else None),
        fmt(change_.high if change_ else None),
        str(resp.successes) if resp else "",
        pct(resp.estimate if resp else None),
        pct(resp.low if resp else None),
        pct(resp.high if resp else None),
        row.responder_rule,
        sessions(median),
        str(drop.successes) if drop else "",
        pct(drop.estimate if drop else None),
        pct(drop.low if drop else None),
        pct(drop.high if drop else None),
    ]


# Cells computed over the episodes followed up (the baseline mean too, when any was followed up
# and the measure has a baseline to change from): blank in an export when they are fewer than
# MIN_EPISODES. Counts, drop-out and the Kaplan–Meier median are over every episode of the group.
_OVER_FOLLOWED_UP = frozenset(
    {
        "latest_mean",
        "mean_change",
        "mean_change_low",
        "mean_change_high",
        "responders",
        "responder_rate",
        "responder_low",
        "responder_high",
    }
)


def export_cells(row: EvidenceRow) -> list[str] | None:
    """A row's cells as they may leave Mend, or None when the group is too small to export at all."""
    if row.episodes < MIN_EPISODES:
        return None
    cells = row_cells(row)
    if row.followed_up >= MIN_EPISODES:
        return cells
    blank = set(_OVER_FOLLOWED_UP)
    if row.followed_up and not row.anchor:
        blank.add("baseline_mean")
    return ["" if name in blank else cell for name, cell in zip(CSV_HEADER, cells, strict=True)]


def report_csv(report: EvidenceReport) -> str:
    """The report as CSV under the small-cell rule: groups under ``MIN_EPISODES`` episodes are left
    out, and statistics over fewer followed-up episodes are blank (see ``export_cells``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        cells = export_cells(row)
        if cells is not None:
            writer.writerow(cells)
    return out.getvalue()


# --- The headline -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Headline:
    """One sentence an owner can quote, from one row of the report, and what it counts."""

    row: EvidenceRow
    text: str
    detail: str


def headline(report: EvidenceReport) -> Headline | None:
    """The report in one sentence: the share of responders in the condition with the most episodes
    (pain when it was measured, else the measure followed up most), with its interval and the median
    sessions to get there. Under the small-cell rule, like the CSV: only from a group of at least
    ``MIN_EPISODES`` episodes of which at least ``MIN_EPISODES`` were followed up; else none."""
    eligible = [
        r
        for r in report.rows
        if r.responders is not None and r.episodes >= MIN_EPISODES and r.responders.n >= MIN_EPISODES
    ]
    if not eligible:
        return None
    size: dict[str, int] = {}
    for row in report.rows:
        size[row.condition_code] = max(size.get(row.condition_code, 0), row.episodes)
    row = max(eligible, key=lambda r: (size[r.condition_code], r.measure.id == "nprs", r.followed_up, r.measure.id))
    assert row.responders is not None
    resp = row.responders
    name = row.condition.removeprefix(f"{row.condition_code} ") if row.condition_code else row.condition
    who = f"{name[:1].lower()}{name[1:]}" + (f" ({row.condition_code})" if row.condition != name else "")
    median = row.km.median if row.km is not None else None
    after = (
        f"median {sessions(median)} sessions" if median is not None else "half had not reached it by their last session"
    )
    text = (
        f"{resp.estimate * 100:.0f}% of clients treated for {who} reached a meaningful change in "
        f"{row.measure.construct.lower()} (95% CI {resp.low * 100:.0f}–{resp.high * 100:.0f}%), {after}."
    )
    detail = (
        f"{resp.successes} of {resp.n} episodes of care followed up with the {row.measure.short}; meaningful change: "
        f"{row.responder_rule}."
    )
    return Headline(row, text, detail)


def warm() -> None:
    """Load what the report's first request would otherwise pay for: SciPy's distributions (their first
    call builds tables), the measure registry and the literature. Called when a server worker starts."""
    mean_ci([1.0, 2.0])
    proportion_ci(1, 2)
    kaplan_meier([1.0, 2.0], [True, False])
    measures()
    knowledge.evidence_references()
