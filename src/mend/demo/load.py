"""Load the demo clinics and benchmark-scale synthetic clinics.

Clinics, locations, rooms and memberships go through the services (and so the audit trail);
the hundreds or thousands of synthetic clients are bulk-inserted, because loading fiction is not
a person reading or writing a client's record. Episodes of care are the exception: they are written
through the clinical services (:mod:`mend.demo.episodes`), so they obey every rule a therapist's do.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from mend.accounts.models import User
from mend.clinics.models import Clinic, Location, Membership, Role, Room
from mend.clinics.services import clinic_create, membership_add
from mend.demo.billing import load_billing
from mend.demo.episodes import load_demo_episodes, load_stories, seed_stories
from mend.demo.generate import TORONTO, VANCOUVER, Place, client_rows, referrer_rows
from mend.demo.history import load_history
from mend.demo.outcomes import seed_outcome_episodes
from mend.demo.schedule import NORTHSIDE_HOURS, load_schedule
from mend.people.models import CareTeamMember, Certification, Client, Licence, ReferringProvider, TherapistProfile
from mend.platform import clock

# The demo's dates count back from today in Harbour, its main clinic (and the seed clinics' zone).
DEMO_TIMEZONE = "America/Toronto"
DEMO_PASSWORD = "mend-demo"
SEED_PASSWORD = "mend-bench"


@dataclass(frozen=True)
class TherapistSpec:
    email: str
    name: str
    title: str
    specialties: list[str]
    techniques: list[str]
    languages: list[str]
    bio: str
    licence_days_left: int
    accepting: bool = True
    certifications: list[tuple[str, str]] = field(default_factory=list)


INCLUSIVE = (
    "Everyone is welcome here: every body, gender, sexuality, culture and ability. Tell me your name and "
    "pronouns, and what you want me to know about touch, draping and positioning; you can pause or stop "
    "a treatment at any time."
)

HARBOUR_THERAPISTS = [
    TherapistSpec(
        "therapist1@example.org",
        "Priya Natarajan",
        "RMT",
        ["low_back_pain", "post_surgical", "sports_injury"],
        ["deep_tissue", "myofascial_release", "trigger_point", "stretching"],
        ["English", "Tamil"],
        "Twelve years in clinical practice, most of them beside orthopaedic surgeons. I help people get "
        "back to work and sport after back injuries and joint replacements.",
        licence_days_left=30,
    ),
    TherapistSpec(
        "therapist2@example.org",
        "Daniel Kowalski",
        "RMT",
        ["neck_pain", "tension_headache", "repetitive_strain"],
        ["neuromuscular", "trigger_point", "positional_release"],
        ["English", "Polish"],
        "Desk workers, musicians and tradespeople with neck pain, headaches and overuse injuries of the arm.",
        licence_days_left=410,
    ),
    TherapistSpec(
        "therapist3@example.org",
        "Amélie Tremblay",
        "RMT",
        ["fibromyalgia", "stress_sleep", "myalgia"],
        ["swedish", "myofascial_release", "hot_cold"],
        ["English", "French"],
        "Gentle, paced treatment for widespread pain and poor sleep, with a home routine you can keep up.",
        licence_days_left=220,
    ),
    TherapistSpec(
        "therapist4@example.org",
        "Grace Lin",
        "RMT, CLT",
        ["lymphedema", "post_surgical"],
        ["lymphatic_drainage", "swedish"],
        ["English", "Mandarin"],
        "Manual lymphatic drainage and scar care after cancer surgery, in step with your oncology team.",
        licence_days_left=300,
        certifications=[("Complete decongestive therapy (135 h)", "Lymphedema therapy school")],
    ),
    TherapistSpec(
        "therapist5@example.org",
        "Marcus Bell",
        "RMT",
        ["sports_injury", "low_back_pain", "postural_imbalance"],
        ["deep_tissue", "stretching", "connective_tissue"],
        ["English"],
        "Former varsity athletic therapist; sprains, strains and return-to-play plans.",
        licence_days_left=-12,
    ),
    TherapistSpec(
        "therapist6@example.org",
        "Sofia Alvarez",
        "RMT",
        ["migraine", "tension_headache", "neck_pain", "thoracic_pain"],
        ["swedish", "trigger_point", "myofascial_release", "positional_release"],
        ["English", "Spanish"],
        "Headache and jaw pain, upper back pain from long hours at a screen.",
        licence_days_left=95,
        accepting=False,
    ),
]

NORTHSIDE_THERAPIST = TherapistSpec(
    "therapist7@example.org",
    "Noor Haddad",
    "RMT",
    ["sports_injury", "post_surgical", "low_back_pain"],
    ["deep_tissue", "stretching", "myofascial_release"],
    ["English", "Arabic"],
    "Rehabilitation massage after sports injuries and surgery, alongside your physiotherapist.",
    licence_days_left=180,
)


@dataclass
class LoadResult:
    created: bool
    clinics: list[Clinic] = field(default_factory=list)
    clients: int = 0


def _user(email: str, name: str, password_hash: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=name)
        user.password = password_hash
        user.save(update_fields=["password"])
    return user


def _locations(clinic: Clinic, specs: list[tuple[dict[str, str], list[str]]]) -> list[Room]:
    rooms = []
    for location_fields, room_names in specs:
        location = Location.objects.create(clinic=clinic, **location_fields)
        rooms += [Room.objects.create(clinic=clinic, location=location, name=name) for name in room_names]
    return rooms


def _therapist(
    clinic: Clinic, spec: TherapistSpec, password_hash: str, today: date, *, body: str, jurisdiction: str
) -> Membership:
    user = _user(spec.email, spec.name, password_hash)
    membership = membership_add(clinic=clinic, user=user, role=Role.THERAPIST)
    profile = TherapistProfile.objects.create(
        membership=membership,
        clinic=clinic,
        display_name=spec.name,
        professional_title=spec.title,
        bio=spec.bio,
        specialties=spec.specialties,
        techniques=spec.techniques,
        languages=spec.languages,
        accepting_new_clients=spec.accepting,
        inclusive_practice_statement=INCLUSIVE,
    )
    number = sum(ord(ch) for ch in spec.email + clinic.slug) * 37 % 90000 + 10000
    # Each therapist sees clients at one of the clinic's locations, the same one every load.
    locations = list(Location.objects.filter(clinic=clinic).order_by("name"))
    if locations:
        profile.locations.set([locations[number % len(locations)]])
    Licence.objects.create(
        profile=profile,
        clinic=clinic,
        licence_type="RMT",
        number=f"{number}",
        issuing_body=body,
        jurisdiction=jurisdiction,
        expires_on=today + timedelta(days=spec.licence_days_left),
    )
    for name, issuer in spec.certifications:
        Certification.objects.create(
            profile=profile, clinic=clinic, name=name, issuer=issuer, obtained_on=today - timedelta(days=3 * 365)
        )
    return membership


def _batched(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _clients(
    clinic: Clinic,
    rows: list[dict[str, Any]],
    therapists: list[Membership],
    weights: list[int],
    *,
    seed: int,
    unassigned: float = 0.04,
    shared: float = 0.1,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Insert clients with care teams: most have a primary therapist, some are shared with a second."""
    rng = random.Random(seed)
    total = 0
    for batch in _batched(rows, 1000):
        # SQLite and PostgreSQL both return the new ids from a bulk insert.
        created = Client.objects.bulk_create([Client(clinic=clinic, **row) for row in batch])
        team = []
        for client in created:
            if rng.random() < unassigned:
                continue
            primary = rng.choices(therapists, weights=weights)[0]
            team.append(CareTeamMember(clinic=clinic, client=client, therapist=primary, is_primary=True))
            if len(therapists) > 1 and rng.random() < shared:
                other = rng.choice([t for t in therapists if t.pk != primary.pk])
                team.append(CareTeamMember(clinic=clinic, client=client, therapist=other, is_primary=False))
        CareTeamMember.objects.bulk_create(team)
        total += len(created)
        if progress:
            progress(len(created))
    return total


