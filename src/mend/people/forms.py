from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from mend import knowledge
from mend.clinics.models import Location, Membership
from mend.clinics.validators import country_choices
from mend.people.models import Certification, Client, Licence, ReferringProvider, TherapistProfile


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TherapistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        profile = getattr(obj, "therapist_profile", None)
        return profile.display_name if profile else obj.user.get_full_name()


class ClientForm(forms.ModelForm):
    primary_therapist = TherapistChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="— none yet —"
    )

    class Meta:
        model = Client
        fields = [
            "legal_given_name",
            "legal_family_name",
            "chosen_name",
            "pronouns",
            "date_of_birth",
            "sex",
            "gender_identity",
            "phone",
            "email",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
            "preferred_language",
            "consent_email",
            "consent_sms",
            "notes",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(
        self, *args: Any, therapists: QuerySet[Membership] | None = None, can_assign: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"] = forms.ChoiceField(
            choices=[("", "—"), *country_choices()], required=False, label="Country"
        )
        if therapists is not None and can_assign:
            cast(TherapistChoiceField, self.fields["primary_therapist"]).queryset = therapists
        else:
            del self.fields["primary_therapist"]

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        digits = [c for c in phone if c.isdigit()]
        if phone and not 7 <= len(digits) <= 15:
            raise forms.ValidationError("Enter a phone number with 7 to 15 digits.")
        return phone

    def clean_emergency_contact_phone(self) -> str:
        phone = self.cleaned_data.get("emergency_contact_phone", "").strip()
        digits = [c for c in phone if c.isdigit()]
        if phone and not 7 <= len(digits) <= 15:
            raise forms.ValidationError("Enter a phone number with 7 to 15 digits.")
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consent_email") and not data.get("email"):
            self.add_error("consent_email", "Add an email address before allowing contact by email.")
        if data.get("consent_sms") and not data.get("phone"):
            self.add_error("consent_sms", "Add a phone number before allowing text messages.")
        return data


class LocationsField(forms.ModelMultipleChoiceField):
    """The clinic's locations as checkboxes; the queryset is the actor's clinic's, set by the form."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Location) -> str:
        return obj.name if obj.is_active else f"{obj.name} (not in use)"


def _locations_field(locations: QuerySet[Location]) -> LocationsField:
    return LocationsField(queryset=locations, required=False, label="Locations", help_text="Where they see clients.")


def _split_languages(raw: str) -> list[str]:
    languages = [part.strip() for part in raw.split(",") if part.strip()]
    if any(len(lang) > 40 for lang in languages):
        raise forms.ValidationError("Each language name must be at most 40 characters.")
    return languages


class TherapistProfileForm(forms.ModelForm):
    specialties = forms.MultipleChoiceField(
        choices=knowledge.condition_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Conditions this therapist treats.",
    )
    techniques = forms.MultipleChoiceField(
        choices=knowledge.technique_choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.CharField(required=False, help_text="Separate with commas, for example English, French.")

    class Meta:
        model = TherapistProfile
        fields = [
            "display_name",
            "professional_title",
            "bio",
            "specialties",
            "techniques",
            "languages",
            "accepting_new_clients",
            "inclusive_practice_statement",
            "npi",
        ]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "inclusive_practice_statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, locations: QuerySet[Location] | None = None, **kwargs: Any) -> None:
        """``locations``: the clinic's, to choose from; without it (the API) the form leaves locations alone."""
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk and not self.is_bound:
            self.initial["languages"] = ", ".join(self.instance.languages)
        if locations is not None:
            self.fields["locations"] = _locations_field(locations)
            if self.instance and self.instance.pk and not self.is_bound:
                # The profile's own locations, prefetched by the loader (queries.therapist_detail).
                self.initial["locations"] = [location.pk for location in self.instance.locations.all()]

    def clean_languages(self) -> list[str]:
        return _split_languages(self.cleaned_data.get("languages", ""))


class LicenceForm(forms.ModelForm):
    class Meta:
        model = Licence
        fields = ["licence_type", "number", "issuing_body", "jurisdiction", "expires_on"]
        widgets = {"expires_on": DateInput()}


class CertificationForm(forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["name", "issuer", "obtained_on", "expires_on"]
        widgets = {"obtained_on": DateInput(), "expires_on": DateInput()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        obtained, expires = data.get("obtained_on"), data.get("expires_on")
        if obtained and expires and expires < obtained:
            self.add_error("expires_on", "A certification cannot expire before it was obtained.")
        return data


class ReferringProviderForm(forms.ModelForm):
    class Meta:
        model = ReferringProvider
        fields = ["name", "profession", "identifier_system", "identifier", "organisation", "phone", "fax", "email"]


class TherapistInviteForm(forms.Form):
    """Who the new therapist is and what clients see of their practice; they are emailed an invitation."""

    full_name = forms.CharField(max_length=150, label="Full name")
    email = forms.EmailField(
        max_length=254, help_text="They sign in with this address; we email them a link to choose a password."
    )
    professional_title = forms.CharField(max_length=120, required=False, help_text="For example RMT, LMT, CLT.")
    languages = forms.CharField(
        max_length=500, required=False, help_text="Separate with commas, for example English, French."
    )
    specialties = forms.MultipleChoiceField(
        choices=knowledge.condition_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Conditions this therapist treats.",
    )
    inclusive_practice_statement = forms.CharField(
        required=False,
        label="Inclusive practice statement",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on their profile: how they welcome every client.",
    )

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locations"] = _locations_field(locations)

    def clean_languages(self) -> list[str]:
        return _split_languages(self.cleaned_data.get("languages", ""))

    def profile_data(self) -> dict[str, Any]:
        """The profile's fields among the cleaned data (the rest make the user and the membership)."""
        fields = ("professional_title", "languages", "specialties", "inclusive_practice_statement")
        return {name: self.cleaned_data[name] for name in fields}
