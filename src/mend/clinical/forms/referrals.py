"""The referral form: the physician's prescription as it arrives on paper or by fax.

Diagnoses are typed (or picked from the live search) one ICD-10-CM code per line; the service
checks each against the official code set, so the form only splits the lines.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from mend.clinical.models import Referral
from mend.people.forms import DateInput
from mend.people.models import ReferringProvider

DOCUMENT_ACCEPT = "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"


def codes_from_text(text: str) -> list[str]:
    """The code at the start of each non-empty line; what follows it (a description) is ignored."""
    codes = []
    for line in text.splitlines():
        words = line.replace(",", " ").replace(";", " ").split()
        if words:
            codes.append(words[0])
    return codes


def diagnoses_as_text(diagnoses: list[dict[str, str]]) -> str:
    return "\n".join(f"{d['code']} {d.get('description', '')}".strip() for d in diagnoses)


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ReferringProvider) -> str:
        return f"{obj.name}, {obj.profession}" if obj.profession else obj.name


class ReferralForm(forms.ModelForm):
    provider = ProviderChoiceField(
        label="Referring provider",
        queryset=ReferringProvider.objects.none(),
        required=False,
        empty_label="— self-referral / not listed —",
    )
    diagnoses = forms.CharField(
        label="Diagnoses (ICD-10-CM)",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"}),
        help_text="One billable code per line, for example M54.50; text after the code is ignored. "
        "Search above to add codes with their official descriptions.",
    )
    document = forms.FileField(
        label="Referral document",
        required=False,
        # A plain file input: a new file replaces the stored one, and leaving it empty keeps it.
        widget=forms.FileInput(attrs={"accept": DOCUMENT_ACCEPT}),
        help_text="PDF, PNG or JPEG, up to 10 MB.",
    )

    class Meta:
        model = Referral
        fields = [
            "referred_on",
            "received_on",
            "reason",
            "requested_treatment",
            "visits_authorised",
            "frequency",
            "valid_until",
            "precautions",
        ]
        widgets = {
            "referred_on": DateInput(),
            "received_on": DateInput(),
            "valid_until": DateInput(),
            "reason": forms.Textarea(attrs={"rows": 2}),
            "requested_treatment": forms.Textarea(attrs={"rows": 2}),
            "precautions": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"received_on": "Received on", "visits_authorised": "Visits authorised"}
        help_texts = {
            "received_on": "Leave empty for today.",
            "valid_until": "The last day a visit may count against this referral.",
        }

    def __init__(self, *args: Any, providers: QuerySet[ReferringProvider], **kwargs: Any) -> None:
        referral = kwargs.get("instance")
        if referral is not None and referral.pk:
            kwargs.setdefault("initial", {})
            kwargs["initial"].setdefault("diagnoses", diagnoses_as_text(referral.diagnoses))
            kwargs["initial"].setdefault("provider", referral.provider_id)
        super().__init__(*args, **kwargs)
        cast(ProviderChoiceField, self.fields["provider"]).queryset = providers
        self.fields["received_on"].required = False

    def clean_diagnoses(self) -> list[str]:
        return codes_from_text(self.cleaned_data.get("diagnoses", ""))
