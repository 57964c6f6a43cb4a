"""Episodes of care for the demo clinics and the benchmark clinics.

Every episode is written through :mod:`mend.clinical.services` as its treating therapist, so it
passes the validation a page would apply and lands in the audit trail like real work. The same
seed and the same ``today`` give the same episodes on every machine; visit dates lie in the past
(signatures carry the time the demo was loaded, as signing always stamps "now").

The stories themselves, and what their clients say, are in :mod:`mend.demo.stories`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mend import knowledge
from mend.clinical import queries, rules, services
from mend.clinical.models import DischargeReason, Episode, PlanOfCare, Referral
from mend.clinical.rules import PlannedTechnique
from mend.clinical.screening import Action, Screening, catalogue
from mend.clinical.services import (
    FindingInput,
    PainInput,
    PalpationInput,
    PsfsInput,
    RomInput,
    TechniqueInput,
)
from mend.clinics.models import Clinic, Membership
from mend.demo.stories import (
    ALLERGIES,
    CHECK_NOTES,
    GENERIC,
    HARBOUR_STORIES,
    NORTHSIDE_STORIES,
    PLAN_NEXT,
    PROFILES,
    PROVIDER_FOR,
    SEED_PROFILES,
    Course,
    Event,
    Profile,
    Stage,
    Story,
    asked_at_visit,
)
from mend.people.models import CareTeamMember, Client, ReferringProvider
from mend.platform import context
from mend.platform.actor import Actor

# --- Loading --------------------------------------------------------------------------------


@dataclass
class _Cast:
    """The clinic's therapists, their clients still free for a story, and its referring providers."""

    therapists: list[Membership]
    clients: dict[int, list[Client]]
    providers: list[ReferringProvider]
    today: date


def _cast(clinic: Clinic, therapists: Sequence[Membership], today: date) -> _Cast:
    clients: dict[int, list[Client]] = {t.pk: [] for t in therapists}
    for member in (
        CareTeamMember.objects.filter(clinic=clinic, is_primary=True, therapist__in=therapists)
        .select_related("client")
        .order_by("client_id")
    ):
        clients[member.therapist_id].append(member.client)
    providers = list(ReferringProvider.objects.filter(clinic=clinic).order_by("pk"))
    return _Cast(list(therapists), clients, providers, today)


def _age(client: Client, today: date) -> int:
    return (today - client.date_of_birth).days // 365 if client.date_of_birth else 40


def _take(cast: _Cast, therapist: Membership, prefer: str) -> Client | None:
    """The therapist's first free client who fits the story (any free client when none fits)."""
    free = cast.clients[therapist.pk]
    fits: dict[str, Callable[[Client], bool]] = {
        "female": lambda c: c.sex == "female" and _age(c, cast.today) >= 35,
        "older": lambda c: _age(c, cast.today) >= 58,
        "younger": lambda c: _age(c, cast.today) <= 40,
    }
    test = fits.get(prefer)
    for n, client in enumerate(free):
        if test is None or test(client):
            return free.pop(n)
    return free.pop(0) if free else None


def load_stories(
    *, clinic: Clinic, therapists: Sequence[Membership], stories: Sequence[Story], today: date, seed: int
) -> list[Episode]:
    """Tell each story with a client from its therapist's primary care team; skip stories no client is left for."""
    cast = _cast(clinic, therapists, today)
    episodes = []
    for n, story in enumerate(stories):
        therapist = cast.therapists[story.therapist]
        client = _take(cast, therapist, story.prefer)
        if client is None:
            continue
        teller = _Teller(story, therapist, client, cast, random.Random(seed * 1000 + n))
        with context.acting(user_id=therapist.user_id, clinic_id=clinic.pk, role=therapist.role):
            episodes.append(teller.tell())
    return episodes


def load_demo_episodes(
    *,
    harbour: Clinic,
    harbour_therapists: Sequence[Membership],
    northside: Clinic,
    northside_therapists: Sequence[Membership],
    today: date,
) -> list[Episode]:
    return load_stories(
        clinic=harbour, therapists=harbour_therapists, stories=HARBOUR_STORIES, today=today, seed=7
    ) + load_stories(clinic=northside, therapists=northside_therapists, stories=NORTHSIDE_STORIES, today=today, seed=8)


