"""Named test personas, built once per test module (tests/conftest.py), and helpers every test shares.

Harbour (the clinic under test, in Toronto) has an owner, an admin, two therapists and front desk;
Northside (in Vancouver) is another clinic whose owner is the outsider. Alice's client Carol is on
therapist Tess's care team; Dan is on nobody's.

A date a person means (a visit's day, a referral's, "today") is the clinic's: take it from
``actor.today()``, ``personas.today`` or :func:`harbour_today`, never from ``date.today()`` or
``timezone.localdate()`` (UTC's date, a day ahead of Toronto's every evening).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from mend.accounts.models import User
from mend.clinics.models import Clinic, Location, Membership, Role, Room
from mend.people.models import CareTeamMember, Client, Licence, ReferringProvider, TherapistProfile
from mend.platform import clock
from mend.platform.actor import Actor

if TYPE_CHECKING:
    from mend.clinical.models import Episode, TreatmentNote

PASSWORD = "correct horse battery staple"
HARBOUR_TIMEZONE = "America/Toronto"
NORTHSIDE_TIMEZONE = "America/Vancouver"


def harbour_today() -> date:
    """Today in Harbour, the persona clinic (and the demo's): for a module-level form or a helper without an actor."""
    return clock.local_today(HARBOUR_TIMEZONE)


@dataclass
class Personas:
    harbour: Clinic
    northside: Clinic
    owner: User
    admin: User
    therapist: User
    therapist2: User
    front_desk: User
    outsider: User
    outsider_therapist: User
    memberships: dict[str, Membership]
    therapist_profile: TherapistProfile
    therapist2_profile: TherapistProfile
    outsider_profile: TherapistProfile
    carol: Client
    dan: Client
    stranger: Client
    location: Location
    room: Room
    referrer: ReferringProvider
    licence: Licence

    def actor(self, name: str) -> Actor:
        membership = self.memberships[name]
        return Actor(user=membership.user, membership=membership)

    @property
    def today(self) -> date:
        """Today in Harbour."""
        return clock.local_today(self.harbour.timezone)


class CopiedOnUse(Personas):
    """Personas whose every attribute is a deep copy of a shared set's, made when a test first reads it.

    The shared set is built once per module; each test gets its own Python objects, so a field a
    test sets (``carol.consent_email = True``) never reaches the next test, while the rows are
    rolled back with the test's transaction. Django's ``setUpTestData`` does the same (``TestData``);
    copying on use keeps a test that reads two personas from paying for all twenty. One memo per
    test keeps shared objects shared: ``memberships["owner"].clinic is harbour``.
    """

    def __init__(self, shared: Personas) -> None:  # no dataclass fields: each is copied on first read
        self._shared = shared
        self._memo: dict[int, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = copy.deepcopy(getattr(self._shared, name), self._memo)
        setattr(self, name, value)
        return value


def _user(email: str, name: str) -> User:
    return User.objects.create_user(email=email, password=PASSWORD, full_name=name)


def build_personas() -> Personas:
    harbour = Clinic.objects.create(name="Harbour Test Clinic", slug="harbour", timezone=HARBOUR_TIMEZONE)
    northside = Clinic.objects.create(name="Northside Test Clinic", slug="northside", timezone=NORTHSIDE_TIMEZONE)
    users = {
        "owner": _user("owner@test.example", "Olivia Owner"),
        "admin": _user("admin@test.example", "Adam Admin"),
        "therapist": _user("tess@test.example", "Tess Therapist"),
        "therapist2": _user("theo@test.example", "Theo Therapist"),
        "front_desk": _user("frank@test.example", "Frank Desk"),
        "outsider": _user("oscar@test.example", "Oscar Outsider"),
        "outsider_therapist": _user("otto@test.example", "Otto Outsider"),
    }
    roles = {
        "owner": (harbour, Role.OWNER),
        "admin": (harbour, Role.ADMIN),
        "therapist": (harbour, Role.THERAPIST),
        "therapist2": (harbour, Role.THERAPIST),
        "front_desk": (harbour, Role.FRONT_DESK),
        "outsider": (northside, Role.OWNER),
        "outsider_therapist": (northside, Role.THERAPIST),
    }
    memberships = {
        name: Membership.objects.create(clinic=clinic, user=users[name], role=role)
        for name, (clinic, role) in roles.items()
    }
    profiles = {
        name: TherapistProfile.objects.create(
            membership=memberships[name], clinic=memberships[name].clinic, display_name=users[name].full_name
        )
        for name in ("therapist", "therapist2", "outsider_therapist")
    }
    carol = Client.objects.create(
        clinic=harbour,
        legal_given_name="Caroline",
        chosen_name="Carol",
        legal_family_name="Client",
        date_of_birth=date(1980, 4, 23),
        phone="(416) 555-0101",
        phone_digits="4165550101",
        email="carol@example.net",
    )
    dan = Client.objects.create(
        clinic=harbour, legal_given_name="Dan", legal_family_name="Unassigned", date_of_birth=date(1975, 1, 2)
    )
    stranger = Client.objects.create(
        clinic=northside, legal_given_name="Sam", legal_family_name="Stranger", date_of_birth=date(1990, 6, 1)
    )
    CareTeamMember.objects.create(clinic=harbour, client=carol, therapist=memberships["therapist"], is_primary=True)
    CareTeamMember.objects.create(
        clinic=northside, client=stranger, therapist=memberships["outsider_therapist"], is_primary=True
    )
    location = Location.objects.create(clinic=harbour, name="Harbourfront", city="Toronto")
    room = Room.objects.create(clinic=harbour, location=location, name="Room 1")
    referrer = ReferringProvider.objects.create(clinic=harbour, name="Dr. Rita Referrer", profession="Family physician")
    licence = Licence.objects.create(
        profile=profiles["therapist"],
        clinic=harbour,
        licence_type="RMT",
        number="R-1234",
        issuing_body="CMTO",
        jurisdiction="Ontario",
        expires_on=date(2030, 1, 31),
    )
    return Personas(
        harbour=harbour,
        northside=northside,
        owner=users["owner"],
        admin=users["admin"],
        therapist=users["therapist"],
        therapist2=users["therapist2"],
        front_desk=users["front_desk"],
        outsider=users["outsider"],
        outsider_therapist=users["outsider_therapist"],
        memberships=memberships,
        therapist_profile=profiles["therapist"],
        therapist2_profile=profiles["therapist2"],
        outsider_profile=profiles["outsider_therapist"],
        carol=carol,
        dan=dan,
        stranger=stranger,
        location=location,
        room=room,
        referrer=referrer,
        licence=licence,
    )


def signed_note(
    actor: Actor, episode: Episode, *, on: date | None = None, pain: tuple[int, int] = (6, 4)
) -> TreatmentNote:
    """30 minutes' light myofascial release to the lower back, signed by ``actor`` on ``on`` (the clinic's today)."""
    from mend.clinical import services as clinical

    note = clinical.note_start(actor=actor, episode=episode, visit_on=on or actor.today())
    clinical.note_update(
        actor=actor,
        note=note,
        data={"subjective": "Stiff in the mornings.", "pain_pre": pain[0], "pain_post": pain[1]},
        techniques=[clinical.TechniqueInput("myofascial_release", "lower_back", 30, 2)],
    )
    return clinical.note_sign(actor=actor, note=note)


def intake_answers(*yes: str) -> dict[str, bool]:
    """A health history's answers as a client gives them: yes to the rule ids in ``yes``, no to
    every other question of the catalogue (the service refuses an intake with any left out)."""
    from mend.clinical.screening import catalogue

    unknown = set(yes) - set(catalogue().rules)
    assert not unknown, f"not catalogue questions: {sorted(unknown)}"
    return {rule_id: rule_id in yes for rule_id in catalogue().rules}


@dataclass
class Schedule:
    """Harbour's calendar for scheduling tests: both therapists work every day 09:00–17:00."""

    treatment: Any  # scheduling.AppointmentType: 60 min, 15 min buffer after, needs a table
    initial: Any  # 30 min, no buffer
    room2: Room


def build_schedule(p: Personas) -> Schedule:
    """Working hours, a second room and two appointment types in Harbour (the personas' clinic)."""
    from datetime import time

    from mend.scheduling.models import AppointmentType, WorkingHours

    room2 = Room.objects.create(clinic=p.harbour, location=p.location, name="Room 2")
    for name in ("therapist", "therapist2"):
        for weekday in range(7):
            WorkingHours.objects.create(
                clinic=p.harbour,
                therapist=p.memberships[name],
                location=p.location,
                weekday=weekday,
                start=time(9),
                end=time(17),
            )
    treatment = AppointmentType.objects.create(
        clinic=p.harbour, name="Treatment 60", duration_minutes=60, buffer_after_minutes=15, room_capability="table"
    )
    initial = AppointmentType.objects.create(
        clinic=p.harbour, name="Initial consultation", kind="initial", duration_minutes=30
    )
    therapists = [p.memberships["therapist"], p.memberships["therapist2"]]
    treatment.therapists.set(therapists)
    initial.therapists.set(therapists)
    return Schedule(treatment=treatment, initial=initial, room2=room2)
