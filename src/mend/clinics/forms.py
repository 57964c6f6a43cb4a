from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.db.models import QuerySet

from mend.clinics.models import Clinic, Location, Room, RoomCapability
from mend.clinics.validators import country_choices, currency_choices, timezone_choices


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ["name", "timezone", "country", "currency", "require_staff_mfa"]

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
    capabilities = forms.MultipleChoiceField(
        choices=RoomCapability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What appointment types may need of this room.",
    )

    class Meta:
        model = Room
        fields = ["name", "location", "capabilities", "is_active"]
        labels = {"is_active": "In use"}

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["location"]).queryset = locations


class InvitationPasswordForm(SetPasswordForm):
    """An invitee's first password: a validator's complaint is shown under the password it is about."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Password"
        self.fields["new_password2"].label = "Password again"
        self.fields["new_password2"].help_text = "Type the same password again, so a typo cannot lock you out."
        self.fields["new_password1"].widget.attrs["autofocus"] = True

    def clean(self) -> dict[str, Any]:
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self) or {}