def _referrers(clinic: Clinic, *, seed: int, count: int, place: Place) -> None:
    ReferringProvider.objects.bulk_create(
        [ReferringProvider(clinic=clinic, **row) for row in referrer_rows(seed=seed, count=count, place=place)]
    )


DEMO_ACCOUNTS = [
    ("owner@example.org", "owner", "Harbour Medical Massage"),
    ("frontdesk@example.org", "front desk", "Harbour Medical Massage"),
    *[(spec.email, "therapist", "Harbour Medical Massage") for spec in HARBOUR_THERAPISTS],
    ("therapist1@example.org", "therapist", "Northside Rehab Massage"),
    ("owner2@example.org", "owner", "Northside Rehab Massage"),
    ("therapist7@example.org", "therapist", "Northside Rehab Massage"),
]


@transaction.atomic
def load_demo(*, today: date) -> LoadResult:
    """Load Harbour Medical Massage and Northside Rehab Massage, unless they are already there."""
    if Clinic.objects.filter(slug__in=["harbour", "northside"]).exists():
        return LoadResult(created=False, clinics=list(Clinic.objects.filter(slug__in=["harbour", "northside"])))
    password_hash = make_password(DEMO_PASSWORD)

    harbour = clinic_create(
        name="Harbour Medical Massage", slug="harbour", timezone=DEMO_TIMEZONE, country="CA", currency="CAD"
    )
    _locations(
        harbour,
        [
            (
                {
                    "name": "Harbourfront",
                    "street": "235 Queens Quay West, Suite 210",
                    "city": "Toronto",
                    "region": "ON",
                    "postal_code": "M5J 2G8",
                    "phone": "(416) 555-0140",
                },
                ["Room 1", "Room 2", "Room 3"],
            ),
            (
                {
                    "name": "Leslieville",
                    "street": "1120 Queen Street East",
                    "city": "Toronto",
                    "region": "ON",
                    "postal_code": "M4M 1K8",
                    "phone": "(416) 555-0141",
                },
                ["Room A", "Room B"],
            ),
        ],
    )
    membership_add(clinic=harbour, user=_user("owner@example.org", "Maya Okafor", password_hash), role=Role.OWNER)
    membership_add(
        clinic=harbour, user=_user("frontdesk@example.org", "Jordan Reyes", password_hash), role=Role.FRONT_DESK
    )
    harbour_therapists = [
        _therapist(
            harbour, spec, password_hash, today, body="College of Massage Therapists of Ontario", jurisdiction="Ontario"
        )
        for spec in HARBOUR_THERAPISTS
    ]
    _referrers(harbour, seed=2, count=20, place=TORONTO)
    clients = _clients(
        harbour,
        client_rows(seed=1, count=250, place=TORONTO, today=today),
        harbour_therapists,
        [22, 20, 18, 12, 14, 10],
        seed=3,
    )

    northside = clinic_create(
        name="Northside Rehab Massage", slug="northside", timezone="America/Vancouver", country="CA", currency="CAD"
    )
    _locations(
        northside,
        [
            (
                {
                    "name": "Commercial Drive",
                    "street": "1650 Commercial Drive",
                    "city": "Vancouver",
                    "region": "BC",
                    "postal_code": "V5L 3Y1",
                    "phone": "(604) 555-0150",
                },
                ["Treatment 1", "Treatment 2"],
            )
        ],
    )
    membership_add(clinic=northside, user=_user("owner2@example.org", "Ethan Park", password_hash), role=Role.OWNER)
    regulator = "College of Complementary Health Professionals of BC"
    northside_therapists = [
        _therapist(
            northside, NORTHSIDE_THERAPIST, password_hash, today, body=regulator, jurisdiction="British Columbia"
        ),
        _therapist(
            northside,
            TherapistSpec(**{**HARBOUR_THERAPISTS[0].__dict__, "licence_days_left": 250}),
            password_hash,
            today,
            body=regulator,
            jurisdiction="British Columbia",
        ),
    ]
    _referrers(northside, seed=5, count=6, place=VANCOUVER)
    clients += _clients(
        northside,
        client_rows(seed=4, count=20, place=VANCOUVER, today=today),
        northside_therapists,
        [4, 1],
        seed=6,
        unassigned=0.0,
    )
    load_demo_episodes(
        harbour=harbour,
        harbour_therapists=harbour_therapists,
        northside=northside,
        northside_therapists=northside_therapists,
        today=today,
    )
    # Two years of finished episodes, so the evidence report has something to say.
    load_history(harbour, count=HARBOUR_PAST_EPISODES, today=today, seed=21)
    load_history(northside, count=NORTHSIDE_PAST_EPISODES, today=today, seed=22)
    # A calendar that agrees with the charts: past visits on their notes' days, a full today, weeks ahead.
    load_schedule(harbour, harbour_therapists, today=today, seed=31)
    # Northside's today is Vancouver's, a day behind Toronto's in the evening.
    behind = clock.local_today(northside.timezone) - clock.local_today(DEMO_TIMEZONE)
    load_schedule(northside, northside_therapists, today=today + behind, seed=32, hours=NORTHSIDE_HOURS)
    # Two years of books that agree with the calendar: its past visits invoiced, today's at checkout.
    load_billing(harbour, today=today, seed=41)
    load_billing(northside, today=today + behind, seed=42)
    return LoadResult(created=True, clinics=[harbour, northside], clients=clients)