def seed_stories(therapists: Sequence[Membership], *, long: int, long_notes: int, short: int, seed: int) -> list[Story]:
    """For a benchmark clinic: one long episode for each of the first ``long`` therapists (the first
    one's is the chart `mend bench` opens), then ``short`` episodes of a few visits at every stage,
    spread over the therapists."""
    rng = random.Random(seed)
    treatment, discharged = Stage.TREATMENT, Stage.DISCHARGED
    stories = []
    for i in range(min(long, len(therapists))):
        first = SEED_PROFILES[i % len(SEED_PROFILES)][0]
        stories.append(Story(i, first, PROFILES[first].title, treatment, long_notes, 2, referral="renewed"))
    stages = [Stage.REFERRAL, Stage.INTAKE, Stage.ASSESSED, Stage.PLANNED, *[treatment] * 3, *[discharged] * 2]
    reasons = list(DischargeReason)
    for n in range(short):
        i = n % len(therapists)
        profile = rng.choice(SEED_PROFILES[i % len(SEED_PROFILES)])
        stage = rng.choice(stages)
        notes = rng.randint(1, 6) if stage >= treatment else 0
        reason = rng.choice(reasons) if stage == discharged else ""
        last = rng.randint(43, 200) if reason == DischargeReason.LOST else rng.randint(0, 120)
        course = rng.choice([Course.RESPONDS, Course.RESPONDS, Course.SLOW, Course.PLATEAU, Course.WORSE])
        stories.append(Story(i, profile, PROFILES[profile].title, stage, notes, last, course=course, discharge=reason))
    return stories


# --- One story ------------------------------------------------------------------------------


