"""Believable synthetic people for the demo clinics and for benchmark data.

Everything here is drawn from a seeded random generator, so the same seed gives the same
people on every machine (dates are relative to the day of loading, so licences are always
"expiring soon" in the demo). Phone numbers use the 555-01xx block reserved for fiction and
email addresses use the reserved example domains.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from faker import Faker

from mend.core.search import phone_digits

LANGUAGES = [
    ("English", 80),
    ("French", 8),
    ("Spanish", 3),
    ("Portuguese", 2),
    ("Mandarin", 3),
    ("Punjabi", 2),
    ("Tagalog", 2),
]
PRONOUNS = {
    "female": [("", 72), ("she/her", 25), ("they/them", 3)],
    "male": [("", 75), ("he/him", 22), ("they/them", 3)],
    "intersex": [("", 40), ("they/them", 30), ("she/her", 15), ("he/him", 15)],
    "unknown": [("", 70), ("they/them", 30)],
}
NICKNAMES = {
    "Alexander": "Alex",
    "Andrew": "Drew",
    "Anthony": "Tony",
    "Benjamin": "Ben",
    "Christine": "Chris",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Elizabeth": "Liz",
    "James": "Jim",
    "Jennifer": "Jen",
    "Jessica": "Jess",
    "Jonathan": "Jon",
    "Joseph": "Joe",
    "Katherine": "Kate",
    "Kimberly": "Kim",
    "Margaret": "Maggie",
    "Matthew": "Matt",
    "Michael": "Mike",
    "Nicholas": "Nick",
    "Patricia": "Pat",
    "Rebecca": "Becca",
    "Richard": "Rick",
    "Robert": "Rob",
    "Samantha": "Sam",
    "Stephanie": "Steph",
    "Thomas": "Tom",
    "Timothy": "Tim",
    "Victoria": "Tori",
    "William": "Will",
    "Zachary": "Zach",
}
RELATIONSHIPS = ["Spouse", "Partner", "Mother", "Father", "Sister", "Brother", "Daughter", "Son", "Friend"]


@dataclass(frozen=True)
class Place:
    """Where a clinic is: the generator makes addresses and phone numbers that fit it."""

    city: str
    region: str
    country: str
    area_codes: tuple[str, ...]
    postal_prefixes: tuple[str, ...]
    faker_locale: str
    physician_college: str


TORONTO = Place(
    "Toronto", "ON", "CA", ("416", "647", "437"), ("M5V", "M4C", "M6G", "M4L", "M5R", "M6K"), "en_CA", "CPSO"
)
VANCOUVER = Place("Vancouver", "BC", "CA", ("604", "778"), ("V5K", "V6B", "V5N", "V6K", "V5L"), "en_CA", "CPSBC")


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def fictional_phone(rng: random.Random, place: Place) -> str:
    return f"({rng.choice(place.area_codes)}) 555-01{rng.randint(0, 99):02d}"


def postal_code(rng: random.Random, place: Place) -> str:
    if place.country == "CA":
        letters = "ABCEGHJKLMNPRSTVWXYZ"
        return f"{rng.choice(place.postal_prefixes)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.randint(1, 9)}"
    return f"{rng.randint(10000, 99999)}"


def birth_date(rng: random.Random, today: date) -> date:
    # Clients of a medical massage practice skew to working age and older adults.
    age = max(18, min(88, round(rng.triangular(19, 86, 47))))
    return today - timedelta(days=age * 365 + rng.randint(0, 364))


def client_rows(
    *, seed: int, count: int, place: Place, today: date, email_domain: str = "example.net"
) -> list[dict[str, Any]]:
    """``count`` clients as field dictionaries for :class:`mend.people.models.Client`."""
    rng = random.Random(seed)
    fake = Faker(place.faker_locale)
    fake.seed_instance(seed)
    rows = []
    for n in range(count):
        sex = rng.choices(["female", "male", "intersex", "unknown"], weights=[58, 39, 1, 2])[0]
        given = (
            fake.first_name_female()
            if sex == "female"
            else fake.first_name_male()
            if sex == "male"
            else fake.first_name()
        )
        family = fake.last_name()
        pronouns = _weighted(rng, PRONOUNS[sex])
        chosen = ""
        if pronouns == "they/them" and rng.random() < 0.5:
            chosen = fake.first_name_nonbinary()
        elif given in NICKNAMES and rng.random() < 0.4:
            chosen = NICKNAMES[given]
        gender_identity = ""
        if pronouns == "they/them":
            gender_identity = "Non-binary"
        elif sex == "intersex" or rng.random() < 0.01:
            gender_identity = rng.choice(["Woman", "Man", "Two-Spirit"])
        phone = fictional_phone(rng, place)
        has_email = rng.random() < 0.9
        email = f"{ascii_slug(chosen or given)}.{ascii_slug(family)}{n % 97}@{email_domain}" if has_email else ""
        language = _weighted(rng, LANGUAGES)
        emergency_family = family if rng.random() < 0.6 else fake.last_name()
        rows.append(
            {
                "legal_given_name": given,
                "legal_family_name": family,
                "chosen_name": chosen,
                "pronouns": pronouns,
                "date_of_birth": birth_date(rng, today),
                "sex": sex,
                "gender_identity": gender_identity,
                "phone": phone,
                "phone_digits": phone_digits(phone),
                "email": email,
                "street": fake.street_address(),
                "city": place.city,
                "region": place.region,
                "postal_code": postal_code(rng, place),
                "country": place.country,
                "emergency_contact_name": f"{fake.first_name()} {emergency_family}",
                "emergency_contact_relationship": rng.choice(RELATIONSHIPS),
                "emergency_contact_phone": fictional_phone(rng, place),
                "preferred_language": language,
                "consent_email": has_email and rng.random() < 0.85,
                "consent_sms": rng.random() < 0.6,
                "notes": rng.choice(
                    [
                        "",
                        "",
                        "",
                        "Prefers morning appointments.",
                        "Uses a cane; book a ground-floor room.",
                        "Direct billing to extended health plan.",
                        "Call before 6 pm only.",
                        "Referred by a friend.",
                    ]
                ),
            }
        )
    return rows


REFERRER_PROFESSIONS = [
    ("Family physician", 8),
    ("Sports medicine physician", 3),
    ("Orthopaedic surgeon", 3),
    ("Physiatrist", 2),
    ("Rheumatologist", 1),
    ("Oncologist", 1),
    ("Neurologist", 1),
    ("Nurse practitioner", 1),
]
ORGANISATIONS = [
    "Harbourfront Family Health Team",
    "Queen West Medical Centre",
    "Danforth Sports Medicine",
    "St. Lawrence Orthopaedics",
    "Bathurst Community Health Centre",
    "Lakeshore Rehabilitation Hospital",
    "University Avenue Cancer Clinic",
]


def referrer_rows(*, seed: int, count: int, place: Place) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    fake = Faker(place.faker_locale)
    fake.seed_instance(seed)
    rows = []
    for _ in range(count):
        profession = _weighted(rng, REFERRER_PROFESSIONS)
        name = f"{fake.first_name()} {fake.last_name()}"
        title = "" if profession == "Nurse practitioner" else "Dr. "
        slug = ascii_slug(name.split()[-1])
        rows.append(
            {
                "name": f"{title}{name}",
                "profession": profession,
                "identifier_system": "other",
                "identifier": f"{place.physician_college} {rng.randint(50000, 129999)}",
                "organisation": rng.choice(ORGANISATIONS),
                "phone": fictional_phone(rng, place),
                "fax": fictional_phone(rng, place),
                "email": f"{slug}@clinic.example.com" if rng.random() < 0.7 else "",
            }
        )
    return rows