HARBOUR_PAST_EPISODES = 180
NORTHSIDE_PAST_EPISODES = 12
SEED_WEIGHTS = [22, 20, 18, 12, 14, 10]
SEED_LONG_NOTES = 40
SEED_SHORT_EPISODES = 200


def seed_clinic(
    index: int,
    *,
    clients: int,
    today: date,
    progress: Callable[[int], object] | None = None,
    clinical: bool = True,
) -> LoadResult:
    """One synthetic clinic ``seed-<index>`` with ``clients`` clients, for benchmarks.

    With ``clinical``, each therapist also gets one long episode (40 signed notes: the chart the
    benchmark opens) and the clinic a couple of hundred shorter ones at every stage, all written
    through the clinical services like the demo's.
    """
    slug = f"seed-{index}"
    existing = Clinic.objects.filter(slug=slug).first()
    if existing is not None:
        return LoadResult(created=False, clinics=[existing])
    password_hash = make_password(SEED_PASSWORD)
    domain = f"seed-{index}.example.org"
    with transaction.atomic():
        clinic = clinic_create(
            name=f"Seed Clinic {index}", slug=slug, timezone=DEMO_TIMEZONE, country="CA", currency="CAD"
        )
        _locations(
            clinic,
            [
                ({"name": "North", "city": "Toronto", "region": "ON"}, ["N1", "N2"]),
                ({"name": "South", "city": "Toronto", "region": "ON"}, ["S1", "S2"]),
            ],
        )
        membership_add(clinic=clinic, user=_user(f"owner@{domain}", f"Owner {index}", password_hash), role=Role.OWNER)
        membership_add(
            clinic=clinic, user=_user(f"frontdesk@{domain}", f"Front Desk {index}", password_hash), role=Role.FRONT_DESK
        )
        therapists = [
            _therapist(
                clinic,
                TherapistSpec(**{**spec.__dict__, "email": f"therapist{n}@{domain}"}),
                password_hash,
                today,
                body="College of Massage Therapists of Ontario",
                jurisdiction="Ontario",
            )
            for n, spec in enumerate(HARBOUR_THERAPISTS, start=1)
        ]
        _referrers(clinic, seed=1000 + index, count=20, place=TORONTO)
    count = 0
    for start in range(0, clients, 1000):
        size = min(1000, clients - start)
        rows = client_rows(seed=10_000 * index + start, count=size, place=TORONTO, today=today, email_domain=domain)
        with transaction.atomic():
            count += _clients(clinic, rows, therapists, SEED_WEIGHTS, seed=start + index, progress=progress)
    if clinical:
        # A small seed (tests, `mend bench --quick`) needs only the chart the benchmark opens: therapist 1's.
        long = len(therapists) if clients >= 1000 else 1
        short = min(SEED_SHORT_EPISODES, clients // 10)
        stories = seed_stories(therapists, long=long, long_notes=SEED_LONG_NOTES, short=short, seed=index)
        with transaction.atomic():
            load_stories(clinic=clinic, therapists=therapists, stories=stories, today=today, seed=100 + index)
        # The evidence report's benchmark: one synthetic episode with scores per client (5,000 at full size).
        client_ids = list(Client.objects.filter(clinic=clinic).order_by("pk").values_list("pk", flat=True))
        seed_outcome_episodes(clinic, therapists, client_ids, today=today, seed=200 + index)
        # A calendar around those charts, so `mend bench` opens a Today and a week with appointments.
        load_schedule(clinic, therapists, today=today, seed=300 + index)
    return LoadResult(created=True, clinics=[clinic], clients=count)
