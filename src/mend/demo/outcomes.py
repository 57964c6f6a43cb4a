"""Synthetic episodes with outcome scores in bulk, for the evidence report's benchmark.

The demo's episodes are told one by one through the clinical services (a few hundred take
minutes); the benchmark needs thousands, and only the rows the evidence report reads: the
episode, its referral's diagnosis, signed notes with a technique, and NPRS plus one condition
measure per episode. They are written with ``bulk_create`` straight to the tables, which is
fine for made-up benchmark data and nowhere else.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from mend.audit.services import Entry, audit_record_many
from mend.clinical.models import DischargeReason, Episode, NoteStatus, NoteTechnique, Referral, TreatmentNote
from mend.clinical.queries.notes import note_content
from mend.clinical.seal import NOTE_TYPE, seal
from mend.clinics.models import Clinic, Membership
from mend.outcomes.models import MeasureResponse
from mend.outcomes.scoring import SCORING_VERSION, measures

# (knowledge condition, ICD-10 code, measure besides NPRS, technique)
_PROFILES = (
    ("low_back_pain", "M54.50", "odi", "myofascial_release"),
    ("neck_pain", "M54.2", "ndi", "trigger_point"),
    ("myalgia", "M79.18", "psfs", "deep_tissue"),
    ("fibromyalgia", "M79.7", "fiqr", "swedish"),
)
_REASONS = (DischargeReason.GOALS_MET, DischargeReason.PLATEAU, DischargeReason.LOST, DischargeReason.CLIENT_CHOICE)


def seed_outcome_episodes(
    clinic: Clinic, therapists: Sequence[Membership], client_ids: Sequence[int], *, today: date, seed: int
) -> int:
    """One synthetic episode per client id: responders, slow responders, plateaus, a few worse, drop-outs."""
    rng = random.Random(seed)
    registry = measures()
    now = timezone.now()
    with transaction.atomic():
        episodes = []
        plans = []
        for n, client_id in enumerate(client_ids):
            condition, code, measure_id, technique = _PROFILES[n % len(_PROFILES)]
            started = today - timedelta(days=rng.randint(30, 720))
            sessions = rng.randint(1, 10)
            discharged = rng.random() < 0.7
            reason = rng.choice(_REASONS) if discharged else ""
            episodes.append(
                Episode(
                    clinic=clinic,
                    client_id=client_id,
                    therapist=therapists[n % len(therapists)],
                    title=f"Synthetic {condition.replace('_', ' ')}",
                    condition=condition,
                    started_on=started,
                    discharged_on=started + timedelta(days=7 * sessions) if discharged else None,
                    discharge_reason=reason,
                )
            )
            plans.append((code, measure_id, technique, sessions, reason, rng.choice((1.0, 0.7, 0.3, 0.0, -0.3))))
        Episode.objects.bulk_create(episodes, batch_size=1000)
        referrals, notes, responses = [], [], []
        note_technique: list[str] = []
        for episode, (code, measure_id, technique, sessions, reason, course) in zip(episodes, plans, strict=True):
            referrals.append(
                Referral(
                    clinic=clinic,
                    client_id=episode.client_id,
                    episode=episode,
                    referred_on=episode.started_on,
                    received_on=episode.started_on,
                    diagnoses=[{"code": code, "description": ""}],
                )
            )
            for s in range(sessions):
                notes.append(
                    TreatmentNote(
                        clinic=clinic,
                        client_id=episode.client_id,
                        episode=episode,
                        therapist=episode.therapist,
                        visit_on=episode.started_on + timedelta(days=7 * s),
                    )
                )
                note_technique.append(technique)
            # Baseline at session 1, then every 3 sessions; a drop-out leaves before a follow-up.
            measured = (
                [1]
                if reason in (DischargeReason.LOST, DischargeReason.CLIENT_CHOICE)
                else [1, *range(4, sessions + 1, 3)]
            )
            for measure in ("nprs", measure_id):
                m = registry[measure]
                span = m.score_max - m.score_min
                start = (
                    m.score_min + span * rng.uniform(0.45, 0.85)
                    if not m.higher_is_better
                    else m.score_min + span * rng.uniform(0.15, 0.5)
                )
                for i, session in enumerate(measured):
                    gain = course * span * 0.12 * i + rng.gauss(0, span * 0.04)
                    value = start + gain if m.higher_is_better else start - gain
                    value = min(m.score_max, max(m.score_min, round(value, 1)))
                    responses.append(
                        MeasureResponse(
                            clinic=clinic,
                            client_id=episode.client_id,
                            episode=episode,
                            measure_id=measure,
                            answers=[],
                            value=value,
                            scoring_version=SCORING_VERSION,
                            collected_on=episode.started_on + timedelta(days=7 * (session - 1)),
                            collected_at=now,
                            session_number=session,
                            recorded_by=episode.therapist,
                        )
                    )
        Referral.objects.bulk_create(referrals, batch_size=1000)
        TreatmentNote.objects.bulk_create(notes, batch_size=1000)
        created = NoteTechnique.objects.bulk_create(
            [
                NoteTechnique(clinic=clinic, note=note, technique=name, region="lower_back", minutes=30, pressure=3)
                for note, name in zip(notes, note_technique, strict=True)
            ],
            batch_size=1000,
        )
        # Techniques first, then the signature, sealed as note_sign seals (the database refuses
        # changes to a signed note), with each seal in the clinic's audit chain.
        techniques = {note.pk: [t] for note, t in zip(notes, created, strict=True)}
        for note in notes:
            note.status, note.signed_at = NoteStatus.SIGNED, now
            note.content_hash = seal(note_content(note, techniques[note.pk]))
        TreatmentNote.objects.bulk_update(notes, ["status", "signed_at", "content_hash"], batch_size=1000)
        audit_record_many(
            clinic_id=clinic.pk,
            entries=[Entry("update", NOTE_TYPE, n.pk, client_id=n.client_id, digest=n.content_hash) for n in notes],
            role="therapist",
        )
        MeasureResponse.objects.bulk_create(responses, batch_size=1000)
    return len(episodes)
