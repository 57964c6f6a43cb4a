from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from mend import knowledge
from mend.clinics.models import Clinic, Location, Membership
from mend.core.identifiers import is_valid_npi
from mend.platform import clock


class Sex(models.TextChoices):
    """Sex recorded at birth, as clinical forms and FHIR's administrative gender ask for it."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Prefer not to say"


class Client(models.Model):
    """A person who receives care at a clinic."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="clients")
    legal_given_name = models.CharField("legal first name", max_length=100)
    legal_family_name = models.CharField("legal last name", max_length=100)
    chosen_name = models.CharField(
        max_length=100, blank=True, help_text="The name the client wants to be called by, if different."
    )
    pronouns = models.CharField(max_length=40, blank=True, help_text="For example she/her, he/him, they/them.")
    date_of_birth = models.DateField()
    sex = models.CharField("sex at birth", max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    email = models.EmailField(blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("province / state", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=60, blank=True, default="English")
    consent_email = models.BooleanField("may contact by email", default=False)
    consent_sms = models.BooleanField("may contact by text message", default=False)
    notes = models.TextField(
        "administrative notes", blank=True, help_text="Scheduling and contact notes. Clinical notes go in the chart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_family_name", "legal_given_name", "id"]
        indexes = [
            models.Index(Lower("legal_family_name"), Lower("legal_given_name"), "clinic", name="client_name_idx"),
            models.Index(fields=["clinic", "date_of_birth"], name="client_dob_idx"),
            models.Index(Lower("email"), "clinic", name="client_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(sex__in=Sex.values), name="client_sex_valid"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.date_of_birth and self.clinic_id:
            # The clinic's date, not the server's: at 22:30 in Toronto a baby born "tomorrow" by
            # UTC's calendar is born in the future. (A form checks before the client has a clinic;
            # the service that saves it checks again with one.)
            today = clock.local_today(self.clinic.timezone)
            if self.date_of_birth > today:
                errors["date_of_birth"] = "Date of birth cannot be in the future."
            elif self.date_of_birth.year < today.year - 125:
                errors["date_of_birth"] = "Date of birth is more than 125 years ago; check the year."
        if self.country:
            self.country = self.country.upper()
        if self.email:
            self.email = self.email.strip().lower()
        if errors:
            raise ValidationError(errors)

    @property
    def display_name(self) -> str:
        """The chosen name leads wherever a person reads it; the legal name follows in brackets."""
        given = self.chosen_name or self.legal_given_name
        return f"{given} {self.legal_family_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_given_name} {self.legal_family_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class CareTeamMember(models.Model):
    """A therapist who may see a client's record: the primary therapist or one it is shared with."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_team")
    therapist = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="care_of")
    is_primary = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["client", "therapist"], name="care_team_member_once"),
            models.UniqueConstraint(
                fields=["client"], condition=models.Q(is_primary=True), name="one_primary_therapist"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.therapist.user} cares for {self.client}"


class TherapistProfile(models.Model):
    """What a therapist membership shows about the person: practice, credentials, approach."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="therapist_profile")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    display_name = models.CharField(max_length=150)
    professional_title = models.CharField(max_length=120, blank=True, help_text="For example RMT, LMT, CLT.")
    bio = models.TextField(blank=True)
    specialties = models.JSONField(default=list, blank=True, help_text="Condition ids from the knowledge base.")
    techniques = models.JSONField(default=list, blank=True, help_text="Technique ids from the knowledge base.")
    languages = models.JSONField(default=list, blank=True)
    accepting_new_clients = models.BooleanField(default=True)
    inclusive_practice_statement = models.TextField(blank=True)
    # A US provider's National Provider Identifier, printed on superbills.
    npi = models.CharField("NPI", max_length=10, blank=True, help_text="US National Provider Identifier (10 digits).")
    # Where they see clients: locations of the profile's own clinic (therapist_profile_create/update check it).
    locations = models.ManyToManyField(Location, blank=True, related_name="therapist_profiles")

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        self.npi = self.npi.strip()
        if self.npi and not is_valid_npi(self.npi):
            raise ValidationError({"npi": "An NPI is ten digits with a valid check digit."})

    @property
    def specialty_names(self) -> list[str]:
        known = knowledge.conditions()
        return [known[i].name if i in known else i for i in self.specialties]

    @property
    def technique_names(self) -> list[str]:
        known = knowledge.techniques()
        return [known[i].name if i in known else i for i in self.techniques]


class LicenceType(models.TextChoices):
    LMT = "LMT", "Licensed Massage Therapist (LMT)"
    RMT = "RMT", "Registered Massage Therapist (RMT)"
    PT = "PT", "Physical Therapist (PT)"
    DC = "DC", "Doctor of Chiropractic (DC)"
    CLT = "CLT", "Certified Lymphedema Therapist (CLT)"
    OTHER = "other", "Other"


class Licence(models.Model):
    profile = models.ForeignKey(TherapistProfile, on_delete=models.CASCADE, related_name="licences")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    licence_type = models.CharField(max_length=10, choices=LicenceType.choices)
    number = models.CharField(max_length=60)
    issuing_body = models.CharField(max_length=150)
    jurisdiction = models.CharField(max_length=100, help_text="State, province or country that issued it.")
    expires_on = models.DateField()

    class Meta:
        ordering = ["expires_on"]

    def __str__(self) -> str:
        return f"{self.licence_type} {self.number} ({self.jurisdiction})"


class Certification(models.Model):
    profile = models.ForeignKey(TherapistProfile, on_delete=models.CASCADE, related_name="certifications")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=150)
    issuer = models.CharField(max_length=150, blank=True)
    obtained_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IdentifierSystem(models.TextChoices):
    NPI = "npi", "NPI (US)"
    OTHER = "other", "Other"


class ReferringProvider(models.Model):
    """A physician or other clinician who refers clients to the clinic."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="referring_providers")
    name = models.CharField(max_length=150)
    profession = models.CharField(max_length=100, help_text="For example family physician, orthopaedic surgeon.")
    identifier_system = models.CharField(max_length=10, choices=IdentifierSystem.choices, blank=True)
    identifier = models.CharField(max_length=40, blank=True)
    organisation = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    fax = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.identifier = self.identifier.strip()
        if self.identifier_system == IdentifierSystem.NPI and not is_valid_npi(self.identifier):
            raise ValidationError({"identifier": "An NPI is ten digits with a valid check digit."})
        if self.identifier and not self.identifier_system:
            raise ValidationError({"identifier_system": "Say what kind of identifier this is."})
