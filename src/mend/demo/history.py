"""The demo clinics' past: episodes of care that ended before the stories in :mod:`mend.demo.stories`.

The stories show every stage of an episode, one client at a time; they are too few for the clinic
evidence report to say anything. A clinic that has used Mend for two years holds a couple of hundred
discharged episodes, so the demo does too: for each condition a mix of clients who responded, who
improved slowly, who plateaued, a few who got worse and some who stopped coming after a visit or
two. Their notes, goals, plans and outcome scores follow one pain course per episode, so the chart,
the progress page and the evidence report agree with each other.

Written in bulk (a few thousand rows in well under a second) rather than through the services the
stories use: these are finished, signed records, and replaying each signature through the
services would make ``mend demo`` many times slower. Everything a signature or a score depends on
is computed the way the services compute it: note content hashes with
:func:`mend.clinical.seal.seal`, scores with :func:`mend.outcomes.score`, the discharge
snapshot with :func:`mend.clinical.queries.goal_outcomes`. ``tests/test_demo.py`` checks that.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from mend import knowledge
from mend.audit.models import Action
from mend.audit.services import Entry, audit_record_many
from mend.clinical import icd10, queries, rules
from mend.clinical.models import (
    Assessment,
    AssessmentKind,
    DischargeReason,
    Episode,
    Goal,
    NoteStatus,
    NoteTechnique,
    PainRegion,
    PlanOfCare,
    PsfsActivity,
    Referral,
    TreatmentNote,
)
from mend.clinical.seal import NOTE_TYPE, seal
from mend.clinics.models import Clinic
from mend.demo.episodes import _answers_for
from mend.demo.stories import GENERIC, PLAN_NEXT, PROFILES, Profile, asked_at_visit
from mend.outcomes.models import MeasureResponse, Source
from mend.outcomes.scoring import score
from mend.people.models import CareTeamMember, ReferringProvider

# How often each kind of problem walks in, roughly as a medical-massage practice sees them.
# Profiles that need a physician's clearance before treatment (implants, lymphedema) are left out:
# a past episode here has no screening record to show that clearance.
WEIGHTS = {
    "low_back": 30,
    "neck": 24,
    "tension_headache": 14,
    "myalgia": 10,
    "fibromyalgia": 10,
    "tennis_elbow": 8,
    "carpal_tunnel": 5,
    "hip_strain": 6,
    "ankle_sprain": 6,
    "achilles": 4,
    "stress_sleep": 10,
    "posture": 5,
    "thoracic": 5,
    "migraine": 5,
}
MEASURE_EVERY = 4  # sessions between follow-up measures, as the suggested plans say


class Course(enum.StrEnum):
    RESPONDS = "responds"
    SLOW = "slow"
    PLATEAU = "plateau"
    WORSE = "worse"
    DROPS_OUT = "drops_out"


COURSES = {Course.RESPONDS: 45, Course.SLOW: 15, Course.PLATEAU: 17, Course.WORSE: 6, Course.DROPS_OUT: 17}
# Share of the baseline pain gone by the end of the course (negative: worse), and how fast.
RELIEF = {
    Course.RESPONDS: ((0.5, 0.85), 2.5),
    Course.SLOW: ((0.3, 0.5), 6.0),
    Course.PLATEAU: ((0.05, 0.25), 1.5),
    Course.WORSE: ((-0.35, -0.1), 2.0),
    Course.DROPS_OUT: ((0.0, 0.3), 3.0),
}


@dataclass
class _Past:
    """One past episode while it is being written: its rows, and the pain at each visit."""

    profile: Profile
    side: str
    course: Course
    episode: Episode
    pains: list[int]
    visit_days: list[date]
    per_week: int
    weeks: int
    minutes: int
    plan_items: list[dict[str, Any]]
    referral: Referral | None = None
    notes: list[TreatmentNote] | None = None


def _side_text(text: str, side: str) -> str:
    text = text.format(side=side)
    return text[:1].upper() + text[1:]


def _region_side(side_code: str, side: str) -> str:
    return side if side_code == "S" else side_code


def _pains(course: Course, baseline: int, visits: int, rng: random.Random) -> list[int]:
    (low, high), tau = RELIEF[course]
    relief = rng.uniform(low, high)
    pains = [baseline]
    for t in range(1, visits):
        expected = baseline * (1 - relief * (1 - math.exp(-t / tau)))
        pains.append(max(0, min(10, round(expected + rng.gauss(0, 0.6)))))
    return pains


def _plan_items(profile: Profile, side: str) -> list[dict[str, Any]]:
    condition = knowledge.conditions()[profile.condition]
    known = knowledge.techniques()
    items = []
    for technique, (region, side_code) in zip(condition.techniques, profile.treat, strict=False):
        pressure = known[technique].pressure
        if profile.max_pressure is not None:
            pressure = min(pressure, profile.max_pressure)
        items.append(
            {
                "technique": technique,
                "region": region,
                "side": _region_side(side_code, side),
                "pressure": pressure,
            }
        )
    return items


def _note_fields(past: _Past, n: int, rng: random.Random) -> dict[str, Any]:
    profile, side = past.profile, past.side
    pre = past.pains[n]
    post = max(0, pre - rng.choice([1, 1, 2, 2, 3] if past.course != Course.WORSE else [0, 0, 1]))
    phase = "bad" if pre >= 6 else "better" if pre >= 3 else "good"
    subjective = rng.choice(profile.says[phase])
    if past.course == Course.WORSE and n:
        subjective = f"{rng.choice(GENERIC['worse'])} {rng.choice(profile.says['bad'])}"
    elif rng.random() < 0.4:
        subjective = f"{rng.choice(GENERIC[phase])} {subjective}"
    region = past.plan_items[0]["region"].replace("_", " ") if past.plan_items else "area"
    relief = pre - post
    if relief >= 3:
        response = f"Good response: {pre}/10 to {post}/10, moving more freely on standing."
    elif relief == 2:
        response = f"Tolerated well; felt lighter afterwards ({pre}→{post})."
    else:
        response = f"Little change today ({pre}→{post})."
    home = knowledge.conditions()[profile.condition].home_program
    return {
        "subjective": _side_text(subjective, side),
        "pain_pre": pre,
        "sleep_quality": max(1, min(10, 10 - pre + rng.choice([-1, 0, 1]))),
        "stress": rng.randint(2, 7),
        **asked_at_visit(pre),
        "objective": _side_text(rng.choice(profile.findings_seen), side),
        "modalities": [profile.modality] if profile.modality and rng.random() < 0.5 else [],
        "pain_post": post,
        "response": response,
        "home_care": f"Reviewed {home[n % len(home)].title.lower()}." if home else "",
        "plan_next": rng.choice(PLAN_NEXT).format(region=region),
    }


def _techniques(past: _Past, note: TreatmentNote, rng: random.Random) -> list[NoteTechnique]:
    items = past.plan_items[:4]
    units = [1] * len(items)
    for _ in range((past.minutes - 10) // 5 - len(items)):
        units[rng.randrange(len(items))] += 1
    return [
        NoteTechnique(
            clinic_id=note.clinic_id,
            note=note,
            technique=item["technique"],
            region=item["region"],
            side=item["side"],
            minutes=5 * u,
            pressure=item["pressure"],
        )
        for item, u in zip(items, units, strict=True)
    ]


def _summary(past: _Past) -> str:
    first, last = past.pains[0], past.pains[-1]
    visits = len(past.pains)
    if past.course == Course.DROPS_OUT:
        return f"Seen {visits} time{'s' if visits > 1 else ''}; did not book again after reminders."
    if past.course == Course.WORSE:
        return f"Pain rose from {first}/10 to {last}/10 over {visits} visits; referred back to the physician."
    if past.course == Course.PLATEAU:
        return f"Pain {first}/10 at the start, {last}/10 after {visits} visits with no change over the last month."
    return f"Pain {first}/10 at the start, {last}/10 after {visits} visits; home program continues."


def _reason(course: Course, rng: random.Random) -> str:
    if course == Course.DROPS_OUT:
        return rng.choice([DischargeReason.LOST, DischargeReason.LOST, DischargeReason.CLIENT_CHOICE]).value
    if course == Course.WORSE:
        return DischargeReason.REFERRED_OUT.value
    if course == Course.PLATEAU:
        return DischargeReason.PLATEAU.value
    return DischargeReason.GOALS_MET.value


def load_history(clinic: Clinic, *, count: int, today: date, seed: int) -> int:
    """Write ``count`` discharged episodes for clients of ``clinic`` who have none yet, each with
    its treating therapist (the client's primary therapist), referral, plan, goal, signed notes
    and outcome scores. Returns how many were written."""
    rng = random.Random(seed)
    taken = set(Episode.objects.filter(clinic=clinic).values_list("client_id", flat=True))
    primaries = {
        m.client_id: m.therapist
        for m in CareTeamMember.objects.filter(clinic=clinic, is_primary=True).select_related("therapist")
        if m.client_id not in taken
    }
    client_ids = sorted(primaries)
    rng.shuffle(client_ids)
    providers = list(ReferringProvider.objects.filter(clinic=clinic).order_by("pk"))
    names, weights = zip(*WEIGHTS.items(), strict=True)
    kinds, kind_weights = zip(*COURSES.items(), strict=True)

    pasts: list[_Past] = []
    for client_id in client_ids[:count]:
        profile = PROFILES[rng.choices(names, weights)[0]]
        course = rng.choices(kinds, kind_weights)[0]
        suggestion = queries.plan_suggestion(profile.condition)
        per_week, weeks = suggestion["sessions_per_week"], suggestion["weeks"]
        planned = per_week * weeks
        visits = {
            Course.RESPONDS: rng.randint(max(3, planned // 2), planned),
            Course.SLOW: planned,
            Course.PLATEAU: rng.randint(max(4, planned // 2), planned),
            Course.WORSE: rng.randint(3, 5),
            Course.DROPS_OUT: rng.randint(1, 3),
        }[course]
        # Ended (a drop-out is discharged four weeks after the last visit) at least a week ago,
        # started at most two years ago; a visit may slip a day.
        span = math.ceil(visits * 7 / per_week) + visits + 28
        started = today - timedelta(days=rng.randint(span + 7, 730))
        days = [started]
        for i in range(1, visits):
            days.append(started + timedelta(days=round(i * 7 / per_week) + rng.choice([0, 0, 1])))
        side = rng.choice(["left", "right"])
        episode = Episode(
            clinic=clinic,
            client_id=client_id,
            therapist=primaries[client_id],
            # Dated, as a therapist names a client's second bout of the same problem.
            title=f"{profile.title}, {started:%B %Y}",
            condition=profile.condition,
            started_on=started,
            discharged_on=days[-1] + timedelta(days=28 if course == Course.DROPS_OUT else 0),
            discharge_reason=_reason(course, rng),
        )
        pasts.append(
            _Past(
                profile=profile,
                side=side,
                course=course,
                episode=episode,
                pains=_pains(course, rng.randint(4, 8), visits, rng),
                visit_days=days,
                per_week=per_week,
                weeks=weeks,
                minutes=suggestion["session_minutes"],
                plan_items=_plan_items(profile, side),
            )
        )
        episode.discharge_summary = _summary(pasts[-1])

    with transaction.atomic():
        Episode.objects.bulk_create([p.episode for p in pasts])
        _referrals_plans_goals(pasts, providers, rng)
        _assessments(pasts)
        _notes(pasts, rng)
        _scores(pasts, rng)
        # The discharge snapshot, as episode_discharge records it from the goals and notes.
        for past in pasts:
            episode = past.episode
            assert episode.discharged_on is not None
            episode.discharge_outcomes = queries.goal_outcomes(episode, today=episode.discharged_on)
        Episode.objects.bulk_update([p.episode for p in pasts], ["discharge_outcomes"])
    return len(pasts)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _referrals_plans_goals(pasts: Sequence[_Past], providers: Sequence[ReferringProvider], rng: random.Random) -> None:
    referrals, plans, goals = [], [], []
    for past in pasts:
        episode, profile = past.episode, past.profile
        assert episode.discharged_on is not None
        suggestion = queries.plan_suggestion(profile.condition)
        past.referral = Referral(
            clinic_id=episode.clinic_id,
            client_id=episode.client_id,
            episode=episode,
            provider=rng.choice(providers) if providers else None,
            referred_on=episode.started_on - timedelta(days=rng.randint(5, 20)),
            received_on=episode.started_on - timedelta(days=rng.randint(1, 4)),
            diagnoses=[{"code": profile.code, "description": icd10.lookup(profile.code).description}],
            reason=_side_text(profile.complaint, past.side),
            requested_treatment="Medical massage therapy: assess and treat.",
            visits_authorised=past.per_week * past.weeks,
            frequency=f"{past.per_week}× per week",
            valid_until=episode.started_on + timedelta(days=7 * past.weeks + 30),
            closed_at=_at(episode.discharged_on, 18),
        )
        referrals.append(past.referral)
        plans.append(
            PlanOfCare(
                clinic_id=episode.clinic_id,
                client_id=episode.client_id,
                episode=episode,
                techniques=past.plan_items,
                sessions_per_week=past.per_week,
                weeks=past.weeks,
                session_minutes=past.minutes,
                home_care="Home program as printed; bring questions to the next visit.",
                re_evaluation_on=episode.started_on + timedelta(days=7 * min(past.weeks, 4)),
                measures=suggestion["measures"],
                home_program=suggestion["home_program"],
                dose_source=suggestion["dose_source"],
                created_by=episode.therapist,
            )
        )
        baseline = past.pains[0]
        target = max(0, baseline - 3)
        goals.append(
            Goal(
                clinic_id=episode.clinic_id,
                client_id=episode.client_id,
                episode=episode,
                description=f"Pain at most {target}/10 on a usual day",
                measure="nprs",
                direction=rules.Direction.LOWER.value,
                baseline=baseline,
                target=target,
                due_on=episode.started_on + timedelta(days=7 * past.weeks),
            )
        )
    Referral.objects.bulk_create(referrals)
    PlanOfCare.objects.bulk_create(plans)
    Goal.objects.bulk_create(goals)


def _assessments(pasts: Sequence[_Past]) -> None:
    """The initial assessment at the first visit: the complaint, a pain map and the PSFS activities."""
    assessments = []
    for past in pasts:
        episode, profile = past.episode, past.profile
        assessments.append(
            Assessment(
                clinic_id=episode.clinic_id,
                client_id=episode.client_id,
                episode=episode,
                kind=AssessmentKind.INITIAL,
                assessed_on=episode.started_on,
                therapist=episode.therapist,
                chief_complaint=_side_text(profile.complaint, past.side),
                history=_side_text(profile.history, past.side),
                nprs=past.pains[0],
                posture=_side_text(profile.posture, past.side),
            )
        )
    Assessment.objects.bulk_create(assessments)
    regions, activities = [], []
    for past, assessment in zip(pasts, assessments, strict=True):
        baseline = past.pains[0]
        for n, (region, side_code, quality) in enumerate(past.profile.pain):
            regions.append(
                PainRegion(
                    clinic_id=assessment.clinic_id,
                    assessment=assessment,
                    region=region,
                    side=_region_side(side_code, past.side),
                    intensity=max(1, baseline - 2 * n),  # the first region is the worst
                    quality=quality,
                )
            )
        for activity in past.profile.psfs:
            activities.append(
                PsfsActivity(
                    clinic_id=assessment.clinic_id,
                    assessment=assessment,
                    activity=_side_text(activity, past.side),
                    score=max(0, min(10, round(10 - baseline * 0.9))),
                )
            )
    PainRegion.objects.bulk_create(regions)
    PsfsActivity.objects.bulk_create(activities)


def _notes(pasts: Sequence[_Past], rng: random.Random) -> None:
    notes: list[TreatmentNote] = []
    for past in pasts:
        episode = past.episode
        past.notes = [
            TreatmentNote(
                clinic_id=episode.clinic_id,
                client_id=episode.client_id,
                episode=episode,
                referral=past.referral,
                therapist=episode.therapist,
                visit_on=day,
                duration_minutes=past.minutes,
                **_note_fields(past, n, rng),
            )
            for n, day in enumerate(past.visit_days)
        ]
        notes.extend(past.notes)
    TreatmentNote.objects.bulk_create(notes)
    techniques: dict[int, list[NoteTechnique]] = {}
    for past in pasts:
        for note in past.notes or ():
            techniques[note.pk] = _techniques(past, note, rng)
    NoteTechnique.objects.bulk_create([t for rows in techniques.values() for t in rows])
    # Signed as note_sign signs: the hash covers the note and its techniques. The techniques
    # go in first; the database refuses any change to a note once it is signed.
    for note in notes:
        note.status = NoteStatus.SIGNED
        note.signed_at = _at(note.visit_on, 17)
        note.signed_by = note.therapist
        note.content_hash = seal(queries.note_content(note, techniques[note.pk]))
    TreatmentNote.objects.bulk_update(notes, ["status", "signed_at", "signed_by", "content_hash"], batch_size=500)
    # As note_sign does, each seal goes into its clinic's audit chain, so `mend audit verify`
    # checks the demo's past notes like any other.
    by_clinic: dict[int, list[Entry]] = {}
    for note in notes:
        by_clinic.setdefault(note.clinic_id, []).append(
            Entry(Action.UPDATE, NOTE_TYPE, note.pk, client_id=note.client_id, digest=note.content_hash)
        )
    for clinic_id, entries in by_clinic.items():
        audit_record_many(clinic_id=clinic_id, entries=entries, role="therapist")


def _scores(pasts: Sequence[_Past], rng: random.Random) -> None:
    conditions = knowledge.conditions()
    responses = []
    for past in pasts:
        episode, notes = past.episode, past.notes or []
        points = [0, *range(MEASURE_EVERY, len(notes), MEASURE_EVERY)]
        if past.course != Course.DROPS_OUT and len(notes) - 1 not in points:
            points.append(len(notes) - 1)  # the discharge measure
        activities = [_side_text(a, past.side) for a in past.profile.psfs]
        for i in points:
            note = notes[i]
            for measure_id in conditions[past.profile.condition].measures:
                answers = _answers_for(measure_id, past.pains[i], past.pains[0], len(activities), rng)
                result = score(measure_id, answers)
                assert result is not None, (measure_id, answers)
                responses.append(
                    MeasureResponse(
                        clinic_id=episode.clinic_id,
                        client_id=episode.client_id,
                        episode=episode,
                        measure_id=measure_id,
                        answers=answers,
                        item_labels=activities if measure_id == "psfs" else [],
                        value=result.value,
                        band=result.band or "",
                        raw=result.raw,
                        answered=len(answers),
                        scoring_version=result.version,
                        collected_on=note.visit_on,
                        collected_at=_at(note.visit_on, 16),
                        source=Source.CLINIC,
                        session_number=i + 1,
                        note=note,
                        recorded_by=episode.therapist,
                    )
                )
    MeasureResponse.objects.bulk_create(responses, batch_size=1000)
