from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from mend.clinics.models import Clinic, Location, Room
from mend.clinics.validators import country_choices, currency_choices, timezone_choices


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ["name", "timezone", "country", "currency"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"] = forms.ChoiceField(choices=timezone_choices(), label="Time zone")
        self.fields["country"] = forms.ChoiceField(choices=country_choices())
        self.fields["currency"] = forms.ChoiceField(choices=currency_choices())


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "street", "city", "region", "postal_code", "phone", "is_active"]
        labels = {"is_active": "In use"}


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "location", "is_active"]
        labels = {"is_active": "In use"}

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["location"]).queryset = locations
