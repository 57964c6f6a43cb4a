"""Named test personas, built the same way in every test module.

Harbour (the clinic under test) has an owner, an admin, two therapists and front desk; Northside
is another clinic whose owner is the outsider. Alice's client Carol is on therapist Tess's care
team; Dan is on nobody's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mend.accounts.models import User
from mend.clinics.models import Clinic, Location, Membership, Role, Room
from mend.people.models import CareTeamMember, Client, Licence, ReferringProvider, TherapistProfile
from mend.platform.actor import Actor

PASSWORD = "correct horse battery staple"


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


def _user(email: str, name: str) -> User:
    return User.objects.create_user(email=email, password=PASSWORD, full_name=name)


def build_personas() -> Personas:
    harbour = Clinic.objects.create(name="Harbour Test Clinic", slug="harbour", timezone="America/Toronto")
    northside = Clinic.objects.create(name="Northside Test Clinic", slug="northside", timezone="America/Vancouver")
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