class _Teller:
    def __init__(self, story: Story, therapist: Membership, client: Client, cast: _Cast, rng: random.Random) -> None:
        self.story, self.client, self.cast, self.rng = story, client, cast, rng
        self.actor = Actor(user=therapist.user, membership=therapist)
        self.profile: Profile = PROFILES[story.profile]
        self.condition = knowledge.conditions()[self.profile.condition]
        self.suggestion = queries.plan_suggestion(self.profile.condition)
        self.today = cast.today
        self.side = story.side
        per_week = int(self.suggestion["sessions_per_week"])
        self.visits = self._visit_dates(per_week)
        self.pain = self._pain_course()
        self.referrals: list[tuple[Referral, int]] = []  # (referral, visits it authorises)
        self.plan: PlanOfCare | None = None
        self.baseline: dict[str, int] = {}

    def _text(self, text: str) -> str:
        """A profile's text told for this story's side, starting with a capital ("{side} ankle sprain")."""
        text = text.format(side=self.side)
        return text[:1].upper() + text[1:]

    # Dates -------------------------------------------------------------------------------

    def _visit_dates(self, per_week: int) -> list[date]:
        last = self.today - timedelta(days=self.story.last_visit)
        gaps = [7] if per_week <= 1 else [3, 4] if per_week == 2 else [2, 2, 3]
        dates = [last]
        for n in range(self.story.notes - 1):
            dates.append(dates[-1] - timedelta(days=gaps[n % len(gaps)]))
        return sorted(dates) if self.story.notes else []

    @property
    def first_visit(self) -> date:
        return self.visits[0] if self.visits else self.today - timedelta(days=self.story.last_visit)

    @property
    def needs_clearance(self) -> list[str]:
        rules_known = catalogue().rules
        return [
            f.rule_id for f in self.findings if Action.CLEARANCE in {a.action for a in rules_known[f.rule_id].actions}
        ]

    @property
    def findings(self) -> tuple[FindingInput, ...]:
        inherited = tuple(
            FindingInput(f.rule_id, f.region, self.side if f.side == "S" else f.side, f.note)
            for f in self.profile.findings
        )
        return inherited + self.story.findings

    @property
    def opened(self) -> date:
        """The episode opens at intake: ahead of the first visit when a clearance had to come first."""
        ahead = 10 if self.needs_clearance and self.story.clearance and self.story.stage >= Stage.ASSESSED else 0
        return self.first_visit - timedelta(days=ahead)

    # The story ---------------------------------------------------------------------------

    def tell(self) -> Episode:
        story = self.story
        episode = services.episode_open(
            actor=self.actor,
            client=self.client,
            data={"title": story.title, "condition": self.profile.condition, "started_on": self.opened},
        )
        if story.referral != "none":
            self._referral(episode, referred_on=self.opened - timedelta(days=self.rng.randint(3, 18)))
        if story.stage >= Stage.INTAKE:
            self._intake(episode)
        if story.stage >= Stage.ASSESSED:
            self._assess(episode, self.first_visit)
        if story.stage >= Stage.PLANNED:
            self._plan(episode)
        for n, on in enumerate(self.visits):
            self._visit(episode, n, on)
        self._aftermath(episode)
        # Measures are recorded while the episode is open: a discharged record is read-only.
        record_demo_outcomes([episode], today=self.today, seed=self.rng.randrange(1_000_000))
        if story.discharge:
            self._discharge(episode)
        return episode

    def _provider(self) -> ReferringProvider | None:
        wanted = PROVIDER_FOR.get(self.profile.condition, "Family physician")
        matching = [p for p in self.cast.providers if p.profession == wanted]
        pool = matching or [p for p in self.cast.providers if p.profession == "Family physician"] or self.cast.providers
        return self.rng.choice(pool) if pool else None

    def _referral(self, episode: Episode, *, referred_on: date, renewal: bool = False) -> None:
        story, per_week = self.story, self.suggestion["sessions_per_week"]
        if story.referral == "exhausted":
            visits = story.notes
        elif story.referral == "renewed":
            visits = 8 if story.notes <= 12 else 10
        else:
            visits = max(6, min(12, story.notes + self.rng.randint(1, 4)))
        valid_until = referred_on + timedelta(days=180)
        if story.referral == "expired":
            valid_until = self.today - timedelta(days=4)
        names = ", ".join(_lower(knowledge.techniques()[t].name) for t in self.condition.techniques[:3])
        rules_known = catalogue().rules
        precautions = "; ".join(f"{rules_known[f.rule_id].name}: {f.note}" for f in self.findings if f.note)
        referral = services.referral_save(
            actor=self.actor,
            episode=episode,
            provider=self._provider(),
            diagnoses=[story.code or self.profile.code],
            data={
                "referred_on": referred_on,
                "received_on": min(referred_on + timedelta(days=self.rng.randint(0, 2)), self.opened)
                if not renewal
                else referred_on + timedelta(days=1),
                "reason": ("Renewal: " if renewal else "") + self._text(self.profile.complaint),
                "requested_treatment": f"Assess and treat: {names}.",
                "visits_authorised": visits,
                "frequency": f"{per_week}× per week",
                "valid_until": valid_until,
                "precautions": precautions[:500],
            },
        )
        self.referrals.append((referral, visits))

    def _intake(self, episode: Episode) -> None:
        profile = self.profile
        data: dict[str, Any] = {
            "completed_on": self.opened,
            "conditions": profile.intake.get("conditions", "None other"),
            "medications": profile.intake.get(
                "medications", self.rng.choice(["None", "Ibuprofen as needed", "Acetaminophen as needed"])
            ),
            "surgeries": profile.intake.get("surgeries", "None"),
            "implants": profile.intake.get("implants", "None"),
            "skin_conditions": "None",
            "allergies": self.rng.choice(ALLERGIES),
            "symptoms": self._text(profile.complaint),
        }
        data.update(self.story.intake)
        data = {k: self._text(v) if isinstance(v, str) else v for k, v in data.items()}
        # The demo client answers every question: yes to their findings' rules, no to the rest.
        yes = {f.rule_id for f in self.findings}
        answers = {rule_id: rule_id in yes for rule_id in catalogue().rules}
        services.health_history_record(
            actor=self.actor, episode=episode, data=data, answers=answers, findings=self.findings
        )
        if not self.story.clearance:
            return
        for rule_id in self.needs_clearance:
            provider = self._provider()
            services.clearance_record(
                actor=self.actor,
                episode=episode,
                provider=provider,
                data={
                    "rule_id": rule_id,
                    "cleared_by": "" if provider else "Family physician",
                    "cleared_on": min(self.opened + timedelta(days=6), self.first_visit),
                    "conditions": profile.clearance,
                },
            )

    # Assessment and goals ----------------------------------------------------------------

    def _assess(self, episode: Episode, on: date, *, kind: str = "initial", progress: float = 0.0) -> None:
        profile, rng, side = self.profile, self.rng, self.side
        motions = knowledge.rom_motions()
        nprs = self.pain[0] if kind == "initial" else self._pain_on(on)
        pain = [PainInput(profile.pain[0][0], nprs, _side(profile.pain[0][1], side), profile.pain[0][2])]
        for region, s, quality in profile.pain[1 : rng.randint(1, 3) if kind == "initial" else 2]:
            if (intensity := nprs - rng.randint(1, 3)) > 0:  # a region that stopped hurting leaves the map
                pain.append(PainInput(region, intensity, _side(s, side), quality))
        rom = []
        for motion, s, share in profile.rom:
            normal = motions[motion].normal
            start = self.baseline.setdefault(f"rom:{motion}", round(normal * (share + rng.uniform(-0.05, 0.05))))
            degrees = round(start + (normal * 0.97 - start) * progress)
            rom.append(RomInput(motion, max(0, min(degrees, motions[motion].max)), _side(s, side)))
        psfs = []
        for activity in profile.psfs:
            start = self.baseline.setdefault(f"psfs:{activity}", rng.randint(2, 5))
            psfs.append(PsfsInput(activity, max(0, min(10, round(start + (9 - start) * progress)))))
        palpation = [
            PalpationInput(region, kind_, _side(s, side), self._text(note))
            for region, s, kind_, note in rng.sample(list(profile.palpation), k=min(2, len(profile.palpation)))
        ]
        initial = kind == "initial"
        services.assessment_save(
            actor=self.actor,
            episode=episode,
            data={
                "kind": kind,
                "assessed_on": on,
                "chief_complaint": self._text(profile.complaint),
                "history": self._text(profile.history) if initial else "",
                "nprs": nprs,
                "posture": self._text(profile.posture) if initial else "",
                "notes": "" if initial else _re_eval_note(progress),
            },
            pain=pain,
            rom=rom,
            psfs=psfs,
            palpation=palpation,
        )
        if initial:
            self._goals(episode, nprs, rom[0] if rom else None, psfs[0])

    def _goals(self, episode: Episode, nprs: int, rom: RomInput | None, psfs: PsfsInput) -> None:
        due = self.first_visit + timedelta(weeks=int(self.suggestion["weeks"]))
        goals = [
            {"description": "Pain at 3/10 or lower", "measure": "nprs", "baseline": nprs, "target": 3},
            {
                "description": f"{psfs.activity}: 7/10 or better",
                "measure": f"psfs:{psfs.activity}",
                "baseline": psfs.score,
                "target": 7,
            },
        ]
        if rom is not None:
            motion = knowledge.rom_motions()[rom.motion]
            target = round(motion.normal * 0.9)
            if target > rom.degrees:
                where = f" ({rom.side})" if rom.side else ""
                goals.append(
                    {
                        "description": f"{motion.name}{where} to {target}°",
                        "measure": f"rom:{rom.motion}:{rom.side}",
                        "baseline": rom.degrees,
                        "target": target,
                    }
                )
        for goal in goals:
            if goal["baseline"] != goal["target"]:
                services.goal_save(actor=self.actor, episode=episode, data={**goal, "due_on": due})

    # Plan --------------------------------------------------------------------------------

    def _plan(self, episode: Episode) -> None:
        known = knowledge.techniques()
        cap = self.profile.max_pressure
        items = []
        techniques, treat = self.condition.techniques, self.profile.treat
        # Each suggested technique on a region in turn; one technique alone covers every region.
        for n in range(min(4, max(len(techniques), len(treat)))):
            technique, (region, s) = techniques[n % len(techniques)], treat[n % len(treat)]
            pressure = known[technique].pressure if cap is None else min(cap, known[technique].pressure)
            items.append({"technique": technique, "region": region, "side": _side(s, self.side), "pressure": pressure})
        if self.story.event != Event.CONFLICT:
            items = _fit_to_screening(items, queries.screening_on(episode, self.first_visit))
        suggestion = self.suggestion
        reeval = self.first_visit + timedelta(weeks=max(1, int(suggestion["weeks"]) // 2))
        self.plan = services.plan_save(
            actor=self.actor,
            episode=episode,
            data={
                "sessions_per_week": suggestion["sessions_per_week"],
                "weeks": suggestion["weeks"],
                "session_minutes": suggestion["session_minutes"],
                "home_care": suggestion["home_care"],
                "re_evaluation_on": reeval,
                "measures": suggestion["measures"],
                "home_program": suggestion["home_program"],
                "dose_source": suggestion["dose_source"],
            },
            techniques=items,
        )

    # Visits ------------------------------------------------------------------------------

    def _pain_course(self) -> list[int]:
        n, rng, course = self.story.notes, self.rng, self.story.course
        start = rng.randint(5, 8)
        end = {
            Course.RESPONDS: rng.choice([1, 2, 2, 3]),
            Course.SLOW: start - 3,
            Course.PLATEAU: start - 2,
            Course.WORSE: min(10, start + 2),
        }[course]
        # Pain settles over the planned course (at most twelve visits), or by the last visit of an
        # episode discharged with its goals met; a plateau flattens out after the third visit.
        planned = int(self.suggestion["sessions_per_week"]) * int(self.suggestion["weeks"])
        reach = max(1, n - 1 if self.story.discharge == DischargeReason.GOALS_MET else min(max(n, planned) - 1, 12))
        if course == Course.PLATEAU:
            reach = 2
        values = [start]
        for i in range(1, n):
            noise = rng.choice([-1, 0, 0, 0, 1]) if i < n - 1 else 0
            values.append(max(0, min(10, round(start + (end - start) * min(1.0, i / reach)) + noise)))
        return values

    def _pain_on(self, on: date) -> int:
        return self.pain[self.visits.index(on)] if on in self.visits else self.pain[0]

    def _progress(self, pain: int) -> float:
        start = self.pain[0]
        return max(-0.3, min(1.0, (start - pain) / max(1, start - 3)))

    def _visit(self, episode: Episode, n: int, on: date) -> None:
        story, rng = self.story, self.rng
        if story.event == Event.FEVER and n == 3:
            services.pre_session_check_record(
                actor=self.actor,
                episode=episode,
                data={
                    "checked_on": on - timedelta(days=2),
                    "fever": True,
                    "able_to_consent": True,
                    "new_symptoms": "Fever and sore throat since last night. No treatment; rebooked for when well.",
                },
            )
        symptoms, medications = rng.choice(CHECK_NOTES)
        services.pre_session_check_record(
            actor=self.actor,
            episode=episode,
            data={
                "checked_on": on,
                "fever": False,
                "able_to_consent": True,
                "new_symptoms": symptoms,
                "new_medications": medications,
            },
        )
        self._renew_if_needed(episode, on, n)
        pre = self.pain[n]
        drop = {Course.WORSE: [0, 1, 1], Course.PLATEAU: [1, 1, 2]}.get(story.course, [1, 2, 2, 3])
        post = max(0, pre - min(rng.choice(drop), pre // 2 + 1))
        note = services.note_start(actor=self.actor, episode=episode, visit_on=on)
        services.note_update(
            actor=self.actor,
            note=note,
            data=self._note_text(n, pre, post),
            techniques=self._techniques(n, note.duration_minutes),
        )
        services.note_sign(actor=self.actor, note=note)
        if story.event == Event.ADDENDUM and n == 2:
            services.addendum_add(
                actor=self.actor,
                note=note,
                reason="Late entry: the client's call the day after the visit",
                text="Client phoned the next morning: mild soreness in the treated area that settled within "
                "24 hours, no bruising. Home care unchanged.",
            )
        # A re-evaluation every sixth visit, and at the last visit before a planned discharge.
        closing = story.discharge in (DischargeReason.GOALS_MET, DischargeReason.PLATEAU, DischargeReason.REFERRED_OUT)
        final = n == story.notes - 1 and closing and n >= 2 and story.event != Event.INFECTION
        if (n + 1) % 6 == 0 or final:
            self._assess(episode, on, kind="re_evaluation", progress=self._progress(pre))

    def _renew_if_needed(self, episode: Episode, on: date, n: int) -> None:
        if self.story.referral != "renewed" or not self.referrals:
            return
        used = sum(visits for _, visits in self.referrals)
        if n >= used:
            self._referral(episode, referred_on=on - timedelta(days=4), renewal=True)

    def _techniques(self, n: int, duration: int) -> list[TechniqueInput]:
        assert self.plan is not None
        items = self.plan.techniques[:4]
        hands_on = duration - self.rng.choice([5, 10, 10, 15])
        units = [1] * len(items)
        for _ in range(hands_on // 5 - len(items)):
            units[self.rng.randrange(len(items))] += 1
        known = knowledge.techniques()
        early = n < 2 and self.story.course != Course.WORSE
        result = []
        for item, u in zip(items, units, strict=True):
            pressure = item.get("pressure") or known[item["technique"]].pressure
            result.append(
                TechniqueInput(item["technique"], item["region"], 5 * u, max(1, pressure - int(early)), item["side"])
            )
        return result

    def _note_text(self, n: int, pre: int, post: int) -> dict[str, Any]:
        profile, rng = self.profile, self.rng
        phase = "bad" if pre >= 6 else "better" if pre >= 3 else "good"
        if self.story.course == Course.WORSE and n:
            phase = "worse"
        lines = profile.says["bad" if phase == "worse" else phase]
        subjective = rng.choice(lines)
        if rng.random() < 0.5 or phase == "worse":
            subjective = f"{rng.choice(GENERIC[phase])} {subjective}"
        delta = pre - post
        if delta >= 3:
            response = f"Good response: {pre}/10 to {post}/10, moving more freely on standing."
        elif delta == 2:
            response = rng.choice(
                [
                    f"Tolerated well; felt lighter afterwards ({pre}→{post}).",
                    f"Relaxed quickly, less guarding by the end; pain {pre}→{post}.",
                ]
            )
        else:
            response = rng.choice([f"Little change today ({pre}→{post}).", "Tolerated the work but no real relief."])
        assert self.plan is not None
        home = self.plan.home_program[n % len(self.plan.home_program)] if self.plan.home_program else None
        modality = self.profile.modality
        use_modality = modality and rng.random() < 0.6
        region = self.plan.techniques[0]["region"].replace("_", " ") if self.plan.techniques else "area"
        return {
            "subjective": self._text(subjective),
            "pain_pre": pre,
            "sleep_quality": max(1, min(10, 4 + round(4 * self._progress(pre)) + rng.choice([-1, 0, 1]))),
            "stress": rng.randint(3, 7),
            **asked_at_visit(pre),
            "objective": self._text(rng.choice(profile.findings_seen)),
            "modalities": [modality] if use_modality else [],
            "pain_post": post,
            "response": response,
            "adverse_events": "Sore for two days after the last session, more than before."
            if phase == "worse" and n == 2
            else "",
            "home_care": f"Reviewed {_lower(home['title'])}." if home else "",
            "plan_next": rng.choice(PLAN_NEXT).format(region=region),
        }

    # After the visits --------------------------------------------------------------------

    def _aftermath(self, episode: Episode) -> None:
        story = self.story
        if story.event == Event.DVT:
            on = self.today - timedelta(days=1)
            services.pre_session_check_record(
                actor=self.actor,
                episode=episode,
                data={
                    "checked_on": on,
                    "fever": False,
                    "able_to_consent": True,
                    "new_symptoms": "Right calf swollen, warm and sore since the weekend; worse walking. No injury.",
                },
                findings=[FindingInput("dvt_suspected", "lower_leg", "right", "Calf swollen and warm: to emergency")],
            )
            note = services.note_start(actor=self.actor, episode=episode, visit_on=on)
            services.note_update(
                actor=self.actor,
                note=note,
                data={
                    "subjective": "Calf pain different from usual: swollen, warm, aching at rest since Saturday. "
                    "Long flight home last week.",
                    "pain_pre": 6,
                    "objective": "Right calf 3 cm larger than the left, warm, tender along the deep veins. "
                    "No massage given.",
                    "response": "Explained why we stop: signs of a possible blood clot. Client went to the "
                    "emergency department with a copy of today's findings.",
                    "plan_next": "Resume only with the physician's all-clear.",
                },
                techniques=[],
            )
        if story.event == Event.INFECTION:
            on = self.visits[-1] + timedelta(days=3)
            services.pre_session_check_record(
                actor=self.actor,
                episode=episode,
                data={
                    "checked_on": on,
                    "fever": True,
                    "able_to_consent": True,
                    "new_symptoms": "Forearm red, hot and more swollen since yesterday; feels feverish.",
                },
                findings=[FindingInput("local_skin_infection", "forearm", self.side, "Red, hot patch on the forearm")],
            )

    def _discharge(self, episode: Episode) -> None:
        story = self.story
        on = self.visits[-1] if self.visits else self.first_visit
        if story.event == Event.INFECTION:
            on += timedelta(days=3)
        if story.discharge == DischargeReason.LOST:
            on += timedelta(days=42)
        services.episode_discharge(
            actor=self.actor, episode=episode, reason=story.discharge, summary=self._summary(), on=min(on, self.today)
        )

    def _summary(self) -> str:
        story, first, last = self.story, self.pain[0], self.pain[-1]
        if story.summary:
            return story.summary
        if story.discharge == DischargeReason.GOALS_MET:
            return (
                f"Goals met after {story.notes} visits: pain {first}/10 at the start, {last}/10 now. Continuing the "
                "home program; will return if the pain comes back."
            )
        if story.discharge == DischargeReason.PLATEAU:
            return (
                f"No further change over the last visits (pain about {last}/10, from {first}/10). Discussed an "
                "exercise program with the physiotherapist; discharged with the home program."
            )
        if story.discharge == DischargeReason.LOST and self.visits:
            seen = self.visits[-1]
            return (
                f"No visits since {seen:%B} {seen.day} and no reply to two calls and an email: discharged as lost "
                "to follow-up."
            )
        if story.discharge == DischargeReason.REFERRED_OUT:
            return "Referred back to the family physician for review."
        return "Discharged at the client's request, with the home program."


def _side(spec: str, side: str) -> str:
    """Profiles write "S" for the side of the story (the operated knee, the swollen arm)."""
    return side if spec == "S" else spec


def _lower(name: str) -> str:
    """A name inside a sentence: "Manual lymphatic drainage (MLD)" becomes "manual lymphatic drainage (MLD)"."""
    return name[:1].lower() + name[1:]


def _re_eval_note(progress: float) -> str:
    if progress >= 0.7:
        return "Clear improvement since the initial assessment on every measure."
    if progress >= 0.3:
        return "Improving steadily; continue the plan."
    if progress >= 0:
        return "Little change since the initial assessment; plan reviewed with the client."
    return "Worse than at the initial assessment; discussed referral back to the physician."


def _fit_to_screening(items: list[dict[str, Any]], screening: Screening) -> list[dict[str, Any]]:
    """What a careful therapist does to a suggested plan: lower pressure to the cap screening sets,
    and drop techniques it rules out, so the plan raises no conflict."""
    fitted = []
    for item in items:
        planned = PlannedTechnique(item["technique"], item["region"] or None, item["side"] or None, item["pressure"])
        if not rules.plan_conflicts([planned], screening):
            fitted.append(item)
            continue
        caps = [
            a.pressure_cap
            for a in screening.actions
            if a.pressure_cap is not None and (a.region is None or a.region == item["region"])
        ]
        if caps:
            lowered = {**item, "pressure": min(caps)}
            if not rules.plan_conflicts(
                [PlannedTechnique(item["technique"], item["region"] or None, item["side"] or None, min(caps))],
                screening,
            ):
                fitted.append(lowered)
    return fitted or [{"technique": "swedish", "region": items[0]["region"], "side": items[0]["side"], "pressure": 1}]


# --- Outcome measures -------------------------------------------------------------------------


def _answers_for(measure_id: str, pain: int, baseline_pain: int, activities: int, rng: random.Random) -> list[int]:
    """Answers consistent with the client's pain that day (0–10), with a little noise."""

    def jitter(x: float, low: int, high: int) -> int:
        return max(low, min(high, round(x + rng.choice([-0.6, -0.3, 0, 0, 0.3, 0.6]))))

    p = pain / 10
    if measure_id == "nprs":
        return [pain]
    if measure_id in ("odi", "ndi"):
        return [jitter(p * 5 * 0.75, 0, 5) for _ in range(10)]
    if measure_id == "lefs":
        return [jitter(4 * (1 - p * 0.8), 0, 4) for _ in range(20)]
    if measure_id == "quickdash":
        return [jitter(1 + 4 * p * 0.8, 1, 5) for _ in range(11)]
    if measure_id == "fiqr":
        return [jitter(pain * 0.9, 0, 10) for _ in range(21)]
    if measure_id == "hit6":
        return [jitter(4 * p, 0, 4) for _ in range(6)]
    if measure_id == "pss10":
        positive = {4, 5, 7, 8}  # answered the other way round; the scorer reverses them
        return [jitter(4 - 3 * p if n in positive else 3 * p, 0, 4) for n in range(1, 11)]
    if measure_id == "psfs":
        return [jitter(10 - pain * 0.9, 0, 10) for _ in range(max(1, activities))]
    if measure_id == "sleep":
        return [jitter(10 - pain * 0.8, 0, 10)]
    if measure_id in ("stress", "tension"):
        return [jitter(pain * (0.8 if measure_id == "stress" else 1.0), 0, 10)]
    if measure_id == "medication_days":
        return [jitter(pain * 0.6, 0, 7)]
    better = (baseline_pain - pain) / max(1, baseline_pain)  # global change since the start
    if measure_id == "pgic":
        return [1 if better >= 0.6 else 2 if better >= 0.4 else 3 if better >= 0.15 else 4 if better > -0.1 else 5]
    if measure_id == "groc":
        return [max(-7, min(7, round(better * 10)))]
    return []


def record_demo_outcomes(episodes: Sequence[Episode], *, today: date, seed: int = 11) -> int:
    """Outcome measures for the demo episodes, following each one's pain course: a baseline at the
    first visit, the plan's follow-ups every four sessions, and a discharge measure unless the
    client was lost to follow-up. Responders, plateaus and clients who got worse come out as such,
    because the answers follow the pain the notes recorded. Returns how many were recorded."""
    from mend.clinical.models import NoteStatus, PsfsActivity, TreatmentNote
    from mend.outcomes import services as outcome_services

    rng = random.Random(seed)
    ids = [e.pk for e in episodes]
    notes: dict[int, list[TreatmentNote]] = {}
    for note in TreatmentNote.objects.filter(episode_id__in=ids, status=NoteStatus.SIGNED).order_by("visit_on", "pk"):
        notes.setdefault(note.episode_id, []).append(note)
    activities: dict[int, list[str]] = {}
    psfs = PsfsActivity.objects.filter(assessment__episode_id__in=ids).select_related("assessment")
    for row in psfs.order_by("assessment__assessed_on", "pk"):
        names = activities.setdefault(row.assessment.episode_id, [])
        if row.activity not in names:
            names.append(row.activity)
    plans = {p.episode_id: p for p in PlanOfCare.objects.filter(episode_id__in=ids)}
    recorded = 0
    for episode in Episode.objects.filter(pk__in=ids).select_related("therapist__user", "clinic").order_by("pk"):
        visits = [n for n in notes.get(episode.pk, []) if n.pain_pre is not None]
        plan = plans.get(episode.pk)
        if not visits or plan is None:
            continue
        # Baseline at the first visit, every fourth visit after it, and the last visit at discharge.
        points = [0, *range(4, len(visits), 4)]
        if episode.discharged_on and episode.discharge_reason != DischargeReason.LOST and len(visits) - 1 not in points:
            points.append(len(visits) - 1)
        actor = Actor(user=episode.therapist.user, membership=episode.therapist)
        names = activities.get(episode.pk, [])[: outcome_services.PSFS_MAX_ACTIVITIES]
        baseline_pain = visits[0].pain_pre or 0
        with context.acting(user_id=actor.user.pk, clinic_id=episode.clinic_id, role=actor.role):
            for i in points:
                note = visits[i]
                for item in plan.measures:
                    measure_id = item.get("measure", "")
                    if measure_id in ("pgic", "groc") and i == 0:
                        continue  # change since the start has nothing to say at the start
                    if measure_id == "psfs" and not names:
                        continue
                    answers = _answers_for(measure_id, note.pain_pre or 0, baseline_pain, len(names), rng)
                    if not answers:
                        continue
                    outcome_services.response_record(
                        actor=actor,
                        episode=episode,
                        measure_id=measure_id,
                        answers=answers,
                        item_labels=names if measure_id == "psfs" else (),
                        collected_on=min(note.visit_on, today),
                        note=note,
                    )
                    recorded += 1
    return recorded
