"""Forms of the episode of care: opening or renaming it, and discharging the client."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from mend import knowledge
from mend.clinical.models import DischargeReason, Episode
from mend.clinics.models import Membership
from mend.people.forms import DateInput, TherapistChoiceField


def _condition_choices() -> list[tuple[str, str]]:
    return [("", "— none / not listed —"), *knowledge.condition_choices()]


class EpisodeForm(forms.ModelForm):
    """Title, condition and start; owners and admins also choose the treating therapist."""

    condition = forms.ChoiceField(
        choices=_condition_choices,
        required=False,
        help_text="A condition from the knowledge base suggests the plan of care, measures and precautions.",
    )
    therapist = TherapistChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        empty_label="— the client's primary therapist —",
        help_text="Who treats the client in this episode.",
    )

    class Meta:
        model = Episode
        fields = ["title", "condition", "started_on"]
        widgets = {"started_on": DateInput()}
        labels = {"started_on": "Start date"}

    def __init__(self, *args: Any, therapists: QuerySet[Membership] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs.setdefault("autofocus", True)
        if therapists is None:
            del self.fields["therapist"]
        else:
            cast(TherapistChoiceField, self.fields["therapist"]).queryset = therapists


class DischargeForm(forms.Form):
    """Field names match what ``services.episode_discharge`` names in its errors."""

    discharge_reason = forms.ChoiceField(
        label="Reason for discharge", choices=[("", "— choose —"), *DischargeReason.choices]
    )
    discharged_on = forms.DateField(label="Discharge date", widget=DateInput())
    discharge_summary = forms.CharField(
        label="Summary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Outcomes against the goals, the client's own words, home care to continue, and any referral out.",
    )
